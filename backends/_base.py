"""What every backend provides: array creation and conversion, and the lowering of ops.

A backend is a small class with a name, an array namespace ``xp``, a lowering table (a copy of
:data:`~plastix.backends._lowering.BASE_TABLE` with a few entries overridden) and the helper
functions its templates call. It knows no rule.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, ClassVar

import numpy as np

from ._kernels import unfold
from ._lowering import BASE_TABLE, Template
from ._random import rand_bits


def dtype_name(dtype: Any) -> str:
    """The plain name of a NumPy, torch or CuPy dtype (``torch.float32`` -> ``"float32"``)."""
    return str(dtype).rpartition(".")[2]


class Backend:
    """Base class of the array backends; subclasses set ``name``, ``xp`` and overrides."""

    name: ClassVar[str] = "?"
    #: The pip requirement that provides this backend, named in errors when it is missing.
    package: ClassVar[str] = ""
    table: Mapping[str, Template] = BASE_TABLE
    #: Whether generated steps may take the event-driven branch (``xp.flatnonzero`` and
    #: indexed updates on rows and columns of the weight; see ``plastix._compiler.events``).
    event_driven: ClassVar[bool] = False

    def __init__(self, device: str | None = None) -> None:
        self.device = device

    # -- identity -----------------------------------------------------------------------------
    @property
    def xp(self) -> Any:
        raise NotImplementedError

    @property
    def key(self) -> str:
        """Identifies the backend and device in compile-cache keys."""
        return f"{self.name}:{self.device}" if self.device else self.name

    def __repr__(self) -> str:
        return f"<plastix backend {self.key}>"

    # -- arrays ---------------------------------------------------------------------------------
    def dtype(self, name: str) -> Any:
        return getattr(self.xp, name)

    def is_native(self, x: Any) -> bool:
        """Whether ``x`` is already an array of this backend on its device."""
        raise NotImplementedError

    def asarray(self, x: Any, dtype: str) -> Any:
        """``x`` as an array of this backend with dtype ``dtype`` (no copy when it already is)."""
        raise NotImplementedError

    def full(self, shape: tuple[int, ...], value: Any, dtype: str) -> Any:
        raise NotImplementedError

    def to_numpy(self, x: Any) -> np.ndarray:
        raise NotImplementedError

    def assign(self, dst: Any, src: Any) -> None:
        """Write ``src`` into ``dst`` in place (``src`` broadcasts)."""
        raise NotImplementedError

    def copy(self, x: Any) -> Any:
        raise NotImplementedError

    def all_finite(self, x: Any) -> bool:
        return bool(self.xp.all(self.xp.isfinite(x)))

    def describe(self, x: Any) -> str:
        """A short description of an array for error messages: type, dtype, shape."""
        shape = getattr(x, "shape", None)
        dtype = getattr(x, "dtype", None)
        return f"{type(x).__module__}.{type(x).__name__} dtype={dtype} shape={shape}"

    def spikes_ready(self, x: Any, dtype: Any, shape: tuple[int, ...]) -> bool:
        """Whether ``x`` may go to a step as it is: a native array of ``dtype`` (this
        backend's dtype object, :meth:`dtype`) and ``shape`` holding only 0 and 1 (the
        binding then skips its input checks). The default says no: every input is checked
        and converted."""
        return False

    def is_foreign(self, x: Any) -> bool:
        """Whether ``x`` is an array of another library (or device), so using it costs a
        conversion; Python scalars and lists are not foreign."""
        return array_library(x) is not None and not self.is_native(x)

    # -- lowering -------------------------------------------------------------------------------
    def host_lowering(self) -> Backend | None:
        """Another backend that computes this one's steps on the same memory, faster (the
        compiler takes it for graphs without function ops and without seam hooks, whose
        code may expect this backend's arrays); None: this backend lowers its own steps."""
        return None

    def kernel_target(self) -> str | None:
        """Which generated per-synapse kernels this backend's arrays can run: ``"numba"`` for
        arrays in host memory when Numba is installed (and ``PLASTIX_KERNELS`` is not
        ``0``), None for none (the array lowering then does all the work)."""
        return None

    def kernel_view(self) -> Callable[[Any], Any] | None:
        """A function giving an array as a generated kernel reads and writes it (the same
        memory); None when the kernel takes the arrays as they are (NumPy's)."""
        return None

    def write_count(self) -> Callable[[Any], Any] | None:
        """A function telling how often an array was written (PyTorch's version counter),
        so that a binding notices a weight written from outside; None when the library has
        no such counter (NumPy)."""
        return None

    def rank_update(self) -> Callable[..., None]:
        """A function ``update(w, terms)`` adding ``sum_k c_k a_k^T b_k`` to the weight
        ``w`` in place (``terms``: ``(c, a, b)`` with ``a`` (batch, n_post) and ``b``
        (batch, n_pre)): the pair terms of a large batch as one matrix product."""
        xp = self.xp

        def update(w: Any, terms: tuple[tuple[Any, Any, Any], ...]) -> None:
            u = xp.concatenate([c * a for c, a, _ in terms])
            v = xp.concatenate([b for _, _, b in terms])
            w += u.T @ v

        return update

    def specialise(self, batch_size: int, dtype: str) -> Backend:
        """This backend as the compiler lowers one graph onto it. The default is the backend
        itself; a backend with faster spellings of some ops for a batch size or dtype returns
        a copy whose table differs in those entries (NumPy's)."""
        return self

    def step_context(self) -> AbstractContextManager[Any] | None:
        """A context every generated step runs in (torch: ``no_grad``; CuPy: its device);
        None (the default) for none."""
        return None

    def prepare_step(self, fn: Callable[..., None]) -> Callable[..., None]:
        """The generated step function as this backend runs it: inside
        :meth:`step_context` when the backend has one, else as it is."""
        if self.step_context() is None:
            return fn
        context = self.step_context

        @functools.wraps(fn)
        def step(*args: Any, **kwargs: Any) -> None:
            with context():  # type: ignore[union-attr]
                fn(*args, **kwargs)

        return step

    def template(self, op: str) -> Template | None:
        return self.table.get(op)

    def helpers(self) -> dict[str, Callable[..., Any]]:
        """Functions the templates call by name, bound to this backend."""
        xp = self.xp
        device = self.device

        def _rand_bits(seed: int, t: int, stream: int, shape: tuple[int, ...]) -> Any:
            return rand_bits(seed, t, stream, shape, xp=xp,
                             device=None if self.name == "numpy" else device)

        return {
            "xp": xp,
            "rand_bits": _rand_bits,
            "cast": lambda x, dtype: x.astype(getattr(xp, dtype)),
            "reduce_sum": lambda x, axis, keepdims: xp.sum(x, axis=axis, keepdims=keepdims),
            "reduce_mean": lambda x, axis, keepdims: xp.mean(x, axis=axis, keepdims=keepdims),
            "reduce_amax": lambda x, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims),
            "heaviside": lambda x: (x > 0).astype(x.dtype),
            "unfold": lambda x, kernel, stride, padding, dilation: unfold(
                x, kernel, stride, padding, dilation, xp=xp,
                zeros=lambda shape, like: self.full(shape, 0, dtype_name(like.dtype))),
            "assign": self.assign,
        }


def numba_available() -> bool:
    """Whether generated kernels may use Numba: it is installed and ``PLASTIX_KERNELS`` is
    not set to ``0`` (which keeps every step on the array lowering, the reference)."""
    import importlib.util
    import os

    if os.environ.get("PLASTIX_KERNELS", "").strip().lower() in ("0", "false", "no", "off"):
        return False
    return importlib.util.find_spec("numba") is not None


def module_loaded(name: str) -> bool:
    """Whether ``name`` is already imported (checked without importing it)."""
    return name in sys.modules


def array_library(x: Any) -> str | None:
    """``"numpy"``, ``"torch"`` or ``"cupy"`` when ``x`` is an array of that library, else None.

    A library that is not imported cannot have made ``x``, so this never imports one.
    """
    if isinstance(x, np.ndarray):
        return "numpy"
    for name, attr in (("torch", "Tensor"), ("cupy", "ndarray")):
        module = sys.modules.get(name)
        if module is not None and isinstance(x, getattr(module, attr, ())):
            return name
    return None
