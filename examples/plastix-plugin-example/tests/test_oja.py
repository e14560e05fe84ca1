"""The example plugin's own tests: its rule, found by name through its entry point."""

from __future__ import annotations

import math
from importlib import metadata

import numpy as np
import pytest

import plastix as px
from plastix.backends import get_backend

HALF = 1 / math.log(2)  # a time constant (ms) whose decay over dt = 1 ms is exactly 1/2


def installed_backends() -> list[str]:
    out = []
    for name in ("numpy", "torch", "cupy"):
        try:
            get_backend(name)
        except px.BackendUnavailableError:
            continue
        out.append(name)
    return out


def to_numpy(x: object) -> np.ndarray:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()  # type: ignore[no-any-return]
    return np.asarray(x.get() if hasattr(x, "get") else x)  # type: ignore[union-attr]


def test_entry_point_is_declared() -> None:
    eps = metadata.entry_points(group="plastix")
    assert any(ep.value == "plastix_plugin_example" for ep in eps)


def test_found_by_name_with_provider() -> None:
    assert "oja" in px.rules()
    assert px.find_rule("OJA_TRACE").name == "oja"
    [info] = [p for p in px.registry.plugins() if p.module == "plastix_plugin_example"]
    assert (info.status, info.distribution, info.rules) == ("ok", "plastix-plugin-example",
                                                            ["oja"])


@pytest.mark.parametrize("backend", installed_backends())
def test_two_steps_by_hand(backend: str) -> None:
    # eta = 0.1, both decays 1/2, w = [0.5, 0.5] (one post, two pre, batch 1).
    # step 1: pre [1, 0], post [1] -> x = [1, 0], y = 1
    #         dw = 0.1 * 1 * ([1, 0] - 1 * [0.5, 0.5]) = [0.05, -0.05]   -> w = [0.55, 0.45]
    # step 2: pre [0, 1], post [0] -> x = [0.5, 1], y = 0.5
    #         dw = 0.1 * 0.5 * ([0.5, 1] - 0.5 * [0.55, 0.45]) = [0.01125, 0.03875]
    #                                                               -> w = [0.56125, 0.48875]
    oja = px.Learner("oja", backend=backend, dtype="float64", eta=0.1, tau_pre=HALF,
                     tau_post=HALF)
    syn = oja.bind(np.array([[0.5, 0.5]]), batch_size=1)
    syn.step(pre=np.array([[1.0, 0.0]]), post=np.array([[1.0]]))
    np.testing.assert_allclose(to_numpy(syn.weight), [[0.55, 0.45]], rtol=1e-12)
    syn.step(pre=np.array([[0.0, 1.0]]), post=np.array([[0.0]]))
    np.testing.assert_allclose(to_numpy(syn.weight), [[0.56125, 0.48875]], rtol=1e-12)


@pytest.mark.parametrize("backend", installed_backends())
def test_settles_at_regression_fixed_point(backend: str) -> None:
    # Both neurons fire every step: the traces settle at 1 / (1 - 1/2) = 2 for the first pre
    # neuron and the post neuron, 0 for the silent second pre neuron, so the fixed point
    # w = <y x> / <y^2> is [2 * 2 / 4, 0] = [1, 0].
    oja = px.Learner("oja", backend=backend, dtype="float64", eta=0.05, tau_pre=HALF,
                     tau_post=HALF)
    syn = oja.bind(np.array([[0.2, 0.7]]), batch_size=1)
    for _ in range(400):
        syn.step(pre=np.array([[1.0, 0.0]]), post=np.array([[1.0]]))
    np.testing.assert_allclose(to_numpy(syn.weight), [[1.0, 0.0]], atol=1e-9)
