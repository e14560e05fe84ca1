"""Property and fuzz tests (hypothesis).

* every registered dense rule, with random hyperparameters inside their documented ranges,
  random shapes and spike densities: no NaN, weights inside the rule's hard bounds, every
  installed backend agrees with NumPy;
* random sequences of step / final step / reset / save / load: a binding restored from a file
  continues exactly as one restored from memory;
* random, mostly malformed, sequences of rule-author calls: building, binding and stepping
  such a rule either works or raises a plastix error, never anything else.

The number of examples follows the hypothesis profile (``ci`` by default, see conftest).
"""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

import plastix as px
from plastix._graph import Const
from tests.conftest import _available, to_numpy
from tests.reliability_helpers import author, drop_test_rules, native


def _n(k: int) -> int:
    """``k`` examples in the ci profile, scaled with the active profile."""
    return max(1, k * settings.default.max_examples // 100)


def _backends() -> list[str]:
    return [b for b in ("numpy", "torch", "cupy") if _available(b) is None]


def _dense_rules() -> list[str]:
    """The built-in dense rules (test modules register rules of their own, which would change
    the derandomised draws with the set of test files collected)."""
    from plastix.registry import RULES

    out = []
    for name in (e.name for e in RULES if e.provider == "plastix"):
        cls = px.find_rule(name)
        try:
            cls.spike_shapes((2, 3), 1, cls.Params())
        except Exception:
            continue  # needs other shapes (convolutional rules)
        out.append(name)
    return out


DENSE = _dense_rules()


# -- strategies ------------------------------------------------------------------------------
@st.composite
def hyperparameters(draw: st.DrawFn, rule: str) -> dict[str, Any]:
    """Values inside each hyperparameter's documented range (``param(low=, high=)``);
    unbounded numbers vary between 0 and twice their default, keeping their sign."""
    out: dict[str, Any] = {}
    for f in px.find_rule(rule).param_fields():
        meta, default = f.metadata, f.default
        if meta.get("choices"):
            out[f.name] = draw(st.sampled_from(meta["choices"]))
        elif isinstance(default, bool):
            out[f.name] = draw(st.booleans())
        elif isinstance(default, int | float):
            low, high = meta.get("low"), meta.get("high")
            if low is None and high is None:
                lo, hi = sorted((0, 2 * default))
            else:
                lo = low if low is not None else min(0, 2 * default)
                hi = high if high is not None else max(2 * abs(default), lo + 1)
            if isinstance(default, int):
                v: Any = draw(st.integers(int(np.ceil(lo)), int(np.floor(hi))))
            else:
                v = draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))
            if meta.get("open_low") and v == low:
                continue
            out[f.name] = v
    return out


@st.composite
def setups(draw: st.DrawFn) -> dict[str, Any]:
    rule = draw(st.sampled_from(DENSE))
    cls = px.find_rule(rule)
    return {
        "rule": rule,
        "params": draw(hyperparameters(rule)),
        "dtype": draw(st.sampled_from([d for d in cls.dtypes if d != "float32"] or
                                      list(cls.dtypes))),
        "n_pre": draw(st.integers(1, 6)), "n_post": draw(st.integers(1, 6)),
        "batch": draw(st.integers(1, 4)), "density": draw(st.floats(0, 1)),
        "steps": draw(st.integers(1, 12)), "seed": draw(st.integers(0, 2**31)),
    }


def _trains(s: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(s["seed"])
    shape = (s["steps"], s["batch"])
    return ((rng.random((*shape, s["n_pre"])) < s["density"]).astype("float64"),
            (rng.random((*shape, s["n_post"])) < s["density"]).astype("float64"))


def _bind(s: dict[str, Any], backend: str) -> px.Binding:
    p = s["params"]
    if p.get("stdp_algorithm") == "multiplicative_pow" and p.get("hardbound") is False:
        # without hard bounds a weight can pass w_max, and norse's (w_max - w) ** mu is then
        # NaN (norse recommends hardbound for this reason): faithful, not a plastix defect
        reject()
    try:
        learner = px.Learner(s["rule"], backend, dtype=s["dtype"], seed=s["seed"] % 1000,
                             **s["params"])
    except px.HyperparameterError:  # each value in range, but not together (check_params)
        reject()
    rng = np.random.default_rng(s["seed"] + 1)
    shape = (s["n_post"], s["n_pre"])
    lo, hi = learner.hyperparameters.get("w_min"), learner.hyperparameters.get("w_max")
    if s["dtype"].startswith("int"):
        w = rng.integers(0, 100, shape)
    elif p.get("stdp_algorithm") == "multiplicative_pow":
        # norse takes (w_max - w) ** mu: NaN for a weight above w_max, as in norse itself,
        # so these weights start inside the rule's bounds
        if not (np.isfinite(hi - lo) and hi > lo):
            reject()
        w = rng.uniform(lo, hi, shape)
    elif "mu_plus" in p and "Wmax" in learner.hyperparameters:
        # NEST's stdp_synapse family takes (1 - w / Wmax) ** mu_plus: NaN for a weight past
        # Wmax, as in NEST, which requires weights in [0, Wmax]; so these start there
        w = rng.uniform(0.0, learner.hyperparameters["Wmax"], shape)
    else:
        w = rng.uniform(0.05, 0.95, shape)
    try:
        return learner.bind(native(backend, w, s["dtype"]), batch_size=s["batch"])
    except px.HyperparameterError:  # in range alone, not with this dt (ngclearn's 'lin')
        reject()


def _signals(b: px.Binding) -> dict[str, Any]:
    return {n: 0.5 for n, d in b._signals.items() if d.default is None}


def _hard_bounds(b: px.Binding) -> tuple[float, float] | None:
    """The bounds of the rule's last write to the weight, when that write is a clamp. The runs
    here end with a final step (``run``'s default), so its ops are the ones that count: a
    rule may write the weight after its clamp there (BindsNET's end-of-run ``norm``)."""
    last = [n for n in b.graph.nodes_for("final") if any(o.name == "weight" for o in n.outputs)]
    if not last or last[-1].op not in ("clamp", "clip"):
        return None
    lo, hi = last[-1].inputs[1], last[-1].inputs[2]
    if isinstance(lo, Const) and isinstance(hi, Const):
        return float(lo.value), float(hi.value)
    return None


@given(setups())
@settings(max_examples=_n(100))
def test_random_rules_stay_finite_bounded_and_agree(s: dict[str, Any]) -> None:
    pre, post = _trains(s)
    results = {}
    for backend in _backends():
        b = _bind(s, backend)
        with np.errstate(all="ignore"):
            b.run(pre, post, **_signals(b))
        results[backend] = {k: to_numpy(v) for k, v in b.arrays.items()}
        for k, v in results[backend].items():
            decl = b.graph.variables.get(k)
            if decl is not None and not decl.finite:
                continue  # declared to start at NaN ("no spike yet"), e.g. spike ages
            assert np.isfinite(v).all() if v.dtype.kind == "f" else True, (k, v)
        bounds = _hard_bounds(b)
        if bounds is not None and bounds[0] <= bounds[1]:
            w = results[backend]["weight"]
            assert (w >= bounds[0]).all() and (w <= bounds[1]).all(), (bounds, w)
        if s["rule"] == "postpreintstdp":  # an integer trace that wrapped would go negative
            assert (results[backend]["x_pre"] >= 0).all() and (results[backend]["x_post"]
                                                              >= 0).all()
    for backend, arrays in results.items():
        for k, v in arrays.items():
            if v.dtype.kind == "f":
                np.testing.assert_allclose(v, results["numpy"][k], rtol=1e-9, atol=1e-12)
            else:
                np.testing.assert_array_equal(v, results["numpy"][k], err_msg=backend)


ACTIONS = st.lists(st.sampled_from(["step", "step", "step", "final", "reset", "save",
                                    "load"]), min_size=1, max_size=14)


@given(setups(), ACTIONS, st.sampled_from(_backends()))
@settings(max_examples=_n(60))
def test_save_load_sequences_continue_identically(s: dict[str, Any], actions: list[str],
                                                  backend: str) -> None:
    """Two copies run the same actions; one saves to and loads from a file (rebuilding the
    binding with plastix.load), the other keeps its saved state in memory."""
    pre, post = _trains({**s, "steps": len(actions)})
    via_file, in_memory = _bind(s, backend), _bind(s, backend)
    saved: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory() as folder, np.errstate(all="ignore"):
        path = Path(folder) / "binding.npz"
        for i, action in enumerate(actions):
            if action in ("step", "final"):
                for b in (via_file, in_memory):
                    b.step(pre[i], post[i], final=action == "final", **_signals(b))
            elif action == "reset":
                via_file.reset()
                in_memory.reset()
            elif action == "save":
                via_file.save(path)
                saved = in_memory.state_dict()
            elif saved is not None:
                via_file = px.load(path, backend=backend)
                in_memory.load_state_dict(saved)
            assert via_file.t == in_memory.t
            for k, v in in_memory.arrays.items():
                np.testing.assert_array_equal(to_numpy(via_file.S[k]), to_numpy(v), err_msg=k)


# -- malformed graphs ------------------------------------------------------------------------
NAMES = st.sampled_from(["weight", "pre", "post", "x", "y", "dw", "Apost", "dt", "reward",
                         "1bad", "", "x y", "S", "t"]) | st.none() | st.integers(-1, 3)
SHAPES = (st.lists(st.integers(-1, 4), max_size=3).map(tuple) | st.none() | st.text(max_size=2)
          | st.integers(-1, 3) | st.just((2, "a")) | st.just((1.5,)))
SCALARS = (st.floats(allow_nan=True, allow_infinity=True) | st.integers(-3, 3) | st.booleans()
           | st.none() | st.text(max_size=2) | st.just([1, 2]) | st.just(object()))


def _ok_fn(*xs: Any, xp: Any) -> Any:
    return xs[0] if xs else xp.zeros(())


def _raising_fn(*xs: Any, xp: Any) -> Any:
    raise ValueError("user op fails")


def _list_fn(*xs: Any, xp: Any) -> Any:
    return [1, 2, 3]


def _string_fn(*xs: Any, xp: Any) -> Any:
    return "nope"


def _complex_fn(*xs: Any, xp: Any) -> Any:
    return xp.zeros((2,), dtype=complex)


def _pair_fn(*xs: Any, xp: Any) -> Any:
    return (xs[0], xs[0]) if xs else (1.0, 2.0)


def _no_xp(*xs: Any) -> Any:
    return xs[0]


OPS = (st.sampled_from(px.ops()) | st.sampled_from(["nope", "", "seam", "ADD"]) | st.none()
       | st.integers() | st.sampled_from([_ok_fn, _raising_fn, _list_fn, _string_fn,
                                          _complex_fn, _pair_fn, _no_xp]))
ATTRS = st.dictionaries(st.sampled_from(["axis", "keepdims", "shape", "dtype", "target",
                                         "colour"]),
                        st.integers(-3, 3) | st.booleans() | st.none()
                        | st.sampled_from(["float32", "int64", "bogus", (1, -1), (2, 3), (),
                                           (0,), "weight"]), max_size=2)
INPUTS = (st.lists(NAMES | SCALARS, max_size=4) | st.text(max_size=3) | st.integers()
          | st.none())
CALLS = st.one_of(
    st.tuples(st.just("var"), NAMES, SHAPES, SCALARS, st.sampled_from(
        [None, "float64", "int32", "bool", "float16", 3]), st.booleans()),
    st.tuples(st.just("op"), NAMES | st.lists(NAMES, max_size=3), OPS, INPUTS, ATTRS),
    st.tuples(st.just("op"), NAMES, OPS, INPUTS, ATTRS),
    st.tuples(st.just("signal"), NAMES, SHAPES, SCALARS),
    st.tuples(st.just("learned"), NAMES, SHAPES, SCALARS),
    st.tuples(st.just("previous"), NAMES),
    st.tuples(st.just("phase"), st.sampled_from(["final", "bind", "step", "never", 3])),
    st.tuples(st.just("change"), NAMES, NAMES),
)


def _play(g: px.Graph, calls: list[tuple[Any, ...]]) -> None:
    for call in calls:
        kind, args = call[0], call[1:]
        if kind == "var":
            name, shape, value, dtype, reset = args
            g.variable_to_backend(name, shape, value=value, dtype=dtype, reset=reset)
        elif kind == "op":
            g.op_to_backend(*args[:3], **args[3])
        elif kind == "signal":
            g.signal(args[0], args[1], default=args[2])
        elif kind == "learned":
            g.learned(args[0], args[1], value=args[2])
        elif kind == "previous":
            g.previous(args[0])
        elif kind == "phase":
            g.phase(args[0]).__enter__()
        elif kind == "change":
            g.weight_change(args[0], args[1])


@dataclasses.dataclass(frozen=True)
class _Params:
    Apost: float = 0.5


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Any:
    yield
    drop_test_rules()


@given(st.lists(CALLS, max_size=8), st.integers(1, 3), st.sampled_from(_backends()),
       st.booleans())
@settings(max_examples=_n(300))
def test_malformed_graphs_raise_plastix_errors(calls: list[tuple[Any, ...]], batch: int,
                                               backend: str, check: bool) -> None:
    name = author(lambda g: _play(g, calls), params=_Params)
    try:
        b = px.Learner(name, backend).bind(np.full((2, 3), 0.5), batch_size=batch,
                                           check_finite=check)
    except px.PlastixError:
        return
    finally:
        drop_test_rules()
    with np.errstate(all="ignore"):
        for final in (False, True):
            try:
                b.step(np.ones(b.graph.pre_shape), np.ones(b.graph.post_shape), final=final,
                       **{n: 0.5 for n in b._signals})
            except px.PlastixError:
                pass
        b.reset()
        b.load_state_dict(b.state_dict())
        assert isinstance(b.source, str)


@given(st.lists(CALLS, min_size=1, max_size=6))
@settings(max_examples=_n(200))
def test_authoring_calls_raise_only_plastix_errors(calls: list[tuple[Any, ...]]) -> None:
    """The rule-author API itself, called directly on a graph."""
    g = px.Graph("fuzz", pre_shape=(2, 3), post_shape=(2, 2), weight_shape=(2, 3),
                 dtype="float32", dt=1.0, params={"Apost": 0.5})
    for call in calls:
        try:
            _play(g, [call])
        except px.PlastixError:
            pass


# -- hyperparameters of every type, and crafted file headers ----------------------------------
def _param_names() -> list[tuple[str, str]]:
    return [(rule, f.name) for rule in sorted(px.rules())
            if px.find_rule(rule).__module__.startswith("plastix")
            for f in px.find_rule(rule).param_fields()]


PARAMS = _param_names()
WRONG = st.one_of(
    st.booleans(), st.none(), st.text(max_size=4), st.sampled_from(["0.1", "1e3", "nan", "1"]),
    st.complex_numbers(allow_nan=False, allow_infinity=False, max_magnitude=10),
    st.lists(st.floats(allow_nan=False), max_size=2), st.dictionaries(st.text(max_size=2),
                                                                      st.integers(), max_size=1),
    st.just(lambda: 1), st.just(object()), st.just(np.bool_(True)),
    st.just(np.array([1.0, 2.0])), st.just(np.str_("0.5")), st.just(b"1"),
    st.integers(10**300, 10**400) | st.integers(-(10**400), -(10**300)),
    st.floats(allow_nan=True, allow_infinity=True),
)
WRAPPERS = st.sampled_from([float, int, np.float32, np.float64, np.int64, np.int32,
                            np.array, lambda x: np.array(x, dtype=np.float64)])
NUMBERS = st.tuples(WRAPPERS, st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-10**6,
                                                                                    10**6))


def _as_number(pair: tuple[Any, float]) -> tuple[Any, float | int]:
    wrap, x = pair
    try:
        with np.errstate(all="ignore"):
            return wrap(x), x
    except (OverflowError, ValueError):
        reject()
        raise AssertionError from None  # not reached: reject() raises


@given(st.sampled_from(PARAMS), WRONG | NUMBERS.map(_as_number), st.booleans())
@settings(max_examples=_n(400))
def test_any_hyperparameter_value_is_checked_and_normalised(param: tuple[str, str],
                                                            value: Any, via_set: bool) -> None:
    """Learner(**{name: value}) and syn.set(**{name: value}): either HyperparameterError, or
    the stored value is a plain Python value of the hyperparameter's kind, inside its range;
    a number given as a NumPy scalar or a 0-d array is stored as the number it is."""
    rule, name = param
    number = None
    if isinstance(value, tuple):
        value, number = value
    field = {f.name: f for f in px.find_rule(rule).param_fields()}[name]
    try:
        if via_set:
            b = px.Learner(rule).bind(np.full((3, 4), 0.5) if not rule.endswith("conv2d")
                                      else np.full((2, 1, 3, 3), 0.5), pre_shape=(1, 6, 6)
                                      if rule.endswith("conv2d") else None)
            b.set(**{name: value})
            stored = getattr(b.params, name)
        else:
            stored = getattr(px.Learner(rule, **{name: value}).params, name)
    except px.HyperparameterError as exc:
        assert exc.rule == rule and name in str(exc)
        return
    except px.StepInputError:  # the rule's own shapes at bind (a conv2d padding)
        assert via_set
        return
    d, meta = field.default, field.metadata
    if meta.get("choices") is not None:
        assert any(stored == c and type(stored) is type(c) for c in meta["choices"])
    elif isinstance(d, bool):
        assert type(stored) is bool
    elif isinstance(d, int | float):
        assert type(stored) is type(d), (stored, d)
        assert math.isfinite(stored) or stored == d
        low, high = meta.get("low"), meta.get("high")
        assert low is None or stored >= low
        assert high is None or stored <= high
        if number is not None:  # the number the NumPy scalar or 0-d array holds
            assert stored == (value.item() if hasattr(value, "item") else value)


@st.composite
def _json(draw: st.DrawFn) -> Any:
    return draw(st.recursive(
        st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats()
        | st.text(max_size=6) | st.sampled_from(["weight", "float64", "nearest_online_stdp"]),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4),
                                                                    inner, max_size=3),
        max_leaves=8))


_GOOD: dict[str, Any] = {}


def _good_file() -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if not _GOOD:
        from plastix._runtime import io as _io

        b = px.Learner("nearest_online_stdp", dtype="float64").bind(np.full((3, 4), 0.5),
                                                                    batch_size=2)
        b.step(np.ones((2, 4)), np.ones((2, 3)))
        _GOOD["head"] = json.loads(json.dumps(_io.header(b)))
        _GOOD["arrays"] = {f"array.{k}": to_numpy(v) for k, v in b.arrays.items()}
    return _GOOD["head"], _GOOD["arrays"]


@given(st.lists(st.tuples(st.sampled_from(["format", "version", "rule", "params", "t", "seed",
                                           "dt", "dtype", "batch_size", "shape_options",
                                           "masked", "arrays", "params.Apost",
                                           "params.trace_pre", "arrays.weight",
                                           "arrays.weight.shape", "arrays.weight.dtype",
                                           "arrays.x_pre.shape", "shape_options.pre_shape"]),
                          _json() | st.just("<delete>")), min_size=1, max_size=3))
@settings(max_examples=_n(150))
def test_mutated_file_headers_load_or_raise_one_state_dict_error(
        changes: list[tuple[str, Any]]) -> None:
    """Any field of a good header replaced by any JSON value (or removed): plastix.load
    either loads the file or raises StateDictError, never anything else."""
    head, arrays = _good_file()
    head = json.loads(json.dumps(head))
    for path, value in changes:
        *parents, key = path.split(".")
        node = head
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            continue
        if value == "<delete>":
            node.pop(key, None)
        else:
            node[key] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.npz"
        text = json.dumps(head)  # NaN and Infinity as Python writes them: also tried
        with open(path, "wb") as f:
            np.savez(f, header=np.frombuffer(text.encode(), dtype=np.uint8), **arrays)
        try:
            b = px.load(path)
        except px.StateDictError:
            return
        assert isinstance(b, px.Binding) and b.t >= 0
