"""Helpers shared by the reliability tests: bindings with history, snapshots, test rules."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import plastix as px
from plastix.backends import get_backend
from plastix.registry import RULES
from tests.conftest import to_numpy

PROVIDER = "plastix-reliability-tests"
_ids = itertools.count()


def spikes(rng: np.random.Generator, shape: tuple[int, ...], density: float = 0.3,
           dtype: str = "float64") -> np.ndarray:
    return (rng.random(shape) < density).astype(dtype)


def native(backend: str, x: Any, dtype: str) -> Any:
    return get_backend(backend).asarray(np.asarray(x), dtype)


def bound(backend: str, rule: str = "nearest_online_stdp", *, n_pre: int = 4, n_post: int = 3,
          batch: int = 2, dtype: str | None = None, steps: int = 3, seed: int = 0,
          signals: dict[str, Any] | None = None, **kwargs: Any) -> px.Binding:
    """A binding of ``rule`` that has already run ``steps`` steps (non-trivial state)."""
    learner = px.Learner(rule, backend, dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed)
    w_dtype = learner.dtype
    if w_dtype.startswith("int"):
        w = rng.integers(0, 100, (n_post, n_pre))
    else:
        w = rng.uniform(0.1, 0.9, (n_post, n_pre))
    b = learner.bind(native(backend, w, w_dtype), batch_size=batch, **kwargs)
    for _ in range(steps):
        b.step(spikes(rng, (batch, n_pre), 0.5), spikes(rng, (batch, n_post), 0.5),
               **(signals or {}))
    return b


@dataclass(frozen=True)
class Snapshot:
    arrays: dict[str, np.ndarray]
    t: int
    seed: int


def snapshot(b: px.Binding) -> Snapshot:
    return Snapshot({k: to_numpy(v).copy() for k, v in b.arrays.items()}, b.t, b.seed)


def assert_unchanged(b: px.Binding, before: Snapshot) -> None:
    after = snapshot(b)
    assert after.t == before.t and after.seed == before.seed
    assert set(after.arrays) == set(before.arrays)
    for k, v in before.arrays.items():
        np.testing.assert_array_equal(after.arrays[k], v, err_msg=f"{k} changed")


def author(build: Callable[[px.Graph], None], *, binary_spikes: bool = True,
           params: Any = None) -> str:
    """Register a throw-away rule whose build() is ``build``; returns its name."""
    name = f"reliability_test_rule_{next(_ids)}"
    attrs: dict[str, Any] = {"build": lambda self, g: build(g),
                             "binary_spikes": binary_spikes, "__doc__": "A test rule."}
    if params is not None:
        attrs["Params"] = params
    cls = type(name, (px.Rule,), attrs)
    px.register(name, provider=PROVIDER)(cls)
    return name


def drop_test_rules() -> None:
    RULES.remove_provider(PROVIDER)
