"""The rule-author API: graph validation names the rule, the op and the variable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import plastix as px
from plastix.registry import RULES


def _rule(build: Callable[[px.Graph], None]) -> str:
    """Register a throw-away rule whose build is ``build``; return its name."""
    name = f"graph_test_{build.__name__}"

    @dataclass(frozen=True)
    class Params:
        a: float = px.param(0.5)

    cls = type(name, (px.Rule,), {"Params": Params, "build": lambda self, g: build(g),
                                   "__doc__": "test rule"})
    px.register(name, override=True, provider="graph-tests")(cls)
    return name


@pytest.fixture(autouse=True)
def _cleanup() -> None:
    yield
    RULES.remove_provider("graph-tests")


def _bind(name: str) -> px.Binding:
    return px.Learner(algorithm=name).bind(np.zeros((2, 3)), batch_size=1)


def test_undefined_name() -> None:
    def undefined(g: px.Graph) -> None:
        g.op_to_backend("weight", "add", ["weight", "nope"])

    with pytest.raises(px.RuleValidationError) as info:
        _bind(_rule(undefined))
    assert info.value.rule == "graph_test_undefined" and info.value.op == "add"
    assert info.value.variable == "nope" and "not defined" in str(info.value)


def test_shapes_that_do_not_broadcast() -> None:
    def bad_shape(g: px.Graph) -> None:
        g.op_to_backend("weight", "add", ["weight", "pre"])  # (2, 3) + (1, 3) fine ...
        g.op_to_backend("weight", "add", ["weight", "post"])  # ... (2, 3) + (1, 2) is not

    with pytest.raises(px.RuleValidationError, match=r"shapes \[2, 3\], \[1, 2\] do not "
                       "broadcast") as info:
        _bind(_rule(bad_shape))
    assert info.value.op == "add"


def test_dtype_clash_needs_a_cast() -> None:
    def clash(g: px.Graph) -> None:
        g.variable_to_backend("count", g.weight_shape, dtype="int32")
        g.op_to_backend("weight", "add", ["weight", "count"])

    with pytest.raises(px.RuleValidationError, match="do not match; add an explicit 'cast'"):
        _bind(_rule(clash))


def test_write_to_an_input_and_to_a_hyperparameter() -> None:
    def write_input(g: px.Graph) -> None:
        g.op_to_backend("pre", "mul", ["pre", 2.0])

    with pytest.raises(px.RuleValidationError, match="is an input and cannot be written") as i:
        _bind(_rule(write_input))
    assert i.value.variable == "pre"

    def write_param(g: px.Graph) -> None:
        g.op_to_backend("a", "mul", ["weight", 2.0])

    with pytest.raises(px.RuleValidationError, match="hyperparameter and cannot be written"):
        _bind(_rule(write_param))


def test_unused_state() -> None:
    def unused(g: px.Graph) -> None:
        g.variable_to_backend("forgotten", g.pre_shape)
        g.op_to_backend("weight", "mul", ["weight", "a"])

    with pytest.raises(px.RuleValidationError, match="declared but never read") as info:
        _bind(_rule(unused))
    assert info.value.variable == "forgotten"


def test_write_of_the_wrong_shape_to_state() -> None:
    def wrong(g: px.Graph) -> None:
        g.variable_to_backend("x", g.pre_shape)
        g.op_to_backend("x", "mat_mult_pre", ["post", "x"])
        g.op_to_backend("weight", "add", ["weight", "x"])

    with pytest.raises(px.RuleValidationError, match=r"writes shape \[2, 3\] to a variable "
                       r"declared \[1, 3\]"):
        _bind(_rule(wrong))


def test_unknown_op_and_attribute() -> None:
    def unknown_op(g: px.Graph) -> None:
        g.op_to_backend("weight", "frobnicate", ["weight"])

    with pytest.raises(px.RuleValidationError, match="unknown op") as info:
        _bind(_rule(unknown_op))
    assert info.value.op == "frobnicate"

    def bad_attr(g: px.Graph) -> None:
        g.op_to_backend("s", "sum", ["weight"], axes=1)
        g.op_to_backend("weight", "add", ["weight", "s"])

    with pytest.raises(px.RuleValidationError, match="unknown attribute"):
        _bind(_rule(bad_attr))


def test_arity_is_checked() -> None:
    def arity(g: px.Graph) -> None:
        g.op_to_backend("weight", "add", ["weight"])

    with pytest.raises(px.RuleValidationError, match="takes 2 inputs, got 1"):
        _bind(_rule(arity))


def test_previous_reads_the_value_at_the_start_of_the_step() -> None:
    def prev(g: px.Graph) -> None:
        g.op_to_backend("weight", "add", ["weight", 1.0])
        g.op_to_backend("weight", "add", ["weight", g.previous("weight")])

    syn = _bind(_rule(prev))
    syn.weight[...] = 2.0
    syn.step(np.zeros((1, 3)), np.zeros((1, 2)))
    np.testing.assert_array_equal(syn.weight, np.full((2, 3), 2.0 + 1.0 + 2.0))


def test_user_function_ops_get_the_array_namespace() -> None:
    def halve(w: np.ndarray, *, xp: object) -> np.ndarray:
        assert xp is np
        return w / 2

    def custom(g: px.Graph) -> None:
        g.op_to_backend("weight", halve, ["weight"])

    syn = _bind(_rule(custom))
    syn.weight[...] = 3.0
    syn.step(np.zeros((1, 3)), np.zeros((1, 2)))
    np.testing.assert_array_equal(syn.weight, np.full((2, 3), 1.5))


def test_a_failing_user_function_is_reported_at_build_time() -> None:
    def boom(w: np.ndarray, *, xp: object) -> np.ndarray:
        raise ZeroDivisionError("nope")

    def failing(g: px.Graph) -> None:
        g.op_to_backend("weight", boom, ["weight"])

    with pytest.raises(px.RuleValidationError, match="raised ZeroDivisionError") as info:
        _bind(_rule(failing))
    assert info.value.op == "boom"


def test_bad_declarations() -> None:
    def bad_name(g: px.Graph) -> None:
        g.variable_to_backend("not a name", (1,))

    with pytest.raises(px.RuleValidationError, match="identifier"):
        _bind(_rule(bad_name))

    def twice(g: px.Graph) -> None:
        g.variable_to_backend("x", (1,))
        g.variable_to_backend("x", (1,))

    with pytest.raises(px.RuleValidationError, match="already defined"):
        _bind(_rule(twice))

    def bad_phase(g: px.Graph) -> None:
        with g.phase("sometimes"):
            pass

    with pytest.raises(px.RuleValidationError, match="unknown phase"):
        _bind(_rule(bad_phase))
