"""The input contract of a binding: what ``bind``, ``step`` and ``run`` accept, checked up front.

Every check runs before anything is computed, on the value as the caller gave it (before any
cast, so a graded 0.5 is not silently truncated to a 0 spike by an integer rule). An array
is accepted when it is native to the binding's backend (its array type, on its device) or
plain host data (a NumPy array, a list, a number), which is copied to the backend. An array
of another library or device is converted, as issue 3 asks (NumPy and torch on the CPU share
memory; a transfer between devices warns once per binding), and one that cannot be read is
refused.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from plastix._errors import ConversionWarning, StepInputError
from plastix.backends import Backend, array_library, dtype_name

#: Host data any backend accepts and copies: NumPy arrays and scalars, lists, numbers.
HOST_TYPES = (np.ndarray, np.generic, list, tuple, int, float, bool)
_KINDS = {"b": "bool", "i": "int", "u": "int", "f": "float"}


def dtype_kind(dtype: Any) -> str:
    """``"bool"``, ``"int"``, ``"float"`` or ``"other"`` for a NumPy, torch or CuPy dtype."""
    kind = getattr(dtype, "kind", None)
    if isinstance(kind, str):
        return _KINDS.get(kind, "other")
    name = dtype_name(dtype)
    if name == "bool":
        return "bool"
    if name.startswith(("float", "bfloat", "half", "double")):
        return "float"
    if name.startswith(("int", "uint", "long", "short")):
        return "int"
    return "other"


def as_checked(backend: Backend, rule: str, name: str, x: Any, shape: tuple[int, ...],
               dtype: str, *, binary: bool, broadcast: bool = False) -> Any:
    """``x`` as a ``dtype`` array of ``backend`` with ``shape``, or a StepInputError.

    ``binary``: values must be 0 or 1 (spikes of a rule with ``binary_spikes``);
    ``broadcast``: ``x`` may broadcast to ``shape`` (signals); otherwise its shape must be
    ``shape``, or ``shape`` without its leading axis when that axis is 1 (batch size 1).
    """
    native = backend.is_native(x)
    if not native:
        if not isinstance(x, HOST_TYPES):
            raise StepInputError(rule, name, f"a {backend.key} array or host data (NumPy "
                                 "array, list, number)", backend.describe(x))
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise StepInputError(rule, name, f"an array of shape {shape}",
                                 f"{type(x).__name__} ({exc})") from None
    kind = dtype_kind(x.dtype)
    if kind == "other":
        raise StepInputError(rule, name, "real numbers (bool, int or float)",
                             f"dtype {x.dtype}")
    got = tuple(x.shape)
    if broadcast:
        try:
            ok = tuple(np.broadcast_shapes(got, shape)) == shape
        except ValueError:
            ok = False
        if not ok:
            raise StepInputError(rule, name, f"a scalar or shape {shape}", f"shape {got}")
    elif got != shape:
        if not (got == shape[1:] and shape and shape[0] == 1):
            raise StepInputError(rule, name, f"shape {shape} (batch first)", f"shape {got}")
        x = x.reshape(shape)
    if binary:
        if bool(((x != 0) & (x != 1)).any()):
            raise StepInputError(rule, name, "spikes of 0 or 1 (this rule needs binary "
                                 "spikes)", "other values (NaN, graded or negative)")
    elif kind == "float":
        if not _all_finite(x):
            raise StepInputError(rule, name, "finite values", "NaN or infinite entries")
        if dtype_kind(dtype) == "int" and not _integral(x):
            raise StepInputError(rule, name, f"integer values (the binding computes in "
                                 f"{dtype})", "fractional values")
    out = backend.asarray(x, dtype)
    if broadcast and tuple(out.shape) != shape:
        out = out + backend.full(shape, 0, dtype)
    return out


def _all_finite(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return bool(np.isfinite(x).all())
    return bool((x == x).all() and (abs(x) != float("inf")).all())


def _integral(x: Any) -> bool:
    return bool((x == x.round()).all()) if hasattr(x, "round") else True


def check_dt(rule: str, value: Any) -> float:
    """``dt`` in ms: a positive finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise StepInputError(rule, "dt", "a positive number (ms)", repr(value))
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise StepInputError(rule, "dt", "a positive finite number (ms)", repr(value))
    return v


def check_train_length(rule: str, name: str, train: Any) -> int:
    """The number of steps in a time-first train, or a StepInputError."""
    try:
        return len(train)
    except TypeError:
        raise StepInputError(rule, name, "a time-first sequence of spike arrays",
                             type(train).__name__) from None


def binding_dtype(learner: Any, weight: Any) -> str:
    """The dtype a binding computes in: the learner's when it was chosen (``dtype=``), else
    the weight's own dtype when the rule supports it (a float64 NumPy array is learned in
    float64, in place), else the rule's default (the learner's)."""
    if getattr(learner, "dtype_chosen", True):
        return str(learner.dtype)
    own = getattr(weight, "dtype", None)
    try:
        name = dtype_name(own) if own is not None else None
    except Exception:  # an object whose dtype no backend knows: the contract refuses it later
        name = None
    if name in learner.rule_cls.dtypes and name != learner.dtype:
        learner.rule_cls.check_params(learner.params, name)
        return str(name)
    return str(learner.dtype)


def coerce_weight(backend: Backend, rule: str, weight: Any, dtype: str) -> Any:
    """The weight as a ``dtype`` array of ``backend``: any rectangular, finite, real array of
    at least 2 dimensions (a native one of that dtype is used in place, so updates land in
    it). A parameter that has to be copied, or an array copied into another dtype, warns
    that its updates will land in the copy (``syn.weight``)."""
    be = backend
    if getattr(weight, "ndim", None) is None and not isinstance(weight, list | tuple):
        raise StepInputError(rule, "weight", "an array", type(weight).__name__)
    try:
        shape = tuple(getattr(weight, "shape", None) or np.shape(weight))
    except ValueError as exc:  # a ragged nested list
        raise StepInputError(rule, "weight", "a rectangular array",
                             f"{type(weight).__name__} ({exc})") from None
    if len(shape) < 2:
        raise StepInputError(rule, "weight", "at least 2 dimensions",
                             f"shape {shape}")
    host = weight
    if not (be.is_native(weight) or isinstance(weight, np.ndarray | list | tuple)):
        try:  # a weight of any array type is accepted (and copied)
            host = host_array(weight)
        except Exception as exc:
            raise StepInputError(rule, "weight", "an array readable on the host",
                                 f"{be.describe(weight)} ({type(exc).__name__}: {exc})") \
                from None
    w = as_checked(be, rule, "weight", host, shape, dtype, binary=False)
    copied = storage_address(weight) != storage_address(w)
    if getattr(weight, "requires_grad", False) and copied:
        warnings.warn(f"rule {rule!r}: the weight (a parameter) was converted "
                      f"to {dtype} on {be.key}, so updates land in syn.weight, not in "
                      "the parameter; bind a parameter of that dtype and device",
                      ConversionWarning, stacklevel=4)
    elif copied and not isinstance(weight, list | tuple) and hasattr(weight, "dtype") \
            and dtype_name(weight.dtype) != dtype:
        warnings.warn(f"rule {rule!r}: the {dtype_name(weight.dtype)} weight was copied to "
                      f"{dtype}, so the updates land in syn.weight, not in the array that "
                      f"was bound; bind a {dtype} array, or choose the learner's dtype to "
                      "match the array (dtype=...)", ConversionWarning, stacklevel=5)
    return w


def adopt(backend: Backend, rule: str, name: str, x: Any) -> tuple[Any, bool]:
    """An array of another library or device as ``backend``'s array of the same dtype (the
    checks then see the values as given), and whether that crossed devices. NumPy and torch
    on the CPU share memory; an array that cannot be read (a torch 'meta' tensor) is a
    StepInputError."""
    if not backend.is_foreign(x):
        return x, False
    try:
        converted = backend.asarray(x, dtype_name(x.dtype))
    except Exception as exc:  # a tensor without data (torch 'meta'), an odd dtype
        raise StepInputError(rule, name, f"a {backend.key} array or host data",
                             f"{backend.describe(x)} ({type(exc).__name__}: {exc})") from None
    return converted, backend.device is not None or on_gpu(x)


def is_binary(x: np.ndarray) -> bool:
    """Whether every entry is 0 or 1 (NaN and inf are not): on a few entries x(1-x) = 0 is
    the cheapest test, on many the two comparisons are (they vectorise better)."""
    if x.size <= 512:
        return not np.count_nonzero(x * (1 - x))
    return not bool(((x != 0) & (x != 1)).any())


def on_gpu(x: Any) -> bool:
    """Whether ``x`` (a torch or CuPy array) lives on a GPU."""
    if array_library(x) == "cupy":
        return True
    return getattr(getattr(x, "device", None), "type", "cpu") != "cpu"


def storage_address(x: Any) -> Any:
    """The address of an array's first element (torch, NumPy or CuPy), else None."""
    ptr = getattr(x, "data_ptr", None)
    if callable(ptr):
        return ptr()
    interface = getattr(x, "__array_interface__", None) or \
        getattr(x, "__cuda_array_interface__", None)
    return interface["data"][0] if interface else None


def host_array(x: Any) -> np.ndarray:
    """``x`` (NumPy, torch or CuPy) as a NumPy array on the host."""
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    if hasattr(x, "get") and not isinstance(x, np.ndarray | dict):
        return np.asarray(x.get())
    return np.asarray(x)


def is_train(value: Any, n: int, shape: tuple[int, ...]) -> bool:
    """Whether ``value`` holds one value of ``shape`` per step of an ``n``-step run."""
    s = tuple(getattr(value, "shape", np.shape(value)))
    return len(s) == len(shape) + 1 and s[0] == n
