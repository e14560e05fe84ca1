"""The training loop of the Diehl and Cook demo: a queue of images (silent ones come back
with more input), a learning curve, and a checkpoint that a Ctrl-C leaves behind.

The loop's whole state between two batches is the binding (saved with its own ``save``), the
thresholds and :class:`Progress`, so a run resumed from a checkpoint continues exactly as the
uninterrupted run would have.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .demo import assign_labels, classify
from .demo_dc import DCConfig, Timer, layer_for, present, rates_of, respond


@dataclasses.dataclass
class Progress:
    """Where training stands: the presentation order, the next position in it, the silent
    images waiting to be shown again (index, level), batches shown, images done, and the
    learning curve (images seen, validation accuracy)."""

    order: np.ndarray
    position: int = 0
    retry: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    batches: int = 0
    seen: int = 0
    curve: list[tuple[int, float]] = dataclasses.field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.position >= len(self.order) and not self.retry

    def take(self, n: int) -> tuple[list[tuple[int, int]], int]:
        """The next ``n`` jobs (retries first) and the position after them."""
        jobs = self.retry[:n]
        fresh = min(n - len(jobs), len(self.order) - self.position)
        jobs += [(int(i), 0) for i in self.order[self.position: self.position + fresh]]
        return jobs, self.position + fresh


def start(cfg: DCConfig, n_images: int) -> Progress:
    rng = np.random.default_rng(cfg.seed)
    return Progress(np.concatenate([rng.permutation(n_images) for _ in range(cfg.epochs)]))


def curve_point(cfg: DCConfig, syn: Any, theta: Any, x_val: np.ndarray, y_val: np.ndarray,
                timer: Timer) -> float:
    """Validation accuracy now: neurons labelled on the first half of ``x_val``, scored on
    the second half."""
    half = len(x_val) // 2
    counts = respond(cfg, syn.weight, theta, x_val, 5000, timer)
    labels = assign_labels(counts[:half], y_val[:half])
    return float(np.mean(classify(counts[half:], labels) == y_val[half:]))


def train(cfg: DCConfig, syn: Any, theta: Any, x: np.ndarray, prog: Progress,
          val: tuple[np.ndarray, np.ndarray], timer: Timer,
          report: Callable[[str], None] = print) -> Any:
    """Train until ``prog`` is done; returns the thresholds. On KeyboardInterrupt the binding
    and ``prog`` are left as they were before the interrupted batch, and the interrupt
    carries the thresholds of that moment as ``theta``."""
    layer = layer_for(cfg, cfg.batch)
    layer.theta = theta
    t0, seen0 = time.perf_counter(), prog.seen
    while not prog.done:
        jobs, position = prog.take(cfg.batch)
        idx = np.array([j[0] for j in jobs] + [0] * (cfg.batch - len(jobs)))
        levels = np.array([j[1] for j in jobs] + [0] * (cfg.batch - len(jobs)), dtype=float)
        rates = rates_of(cfg, x[idx], levels)
        rates[len(jobs):] = 0.0  # padding of the last batch: no input, nothing learned
        snapshot, theta0 = syn.state_dict(), syn.backend.copy(layer.theta)
        try:
            counts = present(cfg, syn, layer, rates, prog.batches, timer)
        except KeyboardInterrupt as stop:
            syn.load_state_dict(snapshot)
            stop.theta = theta0  # type: ignore[attr-defined]
            raise
        total = counts.sum(axis=1)
        retry = [(i, lv + 1) for k, (i, lv) in enumerate(jobs)
                 if total[k] < cfg.min_spikes and lv < cfg.retries]
        before = prog.seen
        prog.seen += len(jobs) - len(retry)
        prog.retry, prog.position = prog.retry[len(jobs) - (position - prog.position):] \
            + retry, position
        prog.batches += 1
        if prog.seen // cfg.curve_every > before // cfg.curve_every or prog.done:
            try:
                acc = curve_point(cfg, syn, layer.theta, *val, timer)
            except KeyboardInterrupt as stop:
                stop.theta = layer.theta  # type: ignore[attr-defined]
                raise
            prog.curve.append((prog.seen, acc))
            rate = (prog.seen - seen0) / (time.perf_counter() - t0)
            report(f"  {prog.seen} images, {rate:.1f} images/s, validation accuracy "
                   f"{acc:.1%}")
    return layer.theta


def save_checkpoint(path: Path, cfg: DCConfig, syn: Any, theta: Any, prog: Progress) -> None:
    """``path`` is a folder: ``binding.npz`` (the binding's own ``save``) and ``demo.npz``."""
    path.mkdir(parents=True, exist_ok=True)
    syn.save(path / "binding.npz")
    retry = np.array(prog.retry, dtype=np.int64).reshape(-1, 2)
    curve = np.array(prog.curve, dtype=np.float64).reshape(-1, 2)
    np.savez(path / "demo.npz", config=json.dumps(dataclasses.asdict(cfg)),
             theta=syn.backend.to_numpy(theta), order=prog.order, retry=retry, curve=curve,
             counters=np.array([prog.position, prog.batches, prog.seen], dtype=np.int64))


def load_checkpoint(path: Path, syn_for: Callable[[DCConfig], Any]
                    ) -> tuple[DCConfig, Any, np.ndarray, Progress]:
    """The configuration, binding, thresholds and progress saved in the folder ``path``."""
    with np.load(path / "demo.npz", allow_pickle=False) as f:
        cfg = DCConfig(**json.loads(str(f["config"])))
        position, batches, seen = (int(v) for v in f["counters"])
        prog = Progress(f["order"], position, [(int(a), int(b)) for a, b in f["retry"]],
                        batches, seen, [(int(a), float(b)) for a, b in f["curve"]])
        theta = np.array(f["theta"])
    syn = syn_for(cfg)
    syn.load(path / "binding.npz")
    return cfg, syn, theta, prog
