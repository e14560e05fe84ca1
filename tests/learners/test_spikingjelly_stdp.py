"""SpikingJelly's STDPLearner, MSTDPLearner and MSTDPETLearner: the Euler and exponential
trace discretisations, the weight functions (identity by default), scale, the reward's
one-step lag, the eligibility trace and the batch."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close
from tests.learners._pair import DELAYS, pair_change, times

TAU = dict(tau_pre=4.0, tau_post=2.5)


@pytest.mark.parametrize("delay", DELAYS)
def test_stdp_window_is_proportional_to_the_weight(backend: str, delay: int) -> None:
    # traces decay by 1 - 1/tau per step (Euler); the identity f makes the change w times it
    w0, scale = 0.5, 0.1
    ltp = w0 * (1 - 1 / 4.0) ** delay if delay >= 0 else 0.0
    ltd = w0 * (1 - 1 / 2.5) ** -delay if delay <= 0 else 0.0
    w = pair_change(backend, "spikingjelly_stdp", w0, *times(delay), scale=scale, **TAU)
    assert w == pytest.approx(w0 + scale * (ltp - ltd), rel=1e-12)


def test_a_zero_weight_never_changes_with_the_identity(backend: str) -> None:
    assert pair_change(backend, "STDPLearner", 0.0, 0, 2, **TAU) == 0.0


@pytest.mark.parametrize("f_post", [lambda w: 1.0 - w, lambda w, xp: xp.clip(1.0 - w, 0, 1)])
def test_weight_functions_weigh_each_term(backend: str, f_post: Any) -> None:
    """Causal pair at lag 2: (1 - w) (3/4)^2; anticausal at lag 1 with f_pre = 2: 2 (3/5)."""
    w0 = 0.3
    causal = pair_change(backend, "spikingjelly_stdp", w0, 0, 2, f_post=f_post, **TAU)
    assert causal == pytest.approx(w0 + (1 - w0) * 0.75 ** 2, rel=1e-12)
    anti = pair_change(backend, "spikingjelly_stdp", w0, 1, 0, f_pre=lambda w: 0 * w + 2.0,
                       **TAU)
    assert anti == pytest.approx(w0 - 2.0 * 0.6, rel=1e-12)


@pytest.mark.parametrize("delay", DELAYS)
def test_mstdp_window_uses_exponential_traces_and_the_next_reward(backend: str,
                                                                  delay: int) -> None:
    """The eligibility of the later spike's step is paid by the reward of the step after it:
    e = w (e^{-1/tau_pre})^lag causal, -w (e^{-1/tau_post})^lag anticausal."""
    w0, reward = 0.5, 0.7
    ltp = w0 * math.exp(-delay / 4.0) if delay >= 0 else 0.0
    ltd = w0 * math.exp(delay / 2.5) if delay <= 0 else 0.0
    t_pre, t_post = times(delay)
    syn = px.Learner("spikingjelly_mstdp", backend=backend, dtype="float64", **TAU).bind(
        np.array([[w0]]))
    last = max(t_pre, t_post)
    for t in range(last + 2):
        syn.step([[float(t == t_pre)]], [[float(t == t_post)]],
                 reward=reward if t == last + 1 else 100.0 * (t > last + 1))
    assert_close(syn.weight, [[w0 + reward * (ltp - ltd)]], backend)


def test_mstdp_batch_sums_each_samples_reward(backend: str) -> None:
    syn = px.Learner("MSTDPLearner", backend=backend, dtype="float64", scale=0.5,
                     **TAU).bind(np.array([[0.4]]), batch_size=2)
    syn.step(np.ones((2, 1)), np.zeros((2, 1)), reward=0.0)
    syn.step(np.zeros((2, 1)), np.array([[1.0], [0.0]]), reward=0.0)  # sample 0 pairs
    syn.step(np.zeros((2, 1)), np.zeros((2, 1)), reward=[2.0, 50.0])
    assert_close(syn.weight, [[0.4 + 0.5 * 2.0 * 0.4 * math.exp(-1 / 4.0)]], backend)


def test_mstdpet_eligibility_trace_by_hand(backend: str) -> None:
    """Pair pre 0, post 1: e(1) = w e^{-1/4}; z(2) = e(1)/tau_z pays step 2's reward;
    z(3) = z(2) e^{-1/tau_z}."""
    w0, tau_z = 0.5, 3.0
    syn = px.Learner("spikingjelly_mstdpet", backend=backend, dtype="float64",
                     tau_trace=tau_z, **TAU).bind(np.array([[w0]]))
    syn.step([[1.0]], [[0.0]], reward=9.0)
    syn.step([[0.0]], [[1.0]], reward=9.0)
    syn.step([[0.0]], [[0.0]], reward=2.0)
    z2 = w0 * math.exp(-1 / 4.0) / tau_z
    assert_close(syn.weight, [[w0 + 2.0 * z2]], backend)
    syn.step([[0.0]], [[0.0]], reward=-1.0)
    assert_close(syn.weight, [[w0 + 2.0 * z2 - z2 * math.exp(-1 / tau_z)]], backend)


def test_mstdpet_batch_is_the_sum_of_independent_samples(backend: str) -> None:
    rng = np.random.default_rng(6)
    w0 = rng.uniform(0.2, 0.8, (3, 4))
    pre, post = (rng.random((20, 2, 4)) < 0.3) * 1.0, (rng.random((20, 2, 3)) < 0.3) * 1.0
    rewards = rng.uniform(-1, 1, (20, 2))
    both = px.Learner("MSTDPETLearner", backend=backend, dtype="float64").bind(
        w0.copy(), batch_size=2)
    both.run(pre, post, reward=rewards)
    # each sample alone, on the weight they share: the changes of one step add up
    singles = [px.Learner("MSTDPETLearner", dtype="float64").bind(w0.copy()) for _ in range(2)]
    w = w0.copy()
    for t in range(20):
        total = np.zeros_like(w)
        for b, single in enumerate(singles):
            single.weight[...] = w
            single.step(pre[t, b][None], post[t, b][None], reward=rewards[t, b])
            total += np.asarray(single.weight) - w
        w = w + total
    assert not np.allclose(w, w0)
    assert_close(both.weight, w, backend, rtol=1e-12, atol=1e-15)


def test_bad_weight_functions_and_time_constants_are_refused() -> None:
    with pytest.raises(px.HyperparameterError, match=r"'f_pre'.*function of the weight"):
        px.Learner("spikingjelly_stdp", f_pre=2.0)
    with pytest.raises(px.HyperparameterError, match=r"'tau_pre'.*>= 1"):
        px.Learner("spikingjelly_stdp", tau_pre=0.5)
    px.Learner("spikingjelly_mstdp", tau_pre=0.5)  # exp(-1/tau) needs only tau > 0
    with pytest.raises(px.RuleValidationError, match="f_post"):
        px.Learner("spikingjelly_stdp", f_post=lambda w: w[:1, :1, None]).bind(np.ones((2, 3)))
