"""ngclearn's TraceSTDPSynapse and MSTDPETSynapse: the pair window, the power weight
dependence, x_tar, tau_w, the clip, VarTrace's k-nearest form, and the modulated update's
one-step lag with and without an eligibility trace."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close, to_numpy
from tests.learners._pair import DELAYS, pair_change, times

HP = dict(A_plus=0.4, A_minus=0.3, eta=0.5, tau_tr=10.0)


@pytest.mark.parametrize("delay", DELAYS)
def test_one_pair_gives_the_window(backend: str, delay: int) -> None:
    # VarTrace with a_delta = 0: a spike sets its trace to 1; the later spike reads it
    ltp = 0.5 * 0.4 * math.exp(-abs(delay) / 10.0) if delay >= 0 else 0.0
    ltd = 0.5 * 0.3 * math.exp(-abs(delay) / 10.0) if delay <= 0 else 0.0
    w = pair_change(backend, "trace_stdp", 0.5, *times(delay), **HP)
    assert w == pytest.approx(0.5 + ltp - ltd, rel=1e-12)


def test_power_dependence_target_and_decay_by_hand(backend: str) -> None:
    """One step with a pre and a post spike, traces 1: with mu = 0.5, x_tar = 0.2,
    tau_w = 50 and w = 0.36 (w_bound 1):
    dW = A+ (1 - w)^0.5 (1 - 0.2) - A- w^0.5 * 1, and W + eta dW - W / tau_w."""
    w0 = 0.36
    d = 0.4 * math.sqrt(1 - w0) * 0.8 - 0.3 * math.sqrt(w0)
    syn = px.Learner("TraceSTDPSynapse", backend=backend, dtype="float64", mu=0.5,
                     pretrace_target=0.2, tau_w=50.0, **HP).bind(np.array([[w0]]))
    syn.step([[1.0]], [[1.0]])
    assert_close(syn.weight, [[w0 + 0.5 * d - w0 / 50.0]], backend)


def test_no_depression_without_a_positive_a_minus_and_the_clip(backend: str) -> None:
    assert pair_change(backend, "trace_stdp", 0.5, 3, 0, **dict(HP, A_minus=-1.0)) == 0.5
    assert pair_change(backend, "trace_stdp", 0.9, 0, 1, **dict(HP, eta=10.0)) == 1.0
    assert pair_change(backend, "trace_stdp", 0.1, 1, 0, **dict(HP, eta=10.0)) == 0.0


def test_a_weight_above_the_bound_stays_finite_with_a_fractional_power(backend: str) -> None:
    syn = px.Learner("trace_stdp", backend=backend, dtype="float64", mu=0.5, w_bound=0.5,
                     **HP).bind(np.array([[0.8, 0.2]]))
    syn.step([[1.0, 1.0]], [[1.0]])
    w = to_numpy(syn.weight)
    assert np.isfinite(w).all() and w.max() <= 0.5


def test_k_nearest_vartrace_by_hand(backend: str) -> None:
    """ngclearn 3.2's k-nearest trace, k = 2, a_delta = 0.6, decay d = e^{-1/10}:
    x1 = 0.6; x2 = d x1 + (0.6 - x1 / 2) (the spike's term reads the undecayed trace)."""
    d = math.exp(-1 / 10)
    x1 = 0.6
    x2 = d * x1 + (0.6 - x1 / 2)
    syn = px.Learner("trace_stdp", backend=backend, dtype="float64", a_delta=0.6,
                     n_nearest_spikes=2, **dict(HP, A_minus=0.0)).bind(np.array([[0.0]]))
    syn.step([[1.0]], [[0.0]])
    syn.step([[1.0]], [[0.0]])
    syn.step([[0.0]], [[1.0]])
    assert_close(syn.weight, [[0.5 * 0.4 * d * x2]], backend)


def test_mstdp_without_eligibility_trace_pays_the_previous_steps_update(
        backend: str) -> None:
    """tau_elg = 0 (ngclearn's default): the modulator of a step multiplies the STDP update
    of the step before. Pair pre 0, post 1: D(1) = A+ e^{-1/10}, paid at step 2."""
    syn = px.Learner("ngclearn_mstdpet", backend=backend, dtype="float64", **HP).bind(
        np.array([[0.5]]))
    for s_pre, s_post, r in ((1, 0, 9.0), (0, 1, 9.0), (0, 0, 2.0)):
        syn.step([[float(s_pre)]], [[float(s_post)]], reward=r)
    assert_close(syn.weight, [[0.5 + 0.5 * 2.0 * 0.4 * math.exp(-1 / 10)]], backend)


def test_mstdpet_eligibility_trace_by_hand(backend: str) -> None:
    """tau_elg = 4, elg_decay 0.5, dt = 1: z(2) = D(1)/4; z(3) = z(2) e^{-1/4} 0.5."""
    syn = px.Learner("MSTDPETSynapse", backend=backend, dtype="float64", tau_elg=4.0,
                     elg_decay=0.5, **HP).bind(np.array([[0.5]]))
    for s_pre, s_post in ((1, 0), (0, 1)):
        syn.step([[float(s_pre)]], [[float(s_post)]], reward=3.0)
    z2 = 0.4 * math.exp(-1 / 10) / 4.0
    syn.step([[0.0]], [[0.0]], reward=1.0)
    assert_close(syn.weight, [[0.5 + 0.5 * z2]], backend)
    syn.step([[0.0]], [[0.0]], reward=-2.0)
    z3 = z2 * math.exp(-1 / 4) * 0.5
    assert_close(syn.weight, [[0.5 + 0.5 * (z2 - 2.0 * z3)]], backend)


def test_per_sample_rewards_weigh_each_samples_eligibility(backend: str) -> None:
    """Sample 0 pairs causally, sample 1 anticausally; rewards (1, 2) at the paying step."""
    syn = px.Learner("ngclearn_mstdpet", backend=backend, dtype="float64", **HP).bind(
        np.array([[0.5]]), batch_size=2)
    syn.step(np.array([[1.0], [0.0]]), np.array([[0.0], [1.0]]), reward=0.0)
    syn.step(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]]), reward=0.0)
    syn.step(np.zeros((2, 1)), np.zeros((2, 1)), reward=[1.0, 2.0])
    e = math.exp(-1 / 10)
    assert_close(syn.weight, [[0.5 + 0.5 * (0.4 * e - 2.0 * 0.3 * e)]], backend)


def test_aliases_and_rejected_options() -> None:
    assert px.find_rule("TraceSTDPSynapse").name == "trace_stdp"
    assert px.find_rule("MSTDPETSynapse").name == "ngclearn_mstdpet"
    with pytest.raises(px.HyperparameterError, match="mask"):
        px.Learner("trace_stdp", weight_mask=np.ones((2, 2)))
    with pytest.raises(px.HyperparameterError, match="initial weights"):
        px.Learner("ngclearn_mstdpet", p_conn=0.5)
