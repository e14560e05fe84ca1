"""The NumPy backend: the reference semantics every other backend is tested against.

Its table is the base table plus the fused L1 row normalisation, and, per graph
(:meth:`NumpyBackend.specialise`), two faster spellings that compute the same numbers: the bare
``clip`` ufunc for float clamps (``np.clip`` adds a Python wrapper costing microseconds per
call; for integers the wrapper's handling of huge bounds is kept) and, for one sample per
step, the batch-summed outer product as a broadcast multiply (a sum of one product, without
matmul's slow path for an inner dimension of 1).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from plastix._ops import ROWNORM

from ._base import Backend, numba_available
from ._lowering import BASE_TABLE, Template

NUMPY_TABLE: Mapping[str, Template] = {
    **BASE_TABLE,
    ROWNORM.name: Template("rownorm_l1({0}, {1}, None, {scratch0})",
                           "rownorm_l1({0}, {1}, {out}, {scratch0})", alias_ok=(0,)),
}
_CLIP = Template("clip_ufunc({0}, {1}, {2})", "clip_ufunc({0}, {1}, {2}, out={out})")
_OUTER_ONE = Template("{0}.T * {1}", "xp.multiply({0}.T, {1}, out={out})", alias_ok=())


def rownorm_l1(w: np.ndarray, c: Any, out: np.ndarray | None,
               scratch: np.ndarray) -> np.ndarray:
    """``c * (w / sum(|w|, axis=1))`` into ``out`` (a new array when None), with ``scratch``
    holding ``|w|``; an all-zero row stays zero. Each row is scaled by the factor
    ``c / sum`` (one pass); when a row is empty or a factor would overflow (a sum below
    ``c / max``), the rows are divided first, as the unfused ops do."""
    np.abs(w, out=scratch)
    s = np.einsum("ij->i", scratch)  # no BLAS: threaded gemv stalls on a loaded machine
    if s.size and float(s.min()) * float(np.finfo(s.dtype).max) > abs(c):
        return np.multiply(w, np.divide(c, s, out=s)[:, None], out=out)
    s[s == 0] = 1  # an empty row: 0 / 1 = 0, as the graph's guard makes it
    return np.multiply(np.divide(w, s[:, None], out=out), c, out=out)


def binary(x: np.ndarray) -> bool:
    """Whether every entry is 0 or 1 (NaN and inf are not): with Numba, one compiled loop
    (one call instead of three for a spike vector of a step); else on a few entries
    x(1-x) = 0 is the cheapest test, on many the two comparisons are (they vectorise better)."""
    loop = _binary_loop() if x.size <= 4096 else None  # above that NumPy's ufuncs win
    if loop is not None and x.flags.c_contiguous and x.dtype.kind == "f":
        return bool(loop(x.reshape(-1)))
    if x.size <= 512:
        return not np.count_nonzero(x * (1 - x))
    return not bool(((x != 0) & (x != 1)).any())


@functools.cache
def _binary_loop() -> Callable[[np.ndarray], bool] | None:
    if not numba_available():
        return None
    from numba import njit

    @njit(cache=True, nogil=True)
    def all_zero_or_one(x: np.ndarray) -> bool:
        bad = 0
        for v in x:  # no early exit: the loop vectorises
            bad += (v != 0) & (v != 1)
        return bad == 0

    return all_zero_or_one


class NumpyBackend(Backend):
    """Arrays are :class:`numpy.ndarray` on the CPU; results are written in place with ``out=``."""

    name = "numpy"
    package = "numpy"
    table = NUMPY_TABLE
    event_driven = True

    def __init__(self, device: str | None = None) -> None:
        if device not in (None, "cpu"):
            from plastix._errors import BackendUnavailableError

            raise BackendUnavailableError("numpy", f"runs on the CPU only, not {device!r}")
        super().__init__(None)

    @property
    def xp(self) -> Any:
        return np

    def is_native(self, x: Any) -> bool:
        return isinstance(x, np.ndarray)

    def asarray(self, x: Any, dtype: str) -> np.ndarray:
        if not isinstance(x, np.ndarray) and hasattr(x, "__dlpack__") and hasattr(x, "device"):
            x = _to_host(x)
        return np.asarray(x, dtype=dtype)

    def full(self, shape: tuple[int, ...], value: Any, dtype: str) -> np.ndarray:
        return np.full(shape, value, dtype=dtype)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def assign(self, dst: np.ndarray, src: Any) -> None:
        np.copyto(dst, src, casting="unsafe")

    def copy(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def dtype(self, name: str) -> Any:
        return np.dtype(name)

    def spikes_ready(self, x: Any, dtype: Any, shape: tuple[int, ...]) -> bool:
        return type(x) is np.ndarray and x.dtype == dtype and x.shape == shape \
            and binary(x)

    def kernel_target(self) -> str | None:
        return "numba" if numba_available() else None

    def rank_update(self) -> Callable[..., None]:
        """With SciPy, one BLAS gemm per term accumulated into the weight (``alpha`` the
        term's coefficient, ``beta = 1``: no temporary of the weight's size); without it,
        ``w += u.T @ v``."""
        try:
            from scipy.linalg import blas
        except ImportError:
            return super().rank_update()
        fallback = super().rank_update()

        def update(w: np.ndarray, terms: tuple[tuple[Any, Any, Any], ...]) -> None:
            if not w.flags.c_contiguous or w.dtype not in (np.float32, np.float64):
                fallback(w, terms)
                return
            gemm = blas.sgemm if w.dtype == np.float32 else blas.dgemm
            for c, a, b in terms:
                # w (C order) is w.T in Fortran order: w.T += c b.T @ a, in place
                out = gemm(c, b.T, a, beta=1.0, c=w.T, overwrite_c=True)
                if not np.shares_memory(out, w):
                    w[...] = out.T

        return update

    def specialise(self, batch_size: int, dtype: str) -> Backend:
        diff: dict[str, Template] = {}
        if dtype.startswith("float"):
            diff["clamp"] = _CLIP
        if batch_size == 1:
            diff["mat_mult_pre"] = _OUTER_ONE
        if not diff:
            return self
        tuned = copy.copy(self)
        tuned.table = {**self.table, **diff}
        return tuned

    def helpers(self) -> dict[str, Callable[..., Any]]:
        core: Any = getattr(np, "_core", None) or np.core  # NumPy 2 renamed np.core
        return {**super().helpers(), "clip_ufunc": core.umath.clip, "rownorm_l1": rownorm_l1}


def _to_host(x: Any) -> Any:
    """A torch or CuPy array brought to the host as something NumPy can read."""
    if hasattr(x, "get"):  # cupy
        return x.get()
    if hasattr(x, "detach"):  # torch
        return x.detach().cpu().numpy()
    return x


class TorchHostBackend(NumpyBackend):
    """The NumPy lowering of a CPU PyTorch binding's steps (``TorchBackend.host_lowering``).

    The step receives the binding's tensors and reads each through its NumPy view
    (``tensor.numpy()``: the same memory); every op, kernel and scratch buffer is NumPy's.
    Writes from outside are still noticed: the step compares the weight tensor's version
    counter, which NumPy's writes through the view leave alone.
    """

    tensor_views = True

    def __init__(self, torch_backend: Backend) -> None:
        super().__init__(None)
        self._torch_backend = torch_backend

    @property
    def key(self) -> str:
        return "torch (NumPy on the tensors' memory)"

    def write_count(self) -> Callable[[Any], Any] | None:
        return self._torch_backend.write_count()

    def helpers(self) -> dict[str, Callable[..., Any]]:
        return {**super().helpers(), "_view": _tensor_view}


def _tensor_view(x: Any) -> Any:
    """A tensor's NumPy view; anything else as it is (a bind phase has no spikes)."""
    return x.numpy() if hasattr(x, "numpy") and not isinstance(x, np.ndarray) else x
