"""Any batch size: a binding takes its batch size from the first step after bind or reset.

Expected values come from plain bindings bound with the batch size in question from the start
(what the binding must equal), and from the hand-worked first step of norse's traces.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import plastix as px
from plastix._compiler import CACHE
from tests.conftest import to_numpy

HYPER = {"eta_plus": 0.02, "eta_minus": 0.013, "w_min": -10.0, "w_max": 10.0}


def _spikes(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return (rng.random(shape) < 0.4).astype(np.float64)


def _learner(backend: str = "numpy", rule: str = "norse_stdp", **kw: Any) -> px.Learner:
    hyper = HYPER if rule == "norse_stdp" else {}
    return px.Learner(rule, backend=backend, dtype="float64", **{**hyper, **kw})


def _native(syn: px.Binding, x: np.ndarray) -> Any:
    return syn.backend.asarray(x, syn.dtype)


def _state(syn: px.Binding) -> dict[str, np.ndarray]:
    return {k: to_numpy(v).copy() for k, v in syn.S.items()}


def test_the_first_step_after_bind_sets_the_batch_size(backend: str) -> None:
    rng = np.random.default_rng(0)
    w0 = rng.uniform(0, 1, (3, 4))
    pre, post = _spikes(rng, 6, 5, 4), _spikes(rng, 6, 5, 3)
    hinted = _learner(backend).bind(w0.copy(), batch_size=2)
    exact = _learner(backend).bind(w0.copy(), batch_size=5)
    for x, y in zip(pre, post, strict=True):
        hinted.step(_native(hinted, x), _native(hinted, y))
        exact.step(_native(exact, x), _native(exact, y))
    assert hinted.batch_size == 5 and hinted.graph.pre_shape == (5, 4)
    assert tuple(hinted.x_pre.shape) == (5, 4)
    np.testing.assert_array_equal(to_numpy(hinted.weight), to_numpy(exact.weight))
    np.testing.assert_array_equal(to_numpy(hinted.x_post), to_numpy(exact.x_post))


def test_the_first_step_of_a_new_batch_is_worked_by_hand() -> None:
    # norse's traces jump by dt * tau_inv * a = 1 ms * 20 /s * 1 = 0.02 on a spike, so with
    # every neuron spiking at once, dw = (eta_plus - eta_minus) * 0.02 per sample: summed
    # over a batch of 3 it is 3 * 0.007 * 0.02
    syn = _learner().bind(np.full((2, 3), 0.5), batch_size=7)
    syn.step(np.ones((3, 3)), np.ones((3, 2)))
    np.testing.assert_allclose(syn.weight, 0.5 + 3 * 0.007 * 0.02, rtol=1e-12)
    np.testing.assert_allclose(syn.x_pre, np.full((3, 3), 0.02), rtol=1e-12)


def test_a_batch_change_mid_sequence_names_both_sizes_and_changes_nothing(backend: str
                                                                          ) -> None:
    rng = np.random.default_rng(1)
    syn = _learner(backend).bind(rng.uniform(0, 1, (3, 4)), batch_size=1)
    syn.step(_native(syn, _spikes(rng, 4, 4)), _native(syn, _spikes(rng, 4, 3)))
    before, t = _state(syn), syn.t
    with pytest.raises(px.StepInputError, match=r"batch size 4.*reset\(\).*batch size 2") as e:
        syn.step(_native(syn, _spikes(rng, 2, 4)), _native(syn, _spikes(rng, 2, 3)))
    assert e.value.rule == "norse_stdp" and e.value.argument == "pre"
    assert syn.t == t and syn.batch_size == 4
    for k, v in _state(syn).items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_reset_lets_a_smaller_last_batch_through_and_equals_fresh_bindings(backend: str
                                                                          ) -> None:
    """A data set of 10 samples in batches of 4: 4, 4, 2. Each batch is a new sequence (reset
    before it), so each must equal a binding bound with that batch size from the weight the
    previous batch left."""
    rng = np.random.default_rng(2)
    data_pre, data_post = _spikes(rng, 5, 10, 4), _spikes(rng, 5, 10, 3)
    w0 = rng.uniform(0, 1, (3, 4))
    syn = _learner(backend).bind(w0.copy(), batch_size=4)
    expected = w0.copy()
    for lo in range(0, 10, 4):
        hi = min(lo + 4, 10)
        syn.reset()
        ref = _learner(backend).bind(expected.copy(), batch_size=hi - lo)
        for t in range(5):
            for b in (syn, ref):
                b.step(_native(b, data_pre[t, lo:hi]), _native(b, data_post[t, lo:hi]))
        expected = to_numpy(ref.weight).copy()
        np.testing.assert_array_equal(to_numpy(syn.weight), expected)
    assert syn.batch_size == 2 and syn.t == 15
    assert not np.array_equal(expected, w0)


def test_reset_then_an_unbatched_input_is_a_batch_of_one() -> None:
    syn = _learner().bind(np.full((2, 3), 0.5), batch_size=4)
    syn.step(np.ones((4, 3)), np.ones((4, 2)))
    syn.reset()
    syn.step(np.ones(3), np.ones(2))
    assert syn.batch_size == 1 and syn.x_pre.shape == (1, 3)


def test_a_failed_first_step_of_a_new_batch_keeps_the_old_one() -> None:
    syn = _learner().bind(np.full((2, 3), 0.5), batch_size=4)
    arrays = dict(syn.S)
    with pytest.raises(px.StepInputError, match="argument 'post'"):
        syn.step(np.ones((3, 3)), np.ones((4, 2)))  # post of another batch than pre
    assert syn.batch_size == 4 and syn.fresh
    assert all(syn.S[k] is v for k, v in arrays.items())

    def failing(change: Any) -> Any:
        raise RuntimeError("hook failed")

    syn.intercept("weight", failing)  # a guarded step that fails after the switch
    with pytest.raises(RuntimeError, match="hook failed"):
        syn.step(np.ones((3, 3)), np.ones((3, 2)))
    assert syn.batch_size == 4 and syn.fresh and syn.t == 0
    assert all(syn.S[k] is v for k, v in arrays.items())
    np.testing.assert_array_equal(syn.weight, 0.5)


def test_a_run_that_fails_after_starting_a_new_batch_is_undone() -> None:
    syn = _learner().bind(np.full((2, 3), 0.5), batch_size=4)
    arrays = dict(syn.S)
    pre = np.ones((3, 2, 3))
    pre[2, 0, 0] = 0.5  # graded at step 2: the run fails there
    with pytest.raises(px.StepInputError, match="spikes of 0 or 1"):
        syn.run(pre, np.ones((3, 2, 2)))
    assert syn.batch_size == 4 and syn.t == 0 and syn.fresh
    assert all(syn.S[k] is v for k, v in arrays.items())
    np.testing.assert_array_equal(syn.weight, 0.5)
    syn.run(np.ones((3, 2, 3)), np.ones((3, 2, 2)))  # the same run, valid, goes through
    assert syn.batch_size == 2 and syn.t == 3


def test_a_signal_per_sample_follows_the_new_batch() -> None:
    rng = np.random.default_rng(3)
    w0 = rng.uniform(0, 1, (3, 4)).astype(np.float32)
    syn = px.Learner("mstdp").bind(w0.copy(), batch_size=1)
    ref = px.Learner("mstdp").bind(w0.copy(), batch_size=3)
    for _ in range(4):
        x, y = _spikes(rng, 3, 4), _spikes(rng, 3, 3)
        r = rng.uniform(-1, 1, 3)
        syn.step(x, y, reward=r)
        ref.step(x, y, reward=r)
    np.testing.assert_array_equal(syn.weight, ref.weight)
    with pytest.raises(px.StepInputError, match="reward"):
        syn.step(x, y, reward=np.ones(2))


def test_a_convolution_binding_takes_a_new_batch() -> None:
    rng = np.random.default_rng(4)
    w0 = rng.uniform(0, 1, (2, 1, 3, 3))
    learner = _learner(rule="norse_stdp_conv2d")
    syn = learner.bind(w0.copy(), pre_shape=(1, 5, 5))
    ref = learner.bind(w0.copy(), batch_size=3, pre_shape=(1, 5, 5))
    for _ in range(3):
        x, y = _spikes(rng, 3, 1, 5, 5), _spikes(rng, 3, 2, 3, 3)
        syn.step(x, y)
        ref.step(x, y)
    np.testing.assert_array_equal(syn.weight, ref.weight)


def test_each_batch_size_compiles_once() -> None:
    syn = _learner().bind(np.full((2, 3), 0.5), batch_size=4)
    syn.step(np.ones((4, 3)), np.ones((4, 2)))
    syn.reset()
    syn.step(np.ones((2, 3)), np.ones((2, 2)))
    assert syn.graph.pre_shape == (2, 3)  # a graph of its own shapes
    entries = len(CACHE._steps)
    for batch in (4, 2, 4, 2):
        syn.reset()
        syn.step(np.ones((batch, 3)), np.ones((batch, 2)))
    assert len(CACHE._steps) == entries  # both kept: nothing compiled again
    other = _learner().bind(np.full((2, 3), 0.5), batch_size=2)
    other.step(np.ones((2, 3)), np.ones((2, 2)))
    assert len(CACHE._steps) == entries  # another binding of batch 2 shares the code


def test_set_after_a_batch_change_applies_to_the_new_batch() -> None:
    syn = _learner().bind(np.full((2, 3), 0.5), batch_size=4)
    syn.step(np.ones((2, 3)), np.ones((2, 2)))
    syn.set(eta_plus=0.05)
    syn.reset()
    syn.step(np.ones((2, 3)), np.ones((2, 2)))
    # two sequences of one step, batch 2: 2 * 0.007 * 0.02, then 2 * 0.037 * 0.02
    np.testing.assert_allclose(syn.weight, 0.5 + 2 * 0.02 * (0.007 + 0.037), rtol=1e-12)


def test_a_state_dict_carries_its_batch_size_and_whether_it_is_fresh(backend: str) -> None:
    rng = np.random.default_rng(5)
    w0 = rng.uniform(0, 1, (3, 4))
    pre, post = _spikes(rng, 4, 5, 4), _spikes(rng, 4, 5, 3)
    a = _learner(backend).bind(w0.copy())
    for t in range(2):
        a.step(_native(a, pre[t]), _native(a, post[t]))
    sd = a.state_dict()
    assert sd["batch_size"] == 5 and sd["fresh"] is False
    b = _learner(backend).bind(w0.copy(), batch_size=1)
    b.load_state_dict(sd)
    assert b.batch_size == 5 and not b.fresh
    with pytest.raises(px.StepInputError, match="batch size 5"):
        b.step(_native(b, pre[2, :2]), _native(b, post[2, :2]))  # mid-sequence: refused
    for t in range(2, 4):
        for s in (a, b):
            s.step(_native(s, pre[t]), _native(s, post[t]))
    np.testing.assert_array_equal(to_numpy(a.weight), to_numpy(b.weight))
    a.reset()
    c = _learner(backend).bind(w0.copy(), batch_size=1)
    c.load_state_dict(a.state_dict())
    assert c.fresh and c.batch_size == 5
    c.step(_native(c, pre[0, :2]), _native(c, post[0, :2]))  # a fresh state takes any batch
    assert c.batch_size == 2


def test_a_state_dict_whose_arrays_do_not_fit_its_batch_size_is_refused() -> None:
    a = _learner().bind(np.full((2, 3), 0.5), batch_size=3)
    sd = a.state_dict()
    b = _learner().bind(np.full((2, 3), 0.5), batch_size=1)
    before = _state(b)
    for bad, fragment in ((dict(sd, batch_size=4), r"shape \(3, 3\) does not match \(4, 3\)"),
                          (dict(sd, batch_size=0), "batch_size"),
                          (dict(sd, batch_size=2**45), "does not match"),
                          (dict(sd, fresh="yes"), "fresh")):
        with pytest.raises(px.StateDictError, match=fragment):
            b.load_state_dict(bad)
        assert b.batch_size == 1
        for k, v in _state(b).items():
            np.testing.assert_array_equal(v, before[k])
    old = {k: v for k, v in sd.items() if k not in ("batch_size", "fresh")}
    with pytest.raises(px.StateDictError, match="does not match"):
        b.load_state_dict(old)  # a state dict of before: the binding's own batch size
    b.step(np.zeros((3, 3)), np.zeros((3, 2)))
    b.reset()
    b.load_state_dict(old)
    assert b.batch_size == 3 and not b.fresh


def test_a_saved_file_restores_the_batch_size(tmp_path: Any) -> None:
    syn = _learner().bind(np.full((2, 3), 0.5))
    syn.step(np.ones((6, 3)), np.ones((6, 2)))
    syn.save(tmp_path / "s.npz")
    back = px.load(tmp_path / "s.npz")
    assert back.batch_size == 6 and not back.fresh and back.t == 1
    np.testing.assert_array_equal(back.x_pre, syn.x_pre)
    syn.reset()
    syn.save(tmp_path / "fresh.npz")
    again = px.load(tmp_path / "fresh.npz")
    assert again.fresh
    again.step(np.ones((2, 3)), np.ones((2, 2)))


def test_to_another_backend_keeps_the_batch_and_freshness() -> None:
    pytest.importorskip("torch")
    syn = _learner().bind(np.full((2, 3), 0.5))
    syn.step(np.ones((3, 3)), np.ones((3, 2)))
    moved = syn.to("torch")
    assert moved.batch_size == 3 and not moved.fresh
    syn.reset()
    assert syn.to("torch").fresh


def test_a_group_takes_new_batches_after_its_reset() -> None:
    group = px.LearnerGroup(_learner())
    group.bind("a", np.full((2, 3), 0.5))
    group.bind("b", np.full((2, 3), 0.5), batch_size=8)
    group.step({"a": (np.ones((4, 3)), np.ones((4, 2))), "b": (np.ones((4, 3)), np.ones((4, 2)))})
    with pytest.raises(px.StepInputError, match="batch size 4"):
        group.step({"a": (np.ones((4, 3)), np.ones((4, 2))),
                    "b": (np.ones((2, 3)), np.ones((2, 2)))})
    assert group["a"].t == 1  # checked before any binding moved
    group.reset()
    group.step({"a": (np.ones((1, 3)), np.ones((1, 2))), "b": (np.ones((2, 3)), np.ones((2, 2)))})
    assert (group["a"].batch_size, group["b"].batch_size) == (1, 2)


def test_a_delay_line_takes_a_new_batch_after_its_reset() -> None:
    line = px.DelayLine(max_delay=1)
    delay = np.zeros((2, 3))
    line.step(np.ones((4, 3)), delay)
    with pytest.raises(px.StepInputError, match=r"\(4, 3\).*reset\(\).*\(2, 3\)"):
        line.step(np.ones((2, 3)), delay)
    line.reset()
    assert line.step(np.ones((2, 3)), delay).shape == (2, 2, 3)


def test_a_rule_keeping_per_sample_values_across_reset_keeps_its_batch() -> None:
    from dataclasses import dataclass

    from plastix.registry import RULES

    @px.register("per_sample_fixed_test", provider="batch-size-tests")
    class PerSampleFixed(px.Rule):
        """Keeps a per-sample value that reset() does not clear."""

        @dataclass(frozen=True)
        class Params:
            eta: float = px.param(0.1)

        def build(self, g: px.Graph) -> None:
            g.variable_to_backend("seen", g.pre_shape, reset=False)
            g.op_to_backend("seen", "add", ["seen", "pre"])
            g.op_to_backend("dw", "mat_mult_pre", ["post", "pre"])
            g.op_to_backend("dw", "mul", ["dw", "eta"])
            g.op_to_backend("weight", "add", ["weight", g.weight_change("dw")])

    try:
        syn = px.Learner("per_sample_fixed_test").bind(np.zeros((2, 3)), batch_size=2)
        with pytest.raises(px.StepInputError, match="'seen' per sample"):
            syn.step(np.ones((3, 3)), np.ones((3, 2)))
        assert syn.batch_size == 2
        syn.step(np.ones((2, 3)), np.ones((2, 2)))
    finally:
        RULES.remove_provider("batch-size-tests")


def _every_rule() -> list[str]:
    from plastix.registry import RULES

    return [e.name for e in RULES if e.provider == "plastix"]


@pytest.mark.parametrize("rule", _every_rule())
def test_every_rule_takes_a_new_batch_as_a_binding_of_that_batch(rule: str) -> None:
    """Bound with the hint 1, stepped at batch 3, reset, stepped at batch 2: equal, array for
    array, to bindings bound at 3 and at 2 (the second from the first's learned values)."""
    rng = np.random.default_rng(7)
    cls = px.find_rule(rule)
    dtype = "float64" if "float64" in cls.dtypes else cls.dtypes[0]
    learner = px.Learner(rule, dtype=dtype, seed=3)
    for shape, options in (((4, 6), {}), ((2, 1, 3, 3), {"pre_shape": (1, 5, 5)})):
        if dtype.startswith("int"):
            w0 = rng.integers(20, 80, shape).astype(dtype)
        else:
            w0 = rng.uniform(0.2, 0.8, shape).astype(dtype)
        try:
            syn = learner.bind(w0.copy(), **options)
            break
        except px.StepInputError:
            continue
    ref = learner.bind(w0.copy(), batch_size=3, **options)

    def steps(b: px.Binding, batch: int, n: int) -> None:
        g = px.Learner(rule, dtype=dtype).bind(w0.copy(), batch_size=batch, **options).graph
        r = np.random.default_rng(batch)
        for _ in range(n):
            signals = {k: r.uniform(0, 1, d.aval.shape) for k, d in g.variables.items()
                       if d.kind == "signal" and d.default is None}
            b.step((r.random(g.pre_shape) < 0.4).astype(dtype),
                   (r.random(g.post_shape) < 0.4).astype(dtype), **signals)

    steps(syn, 3, 4)
    steps(ref, 3, 4)
    for k, v in ref.S.items():
        np.testing.assert_array_equal(syn.S[k], v, err_msg=k)
    syn.reset()
    ref2 = learner.bind(np.array(ref.weight), batch_size=2, **options)
    ref2.load_state_dict({**ref.state_dict(), "batch_size": 2, "fresh": True,
                          "arrays": {k: (np.array(ref2.S[k]) if ref2.graph.variables.get(k)
                                         is not None and ref2.graph.variables[k].kind ==
                                         "state" else np.array(v))
                                     for k, v in ref.S.items()}})
    steps(syn, 2, 3)
    steps(ref2, 2, 3)
    assert syn.batch_size == 2
    for k, v in ref2.S.items():
        np.testing.assert_array_equal(syn.S[k], v, err_msg=k)
