"""Per-connection hyperparameters and LearnerGroup (inferno's register_cell overrides and
``cells=``)."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import plastix as px
import plastix._runtime.group
from tests.conftest import assert_close, to_numpy

PRE0 = np.array([[1.0]])
NONE = np.array([[0.0]])


def test_docstring_example_runs() -> None:
    assert doctest.testmod(plastix._runtime.group).failed == 0


def test_bind_overrides_one_binding_only(backend: str) -> None:
    stdp = px.Learner("triplet_stdp", backend=backend, dtype="float64", A2_plus=0.1,
                      tau_plus=10.0)
    w1 = stdp.bind(np.zeros((1, 1)))
    w2 = stdp.bind(np.zeros((1, 1)), A2_plus=0.3)
    for syn in (w1, w2):
        syn.step(pre=PRE0, post=NONE)
        syn.step(pre=NONE, post=PRE0)
    assert (w1.params.A2_plus, w2.params.A2_plus, stdp.params.A2_plus) == (0.1, 0.3, 0.1)
    assert_close(w1.weight, [[0.1 * math.exp(-1 / 10)]], backend)
    assert_close(w2.weight, [[0.3 * math.exp(-1 / 10)]], backend)


def test_override_is_validated() -> None:
    with pytest.raises(px.HyperparameterError, match="'tc_pos'"):
        px.Learner("delay_adjusted_mstdpd").bind(np.zeros((1, 1)), tc_pos=-1.0)


def _group(backend: str) -> px.LearnerGroup:
    learner = px.Learner("delay_adjusted_mstdpd", backend=backend, dtype="float64",
                         lr_neg=-0.5)
    group = px.LearnerGroup(learner)
    group.bind("a", np.zeros((1, 1)))
    group.bind("b", np.zeros((1, 1)), lr_neg=-0.25)
    return group


def test_cells_choose_who_learns_the_others_observe(backend: str) -> None:
    group = _group(backend)
    both = {"a": (PRE0, PRE0), "b": (PRE0, PRE0)}
    group.step(both, cells=["a"], reward=1.0)
    # t_delta = 0 (coincident): a learns -0.5; b keeps its delay but saw the spikes
    assert_close(group["a"].delay, [[-0.5]], backend)
    assert_close(group["b"].delay, [[0.0]], backend)
    assert_close(group["b"].age_pre, [[0.0]], backend)
    group.step({"a": (NONE, NONE), "b": (NONE, NONE)}, reward=1.0)
    # now both learn; b from the spike times it observed: t_delta = 0 - 0 - 0
    assert_close(group["b"].delay, [[-0.25]], backend)
    assert_close(group["a"].delay, [[-0.5 - 0.5 * math.exp(-0.5 / 20)]], backend)
    assert group["a"].t == group["b"].t == 2


def test_only_named_bindings_step(backend: str) -> None:
    group = _group(backend)
    group.step({"a": (PRE0, PRE0)}, reward=1.0)
    assert (group["a"].t, group["b"].t) == (1, 0)


def test_bad_input_leaves_every_binding_untouched() -> None:
    group = _group("numpy")
    with pytest.raises(px.StepInputError, match="'pre'"):
        group.step({"a": (PRE0, PRE0), "b": (np.zeros((1, 5)), PRE0)}, reward=1.0)
    assert group["a"].t == 0 and np.isnan(to_numpy(group["a"].age_pre)).all()


def test_group_errors() -> None:
    group = _group("numpy")
    with pytest.raises(px.StepInputError, match=r"'spikes'.*'c'"):
        group.step({"c": (PRE0, PRE0)}, reward=1.0)
    with pytest.raises(px.StepInputError, match="'cells'"):
        group.step({"a": (PRE0, PRE0)}, cells=["b"], reward=1.0)
    with pytest.raises(px.StepInputError, match="'cells'"):
        group.step({"a": (PRE0, PRE0)}, cells="a", reward=1.0)
    with pytest.raises(px.StepInputError, match="'bonus'"):
        group.step({"a": (PRE0, PRE0)}, reward=1.0, bonus=1.0)
    with pytest.raises(px.StepInputError, match="pair"):
        group.step({"a": PRE0}, reward=1.0)  # type: ignore[dict-item]
    with pytest.raises(px.StepInputError, match="not yet in the group"):
        group.bind("a", np.zeros((1, 1)))
    with pytest.raises(px.StepInputError, match="one of"):
        group["zzz"]
    with pytest.raises(px.StepInputError, match="'learner'"):
        px.LearnerGroup().bind("x", np.zeros((1, 1)))


def test_mixed_rules_get_only_their_signals() -> None:
    group = px.LearnerGroup()
    group.add("reward", px.Learner("mstdp").bind(np.zeros((1, 1))))
    group.add("plain", px.Learner("triplet_stdp").bind(np.zeros((1, 1))))
    group.step({"reward": (PRE0, NONE), "plain": (PRE0, NONE)}, reward=1.0)
    assert sorted(group) == ["plain", "reward"] and len(group) == 2 and "plain" in group


def test_state_dict_round_trip() -> None:
    group = _group("numpy")
    group.step({"a": (PRE0, PRE0), "b": (PRE0, PRE0)}, reward=1.0)
    sd = group.state_dict()
    fresh = _group("numpy")
    fresh.load_state_dict(sd)
    np.testing.assert_array_equal(fresh["a"].delay, group["a"].delay)
    fresh.reset()
    assert np.isnan(fresh["a"].age_pre).all()
    with pytest.raises(px.StepInputError, match="state_dict"):
        fresh.load_state_dict({"a": sd["a"]})


# -- all or nothing ------------------------------------------------------------------------------
def _members(backend: str) -> tuple[px.LearnerGroup, list[px.Binding]]:
    """A group of three bindings that have learned for a few steps (non-trivial state)."""
    from tests.reliability_helpers import bound

    group = px.LearnerGroup()
    members = [bound(backend, "nearest_online_stdp", seed=i) for i in range(3)]
    for name, b in zip("abc", members, strict=True):
        group.add(name, b)
    return group, members


def _ones(b: px.Binding) -> tuple[np.ndarray, np.ndarray]:
    return np.ones(b.graph.pre_shape), np.ones(b.graph.post_shape)


def _boom(dw: object) -> object:
    raise RuntimeError("the hook fails")


@pytest.mark.parametrize("failing", ["hook", "non-finite"])
def test_a_binding_failing_mid_group_step_puts_every_binding_back(backend: str,
                                                                  failing: str) -> None:
    from tests.reliability_helpers import assert_unchanged, snapshot

    group, members = _members(backend)
    last = members[-1]
    if failing == "hook":
        last.intercept("weight", _boom)
    else:
        last.check_finite = True
        last.intercept("weight", lambda dw: dw * float("inf"))
    before = [snapshot(b) for b in members]
    with pytest.raises((px.StepError, px.NonFiniteError)):
        group.step({name: _ones(group[name]) for name in group})
    for b, s in zip(members, before, strict=True):
        assert_unchanged(b, s)
    last.intercept("weight", None)
    group.step({name: _ones(group[name]) for name in group})  # and the group still works
    assert [b.t for b in members] == [s.t + 1 for s in before]


def test_a_bad_entry_in_a_group_state_dict_changes_no_binding(backend: str) -> None:
    from tests.reliability_helpers import assert_unchanged, snapshot

    group, members = _members(backend)
    saved = group.state_dict()
    for name in group:
        group[name].step(*_ones(group[name]))
    before = [snapshot(b) for b in members]
    broken = dict(saved)
    broken["c"] = {**saved["c"], "t": -1}  # the last entry is bad
    with pytest.raises(px.StateDictError, match="'t'"):
        group.load_state_dict(broken)
    for b, s in zip(members, before, strict=True):
        assert_unchanged(b, s)
    group.load_state_dict(saved)
    assert [b.t for b in members] == [s.t - 1 for s in before]


def test_group_arguments_are_checked() -> None:
    group = px.LearnerGroup()
    for bad in (5, None, "binding", px.Learner("nearest_online_stdp")):
        with pytest.raises(px.StepInputError, match="'binding'"):
            group.add("x", bad)  # type: ignore[arg-type]
    assert len(group) == 0
    group.add("x", px.Learner("nearest_online_stdp").bind(np.zeros((2, 3))))
    for spikes in (None, [("x", 1)], "x"):
        with pytest.raises(px.StepInputError, match="'spikes'"):
            group.step(spikes)  # type: ignore[arg-type]
    with pytest.raises(px.StepInputError, match="'learner'"):
        group.bind("y", np.zeros((2, 3)), learner="nearest_online_stdp")  # type: ignore
    assert group["x"].t == 0 and group.names == ["x"]
