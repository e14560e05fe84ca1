"""Buffer planning: which value owns which array, and which op writes into which.

An elementwise op writes into the buffer of an input that dies with it (same shape and
dtype), and the final version of a state variable into the variable's own buffer; other
results get a buffer of their own (``("temp", value)``). :func:`plan_scratch` then backs the
large temporaries with scratch buffers that the binding keeps between steps
(:class:`~plastix._compiler.stepstate.StepState`), so a step allocates few arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plastix._graph import Graph, Node, Operand, Value
from plastix._ops import SYNAPSE, WEAK, Aval
from plastix.backends import Backend

from .render import template_of

#: Temporaries smaller than this (elements) are left to the allocator: ``out=`` costs more
#: Python time than a small allocation, which matters for small networks.
SCRATCH_MIN = 4096

BufferId = tuple[str, Any]  # ("state", name) or ("temp", value)
#: Where a node writes its result: (input position, buffer); position -1 is the state
#: variable's own buffer, -2 a scratch buffer (named by the buffer).
Dest = tuple[int, Any]


@dataclass
class BufferPlan:
    owner: dict[Value, BufferId] = field(default_factory=dict)
    into: dict[int, Dest] = field(default_factory=dict)


@dataclass(frozen=True)
class Scratch:
    """One scratch buffer: its name in the step's source, shape and dtype."""

    name: str
    shape: tuple[int, ...]
    dtype: str


def _last_uses(live: list[Node], finals: dict[str, Operand]) -> dict[Value, int]:
    last: dict[Value, int] = {}
    for i, node in enumerate(live):
        for x in node.inputs:
            if isinstance(x, Value):
                last[x] = i
    for v in finals.values():
        if isinstance(v, Value):
            last[v] = len(live)
    return last


class _Planner:
    def __init__(self, g: Graph, live: list[Node], avals: dict[Value, Aval],
                 finals: dict[str, Operand], persistent: set[str], backend: Backend) -> None:
        self.g, self.live, self.avals, self.finals = g, live, avals, finals
        self.persistent, self.backend = persistent, backend
        self.last_use = _last_uses(live, finals)
        self.plan = BufferPlan({Value(n, 0): ("state", n) for n in persistent})
        self.buffer_last: dict[BufferId, int] = {}
        for v in list(self.plan.owner):
            self.touch(v)

    def touch(self, v: Value) -> None:
        b = self.plan.owner.get(v)
        if b is not None:
            self.buffer_last[b] = max(self.buffer_last.get(b, -1), self.last_use.get(v, -1))

    def own_temp(self, node: Node) -> None:
        for o in node.outputs:
            self.plan.owner[o] = ("temp", o)
            self.touch(o)

    def choose(self, i: int, node: Node, alias_ok: tuple[int, ...]) -> Dest | None:
        """The buffer an elementwise ``node`` may write into, or None for a new one."""
        out = node.outputs[0]
        own = ("state", out.name)
        if out.name in self.persistent and self.finals.get(out.name) == out \
                and self.avals[out] == self.g.variables[out.name].aval \
                and self.buffer_last.get(own, -1) < i:
            return (-1, own)  # the final version goes straight into the variable's buffer
        for pos in alias_ok:
            if pos >= len(node.inputs):
                continue
            x = node.inputs[pos]
            if not isinstance(x, Value) or x not in self.plan.owner \
                    or self.avals[x] != self.avals[out]:
                continue
            b = self.plan.owner[x]
            if self.buffer_last.get(b, -1) != i or (b[0] == "state" and b != own):
                continue
            return (pos, b)
        return None

    def run(self) -> BufferPlan:
        for i, node in enumerate(self.live):
            out = node.outputs[0]
            spec, tmpl = node.spec, template_of(self.backend, node)
            if spec is SYNAPSE:  # a generated kernel writes the variables' own arrays
                for o in node.outputs:
                    self.plan.owner[o] = ("state", o.name)
                    self.touch(o)
                continue
            if spec is not None and spec.view:
                src = node.inputs[0]
                if isinstance(src, Value) and src in self.plan.owner:
                    self.plan.owner[out] = self.plan.owner[src]
                    self.touch(out)
                continue
            if len(node.outputs) != 1 or spec is None or not spec.elementwise or tmpl is None \
                    or tmpl.into is None:
                self.own_temp(node)
                continue
            chosen = self.choose(i, node, tmpl.alias_ok)
            if chosen is not None:
                self.plan.into[i] = chosen
                self.plan.owner[out] = chosen[1]
            else:
                self.plan.owner[out] = ("temp", out)
            self.touch(out)
        return self.plan


def plan_buffers(g: Graph, live: list[Node], avals: dict[Value, Aval],
                 finals: dict[str, Operand], persistent: set[str], backend: Backend
                 ) -> BufferPlan:
    """Which value owns which buffer, and which node writes into which buffer."""
    return _Planner(g, live, avals, finals, persistent, backend).run()


def plan_scratch(live: list[Node], avals: dict[Value, Aval], plan: BufferPlan,
                 backend: Backend, *, seams: bool, name: Callable[[str], str]
                 ) -> tuple[list[Scratch], dict[int, tuple[str, ...]]]:
    """The scratch buffers of a step, and per node the work space its template asks for
    (``spec.scratch``). A large temporary whose template can write into a buffer gets a
    scratch buffer as its result (``plan.into`` is updated), unless seam hooks are on: a hook
    receives the change and may keep it, so no buffer is reused under it."""
    scratch: list[Scratch] = []
    work: dict[int, tuple[str, ...]] = {}

    def new(stem: str, aval: Aval) -> str:
        buf = Scratch(name(f"_buf_{stem}"), aval.shape, aval.dtype)
        scratch.append(buf)
        return buf.name

    for i, node in enumerate(live):
        out = node.outputs[0]
        if node.spec is not None and node.spec.scratch:
            work[i] = tuple(new(f"{node.spec.name}_{out.name}", avals[out])
                            for _ in range(node.spec.scratch))
        tmpl = template_of(backend, node)
        if seams or i in plan.into or plan.owner.get(out) != ("temp", out) \
                or len(node.outputs) != 1 or tmpl is None or tmpl.into is None \
                or avals[out].dtype == WEAK:
            continue
        size = int(np.prod(avals[out].shape)) if avals[out].shape else 1
        if size >= SCRATCH_MIN or (node.spec is not None and node.spec.scratch):
            plan.into[i] = (-2, new(out.name, avals[out]))
    return scratch, work


def scratch_factory(backend: Backend, specs: list[Scratch]) -> Callable[[], tuple[Any, ...]]:
    """A function allocating the step's scratch buffers (zeros)."""

    def alloc() -> tuple[Any, ...]:
        return tuple(backend.full(s.shape, 0, s.dtype) for s in specs)

    return alloc
