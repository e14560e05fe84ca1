"""Diehl and Cook's layer and whole-presentation Poisson trains, checked by hand."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import plastix._runtime.conductance
from plastix.network import ConductanceLIF, poisson_trains


def test_the_docstring_examples_run() -> None:
    assert doctest.testmod(plastix._runtime.conductance).failed == 0


def test_trains_have_the_rate_s_probability_and_silent_inputs_never_spike() -> None:
    rates = np.array([[0.0, 100.0, 1000.0]])
    s = poisson_trains(rates, 20000, seed=3)
    assert s.shape == (20000, 1, 3) and s.dtype == np.float32
    assert s[:, 0, 0].sum() == 0 and s[:, 0, 2].min() == 1
    # p = 100 Hz * 1 ms = 0.1; the standard error over 20,000 steps is 0.0021
    assert abs(s[:, 0, 1].mean() - 0.1) < 0.01


def test_trains_are_a_function_of_seed_and_counter() -> None:
    rates = np.full((2, 50), 300.0)
    a = poisson_trains(rates, 30, seed=1, t=4)
    np.testing.assert_array_equal(a, poisson_trains(rates, 30, seed=1, t=4))
    assert not np.array_equal(a, poisson_trains(rates, 30, seed=1, t=5))
    assert not np.array_equal(a, poisson_trains(rates, 30, seed=2, t=4))
    with pytest.raises(ValueError, match="steps"):
        poisson_trains(rates, 0)


def test_one_step_of_the_conductance_equation() -> None:
    layer = ConductanceLIF(1)
    layer.step(np.array([[2.0]]))
    ge = 2.0 * (1 - math.exp(-1.0))  # the jump, scaled to deliver 2 over the 1 ms decay
    assert float(layer.ge[0, 0]) == pytest.approx(ge, rel=1e-6)
    # v = -65 + (1/100) * ((-65 + 65) + ge * (0 + 65))
    assert float(layer.v[0, 0]) == pytest.approx(-65 + 0.65 * ge, rel=1e-6)


def test_a_spike_resets_raises_theta_inhibits_the_others_and_is_refractory() -> None:
    layer = ConductanceLIF(3, refractory=2.0)
    assert layer.step(np.array([[50.0, 0.0, 0.0]])).tolist() == [[1.0, 0.0, 0.0]]
    assert float(layer.v[0, 0]) == -65.0 and float(layer.theta[0]) == pytest.approx(0.05)
    gi = 17.0 * (1 - math.exp(-0.5)) * 2
    np.testing.assert_allclose(layer.gi[0], [0.0, gi, gi], rtol=1e-6)
    layer.step(np.array([[50.0, 0.0, 0.0]]))  # refractory: the potential stays at reset
    assert float(layer.v[0, 0]) == -65.0
    # the inhibited neurons move towards E_inh = -100 mV
    assert float(layer.v[0, 1]) < -65.0


def test_frozen_thresholds_and_reset() -> None:
    layer = ConductanceLIF(2, batch_size=2)
    layer.adapt = False
    layer.step(np.full((2, 2), 50.0))
    assert float(np.abs(layer.theta).max()) == 0.0
    layer.adapt = True
    layer.reset()
    layer.step(np.array([[50.0, 0.0], [50.0, 0.0]]))  # theta adds the batch's spikes
    assert float(layer.theta[0]) == pytest.approx(0.1)
    layer.reset()
    assert float(layer.theta[0]) == pytest.approx(0.1) and float(layer.ge.max()) == 0.0


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        ConductanceLIF(0)
    with pytest.raises(ValueError, match="time constants"):
        ConductanceLIF(2, tau_ge=0.0)
    with pytest.raises(ValueError, match="inhibition"):
        ConductanceLIF(2, inhibition=-1.0)


def test_the_numpy_draws_are_rand_bits_bit_for_bit() -> None:
    from plastix._runtime.conductance import rand_bits_u32
    from plastix.backends._random import rand_bits

    for seed, t, stream, shape in [(0, 0, 0, (40, 30)), (2**40 + 5, 2**33, 9, (7,))]:
        np.testing.assert_array_equal(rand_bits_u32(seed, t, stream, shape),
                                      rand_bits(seed, t, stream, shape, xp=np))


def test_events_are_the_trains_spikes_and_the_sparse_drive_the_dense_one() -> None:
    from plastix._apps.demo_dc import DCConfig, input_drive
    from plastix.network import poisson_events

    rng = np.random.default_rng(2)
    rates = rng.random((3, 20)) * (rng.random((3, 20)) < 0.5) * 200.0
    trains = poisson_trains(rates, 40, seed=4, t=1, stream=2)
    step, flat = poisson_events(rates, 40, seed=4, t=1, stream=2)
    expected = np.argwhere(trains.reshape(40, -1) > 0)
    np.testing.assert_array_equal(np.stack([step, flat], axis=1), expected)
    w_t = rng.random((20, 5)).astype(np.float32)
    cfg = DCConfig(neurons=5, steps=40, seed=4)
    np.testing.assert_allclose(input_drive(cfg, rates, w_t, 1, 2), trains @ w_t, rtol=1e-5)
