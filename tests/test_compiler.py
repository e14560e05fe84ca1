"""The compiler: constant folding, dead-op removal, buffer reuse, phases and the cache."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

import plastix as px
from plastix._compiler import CACHE
from plastix.registry import RULES


@px.rule("folding_rule")
class Folding(px.Rule):
    """A trace with exp(-dt/tau) decay, plus an op nobody reads."""

    @dataclass(frozen=True)
    class Params:
        tau: float = px.param(20.0, unit="ms", low=0, open_low=True)

    def build(self, g: px.Graph) -> None:
        g.variable_to_backend("x", g.pre_shape)
        g.op_to_backend("ratio", "div", ["dt", "tau"])
        g.op_to_backend("ratio", "neg", ["ratio"])
        g.op_to_backend("decay", "exp", ["ratio"])
        g.op_to_backend("x", "var_linear", ["x", "decay", "pre"])
        g.op_to_backend("unused", "mul", ["x", 3.0])
        g.op_to_backend("dw", "mat_mult_pre", ["post", "x"])
        g.op_to_backend("weight", "add", ["weight", "dw"])


@pytest.fixture(autouse=True)
def _folding_rule() -> None:
    RULES.add("folding_rule", Folding, provider="compiler-tests", override=True)
    yield
    RULES.remove_provider("compiler-tests")


def _bind(dt: float = 0.5) -> px.Binding:
    return px.Learner(algorithm="folding_rule", dtype="float64").bind(np.zeros((2, 3)), dt=dt)


def test_constants_are_folded_and_dead_ops_dropped() -> None:
    src = _bind(dt=0.5).source
    assert repr(math.exp(-0.5 / 20.0)) in src
    assert "exp(" not in src and "unused" not in src and "ratio" not in src


def test_folded_decay_is_exact() -> None:
    syn = _bind(dt=2.0)
    syn.step(np.ones((1, 3)), np.zeros((1, 2)))
    syn.step(np.zeros((1, 3)), np.zeros((1, 2)))
    np.testing.assert_array_equal(syn.state["x"], np.full((1, 3), math.exp(-2.0 / 20.0)))


def test_in_place_buffers_in_the_generated_step() -> None:
    syn = px.Learner(algorithm="nearest_online_stdp").bind(np.zeros((3, 4)))
    src = syn.source
    assert "out=weight)" in src  # the weight is updated in place ...
    assert "out=x_pre)" in src  # ... and so is each trace
    assert "assign(" not in src  # nothing needs a copy at the end


def test_compiled_steps_are_cached_per_shape() -> None:
    stdp = px.Learner(algorithm="nearest_online_stdp")
    a = stdp.bind(np.full((3, 4), 0.5))
    n = len(CACHE)
    b = stdp.bind(np.ones((3, 4)))
    c = stdp.bind(np.ones((3, 5)))
    a.step(np.zeros(4), np.zeros(3))
    b.step(np.zeros(4), np.zeros(3))
    c.step(np.zeros(5), np.zeros(3))
    # one compiled code object per shape; each binding runs it with its own constants
    assert a._compiled("step").fn.__code__ is b._compiled("step").fn.__code__
    assert a._compiled("step").fn.__code__ is not c._compiled("step").fn.__code__
    assert len(CACHE) == n + 1


def test_final_phase_compiles_its_own_variant() -> None:
    syn = px.Learner(algorithm="full_online_stdp").bind(np.zeros((3, 4)))
    step_src, final_src = syn._compiled("step").source, syn._compiled("final").source
    assert "w_norm" not in step_src and "w_norm" in final_src
    assert "phase 'final'" in syn.source


def test_folding_handles_infinite_constants() -> None:
    # tau so small that dt / tau overflows: exp(-dt / tau) folds through -inf to 0.0
    syn = px.Learner(algorithm="folding_rule", dtype="float64", tau=5e-324).bind(
        np.zeros((2, 3)), dt=1.0)
    syn.step(np.ones((1, 3)), np.zeros((1, 2)))
    syn.step(np.zeros((1, 3)), np.zeros((1, 2)))
    np.testing.assert_array_equal(syn.state["x"], np.zeros((1, 3)))
