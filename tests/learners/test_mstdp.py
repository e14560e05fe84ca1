"""mstdp and mstdpet (Florian 2007 as BindsNET computes them): hand-worked steps showing the
one-step lag of the reward, the dt factor of MSTDP-ET, batch reductions, decay and clamping."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close


def bind(backend: str, rule: str = "mstdp", w0: float = 0.0, batch: int = 1,
         n_post: int = 1, n_pre: int = 1, dt: float = 1.0, **hp: object) -> px.Binding:
    learner = px.Learner(rule, backend=backend, dtype="float64", **hp)
    return learner.bind(np.full((n_post, n_pre), w0), batch_size=batch, dt=dt)


def run(syn: px.Binding, pre: list[float], post: list[float], rewards: list[float]) -> None:
    for s_pre, s_post, r in zip(pre, post, rewards, strict=True):
        syn.step(pre=[[s_pre]], post=[[s_post]], reward=r)


def test_aliases() -> None:
    assert px.find_rule("MSTDP").name == "mstdp"
    assert px.find_rule("MSTDPET").name == "mstdpet"


def test_causal_pair_rewarded_one_step_later(backend: str) -> None:
    """pre at step 0, post at step 1: zeta(1) = e^{-1/20}; it is paid by the reward of step 2.
    The reward of step 1 (100) meets zeta(0) = 0 and changes nothing."""
    syn = bind(backend, nu=0.1)
    run(syn, [1, 0, 0], [0, 1, 0], [5.0, 100.0, 0.5])
    assert_close(syn.weight, [[0.1 * 0.5 * math.exp(-1 / 20)]], backend)


def test_anticausal_pair_depresses(backend: str) -> None:
    syn = bind(backend, nu=0.1, tc_minus=10.0)
    run(syn, [0, 1, 0], [1, 0, 0], [0.0, 0.0, 2.0])
    # zeta(1) = f_pre * P^- = 1 * (-1) e^{-1/10}
    assert_close(syn.weight, [[0.1 * 2.0 * -math.exp(-1 / 10)]], backend)


def test_negative_reward_flips_the_update(backend: str) -> None:
    pos, neg = bind(backend), bind(backend)
    run(pos, [1, 0, 0], [0, 1, 0], [0.0, 0.0, 1.0])
    run(neg, [1, 0, 0], [0, 1, 0], [0.0, 0.0, -1.0])
    assert_close(neg.weight, -np.asarray(pos.weight), backend)


def test_simultaneous_spikes_cancel_with_default_amplitudes(backend: str) -> None:
    syn = bind(backend, rule="mstdp")
    run(syn, [1, 0], [1, 0], [0.0, 1.0])
    assert_close(syn.weight, [[0.0]], backend)  # A+ + A- = 0
    syn = bind(backend, rule="mstdp", a_plus=1.0, a_minus=-0.25)
    run(syn, [1, 0], [1, 0], [0.0, 1.0])
    assert_close(syn.weight, [[0.75]], backend)


def test_per_sample_reward_and_reductions(backend: str) -> None:
    """Two samples with the same causal pair and rewards (1, 3): the per-sample products
    are e (1, 3) with e = e^{-1/20}; sum, mean, amax and a custom function reduce them."""
    e = math.exp(-1 / 20)
    expected = {"sum": 4 * e, "mean": 2 * e, "amax": 3 * e}

    def sum_of_squares(x, axis, *, xp):  # type: ignore[no-untyped-def]
        return xp.sum(x * x, axis=axis)

    cases: list[tuple[object, float]] = [*expected.items(), (sum_of_squares, 10 * e * e)]
    for how, value in cases:
        syn = bind(backend, batch=2, batch_reduction=how)
        for s_pre, s_post, r in ((1, 0, [0.0, 0.0]), (0, 1, [0.0, 0.0]), (0, 0, [1.0, 3.0])):
            syn.step(pre=np.full((2, 1), s_pre), post=np.full((2, 1), s_post), reward=r)
        assert_close(syn.weight, [[value]], backend, rtol=1e-12)


def test_weight_decay_then_clamp(backend: str) -> None:
    syn = bind(backend, w0=1.0, weight_decay=0.1)
    run(syn, [0, 0], [0, 0], [0.0, 0.0])
    assert_close(syn.weight, [[0.81]], backend)
    syn = bind(backend, w0=1.0, w_max=0.5, w_min=-0.5)
    run(syn, [0], [0], [0.0])
    assert_close(syn.weight, [[0.5]], backend)


def test_weight_layout_is_post_by_pre(backend: str) -> None:
    syn = bind(backend, n_post=2, n_pre=3)
    pre = np.array([[0.0, 1.0, 0.0]])
    post = np.array([[0.0, 1.0]])
    syn.step(pre=pre, post=np.zeros((1, 2)), reward=0.0)
    syn.step(pre=np.zeros((1, 3)), post=post, reward=0.0)
    syn.step(pre=np.zeros((1, 3)), post=np.zeros((1, 2)), reward=1.0)
    expected = np.zeros((2, 3))
    expected[1, 1] = math.exp(-1 / 20)
    assert_close(syn.weight, expected, backend)


def test_mstdpet_hand_worked_with_dt(backend: str) -> None:
    """dt = 0.5 ms. zeta(1) = e^{-0.5/20}; z(2) = zeta(1)/tau_z; z(3) = z(2) e^{-0.5/tau_z};
    each step pays nu dt r z."""
    nu, dt, tau_z = 0.2, 0.5, 25.0
    syn = bind(backend, rule="mstdpet", nu=nu, dt=dt)
    zeta1 = math.exp(-dt / 20)
    z2 = zeta1 / tau_z
    z3 = z2 * math.exp(-dt / tau_z)
    run(syn, [1, 0, 0], [0, 1, 0], [9.0, 9.0, 2.0])
    w2 = nu * dt * 2.0 * z2
    assert_close(syn.weight, [[w2]], backend)
    syn.step(pre=[[0.0]], post=[[0.0]], reward=-1.0)
    assert_close(syn.weight, [[w2 + nu * dt * -1.0 * z3]], backend)


def test_reset_clears_traces_and_eligibility(backend: str) -> None:
    syn = bind(backend, rule="mstdpet")
    run(syn, [1, 0], [0, 1], [0.0, 0.0])
    syn.reset()
    syn.step(pre=[[0.0]], post=[[0.0]], reward=1.0)
    assert_close(syn.weight, [[0.0]], backend)


@pytest.mark.parametrize("rule", ["mstdp", "mstdpet"])
def test_reward_is_required(rule: str) -> None:
    syn = px.Learner(rule).bind(np.zeros((2, 3)))
    with pytest.raises(px.StepInputError, match="'reward'"):
        syn.step(pre=np.zeros((1, 3)), post=np.zeros((1, 2)))


def test_bad_reduction_names_the_parameter() -> None:
    with pytest.raises(px.HyperparameterError, match="'mstdpet', hyperparameter "
                       "'batch_reduction'"):
        px.Learner("mstdpet", batch_reduction="max")


@pytest.mark.parametrize("rule", ["mstdp", "mstdpet"])
def test_state_dict_round_trip_with_infinite_bounds(rule: str) -> None:
    syn = px.Learner(rule, dtype="float64").bind(np.zeros((1, 1)))
    run(syn, [1, 0], [0, 1], [0.0, 0.0])
    fresh = px.Learner(rule, dtype="float64").bind(np.zeros((1, 1)))
    fresh.load_state_dict(syn.state_dict())
    syn.step(pre=[[0.0]], post=[[0.0]], reward=1.0)
    fresh.step(pre=[[0.0]], post=[[0.0]], reward=1.0)
    np.testing.assert_array_equal(fresh.weight, syn.weight)
    assert syn.weight[0, 0] > 0
    assert px.Learner(rule, w_max=math.inf).params.w_max == math.inf
    with pytest.raises(px.HyperparameterError, match="finite"):
        px.Learner(rule, w_max=math.nan)


def test_zero_lag_pays_a_pair_with_the_reward_of_its_own_step(backend: str) -> None:
    """pre at step 0, post at step 1: with zero_lag, zeta(1) = e^{-1/20} is formed before the
    update of step 1, so that step's reward (3) pays it; the reward of step 2 meets zeta(2),
    which is 0 (no spikes at step 2)."""
    syn = bind(backend, nu=0.1, zero_lag=True)
    run(syn, [1, 0, 0], [0, 1, 0], [5.0, 3.0, 100.0])
    assert_close(syn.weight, [[0.1 * 3.0 * math.exp(-1 / 20)]], backend)
    lagged = bind(backend, nu=0.1)
    run(lagged, [1, 0, 0], [0, 1, 0], [5.0, 3.0, 100.0])
    assert_close(lagged.weight, [[0.1 * 100.0 * math.exp(-1 / 20)]], backend)


def test_zero_lag_mstdpet_integrates_this_steps_eligibility(backend: str) -> None:
    """z(1) = zeta(1)/tau_z with zeta(1) = e^{-dt/20} (dt = 0.5), paid by step 1's reward;
    then z(2) = z(1) e^{-dt/tau_z}."""
    nu, dt, tau_z = 0.2, 0.5, 25.0
    syn = bind(backend, rule="mstdpet", nu=nu, dt=dt, zero_lag=True)
    run(syn, [1, 0], [0, 1], [7.0, 2.0])
    z1 = math.exp(-dt / 20) / tau_z
    assert_close(syn.weight, [[nu * dt * 2.0 * z1]], backend)
    syn.step(pre=[[0.0]], post=[[0.0]], reward=-1.0)
    z2 = z1 * math.exp(-dt / tau_z)
    assert_close(syn.weight, [[nu * dt * (2.0 * z1 - z2)]], backend)


def test_bindsnets_bound_names_are_accepted() -> None:
    p = px.Learner("mstdp", wmin=-1.0, wmax=2.0).params
    assert (p.w_min, p.w_max) == (-1.0, 2.0)
