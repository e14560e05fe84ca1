"""Shared driver of the NEST rule tests: one synapse, spikes at chosen steps."""

from __future__ import annotations

from typing import Any

import numpy as np

import plastix as px
from tests.conftest import to_numpy


def run(backend: str, rule: str, w0: float, pre: list[int], post: list[int], steps: int, *,
        dt: float = 1.0, rewards: dict[int, float] | None = None, **hyper: Any) -> px.Binding:
    """A 1x1 synapse (float64) after ``steps`` steps with pre and post spikes at the given
    steps (and ``reward`` at the given steps, 0 elsewhere, for a rule that takes one)."""
    syn = px.Learner(rule, backend=backend, dtype="float64", **hyper).bind(np.array([[w0]]),
                                                                          dt=dt)
    for t in range(steps):
        signals = {} if rewards is None else {"reward": rewards.get(t, 0.0)}
        syn.step(np.array([[float(t in pre)]]), np.array([[float(t in post)]]), **signals)
    return syn


def weight(syn: px.Binding) -> float:
    return float(to_numpy(syn.weight)[0, 0])


def pair_steps(delta: int, delay: int, p: int = 10) -> tuple[int, int]:
    """(pre step, post step) of a pair NEST sees ``delta`` steps apart: q + d - p = delta."""
    return p, p + delta - delay


WINDOW = range(-5, 6)  # delta, in steps
