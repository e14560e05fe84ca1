"""Bad input at every entry point: a plastix error naming rule, argument, expected and given,
and the binding (weight, state, step counter, seed) exactly as it was before the call."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import plastix as px
from tests.conftest import to_numpy
from tests.reliability_helpers import (
    assert_unchanged,
    author,
    bound,
    drop_test_rules,
    native,
    snapshot,
)

NOS = "nearest_online_stdp"
INT = "postpreintstdp"
FULL = "full_online_stdp"
META = "meta_nearest_online_stdp"


class ForeignArray:
    """An array of some other library: has a shape, a dtype and __array__, but is neither
    native to any plastix backend nor plain host data."""

    def __init__(self, x: np.ndarray) -> None:
        self._x = x
        self.shape, self.dtype, self.ndim = x.shape, x.dtype, x.ndim

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._x


class UnreadableArray(ForeignArray):
    """An array whose data cannot be brought to the host (like a torch 'meta' tensor)."""

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise RuntimeError("no data on this device")


def foreign_for(backend: str, x: np.ndarray) -> Any:
    """An array of another backend or device than ``backend`` that no backend can read (a
    torch tensor on the 'meta' device), else an unknown array type. (Readable arrays of
    another library are converted, as issue 3 asks: see tests/test_backends.py.)"""
    try:
        import torch
    except ImportError:
        return ForeignArray(x)
    return torch.empty(x.shape, device="meta")


def _pre(b: px.Binding) -> tuple[int, ...]:
    return b.graph.pre_shape


def _post(b: px.Binding) -> tuple[int, ...]:
    return b.graph.post_shape


def ok_pre(b: px.Binding) -> np.ndarray:
    return np.zeros(_pre(b))


def ok_post(b: px.Binding) -> np.ndarray:
    return np.zeros(_post(b))


def with_value(shape: tuple[int, ...], value: Any) -> np.ndarray:
    x = np.zeros(shape)
    x.flat[0] = value
    return x


def state_dict_with(**changes: Any) -> Callable[[px.Binding, str], None]:
    def act(b: px.Binding, backend: str) -> None:
        sd = b.state_dict()
        for key, value in changes.items():
            if key.startswith("array_"):
                name = key[len("array_"):]
                sd["arrays"] = dict(sd["arrays"])
                if value is None:
                    del sd["arrays"][name]
                else:
                    sd["arrays"][name] = value(sd["arrays"][name])
            elif value is None:
                del sd[key]
            else:
                sd[key] = value
        b.load_state_dict(sd)

    return act


def _graded(g: px.Graph) -> None:
    g.variable_to_backend("x", g.pre_shape)
    g.op_to_backend("x", "add", ["x", "pre"])
    g.op_to_backend("dw", "mat_mult_pre", ["post", "x"])
    g.op_to_backend("weight", "add", ["weight", "dw"])


def _signal_named_s(g: px.Graph) -> None:
    g.signal("S", ())  # named like the compiled step's own first argument
    g.op_to_backend("dw", "mat_mult_pre", ["post", "pre"])
    g.op_to_backend("dw", "mul", ["dw", "S"])
    g.op_to_backend("weight", "add", ["weight", "dw"])


def test_signal_named_like_a_step_argument(backend: str) -> None:
    name = author(_signal_named_s)  # dropped with the other test rules (test_rules)
    for check in (False, True):
        b = px.Learner(name, backend, dtype="float64").bind(np.zeros((3, 4)), batch_size=2,
                                                            check_finite=check)
        b.step(np.ones((2, 4)), np.ones((2, 3)), S=0.5)
        np.testing.assert_array_equal(to_numpy(b.weight), np.full((3, 4), 2 * 0.5))


def _needs_reward(g: px.Graph) -> None:
    g.signal("reward", ())
    g.op_to_backend("dw", "mat_mult_pre", ["post", "pre"])
    g.op_to_backend("dw", "mul", ["dw", "reward"])
    g.op_to_backend("weight", "add", ["weight", "dw"])


@pytest.fixture(scope="module")
def test_rules() -> Any:
    names = {"graded": author(_graded, binary_spikes=False), "reward": author(_needs_reward)}
    yield names
    drop_test_rules()


Case = tuple[str, str, type[px.PlastixError], tuple[str, ...], Callable[[px.Binding, str], Any]]

# (id, rule the binding runs, error class, words the message must contain, the bad call).
# A rule name in angle brackets is one of the test rules above.
CASES: list[Case] = [
    # -- Learner(...) -------------------------------------------------------------------------
    ("learner-unknown-rule", NOS, px.UnknownRuleError, ("nearest_onlin_stdp",),
     lambda b, be: px.Learner("nearest_onlin_stdp", be)),
    ("learner-rule-not-a-string", NOS, px.UnknownRuleError, ("42",),
     lambda b, be: px.Learner(42, be)),  # type: ignore[arg-type]
    ("learner-unknown-hyperparameter", NOS, px.HyperparameterError, ("Apots", "Apost"),
     lambda b, be: px.Learner(NOS, be, Apots=0.1)),
    ("learner-rejected-hyperparameter", NOS, px.HyperparameterError, ("lr",),
     lambda b, be: px.Learner(NOS, be, lr=0.1)),
    ("learner-nan-hyperparameter", NOS, px.HyperparameterError, ("Apost", "finite"),
     lambda b, be: px.Learner(NOS, be, Apost=float("nan"))),
    ("learner-inf-hyperparameter", NOS, px.HyperparameterError, ("Apre", "finite"),
     lambda b, be: px.Learner(NOS, be, Apre=float("inf"))),
    ("learner-string-hyperparameter", NOS, px.HyperparameterError, ("Apost", "number"),
     lambda b, be: px.Learner(NOS, be, Apost="big")),
    ("learner-negative-decay", NOS, px.HyperparameterError, ("trace_pre", ">= 0"),
     lambda b, be: px.Learner(NOS, be, trace_pre=-0.1)),
    ("learner-decay-above-one", NOS, px.HyperparameterError, ("trace_post", "<= 1"),
     lambda b, be: px.Learner(NOS, be, trace_post=1.5)),
    ("learner-zero-open-bound", NOS, px.HyperparameterError, ("w_norm", "> 0"),
     lambda b, be: px.Learner(NOS, be, w_norm=0.0)),
    ("learner-fractional-int-hyperparameter", INT, px.HyperparameterError, ("shift", "integer"),
     lambda b, be: px.Learner(INT, be, shift=2.5)),
    ("learner-unsupported-dtype", NOS, px.HyperparameterError, ("dtype", "int32"),
     lambda b, be: px.Learner(NOS, be, dtype="int32")),
    ("learner-seed-not-int", NOS, px.HyperparameterError, ("seed",),
     lambda b, be: px.Learner(NOS, be, seed=1.5)),  # type: ignore[arg-type]
    ("learner-check-finite-not-bool", NOS, px.HyperparameterError, ("check_finite",),
     lambda b, be: px.Learner(NOS, be, check_finite="yes")),  # type: ignore[arg-type]
    ("learner-growing-int-trace", INT, px.HyperparameterError, ("trace_decay", "decay factor"),
     lambda b, be: px.Learner(INT, be, shift_spike_trace=0, trace_decay=44)),
    ("learner-int-trace-overflow", INT, px.HyperparameterError, ("trace_decay", "overflows"),
     lambda b, be: px.Learner(INT, be, dtype="int32", trace_scale=2**25,
                              trace_decay=2**14, shift_spike_trace=15)),
    ("bind-override-int-trace-growth", INT, px.HyperparameterError, ("trace_decay",),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), trace_decay=2**15 + 1)),
    ("learner-unknown-backend", NOS, px.BackendUnavailableError, ("nompy", "numpy"),
     lambda b, be: px.Learner(NOS, "nompy")),
    # -- bind(...) ----------------------------------------------------------------------------
    ("bind-weight-1d", NOS, px.StepInputError, ("weight", "2 dimensions"),
     lambda b, be: b.learner.bind(np.zeros(4))),
    ("bind-weight-3d", NOS, px.StepInputError, ("weight", "(n_post, n_pre)"),
     lambda b, be: b.learner.bind(np.zeros((2, 3, 4)))),
    ("bind-weight-nan", NOS, px.StepInputError, ("weight", "finite"),
     lambda b, be: b.learner.bind(with_value((3, 4), np.nan))),
    ("bind-weight-inf", NOS, px.StepInputError, ("weight", "finite"),
     lambda b, be: b.learner.bind(with_value((3, 4), -np.inf))),
    ("bind-weight-complex", NOS, px.StepInputError, ("weight", "complex"),
     lambda b, be: b.learner.bind(np.zeros((3, 4), dtype=complex))),
    ("bind-weight-strings", NOS, px.StepInputError, ("weight", "<U1"),
     lambda b, be: b.learner.bind([["a", "b"], ["c", "d"]])),
    ("bind-weight-ragged", NOS, px.StepInputError, ("weight", "rectangular"),
     lambda b, be: b.learner.bind([[0.1, 0.2], [0.3]])),
    ("bind-weight-unreadable", NOS, px.StepInputError, ("weight", "no data on this device"),
     lambda b, be: b.learner.bind(UnreadableArray(np.zeros((3, 4))))),
    ("bind-weight-not-array", NOS, px.StepInputError, ("weight", "dict"),
     lambda b, be: b.learner.bind({"w": 1})),
    ("bind-weight-fractional-int-rule", INT, px.StepInputError, ("weight", "integer"),
     lambda b, be: b.learner.bind(np.full((3, 4), 0.5))),
    ("bind-batch-zero", NOS, px.StepInputError, ("batch_size", "positive"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), batch_size=0)),
    ("bind-batch-float", NOS, px.StepInputError, ("batch_size",),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), batch_size=1.5)),
    ("bind-batch-bool", NOS, px.StepInputError, ("batch_size",),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), batch_size=True)),
    ("bind-dt-zero", NOS, px.StepInputError, ("dt", "positive"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), dt=0)),
    ("bind-dt-negative", NOS, px.StepInputError, ("dt", "positive"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), dt=-0.5)),
    ("bind-dt-nan", NOS, px.StepInputError, ("dt", "finite"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), dt=float("nan"))),
    ("bind-dt-string", NOS, px.StepInputError, ("dt", "'1'"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), dt="1")),
    ("bind-mask-wrong-shape", NOS, px.StepInputError, ("mask", "(3, 4)"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), mask=np.ones((4, 3)))),
    ("bind-mask-nan", NOS, px.StepInputError, ("mask", "finite"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), mask=with_value((3, 4), np.nan))),
    ("bind-unknown-override", NOS, px.HyperparameterError, ("Apots",),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), Apots=1.0)),
    ("bind-override-out-of-range", NOS, px.HyperparameterError, ("trace_pre",),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), trace_pre=2.0)),
    ("bind-check-finite-not-bool", NOS, px.StepInputError, ("check_finite",),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), check_finite=1)),
    # -- step(...) ----------------------------------------------------------------------------
    ("step-pre-wrong-shape", NOS, px.StepInputError, ("'pre'", "(2, 4)", "(2, 5)"),
     lambda b, be: b.step(np.zeros((2, 5)), ok_post(b))),
    ("step-pre-transposed", NOS, px.StepInputError, ("'pre'", "(4, 2)"),
     lambda b, be: b.step(np.zeros((4, 2)), ok_post(b))),
    ("step-post-wrong-batch", NOS, px.StepInputError, ("'post'", "(3, 3)"),
     lambda b, be: b.step(ok_pre(b), np.zeros((3, 3)))),
    ("step-pre-missing-batch", NOS, px.StepInputError, ("'pre'", "(4,)"),
     lambda b, be: b.step(np.zeros(4), ok_post(b))),
    ("step-pre-scalar", NOS, px.StepInputError, ("'pre'", "shape ()"),
     lambda b, be: b.step(1.0, ok_post(b))),
    ("step-pre-none", NOS, px.StepInputError, ("'pre'",),
     lambda b, be: b.step(None, ok_post(b))),
    ("step-pre-graded", NOS, px.StepInputError, ("'pre'", "0 or 1", "graded"),
     lambda b, be: b.step(with_value(_pre(b), 0.5), ok_post(b))),
    ("step-post-negative", NOS, px.StepInputError, ("'post'", "0 or 1"),
     lambda b, be: b.step(ok_pre(b), with_value(_post(b), -1.0))),
    ("step-pre-nan", NOS, px.StepInputError, ("'pre'", "NaN"),
     lambda b, be: b.step(with_value(_pre(b), np.nan), ok_post(b))),
    ("step-post-inf", NOS, px.StepInputError, ("'post'", "0 or 1"),
     lambda b, be: b.step(ok_pre(b), with_value(_post(b), np.inf))),
    ("step-pre-complex", NOS, px.StepInputError, ("'pre'", "complex"),
     lambda b, be: b.step(np.zeros(_pre(b), dtype=complex), ok_post(b))),
    ("step-pre-strings", NOS, px.StepInputError, ("'pre'", "dtype"),
     lambda b, be: b.step([["0"] * 4] * 2, ok_post(b))),
    ("step-pre-ragged-list", NOS, px.StepInputError, ("'pre'",),
     lambda b, be: b.step([[0, 1], [0]], ok_post(b))),
    ("step-pre-object-array", NOS, px.StepInputError, ("'pre'", "object"),
     lambda b, be: b.step(np.zeros(_pre(b), dtype=object), ok_post(b))),
    ("step-pre-foreign-array", NOS, px.StepInputError, ("'pre'", "array or host data"),
     lambda b, be: b.step(foreign_for(be, ok_pre(b)), ok_post(b))),
    ("step-post-foreign-wrapper", NOS, px.StepInputError, ("'post'", "ForeignArray"),
     lambda b, be: b.step(ok_pre(b), ForeignArray(ok_post(b)))),
    ("step-int-rule-graded", INT, px.StepInputError, ("'pre'", "0 or 1"),
     lambda b, be: b.step(with_value(_pre(b), 0.5), ok_post(b))),
    ("step-int-rule-wrong-batch", INT, px.StepInputError, ("'post'", "batch"),
     lambda b, be: b.step(ok_pre(b), np.zeros((1, 3)))),
    ("step-unknown-signal", NOS, px.StepInputError, ("'reward'", "signals (none)"),
     lambda b, be: b.step(ok_pre(b), ok_post(b), reward=1.0)),
    ("step-signal-wrong-shape", INT, px.StepInputError, ("'post_thresh'", "(3,)"),
     lambda b, be: b.step(ok_pre(b), ok_post(b), post_thresh=np.zeros(4))),
    ("step-signal-nan", INT, px.StepInputError, ("'post_thresh'", "finite"),
     lambda b, be: b.step(ok_pre(b), ok_post(b), post_thresh=np.nan)),
    ("step-signal-string", INT, px.StepInputError, ("'post_thresh'",),
     lambda b, be: b.step(ok_pre(b), ok_post(b), post_thresh="high")),
    ("step-graded-rule-nan", "<graded>", px.StepInputError, ("'pre'", "finite"),
     lambda b, be: b.step(with_value(_pre(b), np.nan), ok_post(b))),
    ("step-graded-rule-inf", "<graded>", px.StepInputError, ("'post'", "finite"),
     lambda b, be: b.step(ok_pre(b), with_value(_post(b), -np.inf))),
    ("step-missing-required-signal", "<reward>", px.StepInputError, ("'reward'", "nothing"),
     lambda b, be: b.step(ok_pre(b), ok_post(b))),
    ("step-required-signal-inf", "<reward>", px.StepInputError, ("'reward'", "finite"),
     lambda b, be: b.step(ok_pre(b), ok_post(b), reward=np.inf)),
    # -- run(...) -----------------------------------------------------------------------------
    ("run-length-mismatch", NOS, px.StepInputError, ("post_train", "5 steps"),
     lambda b, be: b.run(np.zeros((5, *_pre(b))), np.zeros((4, *_post(b))))),
    ("run-not-a-train", NOS, px.StepInputError, ("pre_train", "int"),
     lambda b, be: b.run(3, np.zeros((3, *_post(b))))),
    ("run-bad-step-midway", NOS, px.StepInputError, ("'pre'", "0 or 1"),
     lambda b, be: b.run(np.concatenate([np.ones((3, *_pre(b))), np.full((1, *_pre(b)), 2.0)]),
                         np.ones((4, *_post(b))))),
    ("run-bad-shape-midway", NOS, px.StepInputError, ("'post'",),
     lambda b, be: b.run([np.ones(_pre(b))] * 3, [np.ones(_post(b))] * 2 + [np.ones(5)])),
    ("run-unknown-signal", NOS, px.StepInputError, ("'rewrd'",),
     lambda b, be: b.run(np.zeros((2, *_pre(b))), np.zeros((2, *_post(b))), rewrd=1.0)),
    ("run-signal-train-nan-midway", INT, px.StepInputError, ("'post_thresh'", "finite"),
     lambda b, be: b.run(np.ones((3, *_pre(b))), np.ones((3, *_post(b))),
                         post_thresh=np.array([[0.0] * 3, [0.0] * 3, [np.nan] * 3]))),
    # -- load_state_dict(...) -----------------------------------------------------------------
    ("load-not-a-mapping", NOS, px.StateDictError, (NOS, "not a plastix state dict"),
     lambda b, be: b.load_state_dict([1, 2])),  # type: ignore[arg-type]
    ("load-missing-arrays", NOS, px.StateDictError, (NOS, "'arrays'"),
     state_dict_with(arrays=None)),
    ("load-newer-format", NOS, px.StateDictError, (NOS, "newer"),
     state_dict_with(format=99)),
    ("load-format-bool", NOS, px.StateDictError, (NOS, "version"),
     state_dict_with(format=True)),
    ("load-other-rule", NOS, px.StateDictError, (NOS, FULL),
     state_dict_with(rule=FULL)),
    ("load-other-hyperparameters", NOS, px.StateDictError, (NOS, "differ"),
     state_dict_with(params={"Apost": 0.5})),
    ("load-unknown-hyperparameter", NOS, px.StateDictError, (NOS, "Apots"),
     state_dict_with(params={"Apots": 0.5})),
    ("load-other-dt", NOS, px.StateDictError, (NOS, "dt"),
     state_dict_with(dt=0.5)),
    ("load-other-dtype", NOS, px.StateDictError, (NOS, "dtype"),
     state_dict_with(dtype="float64")),
    ("load-missing-array", NOS, px.StateDictError, (NOS, "x_pre"),
     state_dict_with(array_x_pre=None)),
    ("load-wrong-shape", NOS, px.StateDictError, (NOS, "'weight'", "shape"),
     state_dict_with(array_weight=lambda w: np.zeros((4, 3)))),
    ("load-wrong-array-dtype", NOS, px.StateDictError, (NOS, "'x_post'", "float16"),
     state_dict_with(array_x_post=lambda x: np.zeros(np.shape(x), dtype=np.float16))),
    ("load-nan-array", NOS, px.StateDictError, (NOS, "'weight'", "NaN"),
     state_dict_with(array_weight=lambda w: with_value(tuple(w.shape), np.nan)
                     .astype(to_numpy(w).dtype))),
    ("load-unreadable-array", NOS, px.StateDictError, (NOS, "'weight'"),
     state_dict_with(array_weight=lambda w: "weights")),
    ("load-negative-t", NOS, px.StateDictError, (NOS, "'t'", ">= 0"),
     state_dict_with(t=-1)),
    ("load-t-string", NOS, px.StateDictError, (NOS, "'t'"),
     state_dict_with(t="7")),
    ("load-seed-float", NOS, px.StateDictError, (NOS, "'seed'"),
     state_dict_with(seed=1.5)),
    ("load-int-rule-float-weight", INT, px.StateDictError, (INT, "'weight'", "float64"),
     state_dict_with(array_weight=lambda w: np.zeros(np.shape(w)))),
    # -- rule authoring: variable_to_backend / op_to_backend ----------------------------------
]

CANNS = "canns_stdp"
TRIPLET = "triplet_stdp"
NORSE = "norse_stdp"


def _hooked(hook: Callable[[Any], Any]) -> Callable[[px.Binding, str], None]:
    """Step once through a seam hook, then take it off again (whatever the step did)."""
    def act(b: px.Binding, be: str) -> None:
        b.intercept("weight", hook)
        try:
            b.step(np.ones(_pre(b)), np.ones(_post(b)))
        finally:
            b.intercept("weight", None)

    return act


def _raising_hook(dw: Any) -> Any:
    raise ZeroDivisionError("the hook divides by zero")


def _overlapping_view(shape: tuple[int, int]) -> np.ndarray:
    """A writable view whose rows all share one row's memory."""
    row = np.zeros(shape[1])
    return np.lib.stride_tricks.as_strided(row, shape=shape, strides=(0, row.strides[0]))


def _unwritable() -> np.ndarray:
    w = np.full((3, 4), 0.5, dtype=np.float32)
    w.flags.writeable = False
    return w


# Input validation at the door (issue 19): hyperparameters by type and range, when the
# learner is made, in bind(**overrides) and in set(); bind's own arguments; weights a step
# cannot write; values the binding's dtype cannot hold; seam hooks.
CASES += [
    # -- hyperparameters: types ---------------------------------------------------------------
    ("hp-bool-for-number", NOS, px.HyperparameterError, (NOS, "'Apost'", "number", "bool"),
     lambda b, be: px.Learner(NOS, be, Apost=True)),
    ("hp-numeric-string", NOS, px.HyperparameterError, (NOS, "'Apost'", "number", "'0.1'"),
     lambda b, be: px.Learner(NOS, be, Apost="0.1")),
    ("hp-function-for-number", NOS, px.HyperparameterError, (NOS, "'Apre'", "number"),
     lambda b, be: px.Learner(NOS, be, Apre=lambda: 0.1)),
    ("hp-huge-int", NOS, px.HyperparameterError, (NOS, "'Apost'", "finite", "401 digits"),
     lambda b, be: px.Learner(NOS, be, Apost=10**400)),
    ("hp-complex", NOS, px.HyperparameterError, (NOS, "'Apost'", "number", "complex"),
     lambda b, be: px.Learner(NOS, be, Apost=1j)),
    ("hp-none-for-number", NOS, px.HyperparameterError, (NOS, "'Apost'", "number"),
     lambda b, be: px.Learner(NOS, be, Apost=None)),
    ("hp-list-for-number", NOS, px.HyperparameterError, (NOS, "'Apost'", "number"),
     lambda b, be: px.Learner(NOS, be, Apost=[0.1])),
    ("hp-vector-for-number", NOS, px.HyperparameterError, (NOS, "'Apost'", "number"),
     lambda b, be: px.Learner(NOS, be, Apost=np.array([0.1, 0.2]))),
    ("hp-numpy-nan", NOS, px.HyperparameterError, (NOS, "'Apost'", "finite"),
     lambda b, be: px.Learner(NOS, be, Apost=np.float32("nan"))),
    ("hp-numpy-bool", NOS, px.HyperparameterError, (NOS, "'Apost'", "bool"),
     lambda b, be: px.Learner(NOS, be, Apost=np.bool_(True))),
    ("hp-int-bool", INT, px.HyperparameterError, (INT, "'shift'", "integer", "bool"),
     lambda b, be: px.Learner(INT, be, shift=True)),
    ("hp-int-too-large", INT, px.HyperparameterError, (INT, "'trace_scale'", "2**63"),
     lambda b, be: px.Learner(INT, be, trace_scale=2**70)),
    ("hp-int-string", INT, px.HyperparameterError, (INT, "'nu0'", "integer", "'14'"),
     lambda b, be: px.Learner(INT, be, nu0="14")),
    ("hp-flag-int", NORSE, px.HyperparameterError, (NORSE, "'hardbound'", "True or False"),
     lambda b, be: px.Learner(NORSE, be, hardbound=1)),
    ("hp-choice-bool", NORSE, px.HyperparameterError, (NORSE, "'stdp_algorithm'", "one of"),
     lambda b, be: px.Learner(NORSE, be, stdp_algorithm=True)),
    ("hp-choice-array", NORSE, px.HyperparameterError, (NORSE, "'stdp_algorithm'", "one of"),
     lambda b, be: px.Learner(NORSE, be, stdp_algorithm=np.array(["additive", "x"]))),
    ("hp-alias-string", "classic_stdp", px.HyperparameterError, ("'gmax'", "number"),
     lambda b, be: px.Learner("classic_stdp", be, gmax="0.01")),
    ("hp-name-not-string", NOS, px.HyperparameterError, (NOS, "string"),
     lambda b, be: px.find_rule(NOS).make_params({1: 2})),  # type: ignore[dict-item]
    # -- hyperparameters: ranges and pairs ----------------------------------------------------
    ("hp-inverted-bounds", CANNS, px.HyperparameterError, (CANNS, "'w_min'", "w_min <= w_max"),
     lambda b, be: px.Learner(CANNS, be, w_min=1.0, w_max=0.0)),
    ("hp-inverted-by-one", CANNS, px.HyperparameterError, (CANNS, "'w_max'", "inverted"),
     lambda b, be: px.Learner(CANNS, be, w_max=-0.5)),  # below the default w_min = 0
    ("hp-inverted-int-bounds", INT, px.HyperparameterError, (INT, "'w_min'", "w_max = 109"),
     lambda b, be: px.Learner(INT, be, w_min=200)),
    ("hp-inverted-bounds-override", CANNS, px.HyperparameterError, (CANNS, "'w_min'",),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), w_min=2.0)),
    ("hp-inf-of-wrong-sign", TRIPLET, px.HyperparameterError, (TRIPLET, "'w_min'", "-inf"),
     lambda b, be: px.Learner(TRIPLET, be, w_min=float("inf"))),
    ("hp-inf-where-finite", CANNS, px.HyperparameterError, (CANNS, "'w_max'", "finite"),
     lambda b, be: px.Learner(CANNS, be, w_max=float("inf"))),
    ("hp-dtype-bogus-prefix", NOS, px.HyperparameterError, (NOS, "'dtype'", "bogus.float64"),
     lambda b, be: px.Learner(NOS, be, dtype="bogus.float64")),
    ("hp-dtype-not-a-dtype", NOS, px.HyperparameterError, (NOS, "'dtype'", "5"),
     lambda b, be: px.Learner(NOS, be, dtype=5)),  # type: ignore[arg-type]
    ("hp-dtype-numpy-unsupported", NOS, px.HyperparameterError, (NOS, "'dtype'", "int16"),
     lambda b, be: px.Learner(NOS, be, dtype=np.int16)),  # type: ignore[arg-type]
    ("hp-seed-numpy-bool", NOS, px.HyperparameterError, (NOS, "'seed'",),
     lambda b, be: px.Learner(NOS, be, seed=np.bool_(True))),  # type: ignore[arg-type]
    # -- set(...): the same checks, and nothing changes -----------------------------------------
    ("set-numeric-string", NOS, px.HyperparameterError, (NOS, "'Apost'", "number"),
     lambda b, be: b.set(Apost="0.1")),
    ("set-bool", NOS, px.HyperparameterError, (NOS, "'Apre'", "bool"),
     lambda b, be: b.set(Apre=False)),
    ("set-out-of-range", NOS, px.HyperparameterError, (NOS, "'trace_pre'", "<= 1"),
     lambda b, be: b.set(trace_pre=3.0)),
    ("set-unknown", NOS, px.HyperparameterError, (NOS, "'Apots'", "Apost"),
     lambda b, be: b.set(Apots=0.1)),
    ("set-inverted-bounds", CANNS, px.HyperparameterError, (CANNS, "'w_max'", "inverted"),
     lambda b, be: b.set(w_max=-1.0)),
    ("set-int-trace-growth", INT, px.HyperparameterError, (INT, "'trace_decay'",),
     lambda b, be: b.set(trace_decay=2**15 + 1)),
    # -- bind(...) ------------------------------------------------------------------------------
    ("bind-seed-string", NOS, px.StepInputError, ("'seed'", "an int", "'1'"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), seed="1")),  # type: ignore[arg-type]
    ("bind-seed-float", NOS, px.StepInputError, ("'seed'", "1.7"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), seed=1.7)),  # type: ignore[arg-type]
    ("bind-seed-bool", NOS, px.StepInputError, ("'seed'", "True"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), seed=True)),
    ("bind-pre-shape-int", NOS, px.StepInputError, ("'pre_shape'", "tuple"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), pre_shape=4)),  # type: ignore[arg-type]
    ("bind-pre-shape-negative", NOS, px.StepInputError, ("'pre_shape'", "(1, -28)"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), pre_shape=(1, -28))),
    ("bind-batch-unallocatable", NOS, px.StepInputError, ("'batch_size'", "fits",
                                                          "35184372088832"),
     lambda b, be: b.learner.bind(np.zeros((3, 4)), batch_size=2**45)),
    ("bind-weight-read-only", NOS, px.StepInputError, ("'weight'", "writable", "read-only"),
     lambda b, be: b.learner.bind(_unwritable())),
    ("bind-weight-broadcast-view", NOS, px.StepInputError, ("'weight'", "writable"),
     lambda b, be: b.learner.bind(np.broadcast_to(np.zeros(4, np.float32), (3, 4)))),
    ("bind-weight-overlapping-view", NOS, px.StepInputError, ("'weight'", "share memory"),
     lambda b, be: px.Learner(NOS, be, dtype="float64").bind(_overlapping_view((3, 4)))),
    ("bind-weight-overflows-float32", NOS, px.StepInputError, ("'weight'", "float32",
                                                               "1e+300"),
     lambda b, be: px.Learner(NOS, be, dtype="float32").bind(np.full((3, 4), 1e300))),
    ("bind-weight-wraps-int32", INT, px.StepInputError, ("'weight'", "int32",
                                                         "1099511627776"),
     lambda b, be: px.Learner(INT, be, dtype="int32").bind(np.full((3, 4), 2**40))),
    ("bind-weight-int32-from-float", INT, px.StepInputError, ("'weight'", "2147483647",
                                                              "10000000000.0"),
     lambda b, be: px.Learner(INT, be, dtype="int32").bind(np.full((3, 4), 1e10))),
    ("bind-weight-int64-from-float", INT, px.StepInputError, ("'weight'", "int64"),
     lambda b, be: px.Learner(INT, be, dtype="int64").bind(np.full((3, 4), 2.0**63))),
    ("bind-weight-below-int32", INT, px.StepInputError, ("'weight'", "-2147483648"),
     lambda b, be: px.Learner(INT, be, dtype="int32").bind(np.full((3, 4), -2**31 - 1))),
    ("bind-mask-overflows", NOS, px.StepInputError, ("'mask'", "float32"),
     lambda b, be: px.Learner(NOS, be, dtype="float32").bind(np.zeros((3, 4), np.float32),
                                                             mask=np.full((3, 4), 1e300))),
    # -- step(...): values the dtype cannot hold ------------------------------------------------
    ("step-signal-overflows-float32", "<reward>", px.StepInputError, ("'reward'", "float32",
                                                                       "1e+300"),
     lambda b, be: b.step(ok_pre(b), ok_post(b), reward=1e300)),
    ("step-graded-spike-overflows", "<graded>", px.StepInputError, ("'pre'", "float32"),
     lambda b, be: b.step(with_value(_pre(b), -1e300), ok_post(b))),
    # -- intercept(...) and seam hooks ------------------------------------------------------------
    ("intercept-hook-not-callable", NOS, px.StepInputError, ("'hook'", "callable", "5"),
     lambda b, be: b.intercept("weight", 5)),  # type: ignore[arg-type]
    ("intercept-target-not-string", NOS, px.StepInputError, ("'target'", "['weight']"),
     lambda b, be: b.intercept(5, None)),  # type: ignore[arg-type]
    ("intercept-unknown-target", NOS, px.RuleValidationError, ("'delay'", "['weight']"),
     lambda b, be: b.intercept("delay", lambda dw: dw)),
    ("hook-returns-none", NOS, px.StepInputError, ("seam hook of 'weight'", "(3, 4)", "None"),
     _hooked(lambda dw: None)),
    ("hook-returns-wrong-shape", NOS, px.StepInputError, ("seam hook of 'weight'", "(3, 4)",
                                                          "(4,)"),
     _hooked(lambda dw: dw[0])),
    ("hook-returns-list", NOS, px.StepInputError, ("seam hook of 'weight'", "list"),
     _hooked(lambda dw: [[0.0] * 4] * 3)),
    ("hook-raises", NOS, px.StepError, ("seam hook of 'weight'", "ZeroDivisionError",
                                        "rolled back"),
     _hooked(_raising_hook)),
    # -- groups -----------------------------------------------------------------------------------
    ("group-add-not-a-binding", NOS, px.StepInputError, ("'binding'", "Binding", "5"),
     lambda b, be: px.LearnerGroup().add("x", 5)),  # type: ignore[arg-type]
    ("group-step-none", NOS, px.StepInputError, ("'spikes'", "mapping", "None"),
     lambda b, be: _group(b).step(None)),  # type: ignore[arg-type]
    ("group-step-none-spikes", NOS, px.StepInputError, ("'pre'",),
     lambda b, be: _group(b).step({"b": (None, None)})),
    ("group-load-not-a-mapping", NOS, px.StepInputError, ("'state_dict'",),
     lambda b, be: _group(b).load_state_dict([1])),  # type: ignore[arg-type]
    ("group-bind-learner-not-a-learner", NOS, px.StepInputError, ("'learner'", "Learner"),
     lambda b, be: px.LearnerGroup().bind("x", np.zeros((3, 4)), learner=5)),  # type: ignore
]


def _group(b: px.Binding) -> px.LearnerGroup:
    group = px.LearnerGroup()
    group.add("b", b)
    return group

AUTHORING: list[tuple[str, tuple[str, ...], Callable[[px.Graph], Any]]] = [
    ("undefined-input", ("'add'", "'xx'"),
     lambda g: g.op_to_backend("dw", "add", ["weight", "xx"])),
    ("unknown-op", ("'frobnicate'", "known ops"),
     lambda g: g.op_to_backend("weight", "frobnicate", ["weight"])),
    ("wrong-arity", ("'add'", "takes 2"),
     lambda g: g.op_to_backend("weight", "add", ["weight"])),
    ("unknown-attribute", ("'sum'", "colour"),
     lambda g: g.op_to_backend("s", "sum", ["weight"], colour=1)),
    ("shape-not-ints", ("'x'", "shape"),
     lambda g: g.variable_to_backend("x", shape="ab")),
    ("shape-negative", ("'x'", "negative"),
     lambda g: g.variable_to_backend("x", shape=(-1, 2))),
    ("name-not-identifier", ("'1x'", "identifier"),
     lambda g: g.variable_to_backend("1x")),
    ("name-redeclared", ("'weight'", "already"),
     lambda g: g.variable_to_backend("weight")),
    ("unknown-dtype", ("'x'", "dtype"),
     lambda g: g.variable_to_backend("x", dtype="float16")),
    ("write-an-input", ("'pre'", "input"),
     lambda g: g.op_to_backend("pre", "add", ["pre", 1.0])),
    ("write-a-hyperparameter", ("'Apost'", "hyperparameter"),
     lambda g: g.op_to_backend("Apost", "add", ["weight", 1.0])),
    ("shapes-do-not-broadcast", ("'mat_mult_pre'",),
     lambda g: g.op_to_backend("weight", "mat_mult_pre", ["pre", "pre"])),
    ("write-wrong-shape", ("'weight'", "shape"),
     lambda g: g.op_to_backend("weight", "add", ["weight", "pre"])),
    ("dtype-clash", ("'weight'", "dtype"),
     lambda g: g.op_to_backend("weight", "greater", ["weight", 0.5])),
    ("unread-state", ("'unused'", "never read"),
     lambda g: g.variable_to_backend("unused")),
    ("unknown-phase", ("phase",),
     lambda g: g.phase("later").__enter__()),
    ("inputs-a-string", ("inputs must be a list",),
     lambda g: g.op_to_backend("weight", "neg", "weight")),
    ("op-not-callable", ("op must be",),
     lambda g: g.op_to_backend("weight", 42, ["weight"])),  # type: ignore[arg-type]
    ("function-raises", ("'_boom'", "ZeroDivisionError"),
     lambda g: g.op_to_backend("weight", _boom, ["weight"])),
    ("function-returns-two", ("'_two'", "2 values"),
     lambda g: g.op_to_backend("weight", _two, ["weight"])),
    ("previous-undeclared", ("'ghost'",),
     lambda g: g.previous("ghost")),
    ("weight-change-of-state", ("weight_change",),
     lambda g: (g.variable_to_backend("x"), g.op_to_backend("dx", "add", ["x", 1.0]),
                g.weight_change("dx", target="x"))),
    ("initial-value-none", ("'x'", "real number"),
     lambda g: g.learned("x", value=None)),
    ("initial-value-nan", ("'x'", "finite"),  # state may start at NaN ("no spike yet"),
     lambda g: g.learned("x", value=float("nan"))),  # a learned value may not
    ("initial-value-string", ("'x'", "real number"),
     lambda g: g.variable_to_backend("x", value="zero")),
    ("initial-value-wrong-shape", ("'x'", "broadcasts"),
     lambda g: g.variable_to_backend("x", value=np.zeros(7))),
    ("signal-default-string", ("'reward'", "default"),
     lambda g: g.signal("reward", default="none")),
    ("outputs-none", ("outputs must be",),
     lambda g: g.op_to_backend(None, "abs", ["weight"])),  # type: ignore[arg-type]
    ("build-raises-other", ("build() raised", "KeyError"),
     lambda g: {}["missing"]),
]


def _boom(w: Any, *, xp: Any) -> Any:
    return w / 0 if isinstance(w, int) else 1 // 0


def _two(w: Any, *, xp: Any) -> Any:
    return w, w


def _authoring_case(case_id: str, words: tuple[str, ...],
                    broken: Callable[[px.Graph], Any]) -> Case:
    def build(g: px.Graph) -> None:
        broken(g)
        g.op_to_backend("weight", "add", ["weight", 0.0])

    @dataclasses.dataclass(frozen=True)
    class Params:
        Apost: float = 0.1

    def act(b: px.Binding, be: str) -> None:
        name = author(build, params=Params)
        px.Learner(name, be).bind(np.zeros((3, 4)), batch_size=2)

    return (f"author-{case_id}", NOS, px.RuleValidationError, words, act)


CASES += [_authoring_case(*c) for c in AUTHORING]


def _below_range_cases() -> list[Case]:
    """For every registered rule, every hyperparameter with a lower bound, a value below it
    (or at it, when the bound is open): negative and zero time constants and decays."""
    out: list[Case] = []
    for name in px.rules():
        for f in px.find_rule(name).param_fields():
            low = f.metadata.get("low")
            if low is None or isinstance(f.default, bool):
                continue
            value = low if f.metadata.get("open_low") else low - 1

            def act(b: px.Binding, be: str, name: str = name, p: str = f.name,
                    v: Any = value) -> None:
                px.Learner(name, be, **{p: v})

            out.append((f"range-{name}-{f.name}", NOS, px.HyperparameterError, (name, f.name),
                        act))
    return out


CASES += _below_range_cases()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_and_changes_nothing(case: Case, backend: str,
                                              test_rules: dict[str, str]) -> None:
    _, rule, error, words, act = case
    rule = test_rules.get(rule.strip("<>"), rule)
    signals = {"reward": 1.0} if rule == test_rules["reward"] else {}
    b = bound(backend, rule, batch=2, n_pre=4, n_post=3, signals=signals)
    before, params, hooks = snapshot(b), b.params, dict(b._seam_hooks)
    with pytest.raises(error) as info:
        act(b, backend)
    assert isinstance(info.value, px.PlastixError)
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    if isinstance(info.value, px.StepInputError):
        assert info.value.rule in (b.rule_name, "LearnerGroup") and "expected" in message \
            and "got" in message
    assert_unchanged(b, before)
    assert b.params == params and dict(b._seam_hooks) == hooks
    b.step(np.ones(b.graph.pre_shape), np.ones(b.graph.post_shape), **signals)
    assert b.t == before.t + 1  # and the binding still works


def test_case_count() -> None:
    """The note reports this number; keep it honest."""
    assert len(CASES) >= 100


def test_graded_rule_accepts_graded_spikes(backend: str, test_rules: dict[str, str]) -> None:
    b = bound(backend, test_rules["graded"], steps=0)
    b.step(np.full(b.graph.pre_shape, 0.25), np.ones(b.graph.post_shape))
    assert b.t == 1


def test_batch_one_accepts_unbatched_spikes(backend: str) -> None:
    b = bound(backend, NOS, batch=1, steps=0)
    b.step(np.ones(4), np.ones(3))
    assert b.t == 1


def test_host_data_is_accepted_on_every_backend(backend: str) -> None:
    b = bound(backend, NOS, steps=0)
    b.step([[0, 1, 0, 1], [1, 0, 0, 0]], native(backend, np.ones((2, 3)), "float32"))
    assert b.t == 1


# -- torch tensors that no step can use ---------------------------------------------------------
def _torch_cases() -> list[tuple[str, tuple[str, ...], Callable[[Any, px.Binding], Any]]]:
    return [
        ("expanded-weight", ("'weight'", "share memory"),
         lambda torch, b: b.learner.bind(torch.zeros(4).expand(3, 4))),
        ("inference-weight", ("'weight'", "inference"),
         lambda torch, b: b.learner.bind(_inference_tensor(torch))),
        ("sparse-spikes", ("'pre'", "dense", "sparse"),
         lambda torch, b: b.step(torch.ones(_pre(b)).to_sparse(), torch.zeros(_post(b)))),
        ("sparse-csr-spikes", ("'post'", "dense", "sparse"),
         lambda torch, b: b.step(torch.zeros(_pre(b)), torch.ones(_post(b)).to_sparse_csr())),
        ("nested-spikes", ("'pre'", "nested"),
         lambda torch, b: b.step(_nested(torch, _pre(b)), torch.zeros(_post(b)))),
        ("sparse-weight", ("'weight'", "dense"),
         lambda torch, b: b.learner.bind(torch.zeros(3, 4).to_sparse())),
    ]


def _inference_tensor(torch: Any) -> Any:
    with torch.inference_mode():
        return torch.zeros(3, 4)


def _nested(torch: Any, shape: tuple[int, ...]) -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "nested tensors are a prototype"
        return torch.nested.nested_tensor([torch.ones(shape[1]) for _ in range(shape[0])])


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
@pytest.mark.parametrize("case", _torch_cases(), ids=[c[0] for c in _torch_cases()])
def test_torch_tensors_a_step_cannot_use_are_refused(case: Any) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    _, words, act = case
    b = bound("torch", NOS, batch=2, n_pre=4, n_post=3)
    before = snapshot(b)
    with pytest.raises(px.StepInputError) as info:
        act(torch, b)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    assert_unchanged(b, before)


# -- numbers of any array library are the numbers they are ------------------------------------
def _scalars() -> list[tuple[str, str, Any, Any]]:
    out = [("numpy-float32", "Apost", np.float32(0.25), 0.25),
           ("numpy-float64", "Apost", np.float64(0.01), 0.01),
           ("zero-d-array", "Apre", np.array(0.5), 0.5),
           ("python-int-for-float", "Apost", 1, 1.0),
           ("numpy-int64-for-int", "shift", np.int64(12), 12),
           ("integral-float-for-int", "shift", 12.0, 12),
           ("zero-d-int-array", "nu0", np.array(7), 7)]
    try:
        import torch
    except ImportError:
        return out
    return [*out, ("torch-float", "Apost", torch.tensor(0.25), 0.25),
            ("torch-int", "shift", torch.tensor(12), 12)]


@pytest.mark.parametrize("case", _scalars(), ids=[c[0] for c in _scalars()])
def test_numbers_of_any_array_library_are_accepted_as_the_numbers_they_are(
        case: tuple[str, str, Any, Any], backend: str) -> None:
    _, name, value, plain = case
    rule = INT if name in ("shift", "nu0") else NOS
    given = px.Learner(rule, backend, **{name: value})
    stored = getattr(given.params, name)
    assert stored == plain and type(stored) is type(plain)
    same = px.Learner(rule, backend, **{name: plain})
    a, c = (bound(backend, rule, steps=0) for _ in range(2))
    for syn, learner in ((a, given), (c, same)):
        syn.set(**{name: getattr(learner.params, name)})
        syn.step(np.ones(_pre(syn)), np.ones(_post(syn)))
    np.testing.assert_array_equal(to_numpy(a.weight), to_numpy(c.weight))
    b = bound(backend, rule, steps=0)
    b.set(**{name: value})  # set() normalises the same way
    assert getattr(b.params, name) == plain and type(getattr(b.params, name)) is type(plain)


def test_a_numeric_string_fails_when_the_learner_is_made() -> None:
    """Issue 20, point 7: at once, naming rule, hyperparameter and what was expected, as a
    HyperparameterError (not later, at bind, as a RuleValidationError)."""
    with pytest.raises(px.HyperparameterError) as info:
        px.Learner(algorithm="nearest_online_stdp", Apost="0.1")
    assert not isinstance(info.value, px.RuleValidationError)
    assert (info.value.rule, info.value.param) == ("nearest_online_stdp", "Apost")
    assert "expected a number" in str(info.value) and "'0.1'" in str(info.value)


@pytest.mark.parametrize("dtype", ["float64", np.float64, np.dtype("float64"), float])
def test_a_dtype_may_be_a_name_or_a_numpy_dtype(dtype: Any) -> None:
    assert px.Learner(NOS, dtype=dtype).dtype == "float64"


def test_a_dtype_may_be_a_torch_dtype() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    assert px.Learner(NOS, dtype=torch.float64).dtype == "float64"
    with pytest.raises(px.HyperparameterError, match="'dtype'"):
        px.Learner(NOS, dtype=torch.int16)


@pytest.mark.parametrize("change", [{"stride": 2}, {"padding": 1}, {"dilation": 3}])
def test_set_refuses_what_would_change_a_bindings_shapes(backend: str,
                                                        change: dict[str, int]) -> None:
    rule = "norse_stdp_conv2d"
    b = px.Learner(rule, backend).bind(native(backend, np.full((2, 1, 3, 3), 0.5), "float32"),
                                       pre_shape=(1, 6, 6))
    b.step(np.ones(_pre(b)), np.ones(_post(b)))
    before, params = snapshot(b), b.params
    with pytest.raises(px.HyperparameterError) as info:
        b.set(**change)
    assert info.value.param == next(iter(change)) and info.value.rule == rule
    assert_unchanged(b, before)
    assert b.params == params
    b.step(np.ones(_pre(b)), np.ones(_post(b)))
