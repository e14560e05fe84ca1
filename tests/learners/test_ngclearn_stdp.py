"""ngclearn's ExpSTDPSynapse with VarTrace traces: closed forms, hand steps, masks, bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close, to_numpy
from tests.learners._pair import DELAYS, pair_change, times

HYPER = dict(A_plus=0.05, A_minus=0.03, exp_beta=2.0, eta=0.5, pretrace_target=0.2,
             tau_tr=10.0)


def _clip(w: float) -> float:
    return min(max(w, 0.01), 0.99)


@pytest.mark.parametrize("delay", DELAYS)
def test_one_pair_gives_the_exponential_window(backend: str, delay: int) -> None:
    # a spike resets its trace to 1, then it decays by d = exp(-dt / tau_tr) per step; every
    # post spike also pulls the weight down by A+ exp(-beta (w_b - w)) x_tar.
    w0, d, beta = 0.4, math.exp(-1 / 10), 2.0

    def ltp(w: float, x_pre: float) -> float:
        return 0.05 * (math.exp(-beta * w) * x_pre - math.exp(-beta * (1 - w)) * 0.2)

    if delay > 0:
        expected = _clip(w0 + 0.5 * ltp(w0, d ** delay))
    elif delay == 0:
        expected = _clip(w0 + 0.5 * (ltp(w0, 1.0) - 0.03 * math.exp(-beta * w0)))
    else:  # the post spike comes first and moves the weight before the pre spike arrives
        w1 = _clip(w0 + 0.5 * ltp(w0, 0.0))
        expected = _clip(w1 - 0.5 * 0.03 * math.exp(-beta * w1) * d ** -delay)
    w = pair_change(backend, "exp_stdp", w0, *times(delay), **HYPER)
    assert w == pytest.approx(expected, rel=1e-12)


def test_reset_trace_versus_cumulative_trace(backend: str) -> None:
    # pre spikes at steps 0 and 2, post at 3; only potentiation (A_minus = 0, x_tar = 0)
    d = math.exp(-1 / 10)
    for a_delta, x_pre in ((0.0, d), (0.3, 0.3 * d ** 3 + 0.3 * d)):
        syn = px.Learner("ExpSTDPSynapse", backend=backend, dtype="float64", A_plus=0.1,
                         A_minus=0.0, exp_beta=1.0, a_delta=a_delta, tau_tr=10.0).bind(
            np.array([[0.3]]))
        for t in range(4):
            syn.step(np.array([[float(t in (0, 2))]]), np.array([[float(t == 3)]]))
        assert to_numpy(syn.weight)[0, 0] == pytest.approx(
            0.3 + 0.1 * math.exp(-0.3) * x_pre, rel=1e-12)


@pytest.mark.parametrize(("decay_type", "factor"), [("lin", 1 - 2 / 10), ("step", 0.0)])
def test_other_trace_decays(backend: str, decay_type: str, factor: float) -> None:
    w = pair_change(backend, "exp_stdp", 0.3, 0, 1, dt=2.0, decay_type=decay_type,
                    A_plus=0.1, A_minus=0.0, exp_beta=1.0, tau_tr=10.0)
    assert w == pytest.approx(0.3 + 0.1 * math.exp(-0.3) * factor, rel=1e-12)


def test_batch_is_summed_and_negative_a_minus_does_nothing(backend: str) -> None:
    # two samples, each a pre spike then a post spike one step later; a post-then-pre pair
    # with A_minus < 0 would potentiate if A_minus were used: ngclearn skips LTD instead.
    syn = px.Learner("exp_stdp", backend=backend, dtype="float64", A_plus=0.1,
                     A_minus=-5.0, exp_beta=0.0).bind(np.array([[0.5, 0.5]]), batch_size=2)
    syn.step(np.array([[1.0, 0.0], [1.0, 0.0]]), np.zeros((2, 1)))
    syn.step(np.array([[0.0, 1.0], [0.0, 1.0]]), np.ones((2, 1)))
    d = math.exp(-1 / 20)
    assert_close(syn.weight, [[0.5 + 0.1 * 2 * d, 0.5 + 0.1 * 2 * 1.0]], backend, rtol=1e-12)


def test_clip_keeps_eps_margins(backend: str) -> None:
    assert pair_change(backend, "exp_stdp", 0.5, 0, 1, A_plus=50.0) == pytest.approx(0.99)
    assert pair_change(backend, "exp_stdp", 0.5, 1, 0, A_minus=50.0) == pytest.approx(0.01)
    assert pair_change(backend, "exp_stdp", 0.5, 0, 1, A_plus=50.0, w_bound=2.0,
                       eps=0.1) == pytest.approx(1.9)
    with pytest.raises(px.HyperparameterError, match="2 \\* eps"):
        px.Learner("exp_stdp", w_bound=0.02)


def _random_run(backend: str, seed: int = 0, **kw: object) -> px.Binding:
    rng = np.random.default_rng(1)
    syn = px.Learner("exp_stdp", backend=backend, seed=seed, A_plus=0.5, A_minus=0.5,
                     **kw).bind(rng.uniform(0.2, 0.8, (30, 40)), batch_size=2)
    syn.run((rng.random((20, 2, 40)) < 0.3) * 1.0, (rng.random((20, 2, 30)) < 0.3) * 1.0)
    return syn


def test_weight_mask_keeps_masked_synapses_at_zero(backend: str) -> None:
    rng = np.random.default_rng(2)
    mask = rng.random((5, 6)) < 0.5
    syn = px.Learner("exp_stdp", backend=backend, A_plus=1.0).bind(
        rng.uniform(0.2, 0.8, (5, 6)), mask=mask, batch_size=2)
    syn.run(np.ones((5, 2, 6)), np.ones((5, 2, 5)))
    w = to_numpy(syn.weight)
    assert (w[~mask] == 0).all() and (w[mask] >= 0.01).all() and (w[mask] <= 0.99).all()


def test_p_conn_draws_a_fixed_mask_from_the_seed(backend: str) -> None:
    syn = _random_run(backend, p_conn=0.3)
    conn = to_numpy(syn.conn)
    assert set(np.unique(conn)) == {0.0, 1.0}
    assert abs(conn.mean() - 0.3) < 0.05
    w = to_numpy(syn.weight)
    assert (w[conn == 0] == 0).all() and (w[conn == 1] >= 0.01 - 1e-7).all()
    syn.reset()
    np.testing.assert_array_equal(to_numpy(syn.conn), conn)
    np.testing.assert_array_equal(to_numpy(_random_run(backend, p_conn=0.3).conn), conn)
    assert (to_numpy(_random_run(backend, seed=7, p_conn=0.3).conn) != conn).any()
    # the mask is the same on every backend (counter-based generator)
    np.testing.assert_array_equal(to_numpy(_random_run("numpy", p_conn=0.3).conn), conn)
    assert "conn" not in _random_run(backend, p_conn=1.0).state


def test_tau_w_is_ignored_unless_asked(backend: str) -> None:
    silent = np.zeros((1, 1))
    for apply, expected in ((False, 0.5), (True, 0.5 * 0.8 ** 3)):
        syn = px.Learner("exp_stdp", backend=backend, dtype="float64", tau_w=5.0,
                         apply_tau_w=apply).bind(np.array([[0.5]]))
        for _ in range(3):
            syn.step(silent, silent)
        assert to_numpy(syn.weight)[0, 0] == pytest.approx(expected, rel=1e-12)


def test_resist_scale_does_not_change_learning(backend: str) -> None:
    a = to_numpy(_random_run(backend).weight)
    b = to_numpy(_random_run(backend, resist_scale=3.0).weight)
    np.testing.assert_array_equal(a, b)
    assert np.isfinite(a).all() and a.min() >= 0.01 - 1e-7 and a.max() <= 0.99 + 1e-7


def test_names_and_docs() -> None:
    assert px.Learner("ExpSTDPSynapse").name == "exp_stdp"
    text = px.info("exp_stdp")
    assert "tau_tr" in text and "transposed" in text and "resist_scale" in text


def test_linear_trace_decay_needs_tau_at_least_dt() -> None:
    learner = px.Learner("exp_stdp", A_plus=1.0, A_minus=1.0, exp_beta=1.0, decay_type="lin",
                         tau_tr=0.5)
    with pytest.raises(px.HyperparameterError, match=r"tau_tr.*tau_tr >= dt \(1.0 ms\)"):
        learner.bind(np.full((2, 3), 0.5))
    learner.bind(np.full((2, 3), 0.5), dt=0.5)  # 1 - dt/tau = 0: allowed
