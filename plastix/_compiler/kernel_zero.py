"""Simplified passes over a silent post neuron's row of a generated kernel.

A pair rule's potentiation is an outer product whose row operand is the post spikes: in the
row of a post neuron that did not spike (most rows, at sparse activity) it is 0. The kernel
tests each row's spikes and, for a silent row, runs a pass in which those products are 0 and
the ops they feed are simplified: ``x * 0 = 0``, ``x + 0 = x``, ``0 - y = -y`` (the factors
are finite, as traces, rates and weight dependences are), and the values nothing stores any
more are dropped. The results equal the full pass's but for the sign of a zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plastix._graph import Node, Operand, Value
from plastix._ops import ROWNORM

from .synapse import OUTER

if TYPE_CHECKING:
    from .kernel_source import Source


class ZeroRows:
    """The simplification of one kernel's loop bodies for silent rows."""

    def __init__(self, src: Source) -> None:
        self.src = src

    def value(self, v: Value, zero: set[Value], alias: dict[Value, str]) -> str:
        """How the body reads ``v``: 0, an alias's name, or its own name."""
        return "_ZERO" if v in zero else alias.get(v, self.src.names[v])

    def needed(self, stage: int, zero: set[Value], alias: dict[Value, str],
                lines: list[tuple[Value, str]]) -> set[Value]:
        """The values of ``lines`` that the stage's stores read, directly or through others."""
        plan = self.src.plan
        made = {n.outputs[0]: n for n in plan.nodes}
        stack = [v for v in self.src.buffered if plan.stage.get(v) == stage]
        stack += [v for _, v in plan.targets if plan.stage.get(v) == stage]
        stack += [n.inputs[0] for n in plan.nodes  # type: ignore[misc]
                  if n.spec is ROWNORM and plan.stage[n.outputs[0]] == stage + 1]
        computed = {v for v, _ in lines}
        needed: set[Value] = set()
        while stack:
            v = stack.pop()
            if not isinstance(v, Value) or v in needed:
                continue
            if v in alias:  # an alias reads the value whose name it is
                stack += [u for u in computed if self.src.names[u] == alias[v]]
                continue
            if v in computed:
                needed.add(v)
                stack += [x for x in made[v].inputs if isinstance(x, Value)]
        return needed

    def simplified(self, n: Node, zero: set[Value], alias: dict[Value, str],
                   stage: int) -> str | None:
        """``"0"``, ``"=name"`` (the value of another) or an expression for ``n`` when an
        input is a known zero; None when no input is."""
        ins = n.inputs
        if not any(x in zero for x in ins):
            return None
        z = [x in zero for x in ins]
        op = n.op
        other = [self.operand(x, zero, alias, stage) for x in ins]
        if op == "mul" and any(z):
            return "0"
        if op in ("add", "sub") and z[1]:
            return "=" + other[0] if not z[0] else "0"
        if op == "add" and z[0]:
            return "=" + other[1]
        if op == "sub" and z[0]:
            return f"(-{other[1]})"
        if op == "neg":
            return "0"
        if op == "var_linear" and (z[0] or z[1]):
            return "0" if z[2] else "=" + other[2]
        return self.src.scalar(n, other)

    def operand(self, x: Operand, zero: set[Value], alias: dict[Value, str],
                stage: int) -> str:
        if isinstance(x, Value) and x in zero:
            return "_ZERO"
        if isinstance(x, Value) and x in alias:
            return alias[x]
        return self.src.read(x, stage)

    def operand_to_test(self) -> Value | None:
        """The row operand of the outer products that is worth testing for zero rows: the
        post spikes (a silent post neuron's row has no potentiation), when an outer product
        reads them."""
        post = Value("post", 0)
        used = any(self.src.plan.level[n.outputs[0]] == OUTER and n.inputs[0] == post
                   for n in self.src.plan.nodes)
        return post if used else None
