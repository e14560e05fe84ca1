"""The network pieces: Poisson encoder, adaptive LIF layer, lateral inhibition.

Expected values are worked by hand in each test (decay 0.5 per step keeps the arithmetic
exact) or follow from properties (rates, determinism, bounds).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from plastix.backends import get_backend
from plastix.network import AdaptiveLIF, LateralInhibition, PoissonEncoder
from tests.conftest import assert_close, to_numpy

HALF = 1.0 / math.log(2.0)  # tau_m (ms) whose per-step decay at dt = 1 ms is exactly 0.5


def test_encoder_same_seed_same_trains_and_rate(backend: str) -> None:
    rates = np.full((4, 25_000), 200.0)  # p = 0.2 per 1 ms step
    a = PoissonEncoder(backend, seed=3)
    b = PoissonEncoder(backend, seed=3)
    c = PoissonEncoder(backend, seed=4)
    sa, sb, sc = a(rates), b(rates), c(rates)
    assert get_backend(backend).is_native(sa)
    assert np.array_equal(to_numpy(sa), to_numpy(sb))
    assert not np.array_equal(to_numpy(sa), to_numpy(sc))
    # 100 000 Bernoulli(0.2) draws: the mean is within 0.005 (> 3.9 standard deviations)
    assert abs(to_numpy(sa).mean() - 0.2) < 0.005
    assert not np.array_equal(to_numpy(a(rates)), to_numpy(sa))  # a new step, new draws


def test_encoder_extremes(backend: str) -> None:
    enc = PoissonEncoder(backend, seed=0)
    assert to_numpy(enc(np.zeros((2, 50)))).sum() == 0
    assert to_numpy(enc(np.full((2, 50), 5000.0))).min() == 1  # p clipped to 1


def test_lif_integrates_fires_resets_and_adapts(backend: str) -> None:
    layer = AdaptiveLIF(1, backend=backend, tau_m=HALF, refractory=2.0, theta_plus=0.25)
    current = np.full((1, 1), 0.6, dtype=np.float32)
    vs, spikes = [], []
    for _ in range(6):
        spikes.append(float(to_numpy(layer.step(current))[0, 0]))
        vs.append(float(to_numpy(layer.v)[0, 0]))
    # v: 0.6, 0.3 + 0.6 = 0.9, 0.45 + 0.6 = 1.05 >= 1 -> spike, reset to 0; two refractory
    # steps ignore the input; then 0.6 again
    np.testing.assert_allclose(vs, [0.6, 0.9, 0.0, 0.0, 0.0, 0.6], rtol=1e-6)
    assert spikes == [0, 0, 1, 0, 0, 0]
    assert_close(layer.theta, [0.25], backend, rtol=1e-6)
    layer.reset()
    assert float(to_numpy(layer.v)[0, 0]) == 0.0
    assert_close(layer.theta, [0.25], backend, rtol=1e-6)  # thresholds survive a reset


def test_adaptive_threshold_delays_the_next_spike(backend: str) -> None:
    layer = AdaptiveLIF(1, backend=backend, tau_m=HALF, refractory=0.0, theta_plus=0.5)
    current = np.full((1, 1), 0.6, dtype=np.float32)
    fired = [int(to_numpy(layer.step(current))[0, 0]) for _ in range(8)]
    # first spike at step 3 (v = 1.05); then the threshold is 1.5, above the fixed point 1.2
    assert fired == [0, 0, 1, 0, 0, 0, 0, 0]


def test_frozen_thresholds_do_not_adapt(backend: str) -> None:
    layer = AdaptiveLIF(2, backend=backend, tau_m=HALF, refractory=0.0)
    layer.adapt = False
    for _ in range(5):
        layer.step(np.full((1, 2), 2.0, dtype=np.float32))
    assert_close(layer.theta, [0.0, 0.0], backend)


def test_winner_take_all_picks_the_furthest_above_threshold(backend: str) -> None:
    layer = AdaptiveLIF(3, batch_size=2, backend=backend, tau_m=HALF, refractory=0.0)
    inhibition = LateralInhibition(0.5, winners=1)
    current = np.array([[1.2, 1.5, 0.4], [0.1, 0.2, 0.3]], dtype=np.float32)
    spikes = to_numpy(layer.step(current, inhibition))
    assert spikes.tolist() == [[0, 1, 0], [0, 0, 0]]
    # sample 0: the winner resets to 0, the others lose 0.5; sample 1 has no spike
    np.testing.assert_allclose(to_numpy(layer.v), [[0.7, 0.0, -0.1], [0.1, 0.2, 0.3]],
                               rtol=1e-6, atol=1e-7)


def test_inhibition_without_wta_and_with_a_floor(backend: str) -> None:
    layer = AdaptiveLIF(3, backend=backend, tau_m=HALF, refractory=0.0)
    inhibition = LateralInhibition(2.0, winners=None, floor=-1.0)
    spikes = to_numpy(layer.step(np.array([[1.2, 1.5, 0.4]], dtype=np.float32), inhibition))
    assert spikes.tolist() == [[1, 1, 0]]
    # the third neuron receives two spikes' inhibition (0.4 - 4), held at the floor
    np.testing.assert_allclose(to_numpy(layer.v), [[0.0, 0.0, -1.0]], rtol=1e-6)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="positive"):
        AdaptiveLIF(0)
    with pytest.raises(ValueError, match="strength"):
        LateralInhibition(-1.0)
    with pytest.raises(ValueError, match="winners"):
        LateralInhibition(1.0, winners=2)
