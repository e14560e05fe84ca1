"""The array lowering's fast paths compute what the plain graph computes.

Event-driven updates against dense ones (bit for bit in float64 where the batch sum has one
or two terms), live hyperparameters (no recompilation), scratch buffers kept out of state
dicts, the fused row normalisation against its formula, and Binding.step's fast path. These
are the paths a step takes without generated kernels (Numba absent, or ``PLASTIX_KERNELS=0``),
so every test here runs with kernels off; tests/test_kernels.py checks the kernels.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

import plastix as px
from plastix._compiler import CACHE
from plastix._graph import Graph
from plastix.learners._pieces import add_change, clamp, pair_dw, trace

N_POST, N_PRE = 200, 300  # large enough (60 000 synapses) for the event-driven branch


@pytest.fixture(autouse=True)
def array_lowering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLASTIX_KERNELS", "0")
DECAY = math.exp(-1 / 20)


@px.register("fastpath_ltp_only", override=True)
class LtpOnly(px.Rule):
    """Potentiation only, subtracted with a negative rate: a change with row support only."""

    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Params:
        rate: float = px.param(-0.01)

    def build(self, g: Graph) -> None:
        g.variable_to_backend("x_pre", g.pre_shape)
        trace(g, "x_pre", "pre", DECAY)
        g.op_to_backend("dw", "mat_mult_pre", ["post", "x_pre"])
        g.op_to_backend("dw", "mul", ["dw", "rate"])
        dw = g.weight_change("dw")
        g.op_to_backend("weight", "sub", ["weight", dw])


@px.register("fastpath_pair_clip", override=True)
class PairClip(px.Rule):
    """Additive pair STDP with cumulative traces and hard bounds (as norse's additive)."""

    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Params:
        a_plus: float = px.param(0.01)
        a_minus: float = px.param(0.012)
        decay: float = px.param(DECAY)
        w_min: float = px.param(0.0)
        w_max: float = px.param(1.0)

    def build(self, g: Graph) -> None:
        g.variable_to_backend("x_pre", g.pre_shape)
        g.variable_to_backend("x_post", g.post_shape)
        trace(g, "x_pre", "pre", "decay")
        trace(g, "x_post", "post", "decay")
        pair_dw(g, "dw", pre="pre", post="post", x_pre="x_pre", x_post="x_post",
                a_plus="a_plus", a_minus="a_minus")
        add_change(g, "dw")
        clamp(g, "weight", "w_min", "w_max")


def trains(rng: np.random.Generator, steps: int, batch: int, p: float | list[float]
           ) -> tuple[np.ndarray, np.ndarray]:
    ps = np.resize(np.asarray(p, dtype=float), steps)[:, None, None]
    pre = (rng.random((steps, batch, N_PRE)) < ps).astype(np.float64)
    post = (rng.random((steps, batch, N_POST)) < ps).astype(np.float64)
    return pre, post


def run(rule: str, w0: np.ndarray, pre: np.ndarray, post: np.ndarray, *, mode: bool | None,
        sparse_bounds: bool = False, mask: np.ndarray | None = None) -> np.ndarray:
    syn = px.Learner(rule, dtype="float64").bind(w0.copy(), batch_size=pre.shape[1], mask=mask)
    syn.event_driven = mode
    syn.sparse_bounds = sparse_bounds
    syn.run(pre, post, final=False)
    return np.asarray(syn.weight)


RULES = ["nearest_online_stdp", "full_online_stdp", "fastpath_ltp_only", "fastpath_pair_clip"]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("p", [0.01, 0.05, 0.3])
def test_event_driven_equals_dense_bit_for_bit(rule: str, batch: int, p: float) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{rule}/{batch}/{p}".encode()))
    w0 = rng.uniform(-0.2, 1.2, (N_POST, N_PRE))  # some outside the bounds: clamped once
    pre, post = trains(rng, 25, batch, p)
    dense = run(rule, w0, pre, post, mode=False)
    assert np.array_equal(run(rule, w0, pre, post, mode=True), dense)
    assert np.array_equal(run(rule, w0, pre, post, mode=None), dense)
    assert not np.array_equal(dense, w0)


@pytest.mark.parametrize("rule", RULES)
def test_event_driven_large_batch_within_rounding(rule: str) -> None:
    # with 32 samples BLAS may sum the batch in another order on a subset of rows
    rng = np.random.default_rng(7)
    w0 = rng.uniform(0.0, 1.0, (N_POST, N_PRE))
    pre, post = trains(rng, 20, 32, [0.01, 0.05, 0.5])
    np.testing.assert_allclose(run(rule, w0, pre, post, mode=True),
                               run(rule, w0, pre, post, mode=False), rtol=1e-13, atol=1e-15)


def test_auto_mode_switches_with_density() -> None:
    # alternating sparse and dense steps: the per-step choice keeps the dense result
    rng = np.random.default_rng(3)
    w0 = rng.uniform(0.0, 1.0, (N_POST, N_PRE))
    pre, post = trains(rng, 30, 1, [0.005, 0.6, 0.02, 0.3])
    assert np.array_equal(run("fastpath_pair_clip", w0, pre, post, mode=None),
                          run("fastpath_pair_clip", w0, pre, post, mode=False))


def test_sparse_bounds_are_exact_when_only_the_binding_writes() -> None:
    rng = np.random.default_rng(4)
    w0 = rng.uniform(-0.5, 1.5, (N_POST, N_PRE))  # the first step must clamp everything
    pre, post = trains(rng, 25, 1, [0.01, 0.05])
    dense = run("fastpath_pair_clip", w0, pre, post, mode=False)
    assert dense.min() >= 0.0 and dense.max() <= 1.0
    assert np.array_equal(run("fastpath_pair_clip", w0, pre, post, mode=True,
                              sparse_bounds=True), dense)


@pytest.mark.parametrize("change", ["set", "load_state_dict"])
def test_sparse_bounds_clamp_everything_after_the_bounds_or_weight_change(change: str) -> None:
    # norse_stdp 200x200 (event-driven), sparse bounds on: after set(w_max=0.25) or loading a
    # weight from outside, the next step must clamp every synapse, not only those it touched
    rng = np.random.default_rng(11)
    learner = px.Learner("norse_stdp", eta_plus=0.05, eta_minus=0.05)
    syn = learner.bind(rng.uniform(0.0, 1.0, (200, 200)).astype(np.float32))
    syn.sparse_bounds = True
    pre = (rng.random((6, 1, 200)) < 0.02).astype(np.float32)
    post = (rng.random((6, 1, 200)) < 0.02).astype(np.float32)
    for t in range(5):
        syn.step(pre[t], post[t])
    if change == "set":
        syn.set(w_max=0.25)
        high = 0.25
    else:
        sd = syn.state_dict()
        sd["arrays"]["weight"] = np.full((200, 200), 3.0, np.float32)  # all above w_max = 1
        syn.load_state_dict(sd)
        high = 1.0
    syn.step(pre[5], post[5])
    w = np.asarray(syn.weight)
    assert w.max() <= high and w.min() >= 0.0


def test_event_driven_with_mask() -> None:
    rng = np.random.default_rng(5)
    w0 = rng.uniform(0.0, 1.0, (N_POST, N_PRE))
    mask = (rng.random((N_POST, N_PRE)) < 0.5).astype(np.float64)
    pre, post = trains(rng, 20, 1, 0.05)
    dense = run("fastpath_pair_clip", w0, pre, post, mode=False, mask=mask)
    assert np.array_equal(run("fastpath_pair_clip", w0, pre, post, mode=True, mask=mask), dense)
    assert np.all(dense[mask == 0] == 0)


def test_source_shows_the_chosen_paths() -> None:
    big = px.Learner("fastpath_pair_clip").bind(np.zeros((N_POST, N_PRE), np.float32))
    src = big.source
    assert "event-driven" in src and "X.event_limit" in src and "else:" in src
    assert "_buf_dw_ltp" in src  # the dense branch writes its outer product into scratch
    small = px.Learner("fastpath_pair_clip").bind(np.zeros((10, 10), np.float32))
    assert "event-driven" not in small.source  # too small: dense only
    norm = px.Learner("nearest_online_stdp").bind(np.zeros((N_POST, N_PRE), np.float32))
    assert "rownorm_l1(" in norm.source and "reduce_sum" not in norm.source


def test_seam_hook_keeps_the_dense_change() -> None:
    # a hook sees the whole change, so no event-driven branch is generated
    syn = px.Learner("fastpath_pair_clip").bind(np.zeros((N_POST, N_PRE), np.float32))
    syn.intercept("weight", lambda dw: dw)
    assert "event-driven" not in syn.source


def test_row_normalisation_matches_its_formula() -> None:
    # one step of nearest_online_stdp, worked with the rule's equations in float64
    rng = np.random.default_rng(6)
    w0 = rng.uniform(0.0, 0.2, (N_POST, N_PRE))
    pre = (rng.random((1, N_PRE)) < 0.1).astype(np.float64)
    post = (rng.random((1, N_POST)) < 0.1).astype(np.float64)
    syn = px.Learner("nearest_online_stdp", dtype="float64").bind(w0.copy())
    syn.step(pre, post)
    w = w0 + 1e-2 * post.T @ pre - 1e-4 * post.T @ pre  # traces equal the spikes here
    w = np.clip(78.4 * w / np.abs(w).sum(axis=1, keepdims=True), 0.0, 1.0)
    np.testing.assert_allclose(syn.weight, w, rtol=1e-14)


def test_state_dict_leaves_scratch_out() -> None:
    rng = np.random.default_rng(8)
    w0 = rng.uniform(0.0, 1.0, (N_POST, N_PRE))
    pre, post = trains(rng, 3, 1, 0.5)
    syn = px.Learner("fastpath_pair_clip", dtype="float64").bind(w0.copy())
    syn.run(pre, post)
    assert syn.step_state.scratch_arrays  # the run used scratch (kept beside S, not in it)
    sd = syn.state_dict()
    assert sorted(sd["arrays"]) == ["weight", "x_post", "x_pre"]
    other = px.Learner("fastpath_pair_clip", dtype="float64").bind(w0.copy())
    other.load_state_dict(sd)
    np.testing.assert_array_equal(other.weight, syn.weight)


# -- live hyperparameters -----------------------------------------------------------------------
def test_set_takes_effect_next_step_without_recompiling() -> None:
    # 1x1 weight, full_online_stdp, worked by hand: x <- decay x + s
    a_plus, a_minus = 0.01, 0.001
    learner = px.Learner("full_online_stdp", dtype="float64", Apost=a_plus, Apre=a_minus)
    syn = learner.bind(np.array([[0.5]]))
    twin = learner.bind(np.array([[0.5]]))
    one, zero = np.ones((1, 1)), np.zeros((1, 1))
    syn.step(one, one)
    twin.step(one, one)
    w1 = 0.5 + a_plus - a_minus
    assert syn.weight[0, 0] == pytest.approx(w1, rel=1e-15)
    compiled = len(CACHE)
    syn.set(Apost=0.2)
    syn.step(zero, one)  # x_pre = decay, post spikes: + 0.2 * decay
    twin.step(zero, one)
    assert len(CACHE) == compiled
    assert syn.weight[0, 0] == pytest.approx(w1 + 0.2 * DECAY, rel=1e-15)
    assert twin.weight[0, 0] == pytest.approx(w1 + a_plus * DECAY, rel=1e-15)
    assert "# Apost = 0.2" in syn.source
    assert syn.params.Apost == 0.2 and twin.params.Apost == a_plus


def test_set_checks_names_and_ranges() -> None:
    syn = px.Learner("full_online_stdp").bind(np.full((2, 2), 0.5, np.float32))
    with pytest.raises(px.HyperparameterError, match="Apots"):
        syn.set(Apots=1.0)
    with pytest.raises(px.HyperparameterError, match="trace_decay"):
        syn.set(trace_decay=2.0)
    assert syn.params.trace_decay == pytest.approx(DECAY)


def test_set_of_a_structural_parameter_recompiles() -> None:
    # postpreintstdp's build reads `shift` in Python: its code changes, and set() still works
    learner = px.Learner("postpreintstdp")
    syn = learner.bind(np.full((3, 4), 50, np.int32))
    syn.step(np.ones((1, 4)), np.ones((1, 3)), post_thresh=0)
    before = syn.source
    syn.set(shift=12)
    syn.step(np.ones((1, 4)), np.ones((1, 3)), post_thresh=0)
    assert syn.source != before and syn.params.shift == 12


# -- Binding.step's fast path -------------------------------------------------------------------
@pytest.mark.parametrize("bad", [2.0, np.nan, np.inf, -1.0, 0.5])
def test_fast_path_still_rejects_bad_spikes(bad: float) -> None:
    syn = px.Learner("nearest_online_stdp").bind(np.full((3, 4), 0.5, np.float32))
    pre = np.zeros((1, 4), np.float32)
    pre[0, 1] = bad
    before = syn.weight.copy()
    with pytest.raises(px.StepInputError, match="'pre'"):
        syn.step(pre, np.zeros((1, 3), np.float32))
    np.testing.assert_array_equal(syn.weight, before)
    assert syn.t == 0


def test_a_seam_hook_may_keep_the_change_it_received() -> None:
    # scratch buffers are not used when a hook sees the change: what it kept stays valid
    kept: list[np.ndarray] = []

    def keep(dw: np.ndarray) -> np.ndarray:
        kept.append(dw)
        return dw

    rng = np.random.default_rng(9)
    syn = px.Learner("fastpath_pair_clip", dtype="float64").bind(
        rng.uniform(0.0, 1.0, (N_POST, N_PRE)))
    syn.intercept("weight", keep)
    pre, post = trains(rng, 2, 1, 0.5)
    syn.step(pre[0], post[0])
    first = kept[0].copy()
    syn.step(pre[1], post[1])
    assert kept[0] is not kept[1]
    np.testing.assert_array_equal(kept[0], first)


def test_integer_rule_keeps_numpy_clip_semantics() -> None:
    # integer weights and bounds: the clamp is np.clip, as for any other backend
    syn = px.Learner("postpreintstdp").bind(np.full((3, 4), 200, np.int32))
    syn.step(np.zeros((1, 4)), np.zeros((1, 3)), post_thresh=0)
    assert syn.weight.dtype == np.int32 and int(syn.weight.max()) == 109


@px.register("fastpath_multiplicative", override=True)
class Multiplicative(px.Rule):
    """Soft-bounded pair STDP: potentiation times (w_max - w)^mu, depression times w^mu."""

    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Params:
        a_plus: float = px.param(0.01)
        a_minus: float = px.param(0.012)
        mu: float = px.param(0.7)

    def build(self, g: Graph) -> None:
        g.variable_to_backend("x_pre", g.pre_shape)
        g.variable_to_backend("x_post", g.post_shape)
        trace(g, "x_pre", "pre", DECAY)
        trace(g, "x_post", "post", DECAY)
        g.op_to_backend("room", "sub", [1.0, "weight"])
        g.op_to_backend("room", "relu", ["room"])
        g.op_to_backend("room", "pow", ["room", "mu"])
        g.op_to_backend("held", "relu", ["weight"])
        g.op_to_backend("held", "pow", ["held", "mu"])
        g.op_to_backend("ltp", "mat_mult_pre", ["post", "x_pre"])
        g.op_to_backend("ltp", "mul", ["ltp", "room"])
        g.op_to_backend("ltp", "mul", ["a_plus", "ltp"])
        g.op_to_backend("ltd", "mat_mult_pre", ["x_post", "pre"])
        g.op_to_backend("ltd", "mul", ["ltd", "held"])
        g.op_to_backend("ltd", "mul", ["a_minus", "ltd"])
        g.op_to_backend("dw", "sub", ["ltp", "ltd"])
        add_change(g, "dw")


@pytest.mark.parametrize("p", [0.01, 0.05, 0.3])
def test_weight_dependence_is_computed_on_the_touched_part_only(p: float) -> None:
    rng = np.random.default_rng(10)
    w0 = rng.uniform(0.0, 1.0, (N_POST, N_PRE))
    pre, post = trains(rng, 25, 1, p)
    dense = run("fastpath_multiplicative", w0, pre, post, mode=False)
    assert np.array_equal(run("fastpath_multiplicative", w0, pre, post, mode=True), dense)
    src = px.Learner("fastpath_multiplicative").bind(w0.astype(np.float32)).source
    event_part = src.split("if _rows.size")[1].split("else:")[0]
    assert "weight[_rows] - " not in event_part  # gathered, not computed on the whole weight
    assert "room" in event_part and "held" in event_part


@pytest.mark.parametrize("bad", [2.0, np.nan, np.inf, 0.5])
def test_fast_path_rejects_bad_spikes_in_large_batches(bad: float) -> None:
    syn = px.Learner("nearest_online_stdp").bind(np.full((30, 40), 0.5, np.float32),
                                                 batch_size=32)
    post = np.zeros((32, 30), np.float32)
    post[31, 29] = bad
    with pytest.raises(px.StepInputError, match="'post'"):
        syn.step(np.zeros((32, 40), np.float32), post)
    assert syn.t == 0
