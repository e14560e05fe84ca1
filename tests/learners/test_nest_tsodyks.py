"""NEST's tsodyks2_synapse: u, x and the efficacy w u x of a few spikes worked by hand from
NEST's update equations; the first spike, tau_fac = 0, reset, batches and dt."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import to_numpy
from tests.learners._nest import run

HYPER = dict(U=0.3, u0=0.4, x0=0.9, tau_rec=100.0, tau_fac=50.0)


def _state(syn: px.Binding) -> tuple[float, float, float]:
    return tuple(float(to_numpy(a)[0, 0, 0]) for a in (syn.u, syn.x, syn.efficacy))


def _second(u: float, x: float, h: float, U: float = 0.3, tau_rec: float = 100.0,
            tau_fac: float = 50.0) -> tuple[float, float]:
    """NEST's update at a spike h ms after the previous one (both with the old u)."""
    x_new = 1 + (x - x * u - 1) * math.exp(-h / tau_rec)
    u_new = U + u * (1 - U) * (math.exp(-h / tau_fac) if tau_fac else 0.0)
    return u_new, x_new


def test_three_spikes(backend: str) -> None:
    syn = run(backend, "tsodyks2", 2.0, [0, 10, 15], [], 1, **HYPER)
    assert _state(syn) == pytest.approx((0.4, 0.9, 2.0 * 0.4 * 0.9), rel=1e-14)  # first spike
    for t in range(1, 16):
        syn.step(np.array([[float(t in (10, 15))]]), np.zeros((1, 1)))
        if t == 12:  # between spikes the efficacy is that of the last spike
            u1, x1 = _second(0.4, 0.9, 10.0)
            assert _state(syn) == pytest.approx((u1, x1, 2.0 * u1 * x1), rel=1e-14)
    u2, x2 = _second(*_second(0.4, 0.9, 10.0), 5.0)
    assert _state(syn) == pytest.approx((u2, x2, 2.0 * u2 * x2), rel=1e-14)
    assert float(to_numpy(syn.weight)[0, 0]) == 2.0


def test_no_facilitation_when_tau_fac_is_zero(backend: str) -> None:
    syn = run(backend, "tsodyks2", 1.0, [0, 7], [0, 3], 8, **dict(HYPER, tau_fac=0.0))
    u, x = _second(0.4, 0.9, 7.0, tau_fac=0.0)
    assert u == 0.3 and _state(syn) == pytest.approx((u, x, u * x), rel=1e-14)


def test_time_is_in_ms(backend: str) -> None:
    syn = run(backend, "tsodyks2", 1.0, [0, 10], [], 11, dt=0.5, **HYPER)
    u, x = _second(0.4, 0.9, 5.0)
    assert _state(syn) == pytest.approx((u, x, u * x), rel=1e-14)


def test_reset_forgets_the_last_spike(backend: str) -> None:
    syn = run(backend, "tsodyks2", 1.0, [0, 4], [], 5, **HYPER)
    syn.reset()
    syn.step(np.ones((1, 1)), np.zeros((1, 1)))  # a first spike again: u0, x0
    assert _state(syn) == pytest.approx((0.4, 0.9, 0.36), rel=1e-14)


def test_per_synapse_and_per_sample(backend: str) -> None:
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    syn = px.Learner("tsodyks2", backend=backend, dtype="float64", **HYPER).bind(
        w, batch_size=2)
    for t in range(6):  # sample 0: pre 0 fires at 0 and 5; sample 1: never
        syn.step(np.array([[float(t in (0, 5)), 0.0], [0.0, 0.0]]), np.zeros((2, 2)))
    u, x = _second(0.4, 0.9, 5.0)
    eff = to_numpy(syn.efficacy)
    assert eff.shape == (2, 2, 2) and to_numpy(syn.u).shape == (2, 2, 2)
    np.testing.assert_allclose(eff[0, :, 0], w[:, 0] * u * x, rtol=1e-14)
    np.testing.assert_allclose(eff[0, :, 1], w[:, 1] * 0.4 * 0.9, rtol=1e-14)
    np.testing.assert_allclose(eff[1], w * 0.4 * 0.9, rtol=1e-14)
    np.testing.assert_array_equal(to_numpy(syn.weight), w)


def test_forward_pass_reads_the_efficacy(backend: str) -> None:
    """The module docstring's example: the current a step's spikes transmit."""
    syn = px.Learner("tsodyks2", dtype="float64", **HYPER).bind(np.array([[1.0, 2.0]]))
    pre = np.array([[1.0, 1.0]])
    syn.step(pre, np.zeros((1, 1)))
    current = (syn.efficacy * pre[:, None, :]).sum(-1)
    np.testing.assert_allclose(current, [[3.0 * 0.4 * 0.9]], rtol=1e-14)


def test_names_and_ranges() -> None:
    assert px.Learner("tsodyks2_synapse").name == "tsodyks2"
    with pytest.raises(px.HyperparameterError, match="'U'"):
        px.Learner("tsodyks2", U=1.5)
    assert "efficacy" in px.info("tsodyks2")
