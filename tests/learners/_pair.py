"""Shared driver: one synapse, one pre spike and one post spike at chosen steps."""

from __future__ import annotations

from typing import Any

import numpy as np

import plastix as px
from tests.conftest import to_numpy


def pair_change(backend: str, rule: str, w0: float, t_pre: int, t_post: int, *,
                dt: float = 1.0, **hyper: Any) -> float:
    """The weight of a 1x1 synapse after a pre spike at step ``t_pre`` and a post spike at
    step ``t_post`` (float64), run until both have happened."""
    syn = px.Learner(rule, backend=backend, dtype="float64", **hyper).bind(
        np.array([[w0]]), dt=dt)
    for t in range(max(t_pre, t_post) + 1):
        syn.step(np.array([[float(t == t_pre)]]), np.array([[float(t == t_post)]]))
    return float(to_numpy(syn.weight)[0, 0])


DELAYS = [-7, -3, -1, 0, 1, 2, 5, 12]  # t_post - t_pre, in steps


def times(delay: int) -> tuple[int, int]:
    """(t_pre, t_post) for a delay, both >= 0."""
    return (0, delay) if delay >= 0 else (-delay, 0)
