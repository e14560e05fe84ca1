"""Straightforward hand-written implementations of the benchmarked rules, one per library.

Written the way a user would write them without plastix: outer products as full
temporaries, then add, then normalise or clip, each step allocating its results. They are
the yardstick for the compiled steps and follow the rules' documented equations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

DECAY = math.exp(-1 / 20)
Step = Callable[[Any, Any], None]


def nearest_online_stdp(xp: str, w: Any, batch: int) -> Step:
    """SPAIC's nearest-spike STDP with per-step L1 row normalisation and clipping."""
    lib = _lib(xp)
    n_post, n_pre = w.shape
    st = {"w": w, "x_pre": lib.zeros((batch, n_pre), dtype=w.dtype),
          "x_post": lib.zeros((batch, n_post), dtype=w.dtype)}

    def step(pre: Any, post: Any) -> None:
        st["x_pre"] = (1 - pre) * (st["x_pre"] * DECAY) + pre
        st["x_post"] = (1 - post) * (st["x_post"] * DECAY) + post
        dw = 1e-2 * (post.T @ st["x_pre"]) - 1e-4 * (st["x_post"].T @ pre)
        w = st["w"] + dw
        w = 78.4 * (w / lib.abs(w).sum(1, keepdims=True) if xp == "numpy"
                    else w / w.abs().sum(1, keepdim=True))
        st["w"] = lib.clip(w, 0.0, 1.0)

    return step


def full_online_stdp(xp: str, w: Any, batch: int) -> Step:
    """SPAIC's all-to-all STDP (cumulative traces) with clipping (normalised only at the
    end of a run, which the benchmark never reaches)."""
    lib = _lib(xp)
    n_post, n_pre = w.shape
    st = {"w": w, "x_pre": lib.zeros((batch, n_pre), dtype=w.dtype),
          "x_post": lib.zeros((batch, n_post), dtype=w.dtype)}

    def step(pre: Any, post: Any) -> None:
        st["x_pre"] = st["x_pre"] * DECAY + pre
        st["x_post"] = st["x_post"] * DECAY + post
        dw = 1e-2 * (post.T @ st["x_pre"]) - 1e-4 * (st["x_post"].T @ pre)
        st["w"] = lib.clip(st["w"] + dw, 0.0, 1.0)

    return step


def _lib(xp: str) -> Any:
    if xp == "numpy":
        return np
    import torch

    return torch


#: rule name -> hand-written implementation (rules without one show no ratio)
HANDWRITTEN: dict[str, Callable[[str, Any, int], Step]] = {
    "nearest_online_stdp": nearest_online_stdp,
    "full_online_stdp": full_online_stdp,
}
