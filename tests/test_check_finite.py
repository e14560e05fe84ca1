"""Non-finite results: detected when checking is on, reported with the op, never committed."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

import plastix as px
from plastix._runtime.checked import reset_debug
from tests.conftest import to_numpy
from tests.reliability_helpers import assert_unchanged, author, drop_test_rules, native, snapshot


@dataclasses.dataclass(frozen=True)
class ExpParams:
    scale: float = px.param(1000.0, doc="exponent of the weight dependence")


def _exp_dependence(g: px.Graph) -> None:
    """dw = exp(scale * w) * (post^T pre): overflows for large scale * w."""
    g.variable_to_backend("x", g.pre_shape)
    g.op_to_backend("x", "add", ["x", "pre"])
    g.op_to_backend("dw", "mat_mult_pre", ["post", "x"])
    g.op_to_backend("z", "mul", ["scale", "weight"])
    g.op_to_backend("factor", "exp", ["z"])
    g.op_to_backend("dw", "mul", ["dw", "factor"])
    g.op_to_backend("weight", "add", ["weight", "dw"])


def _capped_exp(g: px.Graph) -> None:
    """The same overflow, capped before it reaches the weight: the result is finite."""
    g.op_to_backend("z", "mul", ["scale", "weight"])
    g.op_to_backend("factor", "exp", ["z"])
    g.op_to_backend("factor", "minimum", ["factor", 1.0])
    g.op_to_backend("dw", "mat_mult_pre", ["post", "pre"])
    g.op_to_backend("dw", "mul", ["dw", "factor"])
    g.op_to_backend("weight", "add", ["weight", "dw"])


def _shifted_sqrt(w: Any, *, xp: Any) -> Any:
    return xp.sqrt(w - 2.0)  # NaN for every weight below 2


def _user_nan(g: px.Graph) -> None:
    g.op_to_backend("root", _shifted_sqrt, ["weight"])
    g.op_to_backend("weight", "add", ["weight", "root"])


def _raises_on_spike(pre: Any, *, xp: Any) -> Any:
    if bool((pre != 0).any()):
        raise RuntimeError("this op refuses spikes")
    return pre


def _user_raises(g: px.Graph) -> None:
    g.variable_to_backend("x", g.pre_shape)
    g.op_to_backend("x", "add", ["x", "pre"])  # written before the op that raises
    g.op_to_backend("checked", _raises_on_spike, ["pre"])
    g.op_to_backend("dw", "mat_mult_pre", ["post", "checked"])
    g.op_to_backend("weight", "add", ["weight", "dw"])


@pytest.fixture(scope="module")
def rules() -> Any:
    names = {"exp": author(_exp_dependence, params=ExpParams),
             "capped": author(_capped_exp, params=ExpParams),
             "nan": author(_user_nan), "raises": author(_user_raises)}
    yield names
    drop_test_rules()


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("PLASTIX_DEBUG", raising=False)
    reset_debug()
    yield
    reset_debug()


def _bind(name: str, backend: str, **kwargs: Any) -> px.Binding:
    learner = px.Learner(name, backend, dtype="float64")
    return learner.bind(native(backend, np.full((3, 4), 0.9), "float64"), batch_size=2,
                        **kwargs)


def _ones(b: px.Binding) -> tuple[np.ndarray, np.ndarray]:
    return np.ones(b.graph.pre_shape), np.ones(b.graph.post_shape)


def test_overflow_is_reported_with_its_op_and_not_committed(backend: str,
                                                           rules: dict[str, str]) -> None:
    learner = px.Learner(rules["exp"], backend, dtype="float64")
    b = learner.bind(native(backend, np.full((3, 4), 0.1), "float64"), batch_size=2,
                     check_finite=True)
    b.step(*_ones(b))  # exp(1000 * 0.1) = 2.7e43: large but finite, committed
    assert b.t == 1 and np.isfinite(to_numpy(b.weight)).all()
    before = snapshot(b)
    with pytest.raises(px.NonFiniteError) as info:
        b.step(*_ones(b))  # exp(1000 * 5e43) overflows
    assert info.value.op == "exp" and info.value.variable == "factor"
    assert info.value.rule == rules["exp"] and info.value.step == 1
    assert "not committed" in str(info.value)
    assert_unchanged(b, before)


def test_overflow_detected_on_first_step(backend: str, rules: dict[str, str]) -> None:
    b = _bind(rules["exp"], backend, check_finite=True)
    before = snapshot(b)
    with pytest.raises(px.NonFiniteError, match="'exp'"):
        b.step(*_ones(b))
    assert_unchanged(b, before)


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
def test_user_op_nan_is_reported_by_name(backend: str, rules: dict[str, str]) -> None:
    b = _bind(rules["nan"], backend, check_finite=True)
    before = snapshot(b)
    with pytest.raises(px.NonFiniteError) as info:
        b.step(*_ones(b))
    assert info.value.op == "_shifted_sqrt" and info.value.variable == "root"
    assert_unchanged(b, before)


def test_unchecked_step_commits_what_it_computes(backend: str, rules: dict[str, str]) -> None:
    """Off by default: the same step writes non-finite weights (why the option exists)."""
    b = _bind(rules["exp"], backend)
    assert b.check_finite is False
    with np.errstate(all="ignore"):
        b.step(*_ones(b))
    assert not np.isfinite(to_numpy(b.weight)).all() and b.t == 1


def test_capped_overflow_is_not_an_error(backend: str, rules: dict[str, str]) -> None:
    b = _bind(rules["capped"], backend, check_finite=True)
    b.step(*_ones(b))
    np.testing.assert_allclose(to_numpy(b.weight), 0.9 + 2.0)  # dw = 2 spikes * 1
    assert b.t == 1


def test_seam_hook_producing_nan_is_caught(backend: str) -> None:
    b = px.Learner("nearest_online_stdp", backend).bind(np.full((3, 4), 0.5), batch_size=1,
                                                        check_finite=True)
    b.intercept("weight", lambda dw: dw * float("nan"))
    before = snapshot(b)
    with pytest.raises(px.NonFiniteError, match="seam hook"):
        b.step(np.ones((1, 4)), np.ones((1, 3)))
    assert_unchanged(b, before)


def test_user_op_raising_midstep_is_rolled_back(backend: str, rules: dict[str, str]) -> None:
    """A function op may raise after earlier ops wrote state; rules with function ops are
    always guarded, so the step is undone even with checking off."""
    b = _bind(rules["raises"], backend)
    b.step(np.zeros(b.graph.pre_shape), np.ones(b.graph.post_shape))
    before = snapshot(b)
    with pytest.raises(px.StepError, match="refuses spikes") as info:
        b.step(*_ones(b))
    assert "function op '_raises_on_spike'" in str(info.value) and "rolled back" in str(info.value)
    assert isinstance(info.value, RuntimeError) and info.value.rule == rules["raises"]
    cause = info.value.__cause__
    assert isinstance(cause, RuntimeError) and info.value.cause is cause
    assert_unchanged(b, before)


def test_debug_mode_turns_checking_on(backend: str, rules: dict[str, str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert px.debug() is False
    assert px.debug(True) is True
    assert _bind(rules["exp"], backend).check_finite is True
    px.debug(False)
    assert _bind(rules["exp"], backend).check_finite is False
    reset_debug()
    monkeypatch.setenv("PLASTIX_DEBUG", "1")
    b = _bind(rules["exp"], backend)
    assert b.check_finite is True
    with pytest.raises(px.NonFiniteError):
        b.step(*_ones(b))
    assert _bind(rules["exp"], backend, check_finite=False).check_finite is False
    learner = px.Learner(rules["exp"], backend, check_finite=False)
    assert learner.bind(np.zeros((3, 4))).check_finite is False


@pytest.mark.parametrize("rule", ["nearest_online_stdp", "full_online_stdp",
                                  "meta_nearest_online_stdp", "postpreintstdp"])
def test_checked_and_unchecked_runs_agree_exactly(backend: str, rule: str) -> None:
    rng = np.random.default_rng(3)
    learner = px.Learner(rule, backend)
    w = rng.integers(0, 100, (3, 4)) if learner.dtype.startswith("int") else \
        rng.uniform(0.1, 0.9, (3, 4))
    pre = (rng.random((12, 2, 4)) < 0.4).astype("float64")
    post = (rng.random((12, 2, 3)) < 0.4).astype("float64")
    plain = learner.bind(native(backend, w, learner.dtype), batch_size=2)
    checked = learner.bind(native(backend, w, learner.dtype), batch_size=2, check_finite=True)
    plain.run(pre, post)
    checked.run(pre, post)
    for k in plain.arrays:
        np.testing.assert_array_equal(to_numpy(checked.S[k]), to_numpy(plain.S[k]))
