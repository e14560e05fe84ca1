"""State dicts: what ``Binding.state_dict`` returns, checked before any of it is loaded.

A state dict holds every array of a binding (weight, learned values, state) and the scalars
that resume a run (step counter, seed, ``dt``, hyperparameters). :func:`check_state_dict`
checks one against a binding without changing it, so that loading is all or nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from plastix._errors import PlastixError, StateDictError

from .contract import dtype_kind, host_array
from .layout import array_specs

if TYPE_CHECKING:
    from .binding import Binding

#: Version of the state-dict layout; a newer one is refused when loading.
STATE_FORMAT = 1


def check_state_dict(b: Binding, sd: Any) -> tuple[dict[str, np.ndarray], int, int, int, bool]:
    """Check ``sd`` against binding ``b`` without changing it: the host arrays to write, the
    step counter, the seed, the batch size of its arrays and whether it was taken at the start
    of a sequence (right after ``bind`` or ``reset``); StateDictError naming what does not
    fit. A state dict without ``batch_size`` (written before batch sizes were free) is of the
    binding's batch size; one without ``fresh`` is of a sequence under way."""
    rule = b.rule_name

    def fail(message: str) -> StateDictError:
        return StateDictError(f"rule {rule!r}: {message}")

    if not isinstance(sd, Mapping) or not {"format", "rule", "arrays"} <= set(sd):
        raise fail("not a plastix state dict (needs 'format', 'rule' and 'arrays')")
    fmt = sd["format"]
    if isinstance(fmt, bool) or not isinstance(fmt, int | np.integer) or fmt < 1:
        raise fail(f"state format {fmt!r} is not a version number")
    if fmt > STATE_FORMAT:
        raise fail(f"state format {fmt!r} is newer than this plastix reads ({STATE_FORMAT})")
    if str(sd["rule"]).lower() != rule.lower():
        raise fail(f"the state dict is of rule {sd['rule']!r}")
    params = sd.get("params", {})
    if not isinstance(params, Mapping):
        raise fail(f"'params' must be a mapping, got {type(params).__name__}")
    try:
        got = b.learner.rule_cls.checked_params(dict(params))
    except PlastixError as exc:
        raise fail(f"its hyperparameters do not fit: {exc}") from None
    if got != b.params:
        raise fail(f"the state dict's hyperparameters {dataclasses.asdict(got)} differ from "
                   f"this binding's {dataclasses.asdict(b.params)}; bind a learner made with "
                   "them")
    if "dt" in sd and not (_is_real(sd["dt"]) and float(sd["dt"]) == b.dt):
        raise fail(f"dt {sd['dt']!r} differs from this binding's {b.dt!r}")
    if "dtype" in sd and sd["dtype"] != b.dtype:
        raise fail(f"dtype {sd['dtype']!r} differs from this binding's {b.dtype!r}")
    t = _count(fail, "t", sd.get("t", b.t), low=0)
    seed = _count(fail, "seed", sd.get("seed", b.seed), low=None)
    batch = _count(fail, "batch_size", sd.get("batch_size", b.batch_size), low=1)
    fresh = sd.get("fresh", False)
    if not isinstance(fresh, bool | np.bool_):
        raise fail(f"'fresh' must be True or False, got {fresh!r}")
    arrays = sd["arrays"]
    own = b.arrays
    if not isinstance(arrays, Mapping) or set(arrays) != set(own):
        names = sorted(arrays) if isinstance(arrays, Mapping) else type(arrays).__name__
        raise fail(f"arrays {names} do not match this binding's {sorted(own)}")
    try:
        specs = array_specs(b, batch)
    except PlastixError as exc:
        raise fail(f"batch size {batch} does not fit: {exc}") from None
    staged = {}
    for k, v in arrays.items():
        try:
            host = host_array(v)
        except Exception as exc:
            raise fail(f"array {k!r} cannot be read ({type(exc).__name__}: {exc})") from None
        want_shape, want_dtype, finite = specs[k]
        if host.shape != want_shape:
            raise fail(f"array {k!r}: shape {host.shape} does not match {want_shape} (batch "
                       f"size {batch})")
        if host.dtype.name != want_dtype:
            raise fail(f"array {k!r}: dtype {host.dtype.name} does not match {want_dtype}")
        # an array declared non-finite (spike ages before a spike) may hold NaN
        if dtype_kind(host.dtype) == "float" and finite and not np.isfinite(host).all():
            raise fail(f"array {k!r} holds NaN or infinite values")
        staged[k] = host
    return staged, t, seed, batch, bool(fresh)


def _is_real(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, int | float | np.integer | np.floating)


def _count(fail: Any, name: str, value: Any, low: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or \
            (low is not None and value < low):
        raise fail(f"{name!r} must be an int{'' if low is None else f' >= {low}'}, "
                   f"got {value!r}")
    return int(value)
