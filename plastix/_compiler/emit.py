"""Emitting the step's source: the planned ops become the lines of one Python function.

The function is ``step(S, X, pre, post, t, seed, seam, *signals)``. ``S`` maps the binding's
state and learned names to arrays and is updated in place; ``X`` is the steps' private state
(:class:`~plastix._compiler.stepstate.StepState`: scratch buffers, bound flags, the event
limit); ``t`` is the step counter and ``seed`` the binding's seed (together they feed the
counter-based random generator); ``seam`` maps a learned name to the hook its change passes
through. Named constants (hyperparameters and what was folded from them) are globals of the
function, listed as comments at the top of the source.
"""

from __future__ import annotations

import keyword
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from plastix._errors import RuleValidationError
from plastix._graph import Const, Graph, Node, Operand, Value
from plastix._ops import SYNAPSE, Aval
from plastix.backends import Backend, Template

from . import events as ev
from .buffers import BufferPlan, Scratch, scratch_factory
from .render import literal, render, template_of

#: Names the generated code uses itself; graph values are renamed around them.
RESERVED = frozenset({"S", "X", "t", "seam", "seed", "xp", "pre", "post", "step",
                      "_alloc_scratch", "_bounds_ok", "_blk", "_rows", "_cols"})


class Names:
    """Python identifiers for graph values, readable and collision-free."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken) | set(keyword.kwlist) | {"np", "torch", "cupy", "math"}
        self.names: dict[Hashable, str] = {}

    def get(self, key: Hashable, stem: str) -> str:
        if key not in self.names:
            name = stem if stem not in self.taken else f"{stem}_"
            i = 1
            while name in self.taken:
                i += 1
                name = f"{stem}_{i}"
            self.taken.add(name)
            self.names[key] = name
        return self.names[key]


@dataclass
class Program:
    """Everything the emitter needs: the graph, the ops left after the passes, the plans."""

    g: Graph
    phase: str
    backend: Backend
    avals: dict[Value, Aval]
    live: list[Node]
    finals: dict[str, Operand]
    persistent: set[str]
    signals: tuple[str, ...]
    buffers: BufferPlan
    scratch: list[Scratch]
    work: dict[int, tuple[str, ...]]
    names: Names
    event: ev.EventPlan | None = None
    #: generated kernels by the index of the node that calls them
    kernels: dict[int, Any] = field(default_factory=dict)
    namespace: dict[str, Any] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)


class Emitter:
    """Writes the source of one step from a :class:`Program`."""

    def __init__(self, p: Program) -> None:
        self.p = p
        self.names = p.names
        for name in sorted(p.persistent):
            self.names.get(Value(name, 0), name)
        self.names.names[Value("pre", 0)] = "pre"
        self.names.names[Value("post", 0)] = "post"
        for s in p.signals:
            self.names.get(Value(s, 0), s)
        p.namespace.update(p.backend.helpers())

    def ref(self, x: Operand) -> str:
        """The source that reads ``x``: a literal, a named constant or a variable."""
        if isinstance(x, Const):
            if x.name is None:
                return literal(x.value)
            nm = self.names.get(("const", x.name), x.name)
            self.p.namespace.setdefault(nm, x.value)
            self.p.constants.setdefault(nm, x.value)
            return nm
        if x not in self.names.names:
            self.names.get(x, x.name if x.version == 0 else f"{x.name}_{x.version}")
        return self.names.names[x]

    def template(self, node: Node) -> Template:
        """The backend's template for ``node``; an error naming the op when it has none."""
        tmpl = template_of(self.p.backend, node)
        if tmpl is None:
            raise RuleValidationError(self.p.g.rule, f"backend {self.p.backend.key!r} has no "
                                      "lowering for this op", op=node.op_name)
        return tmpl

    def node_line(self, i: int, node: Node) -> str:
        """One op as a line of source."""
        outs = ", ".join(self.ref(o) for o in node.outputs)
        args = [self.ref(x) for x in node.inputs]
        if node.spec is SYNAPSE:  # lowered to a kernel generated for this graph
            fname = self.names.get(("kernel", node.index), "_synapse_kernel")
            self.p.namespace[fname] = self.p.kernels[node.index]
            return f"{outs}, = {fname}(X, {', '.join(args)})"
        if callable(node.op):
            stem = f"_{node.op_name}".replace("<", "").replace(">", "")
            fname = self.names.get(("fn", node.index), stem if stem.isidentifier()
                                   else f"_fn{node.index}")
            self.p.namespace[fname] = node.op
            kw = "".join(f", {k}={v!r}" for k, v in node.attrs)
            return f"{outs} = {fname}({', '.join(args)}, xp=xp{kw})"
        tmpl = self.template(node)
        dest = None
        if i in self.p.buffers.into and tmpl.into is not None:
            pos, buf = self.p.buffers.into[i]
            dest = args[pos] if pos >= 0 else buf if pos == -2 else \
                self.ref(Value(node.outputs[0].name, 0))
        return f"{outs} = {render(node, tmpl, args, out=dest, scratch=self.p.work.get(i, ()))}"

    @property
    def views(self) -> bool:
        """The step gets another library's arrays and computes on their NumPy views."""
        return bool(getattr(self.p.backend, "tensor_views", False))

    @property
    def tracks_writes(self) -> bool:
        """The step notices a weight written from outside (its write counter moved), for a
        kernel or an event-driven branch that trusts the in-bounds flag."""
        p = self.p
        count = p.backend.write_count()
        if count is None or not (p.kernels or p.event is not None):
            return False
        p.namespace["_count"] = count
        return True

    def prologue(self) -> list[str]:
        """Read the arrays the step uses from ``S``; fetch the scratch buffers."""
        p = self.p
        used = {x.name for n in p.live for x in n.inputs
                if isinstance(x, Value) and x.version == 0} | set(p.finals)
        read = "_view(S[{!r}])" if self.views else "S[{!r}]"
        lines = []
        if self.tracks_writes:
            lines += ["if _count(S['weight']) != X.version:  # written from outside",
                      "    X.in_bounds = False"]
        if self.views:
            lines += [f"{x} = _view({x})" for x in ("pre", "post", *(
                self.names.names[Value(s, 0)] for s in p.signals))]
        lines += [f"{self.ref(Value(name, 0))} = {read.format(name)}"
                  for name in sorted(p.persistent & used)]
        if p.scratch:
            p.namespace["_alloc_scratch"] = scratch_factory(p.backend, p.scratch)
            lines.append(f"{', '.join(s.name for s in p.scratch)}, = X.buffers(_alloc_scratch)")
        return lines

    def ops(self) -> list[str]:
        """The ops' lines, the event-driven branch beside the dense update when planned."""
        p, event = self.p, self.p.event
        lines: list[str] = []
        dense_from = p.live.index(event.cone[0]) if event is not None else -1
        dense_to = p.live.index(event.add) if event is not None else -1
        for i, node in enumerate(p.live):
            line = self.node_line(i, node)
            if event is not None and i == dense_from:
                lines += ev.render_event(
                    event, p.avals, self.ref, self.template,
                    lambda stem: self.names.get(("event", stem), stem),
                    (p.g.post_shape[1], p.g.pre_shape[1]), p.g.batch_size,
                    trusted=p.backend.write_count() is not None)
                lines.append("else:")
            if dense_from <= i <= dense_to:
                line = "    " + line
            if event is not None and event.clamp is not None and node is event.clamp:
                lines += ev.render_clamp(event, line, self.ref)
                continue
            lines.append(line)
            if event is not None and i == dense_to and event.clamp is not None:
                lines.append("    _bounds_ok = False")
        return lines

    def epilogue(self) -> list[str]:
        """Copy final values that were not computed in place into their variables; note the
        weight's write count (our own writes through NumPy views leave it alone)."""
        p = self.p
        lines = [f"assign({self.ref(Value(name, 0))}, {self.ref(v)})"
                 for name, v in sorted(p.finals.items())
                 if not (isinstance(v, Value) and p.buffers.owner.get(v) == ("state", name))]
        if self.tracks_writes:
            lines.append("X.version = _count(S['weight'])")
        return lines

    def source(self) -> str:
        p = self.p
        ops = self.ops()  # first: the kernels and event branch it names decide the prologue
        body = self.prologue() + ops + self.epilogue()
        args = ", ".join(("S", "X", "pre", "post", "t", "seed", "seam",
                          *(self.names.names[Value(s, 0)] for s in p.signals)))
        consts = sorted({f"# {nm} = {literal(v)}" for nm, v in p.constants.items()})
        lines = [f"# plastix step: rule {p.g.rule!r}, phase {p.phase!r}, backend "
                 f"{p.backend.key}", *consts, f"def step({args}):"]
        lines += [f"    {line}" for line in body] or ["    pass"]
        return "\n".join(lines) + "\n"
