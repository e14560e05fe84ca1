"""The PyTorch backend: tensors on the CPU or a CUDA device, no autograd graph.

The lowering table is :data:`~plastix.backends._lowering.BASE_TABLE` with the entries PyTorch
spells differently: ``torch.pow`` and ``torch.bitwise_*_shift`` for NumPy's ``power`` and
``*_shift``, ``clamp_min`` where NumPy's ``maximum`` takes a Python scalar, reductions with
``dim``/``keepdim``, casts with ``.to(dtype)``. A step runs under :func:`torch.no_grad`, so a
weight that is an ``nn.Parameter`` (``requires_grad=True``) is updated in place without
recording a graph: its ``grad_fn`` stays None and ``.grad`` untouched.

``torch.compile`` is not applied to generated steps. Measured on the CPU (torch 2.13, one
thread), it doubled the steps/s of ``nearest_online_stdp`` 784x100 at batch 32 and gained
nothing at batch 1, but cost 10-20 s of compilation per binding shape, changed
``meta_nearest_online_stdp``'s float64 results beyond the agreement tolerance, and crashed on
the integer rule (``benchmarks/backends_quick.py --compile`` repeats the timing).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from plastix._errors import BackendUnavailableError

from ._base import Backend, array_library, numba_available
from ._lowering import BASE_TABLE, Template
from ._numpy import binary
from ._random import rand_bits

#: PyTorch's overrides of the base table; everything else is NumPy's spelling, which
#: torch shares (``xp.add``, ``xp.multiply``, ``xp.clip``, ``xp.where``, ``@``, ...).
TORCH_OVERRIDES: Mapping[str, Template] = {
    "pow": Template("{0} ** {1}", "xp.pow({0}, {1}, out={out})"),
    "right_shift": Template("{0} >> {1}", "xp.bitwise_right_shift({0}, {1}, out={out})"),
    "left_shift": Template("{0} << {1}", "xp.bitwise_left_shift({0}, {1}, out={out})"),
    "relu": Template("xp.clamp_min({0}, 0)", "xp.clamp_min({0}, 0, out={out})"),
    "maximum": Template("maximum({0}, {1})", "maximum({0}, {1}, out={out})"),
    "minimum": Template("minimum({0}, {1})", "minimum({0}, {1}, out={out})"),
    "clamp": Template("clip({0}, {1}, {2})", "clip({0}, {1}, {2}, out={out})"),
    "transpose": Template("{0}.permute(*range({0}.ndim - 1, -1, -1))"),
}

TORCH_TABLE: Mapping[str, Template] = {**BASE_TABLE, **TORCH_OVERRIDES}


def _is_scalar(x: Any) -> bool:
    return isinstance(x, numbers.Number)


def _extremum(torch: Any, which: str) -> Callable[..., Any]:
    """NumPy's ``maximum``/``minimum``: torch's take tensors only, ``clamp_*`` a scalar."""
    full = getattr(torch, which)
    clamp = torch.clamp_min if which == "maximum" else torch.clamp_max

    def extremum(a: Any, b: Any, out: Any = None) -> Any:
        if _is_scalar(b):
            a, b = b, a
        if _is_scalar(a):
            if _is_scalar(b):
                return full(torch.as_tensor(a), torch.as_tensor(b), out=out)
            return clamp(b, a, out=out)
        return full(a, b, out=out)

    extremum.__name__ = which
    return extremum


def _clip(torch: Any) -> Callable[..., Any]:
    """``clip(x, lo, hi)`` where the bounds may be any mix of scalars and tensors."""

    def clip(x: Any, lo: Any, hi: Any, out: Any = None) -> Any:
        if _is_scalar(lo) == _is_scalar(hi):
            return torch.clamp(x, lo, hi, out=out)
        low = torch.clamp_min(x, lo, out=out) if _is_scalar(lo) else torch.maximum(x, lo,
                                                                                     out=out)
        return torch.clamp_max(low, hi, out=out) if _is_scalar(hi) else \
            torch.minimum(low, hi, out=out)

    return clip


def host_lowering_enabled() -> bool:
    import os

    return os.environ.get("PLASTIX_TORCH_HOST", "").strip().lower() not in ("0", "false",
                                                                           "no", "off")


def _numpy_view(t: Any) -> Any:
    """A CPU tensor's NumPy view (the same memory; steps run without autograd)."""
    return t.numpy()


def _cupy_view(t: Any) -> Any:
    """A CUDA tensor as a CuPy array (the same memory, through DLPack)."""
    import cupy

    return cupy.from_dlpack(t.detach())


def _version(t: Any) -> int:
    """How often ``t`` was written in place by torch (its version counter)."""
    return int(t._version)


class TorchBackend(Backend):
    """Arrays are :class:`torch.Tensor` on one device (``"cpu"``, ``"cuda"``, ``"cuda:1"``)."""

    name = "torch"
    package = "torch"
    table = TORCH_TABLE

    def __init__(self, device: str | None = None) -> None:
        import torch

        self._torch = torch
        spec = f"torch:{device}" if device else "torch"
        try:
            dev = torch.device(device if device is not None else "cpu")
        except (RuntimeError, TypeError) as exc:
            raise BackendUnavailableError(spec, f"unknown device {device!r} ({exc})") from None
        if dev.type == "cuda":
            if not torch.cuda.is_available():
                raise BackendUnavailableError(spec, "CUDA was asked for, but torch sees no CUDA "
                                              f"GPU (torch {torch.__version__}, "
                                              "torch.cuda.is_available() is False)")
            index = torch.cuda.current_device() if dev.index is None else dev.index
            if index >= torch.cuda.device_count():
                raise BackendUnavailableError(spec, f"CUDA device {index} was asked for, but "
                                              f"torch sees {torch.cuda.device_count()}")
            dev = torch.device("cuda", index)
        elif dev.type != "cpu":
            raise BackendUnavailableError(spec, f"runs on 'cpu' and 'cuda' devices, not "
                                          f"{device!r}")
        self.torch_device = dev
        self._cpu = dev.type == "cpu"
        self._host: Backend | None = None
        self._strided = torch.strided
        super().__init__(None if dev.type == "cpu" else str(dev))

    @property
    def xp(self) -> Any:
        return self._torch

    def dtype(self, name: str) -> Any:
        return getattr(self._torch, name)

    def is_native(self, x: Any) -> bool:
        return isinstance(x, self._torch.Tensor) and x.device == self.torch_device

    def asarray(self, x: Any, dtype: str) -> Any:
        """A tensor of ``dtype`` on this device, sharing memory with ``x`` when it can.

        A tensor that requires grad (an ``nn.Parameter``) is detached: the result shares its
        storage, so in-place updates land in the parameter without entering autograd.
        """
        torch = self._torch
        lib = array_library(x)
        if lib == "torch":
            t = x.detach()
        elif lib == "cupy":
            t = torch.from_dlpack(x)
        else:
            arr = np.asarray(x)
            if arr.dtype == object:
                raise TypeError(f"cannot make a tensor from an array of {arr.dtype}")
            if not arr.flags.writeable or any(s < 0 for s in arr.strides):
                arr = np.array(arr)
            t = torch.from_numpy(arr) if arr.ndim else torch.as_tensor(arr)
        return t.to(device=self.torch_device, dtype=self.dtype(dtype))

    def full(self, shape: tuple[int, ...], value: Any, dtype: str) -> Any:
        return self._torch.full(tuple(shape), value, dtype=self.dtype(dtype),
                                device=self.torch_device)

    def to_numpy(self, x: Any) -> np.ndarray:
        if isinstance(x, self._torch.Tensor):
            return np.asarray(x.detach().cpu().numpy())
        return np.asarray(x)

    def assign(self, dst: Any, src: Any) -> None:
        with self._torch.no_grad():
            if isinstance(src, self._torch.Tensor):
                dst.copy_(src)
            else:
                dst.copy_(self._torch.as_tensor(src, device=dst.device))

    def copy(self, x: Any) -> Any:
        return x.detach().clone()

    def all_finite(self, x: Any) -> bool:
        torch = self._torch
        if not (x.dtype.is_floating_point or x.dtype.is_complex):
            return True
        return bool(torch.isfinite(x).all())

    def describe(self, x: Any) -> str:
        text = super().describe(x)
        device = getattr(x, "device", None)
        return f"{text} device={device}" if device is not None else text

    # -- lowering -------------------------------------------------------------------------------
    def spikes_ready(self, x: Any, dtype: Any, shape: tuple[int, ...]) -> bool:
        """CPU spikes are tested through their NumPy view (cheaper than torch ops on small
        tensors); CUDA spikes always take the checked path."""
        if type(x) is not self._torch.Tensor or x.dtype != dtype or not self._cpu \
                or x.is_nested or x.layout is not self._strided or x.shape != shape \
                or x.requires_grad or not x.is_cpu:
            return False
        return binary(x.numpy())

    def host_lowering(self) -> Backend | None:
        """On the CPU, steps run through NumPy on the tensors' NumPy views (the same memory,
        no copy): PyTorch's dispatch costs microseconds per call on small tensors, NumPy's
        a fraction of that, and the results are NumPy's, bit for bit. ``PLASTIX_TORCH_HOST=0``
        keeps PyTorch's own lowering (which CUDA tensors, seam hooks and function ops use)."""
        if not self._cpu or not host_lowering_enabled():
            return None
        from ._numpy import TorchHostBackend
        from ._select import get_backend

        if self._host is None:
            self._host = TorchHostBackend(self)
        self._host.table = get_backend("numpy").table  # with plugins' NumPy lowerings
        return self._host

    def kernel_target(self) -> str | None:
        """Numba kernels run on CPU tensors through their NumPy views (the same memory),
        CUDA kernels (CuPy's ``RawKernel``, when CuPy is installed) on CUDA tensors through
        DLPack."""
        if self._cpu:
            return "numba" if numba_available() else None
        import importlib.util

        return "cuda" if importlib.util.find_spec("cupy") is not None else None

    def kernel_view(self) -> Callable[[Any], Any] | None:
        return _numpy_view if self._cpu else _cupy_view

    def write_count(self) -> Callable[[Any], Any] | None:
        return _version

    def rank_update(self) -> Callable[..., None]:
        def update(w: Any, terms: tuple[tuple[Any, Any, Any], ...]) -> None:
            for c, a, b in terms:  # a matrix product accumulated into the weight (beta = 1)
                w.addmm_(a.T, b, alpha=c)

        return update

    def step_context(self) -> Any:
        return self._torch.no_grad()

    def helpers(self) -> dict[str, Callable[..., Any]]:
        torch = self._torch
        device = self.torch_device

        def _rand_bits(seed: int, t: int, stream: int, shape: tuple[int, ...]) -> Any:
            return rand_bits(seed, t, stream, shape, xp=torch, device=device)

        def reduce(fn: Callable[..., Any]) -> Callable[..., Any]:
            def run(x: Any, axis: Any, keepdims: bool) -> Any:
                return fn(x, dim=axis, keepdim=keepdims)

            return run

        def reduce_mean(x: Any, axis: Any, keepdims: bool) -> Any:
            if not x.dtype.is_floating_point:  # NumPy's mean of integers is float64
                x = x.to(torch.float64)
            return torch.mean(x, dim=axis, keepdim=keepdims)

        return {
            **super().helpers(),
            "rand_bits": _rand_bits,
            "cast": lambda x, dtype: x.to(getattr(torch, dtype)),
            "reduce_sum": reduce(torch.sum),
            "reduce_mean": reduce_mean,
            "reduce_amax": reduce(torch.amax),
            "heaviside": lambda x: (x > 0).to(x.dtype),
            "maximum": _extremum(torch, "maximum"),
            "minimum": _extremum(torch, "minimum"),
            "clip": _clip(torch),
        }
