"""Fusing SPAIC's per-step L1 row normalisation into one op.

``mul(c, div(w, sum(abs(w), axis=1, keepdims=True)))``, optionally with the divisor guarded
against empty rows (``where(equal(s, 0), 1, s)``: an all-zero row stays zero), becomes one
node of the internal op :data:`~plastix._ops.ROWNORM`, ``w * c / sum(|w|)``, which a backend
that lowers it computes in two passes over the weight (|w| into a scratch buffer, then the
scaling) instead of four. The result differs from the four-op form by float rounding only
(a few units in the last place). The pass runs only on backends that lower ROWNORM.
"""

from __future__ import annotations

from plastix._graph import Const, Node, Operand, Value
from plastix._ops import ROWNORM, Aval


def _consumers(live: list[Node]) -> dict[Value, list[Node]]:
    out: dict[Value, list[Node]] = {}
    for node in live:
        for x in node.inputs:
            if isinstance(x, Value):
                out.setdefault(x, []).append(node)
    return out


class _Uses:
    def __init__(self, live: list[Node], finals: dict[str, Operand]) -> None:
        self.users = _consumers(live)
        self.final_values = {v for v in finals.values() if isinstance(v, Value)}

    def only(self, v: Value) -> Node | None:
        """The one op that reads ``v`` (None when several do, or ``v`` is a final value)."""
        users = self.users.get(v, [])
        return users[0] if len(users) == 1 and v not in self.final_values else None

    def guard(self, divisor: Value) -> tuple[Value, list[int]]:
        """The divisor after an empty-row guard ``where(equal(s, 0), 1, s)``, and the guard's
        op indices; ``divisor`` itself and no ops when there is no guard."""
        users = self.users.get(divisor, [])
        if len(users) == 2 and divisor not in self.final_values:
            n_eq, n_where = users
            if n_eq.op == "equal" and n_eq.inputs == (divisor, Const(0)) \
                    and n_where.op == "where" \
                    and n_where.inputs == (n_eq.outputs[0], Const(1), divisor) \
                    and self.users.get(n_eq.outputs[0]) == [n_where]:
                return n_where.outputs[0], [n_eq.index, n_where.index]
        return divisor, []


def _match(n_abs: Node, uses: _Uses, avals: dict[Value, Aval]
           ) -> tuple[Node, tuple[int, ...]] | None:
    """The ``mul`` that ends a row normalisation starting at ``n_abs``, with the indices of
    the ops it replaces, or None."""
    if n_abs.op != "abs":
        return None
    w = n_abs.inputs[0]
    if not isinstance(w, Value) or len(avals[w].shape) != 2 \
            or not avals[w].dtype.startswith("float"):
        return None
    n_sum = uses.only(n_abs.outputs[0])
    if n_sum is None or n_sum.op != "sum" or n_sum.kwargs.get("axis") not in (1, -1) \
            or not n_sum.kwargs.get("keepdims"):
        return None
    divisor, guard = uses.guard(n_sum.outputs[0])
    n_div = uses.only(divisor)
    if n_div is None or n_div.op != "div" or n_div.inputs != (w, divisor):
        return None
    n_mul = uses.only(n_div.outputs[0])
    if n_mul is None or n_mul.op != "mul" or avals[n_mul.outputs[0]] != avals[w]:
        return None
    c = [x for x in n_mul.inputs if x != n_div.outputs[0]]
    if len(c) != 1 or not isinstance(c[0], Const):
        return None
    fused = Node(n_mul.index, ROWNORM.name, (w, c[0]), n_mul.outputs, (), n_mul.phase, ROWNORM)
    return fused, (n_abs.index, n_sum.index, n_div.index, *guard)


def fuse_rownorm(live: list[Node], avals: dict[Value, Aval], finals: dict[str, Operand]
                 ) -> list[Node]:
    """``live`` with every row normalisation replaced by one ROWNORM node."""
    uses = _Uses(live, finals)
    drop: set[int] = set()
    fused: dict[int, Node] = {}
    for node in live:
        found = _match(node, uses, avals)
        if found is not None:
            new, replaced = found
            fused[new.index] = new
            drop.update(replaced)
    return [fused.get(n.index, n) for n in live if n.index not in drop]
