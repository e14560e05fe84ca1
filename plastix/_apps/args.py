"""Argument types and the parser class of the ``plastix`` command.

Every bad argument ends in one line, ``plastix run: error: argument --pre: expected a
positive integer, got '-3'``, and exit status 2, as argparse's own errors do, without the
usage block in front (``--help`` shows it).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (the usage is left to ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "(default" in text or default is None or default is False or default == [] \
                or default == argparse.SUPPRESS:
            return text
        return super()._get_help_string(action) or text


def _int(text: str, low: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer of at least 1 (a size, a count)."""
    return _int(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """An integer of at least 0 (a seed)."""
    return _int(text, 0, "an integer of at least 0")


def finite_float(text: str) -> float:
    """A finite real number (not nan or inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number of at least 0 (a firing rate)."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number above 0 (a time step)."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value


def extents(text: str) -> tuple[int, ...]:
    """A shape: ``784``, ``1,28,28`` or ``1x28x28``, every extent a positive integer."""
    parts = [p for p in re.split("[,x\N{MULTIPLICATION SIGN} ]+", text.strip().lower()) if p]
    if not parts:
        raise argparse.ArgumentTypeError(f"expected a size such as 784 or 1,28,28, got "
                                         f"{text!r}")
    try:
        return tuple(positive_int(p) for p in parts)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected positive integers such as 784 or 1,28,28, "
                                         f"got {text!r}") from None


def fail(command: str, message: str) -> NoReturn:
    """End a command with one line on stderr and exit status 2 (a bad argument)."""
    print(f"plastix {command}: error: {message}", file=sys.stderr)
    raise SystemExit(2)
