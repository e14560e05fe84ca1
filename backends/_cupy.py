"""The CuPy backend: NumPy's semantics on a CUDA GPU.

CuPy implements NumPy's ufuncs with ``out=``, ``clip``, ``where``, the shifts and the
reductions under NumPy's names, so the base table applies unchanged; only the helpers that
create arrays differ (CuPy allocates on the current device and its ``arange`` takes no
``device``), and a step runs with its device made current. Elementwise fusion
(``cupy.fuse``) is not applied yet: see the close note of the backends branch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from plastix._errors import BackendUnavailableError

from ._base import Backend, array_library
from ._random import rand_bits


class CupyBackend(Backend):
    """Arrays are :class:`cupy.ndarray` on one GPU (``"cuda"`` or ``"cuda:N"``)."""

    name = "cupy"
    package = "cupy-cuda12x"

    def __init__(self, device: str | None = None) -> None:
        import cupy

        self._cupy = cupy
        spec = f"cupy:{device}" if device else "cupy"
        kind, _, index = (device or "cuda").partition(":")
        if kind not in ("cuda", "gpu") or (index and not index.isdigit()):
            raise BackendUnavailableError(spec, f"runs on 'cuda' or 'cuda:N' devices, not "
                                          f"{device!r}")
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDARuntimeError when no driver is installed
            raise BackendUnavailableError(spec, f"CuPy is installed but finds no CUDA GPU "
                                          f"({exc})") from None
        self.index = int(index) if index else cupy.cuda.runtime.getDevice()
        if self.index >= count:
            raise BackendUnavailableError(spec, f"CUDA device {self.index} was asked for, but "
                                          f"CuPy sees {count} GPU(s)")
        super().__init__(f"cuda:{self.index}")

    @property
    def xp(self) -> Any:
        return self._cupy

    def _device(self) -> Any:
        return self._cupy.cuda.Device(self.index)

    def is_native(self, x: Any) -> bool:
        return isinstance(x, self._cupy.ndarray) and x.device.id == self.index

    def asarray(self, x: Any, dtype: str) -> Any:
        lib = array_library(x)
        if lib == "torch":
            x = x.detach()
            if x.device.type != "cuda":
                x = x.numpy()
        with self._device():
            if lib == "torch" and not isinstance(x, np.ndarray):
                x = self._cupy.from_dlpack(x)
            out = self._cupy.asarray(x, dtype=dtype)
            return out if out.device.id == self.index else out.copy()

    def full(self, shape: tuple[int, ...], value: Any, dtype: str) -> Any:
        with self._device():
            return self._cupy.full(shape, value, dtype=dtype)

    def to_numpy(self, x: Any) -> np.ndarray:
        if isinstance(x, self._cupy.ndarray):
            return np.asarray(x.get())
        return np.asarray(x)

    def assign(self, dst: Any, src: Any) -> None:
        self._cupy.copyto(dst, src, casting="unsafe")

    def copy(self, x: Any) -> Any:
        with self._device():
            return x.copy()

    def step_context(self) -> Any:
        return self._device()

    def kernel_target(self) -> str | None:
        """Generated kernels run as CuPy ``RawKernel`` s (CUDA C, one thread per synapse)."""
        return "cuda"

    def helpers(self) -> dict[str, Callable[..., Any]]:
        cupy = self._cupy

        def _rand_bits(seed: int, t: int, stream: int, shape: tuple[int, ...]) -> Any:
            return rand_bits(seed, t, stream, shape, xp=cupy)  # the step's device is current

        return {**super().helpers(), "rand_bits": _rand_bits}
