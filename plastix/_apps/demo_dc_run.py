"""One run of the Diehl and Cook demo: data, training (or its resumption), labelling on
training images, one measurement on the test set (or, with ``validate``, on the validation
split: the last ``validation`` training images, held out from training, for tuning)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .demo import DemoResult, assign_labels, classify
from .demo_dc import DCConfig, Timer, new_synapse, respond
from .demo_dc_train import Progress, load_checkpoint, save_checkpoint, start, train


class Interrupted(Exception):
    """Training stopped by Ctrl-C; a checkpoint was written to ``path``."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def splits(cfg: DCConfig, data: dict[str, np.ndarray]) -> dict[str, Any]:
    """Training images, labelling images (the last trained ones), images to score and the
    validation images of the learning curve."""
    x, y = data["x_train"], data["y_train"]
    n = len(x) - cfg.validation if cfg.validate else len(x)
    if cfg.train_limit is not None:
        n = min(n, cfg.train_limit)
    if cfg.validate:
        x_score, y_score = x[-cfg.validation:], y[-cfg.validation:]
    else:
        x_score, y_score = data["x_test"], data["y_test"]
    if cfg.test_limit is not None:
        x_score, y_score = x_score[: cfg.test_limit], y_score[: cfg.test_limit]
    lab = slice(max(0, n - cfg.label_images), n)
    first = max(0, len(x) - cfg.validation)
    val = slice(first, first + 2 * cfg.curve_images)
    return {"train": x[:n], "label": (x[lab], y[lab]), "score": (x_score, y_score),
            "val": (x[val], y[val])}


def run_dc(cfg: DCConfig, data: dict[str, np.ndarray], *, checkpoint: Path | None = None,
           resume: Path | None = None, report: Callable[[str], None] = print) -> DemoResult:
    """Train, label and score; Ctrl-C writes ``checkpoint`` and raises :class:`Interrupted`."""
    t0 = time.perf_counter()
    timer = Timer()
    n_inputs = data["x_train"].shape[1]
    if resume is not None:
        cfg, syn, theta, prog = load_checkpoint(
            resume, lambda c: new_synapse(c, n_inputs))
        theta = syn.backend.asarray(theta, "float32")
        report(f"  resumed from {resume}: {prog.seen} images done")
    part = splits(cfg, data)
    if resume is None:
        syn = new_synapse(cfg, n_inputs)
        theta = syn.backend.full((cfg.neurons,), 0.0, "float32")
        prog = start(cfg, len(part["train"]))
    timer.lap("setup")
    try:
        theta = train(cfg, syn, theta, part["train"], prog, part["val"], timer, report)
    except KeyboardInterrupt as stop:
        if checkpoint is None:
            raise
        save_checkpoint(checkpoint, cfg, syn, getattr(stop, "theta", theta), prog)
        raise Interrupted(checkpoint) from None
    return _score(cfg, syn, theta, part, prog, timer, time.perf_counter() - t0)


def _score(cfg: DCConfig, syn: Any, theta: Any, part: dict[str, Any], prog: Progress,
           timer: Timer, elapsed: float) -> DemoResult:
    t0 = time.perf_counter()
    x_lab, y_lab = part["label"]
    neuron_labels = assign_labels(respond(cfg, syn.weight, theta, x_lab, 10000, timer), y_lab)
    x_score, y_score = part["score"]
    predicted = classify(respond(cfg, syn.weight, theta, x_score, 20000, timer),
                         neuron_labels)
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (y_score, predicted), 1)
    weights = syn.backend.to_numpy(syn.weight).astype(np.float64)
    return DemoResult(accuracy=float(np.mean(predicted == y_score)), confusion=confusion,
                      weights=weights, labels=neuron_labels, n_train=len(part["train"]),
                      n_test=len(y_score), seconds=elapsed + time.perf_counter() - t0,
                      settings=cfg.settings(), split="validation" if cfg.validate else "test",
                      curve=list(prog.curve), timings=dict(timer.seconds))
