"""Array backends: one module per array library, registered through the plugin hooks.

``get_backend("numpy")``, ``get_backend("torch:cuda")``, ``get_backend("torch", device="cuda:1")``.
A backend's module is imported only when the backend is asked for, so ``import plastix``
never imports torch or cupy.
"""

from __future__ import annotations

import threading
from typing import Any

from plastix._errors import BackendUnavailableError
from plastix.registry.hookspecs import hookimpl

from ._base import Backend, array_library, module_loaded
from ._lowering import BASE_TABLE, Template

_EXTRA_LOWERINGS: dict[str, dict[str, Template]] = {}
_INSTANCES: dict[tuple[str, str | None], Backend] = {}
_LOCK = threading.Lock()


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


def add_lowering(backend: str, op: str, template: Template) -> Template | None:
    """Add (or replace) how ``op`` is lowered on ``backend`` (``"*"``: every backend); return
    the lowering it replaced, if any."""
    with _LOCK:
        table = _EXTRA_LOWERINGS.setdefault(backend.lower(), {})
        previous = table.get(op)
        table[op] = template
        _INSTANCES.clear()
        return previous


def remove_lowering(backend: str, op: str, template: Template,
                    previous: Template | None = None) -> None:
    """Undo :func:`add_lowering`: drop ``template`` (if still there), restoring ``previous``."""
    with _LOCK:
        table = _EXTRA_LOWERINGS.get(backend.lower(), {})
        if table.get(op) is template:
            if previous is None:
                del table[op]
            else:
                table[op] = previous
        _INSTANCES.clear()


def forget_instances() -> None:
    """Drop cached backend instances (after a backend was registered or withdrawn)."""
    with _LOCK:
        _INSTANCES.clear()


def parse_backend(spec: str, device: str | None = None) -> tuple[str, str | None]:
    """Split ``"torch:cuda"`` into ``("torch", "cuda")``; an explicit ``device`` wins."""
    if not isinstance(spec, str):
        raise BackendUnavailableError(repr(spec), "a backend is named by a string such as "
                                      "'numpy', 'torch', 'torch:cuda' or 'cupy'")
    name, _, dev = spec.partition(":")
    return name.strip().lower(), device if device is not None else (dev or None)


def get_backend(spec: str = "numpy", device: str | None = None) -> Backend:
    """The backend named ``spec`` on ``device``; raises BackendUnavailableError."""
    from plastix.registry import BACKENDS, ensure_loaded

    ensure_loaded()
    name, dev = parse_backend(spec, device)
    entry = BACKENDS.get(name)
    if entry is None:
        from plastix._errors import closest

        near = closest(name, BACKENDS.names(with_aliases=True))
        hint = f"; did you mean {', '.join(map(repr, near))}?" if near else ""
        raise BackendUnavailableError(spec, f"unknown backend; known backends: "
                                      f"{', '.join(BACKENDS.names())}{hint}")
    key = (entry.name, dev)
    with _LOCK:
        hit = _INSTANCES.get(key)
    if hit is not None:
        return hit
    try:
        backend = entry.obj(dev)
    except BackendUnavailableError:
        raise
    except ImportError as exc:
        package = entry.meta.get("package") or entry.name
        raise BackendUnavailableError(spec, f"is not installed ({exc}); install it with "
                                      f"'pip install {package}'") from exc
    extra = {**_EXTRA_LOWERINGS.get("*", {}), **_EXTRA_LOWERINGS.get(entry.name, {})}
    if extra:
        backend.table = {**backend.table, **extra}
    with _LOCK:
        return _INSTANCES.setdefault(key, backend)


__all__ = ["BASE_TABLE", "Backend", "Template", "add_lowering", "array_library",
           "forget_instances", "get_backend", "module_loaded", "parse_backend", "remove_lowering"]
