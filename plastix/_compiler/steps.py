"""Compiled steps and their cache, keyed by a fingerprint of the graph.

A :class:`CompiledStep` is one lowered phase of a graph: its source, the function built from
it and the namespace (helpers, named constants) it runs in. :func:`compiled_step` is what a
binding asks for: the cached code of its graph, as a :meth:`~CompiledStep.rebound` copy whose
constants the binding may change (``Binding.set``) without touching other bindings.

The cache is keyed by :func:`fingerprint`: everything of the graph that the generated code
depends on (its ops, their specs, inputs and attributes, the named constants' values, the
variables' shapes and dtypes) and the backend's templates for those ops. A graph built again
with the same rule, shapes and hyperparameters hits the cache; a plugin that registers a new
lowering, or overrides an op, changes the fingerprint, so nobody has to clear the cache.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import Any

from plastix._graph import Graph
from plastix.backends import Backend


@dataclass(frozen=True)
class CompiledStep:
    """A lowered phase of a graph: its source, the function built from it, the namespace
    (helpers and named constants) it runs in, the names of its signals (in the order the
    function takes them), whether it was lowered with seam hooks and whether it has an
    event-driven branch."""

    phase: str
    source: str
    fn: Callable[..., None]
    inputs: tuple[str, ...]
    namespace: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    seams: bool = False
    event_driven: bool = False
    #: lowered onto another backend that computes on the same memory (a CPU torch step
    #: through NumPy): it needs none of its own backend's step context (torch's no_grad)
    host: bool = False

    def kernel_sources(self) -> dict[str, str]:
        """The source of each generated kernel the step calls, by its name in the step."""
        return {name: value.source for name, value in self.namespace.items()
                if getattr(value, "is_kernel", False)}

    def rebound(self) -> CompiledStep:
        """The same code with its own copy of the namespace: the copy's constants can be
        changed without touching other bindings' steps."""
        ns = dict(self.namespace)
        fn = types.FunctionType(self.fn.__code__, ns, self.fn.__name__)
        ns["step"] = fn
        return replace(self, fn=fn, namespace=ns)


def _frozen(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def fingerprint(g: Graph, backend: Backend, phase: str, seams: bool) -> Hashable:
    """What the code generated for ``phase`` of ``g`` on ``backend`` depends on (see the
    module docstring); equal fingerprints lower to the same source."""
    nodes = tuple((n.index, n.op, n.spec, n.inputs, n.outputs, _frozen(n.attrs), n.phase)
                  for n in g.nodes)
    variables = tuple((d.name, d.kind, d.aval, d.keep_scalar, d.finite)
                      for d in g.variables.values())
    specs = {n.spec.name for n in g.nodes if n.spec is not None}
    templates = tuple((name, backend.template(name)) for name in sorted(specs))
    return (g.rule, g.pre_shape, g.post_shape, nodes, variables, backend.key, type(backend),
            templates, backend.kernel_target(), phase, seams)


class CompileCache:
    """Compiled steps by fingerprint; thread-safe (two threads may compile the same step at
    once, and the first one stored wins)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: dict[Hashable, CompiledStep] = {}

    def get(self, key: Hashable, make: Callable[[], CompiledStep]) -> CompiledStep:
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
