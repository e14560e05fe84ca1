"""NEST's stdp_dopamine_synapse: the eligibility of one pair, the closed-form integral of
w' = c (n - b) over many steps, the delay, coincident pairs, bounds and batches; worked by
hand from NEST's equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import to_numpy
from tests.learners._nest import run, weight

HYPER = dict(A_plus=1.0, A_minus=1.5, tau_plus=20.0, tau_minus=30.0, tau_c=1000.0,
             tau_n=200.0, b=0.0, Wmin=0.0, Wmax=200.0)
RATE = 1 / 1000 + 1 / 200  # tau_s: c * n decays by e^{-tau_s} per 1 ms step


@pytest.mark.parametrize("delay", [1, 2])
def test_pre_post_pair_then_dopamine(backend: str, delay: int) -> None:
    """pre at 0, post reaching the synapse at 3: c = A+ e^{-3/20} there; one dopamine spike at
    step 5 gives n = 1/tau_n; over the K steps after it w grows by
    c5 n5 (1 - e^{-tau_s K}) / tau_s."""
    k = 50
    syn = run(backend, "nest_stdp_dopamine", 1.0, [0], [3 - delay], 6 + k, rewards={5: 1.0},
              delay=float(delay), **HYPER)
    c5 = math.exp(-3 / 20) * math.exp(-2 / 1000)
    expected = 1.0 + c5 * (1 / 200) * (1 - math.exp(-RATE * k)) / RATE
    assert weight(syn) == pytest.approx(expected, rel=1e-12)
    assert to_numpy(syn.c)[0, 0, 0] == pytest.approx(c5 * math.exp(-k / 1000), rel=1e-12)
    assert to_numpy(syn.n)[0] == pytest.approx(math.exp(-k / 200) / 200, rel=1e-12)


def test_post_pre_pair_depresses_under_dopamine(backend: str) -> None:
    # post at 0 reaches the synapse at 1, pre at 4: c = -A- e^{-3/30}; two dopamine spikes at 4
    syn = run(backend, "nest_stdp_dopamine", 1.0, [4], [0], 25, rewards={4: 2.0}, **HYPER)
    change = -1.5 * math.exp(-3 / 30) * (2 / 200) * (1 - math.exp(-RATE * 20)) / RATE
    assert weight(syn) == pytest.approx(1.0 + change, rel=1e-12)


def test_baseline_without_dopamine_drives_the_weight_against_c(backend: str) -> None:
    # b = 0.01, no dopamine: w' = -b c, integrated: -b c3 tau_c (1 - e^{-K/tau_c})
    syn = run(backend, "nest_stdp_dopamine", 1.0, [0], [2], 4 + 30, rewards={},
              **dict(HYPER, b=0.01))
    change = -0.01 * math.exp(-3 / 20) * 1000 * (1 - math.exp(-30 / 1000))
    assert weight(syn) == pytest.approx(1.0 + change, rel=1e-12)


def test_a_post_spike_delay_steps_before_the_pre_makes_no_pair(backend: str) -> None:
    syn = run(backend, "nest_stdp_dopamine", 1.0, [3], [2], 20, rewards={3: 5.0}, **HYPER)
    assert weight(syn) == 1.0 and np.all(to_numpy(syn.c) == 0)


def test_the_weight_is_clipped_every_step(backend: str) -> None:
    syn = run(backend, "nest_stdp_dopamine", 1.0, [0], [2], 40, rewards={4: 200.0},
              **dict(HYPER, Wmax=1.5))
    assert weight(syn) == 1.5
    low = run(backend, "nest_stdp_dopamine", 1.0, [4], [0], 40, rewards={4: 200.0},
              **dict(HYPER, Wmin=0.5))
    assert weight(low) == 0.5


def test_batch_sums_the_samples(backend: str) -> None:
    syn = px.Learner("nest_stdp_dopamine", backend=backend, dtype="float64", **HYPER).bind(
        np.array([[1.0]]), batch_size=2)
    for t in range(30):  # both samples pair; only sample 1 gets dopamine
        syn.step(np.array([[float(t == 0)], [float(t == 0)]]),
                 np.array([[float(t == 2)], [float(t == 2)]]),
                 reward=np.array([0.0, float(t == 5)]))
    c5 = math.exp(-3 / 20) * math.exp(-2 / 1000)
    expected = 1.0 + c5 / 200 * (1 - math.exp(-RATE * 24)) / RATE
    assert weight(syn) == pytest.approx(expected, rel=1e-12)


def test_reward_is_required() -> None:
    syn = px.Learner("stdp_dopamine_synapse").bind(np.ones((1, 1)))
    with pytest.raises(px.StepInputError, match="reward"):
        syn.step(np.zeros((1, 1)), np.zeros((1, 1)))
