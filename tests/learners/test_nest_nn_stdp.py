"""NEST's nearest-neighbour STDP synapses (stdp_nn_symm, stdp_nn_pre_centered,
stdp_nn_restr): the window of one pair at every delta from -5 to 5 steps, the spike pairs each
scheme keeps, NEST's pre spike at time 0, and the restricted scheme where NEST's code and
documentation disagree; all worked by hand from NEST's update equations (additive steps:
+lambda Wmax K, -alpha lambda Wmax K)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import to_numpy
from tests.learners._nest import WINDOW, pair_steps, run, weight

ADDITIVE = dict(lambda_=0.1, alpha=1.5, mu_plus=0.0, mu_minus=0.0, Wmax=1.0, tau_plus=10.0,
                tau_minus=20.0)
SCHEMES = ["nest_stdp_nn_symm", "nest_stdp_nn_pre_centered", "nest_stdp_nn_restr"]


def ltp(lag: float) -> float:
    return 0.1 * math.exp(-lag / 10)


def ltd(lag: float) -> float:
    return 0.15 * math.exp(-lag / 20)


@pytest.mark.parametrize("delay", [1, 2])
@pytest.mark.parametrize("delta", WINDOW)
@pytest.mark.parametrize("rule", SCHEMES)
def test_window_of_one_pair(backend: str, rule: str, delta: int, delay: int) -> None:
    """pre at step 10, post delta steps after it at the synapse. Before the first pre spike
    (delta <= 0) the symmetric and restricted schemes pair the post spike with NEST's pre
    spike at 0 ms, one step before step 0: lag s + 1 for a post spike reaching the synapse
    at step s = 10 + delta."""
    p, q = pair_steps(delta, delay)
    syn = run(backend, rule, 0.5, [p], [q], max(p, q + delay) + 2, delay=float(delay),
              **ADDITIVE)
    phantom = ltp(p + delta + 1) if rule != "nest_stdp_nn_pre_centered" and delta <= 0 else 0.0
    if delta > 0:
        expected = 0.5 + ltp(delta)
    elif delta < 0:
        expected = 0.5 + phantom - ltd(-delta)
    else:
        expected = 0.5 + phantom
    assert weight(syn) == pytest.approx(expected, rel=1e-13)


# pre spikes at 0 and 3, post spikes reaching the synapse at 6 and 8 (steps 5 and 7), pre at 12
TRAIN = dict(pre=[0, 3, 12], post=[5, 7], steps=14)
EXPECTED = {
    "nest_stdp": ltp(6) + ltp(3) + ltp(8) + ltp(5) - 0.15 * (math.exp(-4 / 20)
                                                              + math.exp(-6 / 20)),
    "nest_stdp_nn_symm": ltp(3) + ltp(5) - ltd(4),  # each post with the nearest pre
    "nest_stdp_nn_pre_centered": ltp(6) + ltp(3) - ltd(4),  # the first post with all pres
    "nest_stdp_nn_restr": ltp(3) - ltd(4),  # the second post has no pre of its own
}


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_which_pairs_each_scheme_keeps(backend: str, rule: str) -> None:
    syn = run(backend, rule, 0.5, TRAIN["pre"], TRAIN["post"], TRAIN["steps"], **ADDITIVE)
    assert weight(syn) == pytest.approx(0.5 + EXPECTED[rule], rel=1e-13)


def test_restricted_scheme_follows_nest_code_not_its_documentation(backend: str) -> None:
    """pre at 10 and 20, post spikes reaching the synapse at 5 and 20 (steps 4 and 19). At
    the pre spike of 20 NEST's code potentiates with the pre of 10 and depresses with the post
    spike of 5, older than the previous pre spike (the documentation would not depress)."""
    syn = run(backend, "nest_stdp_nn_restr", 0.5, [10, 20], [4, 19], 22, **ADDITIVE)
    expected = 0.5 + ltp(6) - ltd(5) + ltp(10) - ltd(15)  # ltp(6): the pre spike at 0 ms
    assert weight(syn) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("rule", SCHEMES)
def test_a_post_spike_before_any_pre_spike(backend: str, rule: str) -> None:
    """post at step 3 reaches the synapse at 4: 5 steps after NEST's pre spike at 0 ms; the
    pre-centred scheme's trace is still 0. reset() brings that pre spike back."""
    syn = run(backend, rule, 0.5, [], [3], 6, **ADDITIVE)
    gain = 0.0 if rule == "nest_stdp_nn_pre_centered" else ltp(5)
    assert weight(syn) == pytest.approx(0.5 + gain, rel=1e-13)
    syn.reset()
    for t in range(6):
        syn.step(np.zeros((1, 1)), np.array([[float(t == 3)]]))
    assert weight(syn) == pytest.approx(0.5 + 2 * gain, rel=1e-13)


def test_pre_centred_trace_is_per_synapse(backend: str) -> None:
    """Two post neurons: a post spike clears the trace of its own row only."""
    syn = px.Learner("nest_stdp_nn_pre_centered", backend=backend, dtype="float64",
                     **ADDITIVE).bind(np.full((2, 1), 0.5))
    for t in range(8):  # pre at 0; post 0 at step 2 (synapse 3), post 1 at step 5 (synapse 6)
        syn.step(np.array([[float(t == 0)]]), np.array([[float(t == 2), float(t == 5)]]))
    np.testing.assert_allclose(to_numpy(syn.weight)[:, 0], [0.5 + ltp(3), 0.5 + ltp(6)],
                               rtol=1e-13)


@pytest.mark.parametrize("rule", SCHEMES)
def test_bounds_and_finiteness(backend: str, rule: str) -> None:
    rng = np.random.default_rng(11)
    syn = px.Learner(rule, backend=backend, dtype="float64", lambda_=0.4, mu_plus=0.5,
                     Wmax=3.0, delay=2.0).bind(rng.uniform(0, 3, (4, 5)), batch_size=2)
    syn.run((rng.random((150, 2, 5)) < 0.3) * 1.0, (rng.random((150, 2, 4)) < 0.3) * 1.0)
    w = to_numpy(syn.weight)
    assert np.isfinite(w).all() and w.min() >= 0 and w.max() <= 3.0


def test_names() -> None:
    for rule in SCHEMES:
        nest_name = rule.replace("nest_stdp_", "stdp_") + "_synapse"
        assert px.Learner(nest_name).name == rule
        assert px.Learner(rule, **{"lambda": 0.2}).params.lambda_ == 0.2
