"""The header of a saved binding: what it holds, how it is written and how it is checked.

The header is UTF-8 JSON (RFC 8259, so no ``NaN`` or ``Infinity`` literals): the file format
and its version, the plastix version, the rule's name and hyperparameters, dtype, batch size,
``dt``, step counter and seed, whether the state is that of a fresh binding (whose next step
may bring any batch size), the shape options, whether the binding is masked, the backend
it was saved from, and the name, shape and dtype of every array. A hyperparameter that is an
infinity (``w_max = inf``: no upper bound) is written as ``{"float": "inf"}``.

:func:`check_header` checks every field by type and range before anything is built from it,
so a crafted header (a string where a number belongs, a list where a mapping does, a nesting
deep enough to exhaust the parser) is one :class:`~plastix.StateDictError` naming the field.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

from plastix._errors import StateDictError
from plastix.backends import dtype_name

if TYPE_CHECKING:
    from .binding import Binding

FORMAT_NAME = "plastix-binding"
#: Version of the file layout; a newer one is refused.
FILE_VERSION = 1
#: The largest header a load reads (bytes); a real one is a few kB.
MAX_HEADER_BYTES = 1 << 20
_FLOATS = {"inf": math.inf, "-inf": -math.inf}
_SCALARS = (str, int, float, bool, type(None))


def make_header(b: Binding) -> dict[str, Any]:
    """The JSON header of ``b``'s file (see the module docstring)."""
    from plastix._version import __version__

    return {
        "format": FORMAT_NAME, "version": FILE_VERSION, "plastix": __version__,
        "rule": b.rule_name, "params": encode_params(b.rule_name,
                                                     dataclasses.asdict(b.params)),
        "dtype": b.dtype, "batch_size": b.batch_size, "fresh": b.fresh, "dt": b.dt, "t": b.t,
        "seed": b.seed,
        "shape_options": {k: list(v) if isinstance(v, tuple) else v
                          for k, v in b.shape_options.items()},
        "masked": "mask" in b.S, "backend": b.backend.key,
        "arrays": {k: {"shape": list(v.shape), "dtype": dtype_name(v.dtype)}
                   for k, v in b.arrays.items()},
    }


def encode_params(rule: str, params: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters as JSON values: an infinity as ``{"float": "inf"}``; StateDictError
    for a value JSON cannot hold (a function: saving it would need pickle)."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, float) and math.isinf(v):
            out[k] = {"float": "inf" if v > 0 else "-inf"}
        elif isinstance(v, _SCALARS) and not (isinstance(v, float) and math.isnan(v)):
            out[k] = v
        else:
            raise StateDictError(f"rule {rule!r}: hyperparameter {k!r} = {_show(v)} cannot "
                                 "be saved as JSON: a file holds numbers, strings, true/false "
                                 "and null, never code")
    return out


def check_header(name: str, head: Any) -> dict[str, Any]:
    """The header's fields, checked by type and range, with hyperparameters decoded;
    StateDictError naming the first field that is wrong (``name``: the file, for messages)."""

    def fail(field: str, expected: str, value: Any) -> StateDictError:
        return StateDictError(f"{name!r}: header field {field!r}: expected {expected}, got "
                              f"{_show(value)}")

    if not isinstance(head, dict) or head.get("format") != FORMAT_NAME:
        got = head.get("format") if isinstance(head, dict) else head
        raise StateDictError(f"{name!r} is not a plastix binding file (format {_show(got)})")
    version = head.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise StateDictError(f"{name!r}: version {version!r} is not a number")
    if version > FILE_VERSION:
        raise StateDictError(f"{name!r} was written by plastix {_show(head.get('plastix'))} in "
                             f"format version {version}; this plastix reads up to "
                             f"{FILE_VERSION}: upgrade plastix")
    missing = {"rule", "params", "t", "seed", "dt", "dtype", "batch_size", "arrays"} - set(head)
    if missing:
        raise StateDictError(f"{name!r}: the header lacks {sorted(missing)}")
    for field, kind in (("rule", str), ("dtype", str)):
        if not isinstance(head[field], kind):
            raise fail(field, "a string", head[field])
    if not _is_int(head["batch_size"]) or head["batch_size"] < 1:
        raise fail("batch_size", "an int >= 1", head["batch_size"])
    if not _is_int(head["t"]) or head["t"] < 0:
        raise fail("t", "an int >= 0", head["t"])
    if not _is_int(head["seed"]):
        raise fail("seed", "an int", head["seed"])
    dt = head["dt"]
    if not (_is_number(dt) and math.isfinite(dt) and dt > 0):
        raise fail("dt", "a positive finite number", dt)
    masked = head.get("masked", "mask" in (head["arrays"] if isinstance(head["arrays"], dict)
                                           else {}))
    if not isinstance(masked, bool):
        raise fail("masked", "true or false", masked)
    fresh = head.get("fresh", False)  # written since the batch size follows the first step
    if not isinstance(fresh, bool):
        raise fail("fresh", "true or false", fresh)
    return {**{k: head[k] for k in ("rule", "t", "seed", "dt", "dtype", "batch_size")},
            "fresh": fresh,
            "params": _params(fail, head["params"]),
            "shape_options": _shape_options(fail, head.get("shape_options", {})),
            "arrays": _arrays(fail, head["arrays"]), "masked": masked}


def _params(fail: Any, params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise fail("params", "a mapping of hyperparameters", params)
    out = {}
    for k, v in params.items():
        if isinstance(v, dict) and set(v) == {"float"} and v["float"] in _FLOATS:
            v = _FLOATS[v["float"]]
        elif not isinstance(v, _SCALARS):
            raise fail(f"params.{k}", "a number, a string, true, false or null", v)
        out[k] = v
    return out


def _shape_options(fail: Any, options: Any) -> dict[str, Any]:
    if not isinstance(options, dict):
        raise fail("shape_options", "a mapping", options)
    unknown = sorted(set(options) - {"pre_shape"})
    if unknown:
        raise fail("shape_options", "only 'pre_shape'", unknown)
    if "pre_shape" not in options:
        return {}
    shape = options["pre_shape"]
    if not (isinstance(shape, list) and shape and all(_is_int(n) and n >= 1 for n in shape)):
        raise fail("shape_options.pre_shape", "a list of positive ints", shape)
    return {"pre_shape": tuple(shape)}


def _arrays(fail: Any, arrays: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(arrays, dict) or "weight" not in arrays:
        raise fail("arrays", "a mapping of array names that includes 'weight'", arrays)
    out = {}
    for k, meta in arrays.items():
        if not k.isidentifier():
            raise fail("arrays", "array names that are identifiers", k)
        if not isinstance(meta, dict) or set(meta) != {"shape", "dtype"}:
            raise fail(f"arrays.{k}", "a mapping with 'shape' and 'dtype'", meta)
        shape, dtype = meta["shape"], meta["dtype"]
        if not (isinstance(shape, list) and all(_is_int(n) and n >= 0 for n in shape)):
            raise fail(f"arrays.{k}.shape", "a list of ints >= 0", shape)
        if not isinstance(dtype, str):
            raise fail(f"arrays.{k}.dtype", "a dtype name", dtype)
        out[k] = {"shape": tuple(shape), "dtype": dtype}
    return out


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"
