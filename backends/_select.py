"""Choosing a backend: ``get_backend("torch:cuda")`` finds the registered factory, makes the
backend once per device, and gives it its lowering table (its own, plus the lowerings that
plugins registered with their ops).

A backend instance is reused until a backend or an op is (re)registered: the instances are
kept per registry version, so a plugin that adds a lowering is seen by the next
``get_backend`` without anybody clearing a cache.
"""

from __future__ import annotations

import threading

from plastix._errors import BackendUnavailableError, did_you_mean, install_hint
from plastix.registry._tables import BACKENDS, OPS

from ._base import Backend
from ._lowering import Template

_INSTANCES: dict[tuple[str, str | None, int, int], Backend] = {}
_LOCK = threading.Lock()


def parse_backend(spec: str, device: str | None = None) -> tuple[str, str | None]:
    """Split ``"torch:cuda"`` into ``("torch", "cuda")``; an explicit ``device`` wins."""
    if not isinstance(spec, str):
        raise BackendUnavailableError(repr(spec), "a backend is named by a string such as "
                                      "'numpy', 'torch', 'torch:cuda' or 'cupy'")
    name, _, dev = spec.partition(":")
    return name.strip().lower(), device if device is not None else (dev or None)


def plugin_lowerings(backend: str) -> dict[str, Template]:
    """The lowerings registered with plugins' ops for ``backend`` (``"*"``: every backend)."""
    table: dict[str, Template] = {}
    for entry in OPS:
        lowerings = entry.meta.get("lowerings") or {}
        template = lowerings.get(backend, lowerings.get("*"))
        if template is not None:
            table[entry.name] = template
    return table


def get_backend(spec: str = "numpy", device: str | None = None) -> Backend:
    """The backend named ``spec`` on ``device``; raises BackendUnavailableError."""
    name, dev = parse_backend(spec, device)
    entry = BACKENDS.get(name)
    if entry is None:
        hint = did_you_mean(name, BACKENDS.names(with_aliases=True))
        raise BackendUnavailableError(spec, f"unknown backend; known backends: "
                                      f"{', '.join(BACKENDS.names())}{hint}")
    key = (entry.name, dev, BACKENDS.version, OPS.version)
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
                                      f"{install_hint(package)}") from exc
    except Exception as exc:  # a plugin's factory that fails: its error, named and contained
        raise BackendUnavailableError(spec, f"its factory (registered by {entry.provider!r}) "
                                      f"raised {type(exc).__name__}: {exc}") from exc
    extra = plugin_lowerings(entry.name)
    if extra:
        backend.table = {**backend.table, **extra}
    with _LOCK:
        stale = [k for k in _INSTANCES if k[:2] == key[:2] and k != key]
        for k in stale:
            del _INSTANCES[k]
        return _INSTANCES.setdefault(key, backend)
