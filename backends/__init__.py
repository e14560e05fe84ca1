"""Array backends: one module per array library, registered through the plugin hooks.

``get_backend("numpy")``, ``get_backend("torch:cuda")``, ``get_backend("torch", device="cuda:1")``.
A backend's module is imported only when the backend is asked for, so ``import plastix``
never imports torch or cupy.

Owns: what a backend is (:mod:`._base`: arrays, dtypes, the helpers its generated code calls),
the base lowering table and its templates (:mod:`._lowering`), each library's table diff
(:mod:`._numpy`, :mod:`._torch`, :mod:`._cupy`), kernels written once against ``xp``
(:mod:`._kernels`, :mod:`._random`), and choosing a backend (:mod:`._select`).

May import: :mod:`plastix._errors`, :mod:`plastix._ops` (shape helpers) and, to choose a
backend, the registry's tables. Never the compiler, the runtime or a rule. The compiler uses
this package's interface only (the names below).
"""

from __future__ import annotations

from typing import Any

from plastix.registry.hookspecs import hookimpl

from ._base import Backend, array_library, dtype_name, module_loaded
from ._lowering import BASE_TABLE, Template
from ._select import get_backend, parse_backend, plugin_lowerings


def _numpy_factory(device: str | None) -> Backend:
    from ._numpy import NumpyBackend

    return NumpyBackend(device)


def _torch_factory(device: str | None) -> Backend:
    from ._torch import TorchBackend

    return TorchBackend(device)


def _cupy_factory(device: str | None) -> Backend:
    from ._cupy import CupyBackend

    return CupyBackend(device)


@hookimpl
def register_backends(register: Any) -> None:
    """The built-in backends register through the same hook as plugins' backends."""
    register("numpy", _numpy_factory, aliases=("np",), package="numpy")
    register("torch", _torch_factory, aliases=("pytorch",), package="torch")
    register("cupy", _cupy_factory, aliases=("cp",), package="cupy-cuda12x")


__all__ = ["BASE_TABLE", "Backend", "Template", "array_library", "dtype_name", "get_backend",
           "module_loaded", "parse_backend", "plugin_lowerings"]
