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

import math
import os
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
    if native and (getattr(x, "is_nested", False) or
                   str(getattr(x, "layout", "torch.strided")) != "torch.strided"):
        if getattr(x, "is_nested", False):
            raise StepInputError(rule, name, "a dense (strided) tensor", "a nested tensor "
                                 "(pass one tensor with the batch axis first)")
        raise StepInputError(rule, name, "a dense (strided) tensor", f"a tensor of layout "
                             f"{x.layout} (make it dense first: x.to_dense())")
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
    if not binary and kind != "bool":
        _check_range(rule, name, x, dtype)
    out = backend.asarray(x, dtype)
    if broadcast and tuple(out.shape) != shape:
        out = out + backend.full(shape, 0, dtype)
    return out


def _check_range(rule: str, name: str, x: Any, dtype: str) -> None:
    """Refuse values that ``dtype`` cannot hold, before the cast that would turn them into
    an infinity (1e300 in float32) or wrap them around (2**40 in int32)."""
    target = np.dtype(dtype)
    try:
        source = np.dtype(dtype_name(x.dtype))
    except TypeError:  # torch's bfloat16: every value fits float32 and float64
        return
    if target.kind == "f":
        if source.kind != "f" or source.itemsize <= target.itemsize:
            return  # every int64 and every narrower float fits float32 and float64
        limit = float(np.finfo(target).max)
        if int(math.prod(x.shape)) and float(abs(x).max()) > limit:
            raise StepInputError(rule, name, f"values that {dtype} can hold (|x| <= "
                                 f"{limit:.4g})", f"{float(abs(x).max()):.4g}")
        return
    if target.kind not in "iu" or not int(math.prod(x.shape)):
        return
    info = np.iinfo(target)
    if source.kind in "iu" and np.iinfo(source).min >= info.min and \
            np.iinfo(source).max <= info.max:
        return
    lo, hi = x.min(), x.max()
    above = float(hi) >= float(info.max) + 1 if source.kind == "f" else int(hi) > info.max
    below = float(lo) < float(info.min) if source.kind == "f" else int(lo) < info.min
    if above or below:
        got = hi if above else lo
        got = got.item() if hasattr(got, "item") else got
        raise StepInputError(rule, name, f"integers in [{info.min}, {info.max}] (the binding "
                             f"computes in {dtype})", repr(got))


def _all_finite(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return bool(np.isfinite(x).all())
    return bool((x == x).all() and (abs(x) != float("inf")).all())


def _integral(x: Any) -> bool:
    return bool((x == x.round()).all()) if hasattr(x, "round") else True


def parse_dtype(value: Any) -> str | None:
    """The plain name of a dtype given as a name (``"float32"``), a NumPy dtype or type
    (``np.float64``, ``float``) or a torch dtype (``torch.float64``); None when ``value``
    names no dtype. A string must be the plain name itself: ``"bogus.float64"`` is none."""
    if isinstance(value, str):
        return value if value.isidentifier() else None
    if type(value).__name__ == "dtype" and type(value).__module__ == "torch":
        return str(value).rpartition(".")[2]
    if value is None or isinstance(value, bool | int | float):
        return None
    try:
        return np.dtype(value).name
    except (TypeError, ValueError):
        return None


def check_seed(rule: str, value: Any) -> int:
    """A random seed: an int (a NumPy integer too), not a bool, a float or a string."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise StepInputError(rule, "seed", "an int", f"{value!r} ({type(value).__name__})")
    return int(value)


def check_extents(rule: str, name: str, value: Any) -> tuple[int, ...]:
    """A shape without its batch axis: a tuple (or list) of positive ints."""
    if isinstance(value, str) or not isinstance(value, tuple | list) or not value or \
            any(isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1
                for n in value):
        raise StepInputError(rule, name, "a tuple of positive ints such as (1, 28, 28)",
                             repr(value))
    return tuple(int(n) for n in value)


def check_allocation(backend: Backend, rule: str, need: int, batch_size: int) -> None:
    """Refuse, before allocating, state of ``need`` bytes that exceeds the machine's physical
    memory (on the host; a device's allocator fails at once when it cannot)."""
    host = backend.name != "cupy" and str(backend.device or "cpu").startswith("cpu")
    limit = physical_memory() if host else None
    if limit is not None and need > limit:
        raise StepInputError(rule, "batch_size", f"a batch whose state fits in "
                             f"{size_text(limit)}", f"{batch_size}, whose state needs "
                             f"{size_text(need)}")


def size_text(n: int) -> str:
    """``n`` bytes for a message: ``"12 bytes"``, ``"3.2 GiB"``."""
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.3g} {unit}"
    return f"{n} bytes"


def physical_memory() -> int | None:
    """The host's physical memory in bytes, or None where the system does not say."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says that an allocation failed (NumPy's MemoryError, torch's
    OutOfMemoryError and its CPU allocator's RuntimeError, CuPy's OutOfMemoryError)."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    return isinstance(exc, RuntimeError) and "allocate" in str(exc)


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
    # the array a caller passes is the one meant to learn: refused even where it would be
    # copied (torch copies a read-only NumPy array), so that no backend hides the problem
    check_writable(rule, "weight", weight)
    host = weight
    if not (be.is_native(weight) or isinstance(weight, np.ndarray | list | tuple)):
        try:  # a weight of any array type is accepted (and copied)
            host = host_array(weight)
        except Exception as exc:
            raise StepInputError(rule, "weight", "an array readable on the host",
                                 f"{be.describe(weight)} ({type(exc).__name__}: {exc})") \
                from None
    w = as_checked(be, rule, "weight", host, shape, dtype, binary=False)
    check_writable(rule, "weight", w)
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


def check_writable(rule: str, name: str, x: Any) -> None:
    """Refuse an array that a step cannot update in place: a read-only one, one whose
    elements share memory (a broadcast view, an expanded tensor) or a torch inference
    tensor; each would fail at the first step after the state had moved."""
    if getattr(x, "is_nested", False) or \
            str(getattr(x, "layout", "torch.strided")) != "torch.strided":
        return  # not strided at all: as_checked refuses it, naming the layout
    flags = getattr(x, "flags", None)
    if flags is not None and getattr(flags, "writeable", True) is False:
        raise StepInputError(rule, name, "a writable array (steps update it in place; pass "
                             "a copy, e.g. np.array(w))", "a read-only array")
    is_inference = getattr(x, "is_inference", None)
    if callable(is_inference) and is_inference():
        raise StepInputError(rule, name, "a tensor made outside torch.inference_mode() "
                             "(steps update it in place; pass w.clone())",
                             "an inference tensor")
    if callable(getattr(x, "stride", None)):  # torch: strides in elements
        strides, itemsize = x.stride(), 1
    else:
        strides, itemsize = getattr(x, "strides", None), getattr(x, "itemsize", 1)
    if strides is not None and _overlapping(tuple(x.shape), tuple(strides), itemsize):
        raise StepInputError(rule, name, "an array whose elements each have their own memory "
                             "(steps update it in place; pass a copy)",
                             f"a view whose elements share memory (shape {tuple(x.shape)}, "
                             f"strides {tuple(strides)}: a broadcast or expanded view)")


def _overlapping(shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int) -> bool:
    """Whether some elements of an array of ``shape`` and ``strides`` (in the unit of
    ``itemsize``) share memory. Axes sorted by stride that each step at least as far as
    the ones below reach cannot overlap (the usual layouts, found at once); otherwise a
    zero stride overlaps, and any other layout is decided by listing its offsets."""
    axes = sorted((abs(st), n) for n, st in zip(shape, strides, strict=True) if n > 1)
    reach = itemsize  # one past the last unit reached by the axes so far
    for stride, n in axes:
        if stride == 0:
            return True
        if stride < reach:
            break
        reach += stride * (n - 1)
    else:
        return False
    if math.prod(shape) > 1 << 24:
        return True  # too many to list: refused as if they overlapped
    offsets = np.zeros(1, dtype=np.int64)
    for stride, n in axes:
        offsets = (offsets[:, None] + stride * np.arange(n)).ravel()
    offsets.sort()
    return bool((np.diff(offsets) < itemsize).any())


def adopt(backend: Backend, rule: str, name: str, x: Any) -> tuple[Any, bool]:
    """An array of another library or device as ``backend``'s array of the same dtype (the
    checks then see the values as given), and whether that crossed devices. NumPy and torch
    on the CPU share memory; an array that cannot be read (a torch 'meta' tensor) is a
    StepInputError."""
    if not backend.is_foreign(x) or dtype_kind(getattr(x, "dtype", None)) == "other":
        return x, False  # (an array of strings or objects is refused by as_checked, by dtype)
    try:
        converted = backend.asarray(x, dtype_name(x.dtype))
    except Exception as exc:  # a tensor without data (torch 'meta'), an odd dtype
        raise StepInputError(rule, name, f"a {backend.key} array or host data",
                             f"{backend.describe(x)} ({type(exc).__name__}: {exc})") from None
    return converted, backend.device is not None or on_gpu(x)


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
