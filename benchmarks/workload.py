"""The workload of issue 15, shared by plastix and its peers: pair STDP with hard bounds.

norse's additive STDP (plastix ``norse_stdp``, ``stdp_algorithm="additive"``, ``w_min=0``,
``w_max=1``, norse's other defaults), float32, a dense (n_post, n_pre) weight drawn uniformly
in [0, 1], batch 1 or 32, and forced Poisson spikes: every step the pre and the post spikes
are inputs, each neuron of each sample spiking with probability ``p``, drawn once into a pool
that every contender cycles through in the same order (nothing is simulated, only learned).

A *runner* holds one contender's state for one workload: ``step(k)`` learns from the ``k``-th
pattern of the pool, ``weight()`` returns the weight as a float64 (n_post, n_pre) NumPy array,
so that the same objects are timed and checked for equal results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

import plastix as px

RULE = "norse_stdp"
PARAMS: dict[str, Any] = {"stdp_algorithm": "additive", "w_min": 0.0, "w_max": 1.0}
DTYPE = "float32"
DT_MS = 1.0  # the time step; norse's dt (in s) is DT_MS / 1000


@dataclass(frozen=True)
class Point:
    """One point of the grid: n_pre x n_post synapses, batch size, spike probability."""

    n_pre: int
    n_post: int
    batch: int
    p: float

    @property
    def size(self) -> str:
        return f"{self.n_pre}x{self.n_post}"


@dataclass(frozen=True)
class Spikes:
    """A pool of forced spike patterns: ``pre[k]`` (batch, n_pre), ``post[k]`` (batch,
    n_post), float32 zeros and ones."""

    pre: list[np.ndarray]
    post: list[np.ndarray]

    @property
    def pool(self) -> int:
        return len(self.pre)


def poisson_spikes(point: Point, pool: int = 32, seed: int = 0) -> Spikes:
    rng = np.random.default_rng(seed)
    shape_pre, shape_post = (point.batch, point.n_pre), (point.batch, point.n_post)
    pre = [(rng.random(shape_pre) < point.p).astype(np.float32) for _ in range(pool)]
    post = [(rng.random(shape_post) < point.p).astype(np.float32) for _ in range(pool)]
    return Spikes(pre, post)


def initial_weight(point: Point, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, (point.n_post, point.n_pre)).astype(np.float32)


def rule_params(**overrides: Any) -> Any:
    """The workload's resolved hyperparameters (norse's defaults where the issue is silent),
    which the peers are configured from."""
    return px.Learner(RULE, dtype=DTYPE, **{**PARAMS, **overrides}).params


class Runner(Protocol):
    def step(self, k: int) -> None: ...

    def weight(self) -> np.ndarray: ...


class PlastixRunner:
    """plastix through its public API: ``syn.step(pre, post)`` on a bound learner."""

    def __init__(self, backend: str, w0: np.ndarray, spikes: Spikes, rule: str = RULE,
                 **params: Any) -> None:
        params = {**PARAMS, **params} if rule == RULE else params
        convert = _converter(backend)
        learner = px.Learner(rule, backend=backend, dtype=DTYPE, **params)
        self.syn = learner.bind(convert(w0.copy()), batch_size=spikes.pre[0].shape[0],
                                dt=DT_MS)
        self.pre = [convert(s) for s in spikes.pre]
        self.post = [convert(s) for s in spikes.post]

    def step(self, k: int) -> None:
        self.syn.step(self.pre[k], self.post[k])

    def weight(self) -> np.ndarray:
        return as_float64(self.syn.weight)


class CopyFloor:
    """The memory-traffic floor: one ``np.copyto`` of the float32 weight (each synapse read
    and written once, the least a dense learning step does)."""

    def __init__(self, w0: np.ndarray) -> None:
        self.src, self.dst = w0.copy(), np.empty_like(w0)

    def step(self, k: int) -> None:
        np.copyto(self.dst, self.src)


def as_float64(array: Any) -> np.ndarray:
    """A float64 NumPy copy of a NumPy array or a torch tensor."""
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    return np.array(array, dtype=np.float64)


def _converter(backend: str) -> Any:
    if backend == "numpy":
        return lambda a: a
    import torch

    return torch.from_numpy
