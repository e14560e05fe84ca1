"""Per-step overhead: a 10x10 ``nearest_online_stdp`` step, where the arithmetic is nothing and
the calls are everything, against a hand-written NumPy loop (``benchmarks/_handwritten.py``).

Timed in turns: ``Binding.step`` on each backend (input checks included, what users call), the
hand-written loop on each backend, and the bare compiled step on NumPy (the binding's own
cost is the difference; it reads private attributes, so it is left out if they change).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import plastix as px

from ._handwritten import HANDWRITTEN
from ._timing import in_turns, median, per_call, ratio
from .workload import DTYPE

RULE, SIZE, P, POOL = "nearest_online_stdp", 10, 0.2, 16


def _spikes(convert: Any) -> tuple[list[Any], list[Any]]:
    rng = np.random.default_rng(0)
    pre = [convert((rng.random((1, SIZE)) < P).astype(np.float32)) for _ in range(POOL)]
    post = [convert((rng.random((1, SIZE)) < P).astype(np.float32)) for _ in range(POOL)]
    return pre, post


def _steps(backend: str) -> dict[str, Any]:
    if backend == "numpy":
        convert: Any = np.asarray
    else:
        import torch

        convert = torch.from_numpy
    w0 = np.random.default_rng(1).uniform(0.0, 0.2, (SIZE, SIZE)).astype(np.float32)
    pre, post = _spikes(convert)
    syn = px.Learner(RULE, backend=backend, dtype=DTYPE).bind(convert(w0.copy()))
    hand = HANDWRITTEN[RULE](backend, convert(w0.copy()), 1)
    steps = {f"Binding.step {backend}": lambda k: syn.step(pre[k], post[k]),
             f"hand-written {backend}": lambda k: hand(pre[k], post[k])}
    if backend == "numpy":
        compiled = _bare_step(syn, pre, post)
        if compiled is not None:
            steps["compiled step numpy"] = compiled
    return steps


def _bare_step(syn: Any, pre: list[Any], post: list[Any]) -> Any:
    """The generated step without the binding, through private attributes (the signature
    ``step(S, X, pre, post, t, seed, seam)``); None when they have changed."""
    try:
        fn = syn._compiled("step").fn

        def bare(k: int) -> None:
            fn(syn.S, syn.step_state, pre[k], post[k], 0, 0, {})

        per_call(bare, 2, pool=POOL)
        return bare
    except (AttributeError, KeyError, TypeError):
        return None


YARDSTICK = "hand-written numpy"


def measure(backends: list[str], budget: float = 0.5, rounds: int = 9) -> dict[str, Any]:
    """Each contender's median seconds per step (``times``) and its time over the
    hand-written NumPy loop's (``ratios``, the median of per-round ratios)."""
    steps: dict[str, Any] = {}
    for backend in backends:
        steps.update(_steps(backend))
    samples = in_turns(steps, POOL, budget, rounds)
    return {"times": {name: median(s) for name, s in samples.items()},
            "ratios": {name: ratio(s, samples[YARDSTICK]) for name, s in samples.items()},
            "rounds": samples}
