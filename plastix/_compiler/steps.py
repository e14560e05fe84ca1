"""Compiled steps and their cache.

A :class:`CompiledStep` is one lowered phase of a graph: its source, the function built from
it and the namespace (helpers, named constants) it runs in. Each binding runs a
:meth:`~CompiledStep.rebound` copy, so its constants can change without touching other
bindings. :data:`CACHE` keeps compiled steps by (graph fingerprint, backend, phase, seams).
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from . import events as ev


@dataclass(frozen=True)
class CompiledStep:
    """A lowered phase of a graph: its source, the function built from it and the namespace
    (helpers and named constants) it runs in."""

    phase: str
    source: str
    fn: Callable[..., None]
    inputs: tuple[str, ...]
    namespace: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def rebound(self) -> CompiledStep:
        """The same code with its own copy of the namespace: the copy's constants can be
        changed (:func:`update_constants`) without touching other bindings' steps."""
        ns = dict(self.namespace)
        fn = types.FunctionType(self.fn.__code__, ns, self.fn.__name__)
        ns["step"] = fn
        return replace(self, fn=fn, namespace=ns)

    @property
    def has_event_branch(self) -> bool:
        return "_event_limit" in self.namespace

    def set_sparse_bounds(self, on: bool) -> None:
        """Clamp only the synapses an event-driven step touched (see ``Binding.sparse_bounds``)."""
        if "_sparse_bounds" in self.namespace:
            self.namespace["_sparse_bounds"] = bool(on)

    def set_event_mode(self, mode: bool | None) -> None:
        """Event-driven updates always (True), never (False) or by spike density (None)."""
        if self.has_event_branch:
            area = self.namespace["_event_area"]
            self.namespace["_event_limit"] = (int(ev.EVENT_FRACTION * area) if mode is None
                                              else 2 * area if mode else -1)


class CompileCache:
    """Compiled steps keyed by (graph fingerprint, backend, phase, seams); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: dict[Any, CompiledStep] = {}

    def get(self, key: Any, make: Callable[[], CompiledStep]) -> CompiledStep:
        with self._lock:
            hit = self._steps.get(key)
        if hit is not None:
            return hit
        step = make()
        with self._lock:
            return self._steps.setdefault(key, step)

    def clear(self) -> None:
        with self._lock:
            self._steps.clear()

    def __len__(self) -> int:
        return len(self._steps)


CACHE = CompileCache()


CACHE = CompileCache()
