"""The rank-k form of a weight update: ``w + sum_k c_k a_k^T b_k``.

When a batch is too large to sum the outer products inside a kernel, a pair rule's change
(batch-summed outer products scaled by constants, added and subtracted) is made as matrix
products accumulated straight into the weight (BLAS ``gemm`` with ``beta = 1``, PyTorch's
``addmm_``): no array of the weight's size is made for it, and the kernel then reads the
updated weight where the graph adds the change.
"""

from __future__ import annotations

from dataclasses import dataclass

from plastix._graph import Const, Node, Operand, Value
from plastix._ops import Aval

#: batches up to this size are summed inside a kernel (see plastix._compiler.synapse)
INLINE_BATCH = 4


@dataclass(frozen=True)
class RankTerm:
    """One pair term of a rank-k update: ``sign * prod(coefficients) * a^T b``."""

    sign: int
    coefficients: tuple[Const, ...]
    a: Value
    b: Value


class Rank:
    """Finds ``w + sum_k c_k a_k^T b_k`` (scalar constants, signs) in the cone."""

    def __init__(self, live: list[Node], cone: dict[int, str], avals: dict[Value, Aval],
                 shape: tuple[int, int], batch: int) -> None:
        self.producer = {o: n for n in live for o in n.outputs}
        self.readers: dict[Value, list[Node]] = {}
        for n in live:
            for x in n.inputs:
                if isinstance(x, Value):
                    self.readers.setdefault(x, []).append(n)
        self.cone, self.avals = cone, avals
        self.vectors = ((batch, shape[0]), (batch, shape[1]))
        self.terms: list[RankTerm] = []
        self.linear: set[int] = set()
        self.products: set[int] = set()
        self.add: Node | None = None

    def walk(self, v: Operand, sign: int, coefficients: tuple[Const, ...]) -> bool:
        n = self.producer.get(v) if isinstance(v, Value) else None
        if n is None or len(self.readers.get(v, [])) != 1:  # type: ignore[arg-type]
            return False
        if n.op == "mat_mult_pre" and n.index not in self.cone:
            a, b = n.inputs
            if not (isinstance(a, Value) and isinstance(b, Value)) \
                    or (self.avals[a].shape, self.avals[b].shape) != self.vectors:
                return False
            self.terms.append(RankTerm(sign, coefficients, a, b))
            self.products.add(n.index)
            return True
        if n.index not in self.cone:
            return False
        self.linear.add(n.index)
        if n.op == "neg":
            return self.walk(n.inputs[0], -sign, coefficients)
        if n.op == "mul":
            consts = [x for x in n.inputs if isinstance(x, Const)]
            values = [x for x in n.inputs if isinstance(x, Value)]
            return len(consts) == 1 and len(values) == 1 \
                and self.walk(values[0], sign, (*coefficients, consts[0]))
        if n.op in ("add", "sub"):
            return self.walk(n.inputs[0], sign, coefficients) \
                and self.walk(n.inputs[1], -sign if n.op == "sub" else sign, coefficients)
        return False


def rank_update(live: list[Node], cone: dict[int, str], avals: dict[Value, Aval],
                 shape: tuple[int, int], batch: int, target: str) -> Rank | None:
    """The rank-k form of the target's update, when its change is a linear combination of
    batch-summed outer products with constant coefficients and nothing else in the cone reads
    the target's old value; else None."""
    if batch <= INLINE_BATCH:
        return None
    old = Value(target, 0)
    readers = [n for n in live if n.index in cone and old in n.inputs]
    if len(readers) != 1 or readers[0].op != "add":
        return None
    add = readers[0]
    change = [x for x in add.inputs if x != old]
    rank = Rank(live, cone, avals, shape, batch)
    if len(change) != 1 or not rank.walk(change[0], 1, ()):
        return None
    rank.add = add
    return rank
