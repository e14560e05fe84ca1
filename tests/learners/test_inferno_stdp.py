"""inferno's STDP, MSTDP and MSTDPET: windows in closed form, the four sign modes, the mean
by default, cumulative and nearest traces, scalar and per-sample rewards, no dt factor."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close
from tests.learners._pair import DELAYS, pair_change, times

HEBBIAN = dict(lr_post=0.3, lr_pre=-0.2, tc_post=5.0, tc_pre=8.0)


@pytest.mark.parametrize("delay", DELAYS)
def test_one_pair_gives_the_window(backend: str, delay: int) -> None:
    # the pre trace jumps by |lr_post|, the post trace by |lr_pre|; a same-step pair gives both
    ltp = 0.3 * math.exp(-abs(delay) * 0.5 / 8.0) if delay >= 0 else 0.0
    ltd = 0.2 * math.exp(-abs(delay) * 0.5 / 5.0) if delay <= 0 else 0.0
    w = pair_change(backend, "inferno_stdp", 1.0, *times(delay), dt=0.5, **HEBBIAN)
    assert w == pytest.approx(1.0 + ltp - ltd, rel=1e-12)


@pytest.mark.parametrize(("lr_post", "lr_pre", "signs"), [
    (0.3, -0.2, (1, -1)), (-0.3, 0.2, (-1, 1)), (0.3, 0.2, (1, 1)), (-0.3, -0.2, (-1, -1)),
    (0.0, -0.2, (1, -1))])
def test_the_signs_of_the_rates_pick_the_mode(backend: str, lr_post: float, lr_pre: float,
                                              signs: tuple[int, int]) -> None:
    """A causal pair (pre at 0, post at 1) weighs |lr_post| e^{-1/8} with lr_post's sign, an
    anticausal one |lr_pre| e^{-1/5} with lr_pre's; a rate of 0 counts as positive."""
    hp = dict(HEBBIAN, lr_post=lr_post, lr_pre=lr_pre)
    causal = pair_change(backend, "inferno_stdp", 0.0, 0, 1, **hp)
    anticausal = pair_change(backend, "inferno_stdp", 0.0, 1, 0, **hp)
    assert causal == pytest.approx(signs[0] * abs(lr_post) * math.exp(-1 / 8), rel=1e-12)
    assert anticausal == pytest.approx(signs[1] * abs(lr_pre) * math.exp(-1 / 5), rel=1e-12)


def test_the_batch_mean_is_the_default(backend: str) -> None:
    syn = px.Learner("inferno_stdp", backend=backend, dtype="float64", **HEBBIAN).bind(
        np.zeros((1, 1)), batch_size=2)
    syn.step(np.array([[1.0], [1.0]]), np.zeros((2, 1)))
    syn.step(np.zeros((2, 1)), np.array([[1.0], [0.0]]))  # only sample 0 pairs
    assert_close(syn.weight, [[0.5 * 0.3 * math.exp(-1 / 8)]], backend)


def test_cumulative_and_nearest_traces(backend: str) -> None:
    """pre at steps 0 and 1, post at 2: cumulative x_pre = A (d^2 + d), nearest A d."""
    d = math.exp(-1 / 8)
    for mode, x_pre in (("cumulative", d * d + d), ("nearest", d)):
        syn = px.Learner("inferno_stdp", backend=backend, dtype="float64", trace_mode=mode,
                         batch_reduction="sum", **HEBBIAN).bind(np.zeros((1, 1)))
        for t in range(3):  # the pre spikes meet an empty post trace: no depression
            syn.step([[float(t < 2)]], [[float(t == 2)]])
        assert_close(syn.weight, [[0.3 * x_pre]], backend)


def _pair_then_reward(backend: str, rule: str, rewards: list[object], batch: int = 1,
                      **hp: object) -> px.Binding:
    syn = px.Learner(rule, backend=backend, dtype="float64", **dict(HEBBIAN, **hp)).bind(
        np.zeros((1, 1)), batch_size=batch)
    ones, zeros = np.ones((batch, 1)), np.zeros((batch, 1))
    syn.step(ones, zeros, reward=rewards[0])
    syn.step(zeros, ones, reward=rewards[1])
    return syn


def test_mstdp_reward_meets_this_steps_pair_and_its_sign_routes(backend: str) -> None:
    e = 0.3 * math.exp(-1 / 8)
    for reward, scale in ((2.0, 1.0), (-2.0, 1.0), (2.0, -0.5)):
        syn = _pair_then_reward(backend, "inferno_mstdp", [9.0, reward], scale=scale)
        assert_close(syn.weight, [[abs(scale) * reward * e]], backend)


def test_mstdp_per_sample_rewards_and_the_mean_of_each_slot(backend: str) -> None:
    """Sample 0 pairs at lag 1 (reward 1), sample 1 at lag 2 (reward -1). Sum: e1 - e2.
    Mean: each slot holds two rows (one term of each sample) and is averaged over them."""
    e1, e2 = 0.3 * math.exp(-1 / 8), 0.3 * math.exp(-2 / 8)
    for how, expected in (("sum", e1 - e2), ("mean", (e1 - e2) / 2)):
        syn = px.Learner("inferno_mstdp", backend=backend, dtype="float64",
                         batch_reduction=how, **HEBBIAN).bind(np.zeros((1, 1)), batch_size=2)
        for t, post in enumerate(([0.0, 0.0], [1.0, 0.0], [0.0, 1.0])):
            syn.step(np.array([[float(t == 0)], [float(t == 0)]]), np.array(post)[:, None],
                     reward=[1.0, -1.0])
        assert_close(syn.weight, [[expected]], backend)


def test_mstdpet_integrates_without_a_dt_factor(backend: str) -> None:
    """dt = 0.5: z_post(1) = |lr_post| e^{-0.5/8} / tau_z, paid by step 1's reward; then
    z(2) = z(1) e^{-0.5/tau_z}. No factor dt anywhere (inferno's code)."""
    tau_z = 4.0
    syn = px.Learner("inferno_mstdpet", backend=backend, dtype="float64", tc_eligibility=tau_z,
                     **HEBBIAN).bind(np.zeros((1, 1)), dt=0.5)
    syn.step([[1.0]], [[0.0]], reward=5.0)
    syn.step([[0.0]], [[1.0]], reward=2.0)
    z1 = 0.3 * math.exp(-0.5 / 8) / tau_z
    assert_close(syn.weight, [[2.0 * z1]], backend)
    syn.step([[0.0]], [[0.0]], reward=-1.0)
    assert_close(syn.weight, [[2.0 * z1 - z1 * math.exp(-0.5 / tau_z)]], backend)


def test_bounds_clamp_after_the_update(backend: str) -> None:
    w = pair_change(backend, "inferno_stdp", 0.9, 0, 1, w_max=1.0, **dict(HEBBIAN,
                                                                           lr_post=5.0))
    assert w == 1.0


def test_names_errors_and_rejected_options() -> None:
    assert px.find_rule("inferno.MSTDP").name == "inferno_mstdp"
    assert px.find_rule("MSTDP").name == "mstdp"  # BindsNET's keeps the bare name
    assert px.find_rule("inferno.STDP").name == "inferno_stdp"
    with pytest.raises(px.HyperparameterError, match=r"'trace_mode'.*'cumulative', 'nearest'"):
        px.Learner("inferno_stdp", trace_mode="all")
    with pytest.raises(px.HyperparameterError, match="delay_adjusted_mstdp"):
        px.Learner("inferno_mstdpet", delayed=True)
    with pytest.raises(px.StepInputError, match="'reward'"):
        px.Learner("inferno_mstdp").bind(np.zeros((1, 1))).step([[0.0]], [[0.0]])
