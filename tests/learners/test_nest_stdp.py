"""NEST's trace STDP synapses (stdp_synapse, stdp_pl_synapse_hom, stdp_triplet_synapse,
vogels_sprekeler_synapse): the window of one pair at every delta from -5 to 5 steps, NEST's
timing (delay, coincident pairs, the order of the clipped updates), bounds and batches, all
worked by hand from NEST's update equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import to_numpy
from tests.learners._nest import WINDOW, pair_steps, run, weight

# additive (mu = 0) Gütig updates: +lambda Wmax K, -alpha lambda Wmax K, clipped to [0, Wmax]
ADDITIVE = dict(lambda_=0.1, alpha=1.5, mu_plus=0.0, mu_minus=0.0, Wmax=1.0, tau_plus=10.0,
                tau_minus=20.0)


def _steps(p: int, q: int, delay: int) -> int:
    return max(p, q + delay) + 2


@pytest.mark.parametrize("delay", [1, 3])
@pytest.mark.parametrize("delta", WINDOW)
def test_stdp_synapse_window(backend: str, delta: int, delay: int) -> None:
    p, q = pair_steps(delta, delay)
    syn = run(backend, "nest_stdp", 0.5, [p], [q], _steps(p, q, delay), delay=float(delay),
              **ADDITIVE)
    if delta > 0:
        expected = 0.5 + 0.1 * math.exp(-delta / 10)
    elif delta < 0:
        expected = 0.5 - 0.15 * math.exp(delta / 20)
    else:  # coincident at the synapse: NEST pairs neither way
        expected = 0.5
    assert weight(syn) == pytest.approx(expected, rel=1e-13)


def test_stdp_synapse_weight_dependence(backend: str) -> None:
    # mu_plus = 0.5, mu_minus = 2: (1 - w/Wmax)^0.5 and (w/Wmax)^2 scale the steps
    hyper = dict(lambda_=0.2, alpha=0.5, mu_plus=0.5, mu_minus=2.0, Wmax=4.0, tau_plus=20.0,
                 tau_minus=20.0)
    ltp = run(backend, "nest_stdp", 1.0, [0], [2], 6, **hyper)  # delta = 3
    assert weight(ltp) == pytest.approx(4.0 * (0.25 + 0.2 * 0.75 ** 0.5 * math.exp(-3 / 20)),
                                        rel=1e-13)
    ltd = run(backend, "nest_stdp", 1.0, [5], [1], 8, **hyper)  # delta = -3
    assert weight(ltd) == pytest.approx(4.0 * (0.25 - 0.1 * 0.25 ** 2 * math.exp(-3 / 20)),
                                        rel=1e-13)


def test_same_step_pair_is_causal_and_applied_at_once(backend: str) -> None:
    """delay 1: a pre and a post spike in one step potentiate with e^{-1/tau_plus}, already
    after that step (NEST would show it only at the next pre spike)."""
    syn = run(backend, "nest_stdp", 0.5, [0], [0], 1, **ADDITIVE)
    assert weight(syn) == pytest.approx(0.5 + 0.1 * math.exp(-1 / 10), rel=1e-13)


def test_a_post_spike_delay_steps_before_the_pre_does_nothing(backend: str) -> None:
    for delay in (1, 2):
        syn = run(backend, "nest_stdp", 0.5, [6], [6 - delay], 10, delay=float(delay),
                  **ADDITIVE)
        assert weight(syn) == 0.5


def test_potentiation_is_applied_in_step_q_plus_d_minus_1(backend: str) -> None:
    syn = px.Learner("nest_stdp", backend=backend, dtype="float64", delay=3.0,
                     **ADDITIVE).bind(np.array([[0.5]]))
    seen = []
    for t in range(6):  # pre at 0, post at 1: it reaches the synapse at 4, applied in step 3
        syn.step(np.array([[float(t == 0)]]), np.array([[float(t == 1)]]))
        seen.append(weight(syn))
    assert seen[:3] == [0.5, 0.5, 0.5]
    assert seen[3] == pytest.approx(0.5 + 0.1 * math.exp(-4 / 10), rel=1e-13)
    assert seen[5] == seen[3]


def test_each_update_is_clipped_on_its_own(backend: str) -> None:
    """post at 0, then pre and post at 2 (delay 1): the depression (delta = -1) is clipped at
    0 before the potentiation (delta = 1) adds; one clip of the sum would keep w0."""
    syn = run(backend, "nest_stdp", 0.02, [2], [0, 2], 3, **ADDITIVE)
    assert weight(syn) == pytest.approx(0.1 * math.exp(-1 / 10), rel=1e-13)


def test_weights_stay_in_bounds(backend: str) -> None:
    rng = np.random.default_rng(3)
    syn = px.Learner("nest_stdp", backend=backend, dtype="float64", lambda_=0.3,
                     Wmax=2.0).bind(rng.uniform(0, 2, (4, 6)), batch_size=3)
    syn.run((rng.random((200, 3, 6)) < 0.3) * 1.0, (rng.random((200, 3, 4)) < 0.3) * 1.0)
    w = to_numpy(syn.weight)
    assert np.isfinite(w).all() and w.min() >= 0 and w.max() <= 2.0


def test_batch_sums_the_samples(backend: str) -> None:
    # sample 0: pre 0, post 2 (delta 3); sample 1: pre 4, post 1 (delta -2); additive
    syn = px.Learner("nest_stdp", backend=backend, dtype="float64", **ADDITIVE).bind(
        np.array([[0.5]]), batch_size=2)
    for t in range(6):
        syn.step(np.array([[float(t == 0)], [float(t == 4)]]),
                 np.array([[float(t == 2)], [float(t == 1)]]))
    expected = 0.5 + 0.1 * math.exp(-3 / 10) - 0.15 * math.exp(-2 / 20)
    assert weight(syn) == pytest.approx(expected, rel=1e-13)


def test_delay_is_rounded_to_whole_steps_as_nest_does() -> None:
    # 1.5 ms at dt = 1 ms is 2 steps (NEST rounds half up); 1 ms at dt = 0.5 ms is 2 steps
    for dt, delay in ((1.0, 1.5), (0.5, 1.0)):
        syn = px.Learner("nest_stdp", delay=delay).bind(np.zeros((1, 1)), dt=dt)
        assert "post_line_2" in syn.state and "post_line_3" not in syn.state
    with pytest.raises(px.HyperparameterError, match=r"'delay'.*at least one step"):
        px.Learner("nest_stdp", delay=0.4).bind(np.zeros((1, 1)))


def test_lambda_is_accepted_by_its_nest_name() -> None:
    a = px.Learner("nest_stdp", **{"lambda": 0.03})
    b = px.Learner("stdp_synapse", lambda_=0.03)
    assert a.params.lambda_ == b.params.lambda_ == 0.03 and b.name == "nest_stdp"
    with pytest.raises(px.HyperparameterError, match="Wmax"):
        px.Learner("nest_stdp", Wmax=0.0)


@pytest.mark.parametrize("delta", WINDOW)
def test_power_law_window(backend: str, delta: int) -> None:
    p, q = pair_steps(delta, 1)
    hyper = dict(lambda_=0.1, alpha=1.2, mu=0.4, tau_plus=15.0, tau_minus=25.0)
    syn = run(backend, "nest_stdp_pl", 2.0, [p], [q], _steps(p, q, 1), **hyper)
    if delta > 0:
        expected = 2.0 + 0.1 * 2.0 ** 0.4 * math.exp(-delta / 15)
    elif delta < 0:
        expected = 2.0 - 0.1 * 1.2 * 2.0 * math.exp(delta / 25)
    else:
        expected = 2.0
    assert weight(syn) == pytest.approx(expected, rel=1e-13)


def test_power_law_depression_stops_at_zero_and_potentiation_is_unbounded(backend: str) -> None:
    syn = run(backend, "nest_stdp_pl", 0.5, [3], [0, 1], 5, lambda_=1.0, alpha=2.0)
    assert weight(syn) == 0.0
    syn = run(backend, "nest_stdp_pl", 100.0, [0], [0], 2, lambda_=1.0, mu=1.0)
    assert weight(syn) == pytest.approx(100.0 + 100.0 * math.exp(-1 / 20), rel=1e-13)


TRIPLET = dict(Aplus=0.01, Aplus_triplet=0.02, Aminus=0.03, Aminus_triplet=0.04,
               tau_plus=10.0, tau_plus_triplet=40.0, tau_minus=20.0, tau_minus_triplet=50.0,
               Wmax=1.0)


@pytest.mark.parametrize("delta", WINDOW)
def test_triplet_pair_window(backend: str, delta: int) -> None:
    """One pair: the triplet traces are still empty when read, so only A2+/A2- act."""
    p, q = pair_steps(delta, 1)
    syn = run(backend, "nest_stdp_triplet", 0.5, [p], [q], _steps(p, q, 1), **TRIPLET)
    if delta > 0:
        expected = 0.5 + 0.01 * math.exp(-delta / 10)
    elif delta < 0:
        expected = 0.5 - 0.03 * math.exp(delta / 20)
    else:
        expected = 0.5
    assert weight(syn) == pytest.approx(expected, rel=1e-13)


def test_triplet_post_pre_post(backend: str) -> None:
    """delay 1, post at steps 0 and 9 (at the synapse: 1 and 10), pre at 4: the pre spike
    depresses with o1 = e^{-3/20} (r2 empty); the second post spike potentiates with
    r1 = e^{-6/10} and the triplet factor o2 = e^{-9/50} of the first."""
    syn = run(backend, "nest_stdp_triplet", 0.5, [4], [0, 9], 11, **TRIPLET)
    expected = (0.5 - 0.03 * math.exp(-3 / 20)
                + math.exp(-6 / 10) * (0.01 + 0.02 * math.exp(-9 / 50)))
    assert weight(syn) == pytest.approx(expected, rel=1e-13)


def test_triplet_pre_post_pre(backend: str) -> None:
    """pre at 0 and 10, post at 3 (reaches the synapse at 4): potentiation e^{-4/10};
    the second pre depresses with o1 = e^{-6/20} and r2 = e^{-10/40}."""
    syn = run(backend, "nest_stdp_triplet", 0.5, [0, 10], [3], 12, **TRIPLET)
    expected = (0.5 + 0.01 * math.exp(-4 / 10)
                - math.exp(-6 / 20) * (0.03 + 0.04 * math.exp(-10 / 40)))
    assert weight(syn) == pytest.approx(expected, rel=1e-13)


def test_triplet_keeps_the_sign_of_wmax(backend: str) -> None:
    # Wmax < 0: |w| follows the updates, the weight stays in [Wmax, 0]
    hyper = dict(TRIPLET, Wmax=-1.0)
    syn = run(backend, "nest_stdp_triplet", -0.5, [0], [2], 5, **hyper)
    assert weight(syn) == pytest.approx(-(0.5 + 0.01 * math.exp(-3 / 10)), rel=1e-13)
    syn = run(backend, "nest_stdp_triplet", -0.01, [5], [0], 7, **dict(hyper, Aminus=1.0))
    assert weight(syn) == 0.0


def test_triplet_stdp_equals_nest_triplet_with_post_spikes_a_delay_later(backend: str) -> None:
    """plastix's triplet_stdp pairs spikes q - p apart, NEST's q + d - p: the same trains with
    the post spikes moved d steps later give the same weights once nothing is pending."""
    rng = np.random.default_rng(5)
    pre = (rng.random((120, 1, 5)) < 0.15) * 1.0
    post = (rng.random((120, 1, 3)) < 0.15) * 1.0
    pre[-12:], post[-12:], post[:2] = 0, 0, 0  # no post spike moves before step 0
    pre[-1] = 1  # a last pre spike delivers every pending potentiation in NEST's terms
    w0 = rng.uniform(0.3, 0.7, (3, 5))
    paper = dict(tau_plus=16.8, tau_minus=33.7, tau_x=101.0, tau_y=125.0, A2_plus=5e-3,
                 A3_plus=6.2e-3, A2_minus=7e-3, A3_minus=2.3e-3)
    ours = px.Learner("triplet_stdp", backend=backend, dtype="float64", **paper).bind(w0.copy())
    ours.run(pre, post)
    nest = px.Learner("nest_stdp_triplet", backend=backend, dtype="float64", delay=2.0,
                      tau_plus=16.8, tau_minus=33.7, tau_plus_triplet=101.0,
                      tau_minus_triplet=125.0, Aplus=5e-3, Aplus_triplet=6.2e-3, Aminus=7e-3,
                      Aminus_triplet=2.3e-3, Wmax=100.0).bind(w0.copy())
    early = np.concatenate([post[2:], np.zeros_like(post[:2])])  # post spikes 2 steps earlier
    nest.run(pre, early)
    np.testing.assert_allclose(to_numpy(nest.weight), to_numpy(ours.weight), rtol=1e-12)


VOGELS = dict(eta=0.05, alpha=0.2, tau=10.0, tau_minus=20.0, Wmax=1.0)


@pytest.mark.parametrize("delta", WINDOW)
def test_vogels_sprekeler_window(backend: str, delta: int) -> None:
    """Both orders potentiate (pre trace with tau, post trace with tau_minus); every pre
    spike also depresses by alpha * eta."""
    p, q = pair_steps(delta, 1)
    syn = run(backend, "vogels_sprekeler", 0.5, [p], [q], _steps(p, q, 1), **VOGELS)
    if delta > 0:
        pair = 0.05 * math.exp(-delta / 10)
    elif delta < 0:
        pair = 0.05 * math.exp(delta / 20)
    else:
        pair = 0.0
    assert weight(syn) == pytest.approx(0.5 + pair - 0.2 * 0.05, rel=1e-13)


def test_vogels_sprekeler_clips_after_each_of_its_three_updates(backend: str) -> None:
    # post at 0 reaches the synapse at 1; pre at 2: +eta e^{-1/20} is clipped at Wmax before
    # the constant depression, which then takes alpha eta from Wmax
    syn = run(backend, "vogels_sprekeler", 0.99, [2], [0], 3, **VOGELS)
    assert weight(syn) == pytest.approx(1.0 - 0.2 * 0.05, rel=1e-13)
    syn = run(backend, "vogels_sprekeler", -0.5, [2], [], 3, **dict(VOGELS, Wmax=-1.0))
    assert weight(syn) == pytest.approx(-(0.5 - 0.2 * 0.05), rel=1e-13)


def test_names_and_docs() -> None:
    for alias, name in (("stdp_synapse", "nest_stdp"), ("stdp_pl_synapse_hom", "nest_stdp_pl"),
                        ("stdp_triplet_synapse", "nest_stdp_triplet"),
                        ("vogels_sprekeler_synapse", "vogels_sprekeler")):
        assert px.Learner(alias).name == name
        text = px.info(name)
        assert "delay" in text and "NEST's documentation" in text and ".. math::" in text
