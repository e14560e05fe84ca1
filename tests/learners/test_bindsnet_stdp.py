"""BindsNET's PostPre, Hebbian and WeightDependentPostPre: the pair windows in closed form,
node traces (resetting and additive), hand-worked steps, nu as a pair, bounds, decay, norm."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close, to_numpy
from tests.learners._pair import DELAYS, pair_change, times

NU = (0.25, 0.5)  # (nu_pre, nu_post)


def _window(rule: str, delay: int, w0: float = 0.5, tau_pre: float = 20.0,
            tau_post: float = 20.0, dt: float = 1.0) -> float:
    """One pair's change by the equations: traces reset to 1 at a spike and decay by
    e^{-dt/tau}; the term on the later spike reads the earlier neuron's trace."""
    ltp = NU[1] * math.exp(-delay * dt / tau_pre) if delay >= 0 else 0.0
    other = NU[0] * math.exp(delay * dt / tau_post) if delay <= 0 else 0.0
    if rule == "post_pre":
        return ltp - other
    if rule == "hebbian":
        return ltp + other
    return ltp * (1.0 - w0) - other * (w0 - 0.0)  # weight-dependent, wmin 0, wmax 1


@pytest.mark.parametrize("rule", ["post_pre", "hebbian", "weight_dependent_post_pre"])
@pytest.mark.parametrize("delay", DELAYS)
def test_one_pair_gives_the_rules_window(backend: str, rule: str, delay: int) -> None:
    w = pair_change(backend, rule, 0.5, *times(delay), dt=0.5, nu=NU, tc_trace_pre=4.0,
                    tc_trace_post=6.0)
    expected = _window(rule, delay, tau_pre=4.0, tau_post=6.0, dt=0.5)
    assert w == pytest.approx(0.5 + expected, rel=1e-12, abs=1e-15)


def test_a_scalar_nu_sets_both_rates_and_the_pair_sets_each() -> None:
    p = px.Learner("PostPre", nu=0.3).params
    assert (p.nu_pre, p.nu_post) == (0.3, 0.3)
    p = px.Learner("PostPre", nu=[0.1, 0.2]).params
    assert (p.nu_pre, p.nu_post) == (0.1, 0.2)
    p = px.Learner("PostPre", nu=(0.1, 0.2), nu_post=0.7).params
    assert (p.nu_pre, p.nu_post) == (0.1, 0.7)  # the explicit name wins
    with pytest.raises(px.HyperparameterError, match="'post_pre', hyperparameter 'nu'"):
        px.Learner("post_pre", nu=(1.0, 2.0, 3.0))


def test_resetting_traces_take_the_nearest_spike_and_additive_ones_sum(backend: str) -> None:
    """pre at steps 0 and 1, post at 2 (tau = 10, dt = 1): a resetting pre trace holds
    e^{-1/10} at step 2, an additive one e^{-2/10} + e^{-1/10}."""
    d = math.exp(-1 / 10)
    for additive, x_pre in ((False, d), (True, d * d + d)):
        syn = px.Learner("post_pre", backend=backend, dtype="float64", nu=(0.0, 1.0),
                         tc_trace=10.0, traces_additive=additive).bind(np.zeros((1, 1)))
        for t in range(3):
            syn.step([[float(t < 2)]], [[float(t == 2)]])
        assert_close(syn.weight, [[x_pre]], backend)


def test_trace_scale_and_a_same_step_pair(backend: str) -> None:
    """Both spike in one step: each trace is set to its scale first, so PostPre gives
    nu_post * scale_pre - nu_pre * scale_post."""
    syn = px.Learner("post_pre", backend=backend, dtype="float64", nu=NU,
                     trace_scale_pre=0.8, trace_scale_post=0.6).bind(np.zeros((1, 1)))
    syn.step([[1.0]], [[1.0]])
    assert_close(syn.weight, [[0.5 * 0.8 - 0.25 * 0.6]], backend)


def test_batch_is_summed_or_averaged_and_layout_is_post_by_pre(backend: str) -> None:
    pre = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    post = np.array([[1.0, 0.0], [0.0, 0.0]])
    for how, n in (("sum", 1.0), ("mean", 0.5)):
        syn = px.Learner("hebbian", backend=backend, dtype="float64", nu=(0.0, 1.0),
                         reduction=how).bind(np.zeros((2, 3)), batch_size=2)
        syn.step(pre, np.zeros((2, 2)))
        syn.step(np.zeros((2, 3)), post)
        expected = np.zeros((2, 3))
        expected[0, 1] = n * math.exp(-1 / 20)  # only sample 0's post neuron 0 fired
        assert_close(syn.weight, expected, backend)


def test_weight_decay_then_clamp(backend: str) -> None:
    syn = px.Learner("post_pre", backend=backend, dtype="float64", weight_decay=0.5,
                     wmax=0.3).bind(np.array([[0.8, 0.4]]))
    syn.step([[0.0, 0.0]], [[0.0]])
    assert_close(syn.weight, [[0.3, 0.2]], backend)  # 0.4, 0.2 after the decay; then clamp


def test_weight_dependence_keeps_weights_inside_the_bounds(backend: str) -> None:
    rng = np.random.default_rng(2)
    syn = px.Learner("weight_dependent_post_pre", backend=backend, dtype="float64",
                     nu=(0.9, 0.9), wmin=-0.5, wmax=0.5).bind(rng.uniform(-0.5, 0.5, (4, 6)),
                                                            batch_size=1)
    syn.run((rng.random((60, 1, 6)) < 0.3) * 1.0, (rng.random((60, 1, 4)) < 0.3) * 1.0)
    w = to_numpy(syn.weight)
    assert np.isfinite(w).all() and w.min() >= -0.5 and w.max() <= 0.5


def test_weight_dependent_needs_finite_bounds() -> None:
    with pytest.raises(px.HyperparameterError, match=r"'wmax'.*finite"):
        px.Learner("WeightDependentPostPre", wmax=math.inf)


def test_norm_rescales_each_post_row_at_the_end_of_a_run(backend: str) -> None:
    syn = px.Learner("post_pre", backend=backend, dtype="float64", norm=2.0).bind(
        np.array([[1.0, 3.0], [0.0, 0.0]]))
    syn.step([[0.0, 0.0]], [[0.0, 0.0]])
    assert_close(syn.weight, [[1.0, 3.0], [0.0, 0.0]], backend)  # not on an ordinary step
    syn.step([[0.0, 0.0]], [[0.0, 0.0]], final=True)
    assert_close(syn.weight, [[0.5, 1.5], [0.0, 0.0]], backend)  # an empty row stays empty


def test_aliases_and_rejected_options() -> None:
    assert px.find_rule("PostPre").name == "post_pre"
    assert px.find_rule("bindsnet.Hebbian").name == "hebbian"
    assert px.find_rule("WeightDependentPostPre").name == "weight_dependent_post_pre"
    with pytest.raises(px.HyperparameterError, match="complement"):
        px.Learner("post_pre", mask=np.ones((2, 2)))
    assert "nu sets nu_pre, nu_post" in px.info("post_pre")
