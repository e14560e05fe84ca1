"""The input contract of a binding: what ``bind``, ``step`` and ``run`` accept, checked up front.

Every check runs before anything is computed, on the value as the caller gave it (before any
cast, so a graded 0.5 is not silently truncated to a 0 spike by an integer rule). An array
is accepted when it is native to the binding's backend (its array type, on its device) or
plain host data (a NumPy array, a list, a number), which is copied to the backend. An array
of another library or device is refused rather than moved behind the caller's back: that
copy would happen every step, and a device mismatch usually means the caller bound the wrong
learner.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._errors import StepInputError

#: Host data any backend accepts and copies: NumPy arrays and scalars, lists, numbers.
HOST_TYPES = (np.ndarray, np.generic, list, tuple, int, float, bool)
_KINDS = {"b": "bool", "i": "int", "u": "int", "f": "float"}


def dtype_kind(dtype: Any) -> str:
    """``"bool"``, ``"int"``, ``"float"`` or ``"other"`` for a NumPy, torch or CuPy dtype."""
    kind = getattr(dtype, "kind", None)
    if isinstance(kind, str):
        return _KINDS.get(kind, "other")
    name = str(dtype).rpartition(".")[2]
    if name == "bool":
        return "bool"
    if name.startswith(("float", "bfloat", "half", "double")):
        return "float"
    if name.startswith(("int", "uint", "long", "short")):
        return "int"
    return "other"


def as_checked(backend: Any, rule: str, name: str, x: Any, shape: tuple[int, ...],
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
