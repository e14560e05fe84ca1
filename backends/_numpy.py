"""The NumPy backend: the reference semantics every other backend is tested against."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Backend


class NumpyBackend(Backend):
    """Arrays are :class:`numpy.ndarray` on the CPU; results are written in place with ``out=``."""

    name = "numpy"
    package = "numpy"

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


def _to_host(x: Any) -> Any:
    """A torch or CuPy array brought to the host as something NumPy can read."""
    if hasattr(x, "get"):  # cupy
        return x.get()
    if hasattr(x, "detach"):  # torch
        return x.detach().cpu().numpy()
    return x
