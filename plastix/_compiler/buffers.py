"""Buffer planning: which value owns which array, and which op writes into which.

An elementwise op writes into the buffer of an input that dies with it (same shape and
dtype), and the final version of a state variable into the variable's own buffer; other
results get a buffer of their own (``("temp", value)``), which the compiler may back with a
scratch buffer kept across steps.
"""

from __future__ import annotations

from typing import Any

from plastix._graph import Graph, Node, Operand, Value
from plastix._ops import OPS, Aval, OpSpec
from plastix.backends._lowering import Template

from . import rownorm as fp

_ROWNORM_SPEC = OpSpec(fp.ROWNORM, 2, lambda *a, **k: a[0], elementwise=True)
_ROWNORM_TMPL = Template("", "", alias_ok=(0,))


def plan_buffers(g: Graph, live: list[Node], avals: dict[Value, Aval],
                  finals: dict[str, Operand], persistent: set[str], backend: Any
                  ) -> tuple[dict[Value, Any], dict[int, tuple[int, Any]]]:
    """Which value owns which buffer, and which node writes into which buffer."""
    last_use: dict[Value, int] = {}
    for i, node in enumerate(live):
        for x in node.inputs:
            if isinstance(x, Value):
                last_use[x] = i
    for v in finals.values():
        if isinstance(v, Value):
            last_use[v] = len(live)
    buffer_of: dict[Value, Any] = {}  # value -> buffer id; the id is the owner value or None
    for name in persistent:
        buffer_of[Value(name, 0)] = ("state", name)
    buffer_last: dict[Any, int] = {}

    def touch(v: Value) -> None:
        b = buffer_of.get(v)
        if b is not None:
            buffer_last[b] = max(buffer_last.get(b, -1), last_use.get(v, -1))

    for v in list(buffer_of):
        touch(v)
    out_into: dict[int, tuple[int, Any]] = {}
    for i, node in enumerate(live):
        out = node.outputs[0]
        spec: OpSpec | None
        tmpl: Template | None
        if node.op == fp.ROWNORM:
            spec, tmpl = _ROWNORM_SPEC, _ROWNORM_TMPL
        else:
            spec = OPS.resolve(node.op) if isinstance(node.op, str) else None
            tmpl = backend.template(spec.name) if spec else None
        if spec is not None and spec.view:
            src = node.inputs[0]
            if isinstance(src, Value) and src in buffer_of:
                buffer_of[out] = buffer_of[src]
                touch(out)
            continue
        if len(node.outputs) != 1 or spec is None or not spec.elementwise or tmpl is None \
                or tmpl.into is None:
            if spec is not None or callable(node.op):
                buffer_of[out] = ("temp", out)
                for o in node.outputs:
                    buffer_of[o] = ("temp", o)
                    touch(o)
            continue
        chosen = None
        own = ("state", out.name)
        if out.name in persistent and finals.get(out.name) == out \
                and avals[out] == g.variables[out.name].aval and buffer_last.get(own, -1) < i:
            chosen = (-1, own)  # the final version goes straight into the variable's buffer
        for pos in tmpl.alias_ok if chosen is None else ():
            if pos >= len(node.inputs):
                continue
            x = node.inputs[pos]
            if not isinstance(x, Value) or x not in buffer_of or avals[x] != avals[out]:
                continue
            b = buffer_of[x]
            if buffer_last.get(b, -1) != i or (b[0] == "state" and b != own):
                continue
            if sum(1 for x2 in node.inputs if isinstance(x2, Value)
                   and buffer_of.get(x2) == b) > 1 and pos not in tmpl.alias_ok:
                continue
            chosen = (pos, b)
            break
        if chosen is not None:
            out_into[i] = chosen
            buffer_of[out] = chosen[1]
        else:
            buffer_of[out] = ("temp", out)
        touch(out)
    return buffer_of, out_into
