"""The binding's contract: checked inputs, untouched state after errors, state round trips."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import plastix as px
from tests.conftest import to_numpy


def _syn(backend: str = "numpy", rule: str = "nearest_online_stdp", **kw: Any) -> px.Binding:
    rng = np.random.default_rng(0)
    syn = px.Learner(algorithm=rule, backend=backend, dtype="float64").bind(
        rng.uniform(0, 1, (3, 4)), batch_size=2, **kw)
    syn.step(np.ones((2, 4)), np.ones((2, 3)))
    return syn


def _snapshot(syn: px.Binding) -> dict[str, np.ndarray]:
    return {k: to_numpy(v).copy() for k, v in syn.S.items()}


GOOD_PRE, GOOD_POST = np.zeros((2, 4)), np.zeros((2, 3))
BAD_STEPS: list[tuple[str, Callable[[px.Binding], None], str]] = [
    ("pre shape", lambda s: s.step(np.zeros((2, 5)), GOOD_POST), "argument 'pre'"),
    ("post shape", lambda s: s.step(GOOD_PRE, np.zeros((2, 4))), "argument 'post'"),
    ("batch size", lambda s: s.step(np.zeros((3, 4)), np.zeros((3, 3))),
     "batch size 2.*reset().*got batch size 3"),
    ("NaN spikes", lambda s: s.step(np.full((2, 4), np.nan), GOOD_POST), "spikes of 0 or 1"),
    ("graded spikes", lambda s: s.step(GOOD_PRE, np.full((2, 3), 0.5)), "spikes of 0 or 1"),
    ("negative spikes", lambda s: s.step(-np.ones((2, 4)), GOOD_POST), "spikes of 0 or 1"),
    ("unknown signal", lambda s: s.step(GOOD_PRE, GOOD_POST, reward=1.0), "unknown name"),
    ("not an array", lambda s: s.step("spikes", GOOD_POST), "argument 'pre'"),
    ("run lengths", lambda s: s.run(np.zeros((4, 2, 4)), np.zeros((3, 2, 3))), "post_train"),
]


@pytest.mark.parametrize(("what", "call", "fragment"), BAD_STEPS, ids=[b[0] for b in BAD_STEPS])
def test_bad_step_input_changes_nothing(backend: str, what: str,
                                        call: Callable[[px.Binding], None],
                                        fragment: str) -> None:
    syn = _syn(backend)
    before, t = _snapshot(syn), syn.t
    with pytest.raises(px.StepInputError, match=fragment) as info:
        call(syn)
    assert info.value.rule == "nearest_online_stdp"
    assert syn.t == t
    for k, v in _snapshot(syn).items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


@pytest.mark.parametrize(
    ("weight", "kw", "fragment"),
    [
        (np.zeros(4), {}, "at least 2 dimensions"),
        (np.full((3, 4), np.nan), {}, "finite values"),
        (np.zeros((3, 4)), {"dt": 0.0}, "positive finite number"),
        (np.zeros((3, 4)), {"dt": -1.0}, "positive finite number"),
        (np.zeros((3, 4)), {"batch_size": 0}, "positive int"),
        (object(), {}, "an array"),
    ],
)
def test_bad_bind_arguments(weight: Any, kw: dict, fragment: str) -> None:
    with pytest.raises(px.StepInputError, match=fragment):
        px.Learner(algorithm="nearest_online_stdp").bind(weight, **kw)


def test_a_one_sample_batch_may_drop_the_batch_axis() -> None:
    syn = px.Learner(algorithm="nearest_online_stdp").bind(np.full((3, 4), 0.5))
    syn.step(np.ones(4), np.ones(3))
    assert syn.t == 1


def test_float32_weights_are_updated_in_place() -> None:
    w = np.full((3, 4), 0.5, dtype=np.float32)
    syn = px.Learner(algorithm="nearest_online_stdp", w_norm=1.0).bind(w)
    syn.step(np.ones(4), np.ones(3))
    assert syn.weight is w
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)


def test_reset_clears_traces_only(backend: str) -> None:
    syn = _syn(backend)
    w = to_numpy(syn.weight).copy()
    assert to_numpy(syn.state["x_pre"]).any()
    syn.reset()
    assert not to_numpy(syn.state["x_pre"]).any() and not to_numpy(syn.state["x_post"]).any()
    np.testing.assert_array_equal(to_numpy(syn.weight), w)
    assert syn.t == 1


def test_state_dict_round_trip_continues_identically(backend: str) -> None:
    rng = np.random.default_rng(9)
    pre = (rng.random((10, 2, 4)) < 0.4).astype(float)
    post = (rng.random((10, 2, 3)) < 0.4).astype(float)
    learner = px.Learner(algorithm="full_online_stdp", backend=backend, dtype="float64")
    a = learner.bind(rng.uniform(0, 1, (3, 4)), batch_size=2)
    a.run(pre[:5], post[:5], final=False)
    sd = a.state_dict()
    a.run(pre[5:], post[5:])
    b = learner.bind(np.zeros((3, 4)), batch_size=2)
    b.load_state_dict(sd)
    assert b.t == 5
    b.run(pre[5:], post[5:])
    np.testing.assert_array_equal(to_numpy(b.weight), to_numpy(a.weight))
    for k in a.state:
        np.testing.assert_array_equal(to_numpy(b.state[k]), to_numpy(a.state[k]))


def test_state_dict_mismatches_fail_and_change_nothing() -> None:
    syn = _syn()
    before = _snapshot(syn)
    other = px.Learner(algorithm="full_online_stdp", dtype="float64").bind(np.zeros((3, 4)))
    with pytest.raises(px.StateDictError, match="state dict is of rule 'full_online_stdp'"):
        syn.load_state_dict(other.state_dict())
    sd = syn.state_dict()
    sd["arrays"]["weight"] = np.zeros((4, 4))
    with pytest.raises(px.StateDictError, match="shape"):
        syn.load_state_dict(sd)
    sd = syn.state_dict()
    sd["format"] = 99
    with pytest.raises(px.StateDictError, match="newer"):
        syn.load_state_dict(sd)
    with pytest.raises(px.StateDictError, match="not a plastix state dict"):
        syn.load_state_dict({"weight": 1})
    for k, v in _snapshot(syn).items():
        np.testing.assert_array_equal(v, before[k])


def test_mask_keeps_masked_synapses_at_zero(backend: str) -> None:
    mask = np.array([[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 0, 1]])
    syn = px.Learner(algorithm="nearest_online_stdp", backend=backend, w_norm=2.0).bind(
        np.full((3, 4), 0.5), mask=mask)
    rng = np.random.default_rng(1)
    syn.run(rng.random((20, 1, 4)) < 0.5, rng.random((20, 1, 3)) < 0.5)
    w = to_numpy(syn.weight)
    assert (w[mask == 0] == 0).all() and (w[mask == 1] > 0).all()


def test_per_binding_overrides() -> None:
    stdp = px.Learner(algorithm="nearest_online_stdp", Apost=0.01)
    a = stdp.bind(np.full((1, 2), 0.5))
    b = stdp.bind(np.full((1, 2), 0.5), Apost=0.2)
    assert a.params.Apost == 0.01 and b.params.Apost == 0.2
    with pytest.raises(px.HyperparameterError, match="unknown hyperparameter"):
        stdp.bind(np.full((1, 2), 0.5), Apots=0.2)


def test_required_signal_must_be_given() -> None:
    from dataclasses import dataclass

    from plastix.registry import RULES

    @px.register("signal_test_rule", provider="binding-tests")
    class Rewarded(px.Rule):
        """Adds the reward to the weight."""

        @dataclass(frozen=True)
        class Params:
            gain: float = px.param(1.0)

        def build(self, g: px.Graph) -> None:
            g.signal("reward", (g.batch_size,))
            g.op_to_backend("r", "sum", ["reward"])
            g.op_to_backend("weight", "add", ["weight", "r"])

    try:
        syn = px.Learner(algorithm="signal_test_rule", dtype="float64").bind(
            np.zeros((1, 2)), batch_size=2)
        with pytest.raises(px.StepInputError, match="needs it every step"):
            syn.step(np.zeros((2, 2)), np.zeros((2, 1)))
        with pytest.raises(px.StepInputError, match="a scalar or shape"):
            syn.step(np.zeros((2, 2)), np.zeros((2, 1)), reward=np.ones(3))
        syn.step(np.zeros((2, 2)), np.zeros((2, 1)), reward=np.array([1.0, 2.0]))
        syn.step(np.zeros((2, 2)), np.zeros((2, 1)), reward=0.5)  # a scalar broadcasts
        np.testing.assert_array_equal(syn.weight, [[4.0, 4.0]])
        syn.run(np.zeros((3, 2, 2)), np.zeros((3, 2, 1)), reward=np.ones((3, 2)))
        np.testing.assert_array_equal(syn.weight, [[10.0, 10.0]])
    finally:
        RULES.remove_provider("binding-tests")


def test_intercept_passes_the_change_through_a_hook() -> None:
    syn = px.Learner(algorithm="full_online_stdp", dtype="float64").bind(np.full((2, 2), 0.5))
    seen = []

    def hook(dw: np.ndarray) -> np.ndarray:
        seen.append(dw.copy())
        return dw * 0

    syn.intercept("weight", hook)
    assert "seam['weight']" in syn.source
    syn.step(np.ones((1, 2)), np.ones((1, 2)))
    assert len(seen) == 1 and seen[0][0, 0] == pytest.approx(1e-2 - 1e-4)
    np.testing.assert_array_equal(syn.weight, np.full((2, 2), 0.5))
    syn.intercept("weight", None)
    assert "seam[" not in syn.source
    with pytest.raises(px.RuleValidationError, match="no weight change"):
        syn.intercept("delay", hook)
