"""Compiler rewrites for NumPy that make a step cheaper without changing what it computes
(the event-driven branch is in :mod:`plastix._events`).

* **Scratch buffers.** A weight-sized temporary that no dead buffer can hold (a matmul's
  result, ``abs``) is written with ``out=`` into a buffer kept in the binding's state under a
  private key, allocated on the first step: no weight-sized allocation per step.
* **L1 row normalisation** (``abs -> sum(axis=1) -> div -> mul by a constant``, SPAIC's
  per-step normalisation) becomes ``w *= c / sum(|w|)``: ``|w|`` into a scratch buffer, row
  sums by ``einsum``, one pass to scale. The result differs from the four-op form by float
  rounding only (a few units in the last place).
* **Tuned lowerings** (:class:`TunedNumpy`): the bare ``clip`` ufunc, and a broadcast
  multiply for the batch-summed outer product of one sample.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plastix._graph import Const, Node, Operand, Value
from plastix._ops import Aval
from plastix.backends._lowering import Template

#: Temporaries smaller than this (elements) are left to the allocator: ``out=`` costs more
#: Python time than a small allocation, which matters for small networks.
SCRATCH_MIN = 4096

ROWNORM = "_rownorm_l1"


def _consumers(live: list[Node]) -> dict[Value, list[Node]]:
    out: dict[Value, list[Node]] = {}
    for node in live:
        for x in node.inputs:
            if isinstance(x, Value):
                out.setdefault(x, []).append(node)
    return out


def fuse_rownorm(live: list[Node], avals: dict[Value, Aval], finals: dict[str, Operand]
                 ) -> list[Node]:
    """Replace ``mul(c, div(w, sum(abs(w), axis=1, keepdims=True)))`` by one ROWNORM node.

    The divisor may be guarded against empty rows, ``where(equal(s, 0), 1, s)`` (an all-zero
    row stays zero); the fused kernel keeps that meaning."""
    uses = _consumers(live)
    final_values = {v for v in finals.values() if isinstance(v, Value)}
    drop: set[int] = set()
    replace: dict[int, Node] = {}
    for n_abs in live:
        if n_abs.op != "abs":
            continue
        w = n_abs.inputs[0]
        if not isinstance(w, Value) or len(avals[w].shape) != 2 \
                or not avals[w].dtype.startswith("float"):
            continue

        def only_use(v: Value) -> Node | None:
            users = uses.get(v, [])
            return users[0] if len(users) == 1 and v not in final_values else None

        n_sum = only_use(n_abs.outputs[0])
        if n_sum is None or n_sum.op not in ("sum", "reduce_sum") \
                or n_sum.kwargs.get("axis") not in (1, -1) or not n_sum.kwargs.get("keepdims"):
            continue
        divisor, guard = n_sum.outputs[0], []
        users = uses.get(divisor, [])
        if len(users) == 2 and divisor not in final_values:
            n_eq, n_where = users
            if n_eq.op in ("equal", "eq") and n_eq.inputs[0] == divisor \
                    and n_eq.inputs[1] == Const(0) and n_where.op == "where" \
                    and n_where.inputs == (n_eq.outputs[0], Const(1), divisor) \
                    and uses.get(n_eq.outputs[0]) == [n_where]:
                divisor, guard = n_where.outputs[0], [n_eq.index, n_where.index]
        n_div = only_use(divisor)
        if n_div is None or n_div.op != "div" or n_div.inputs != (w, divisor):
            continue
        n_mul = only_use(n_div.outputs[0])
        if n_mul is None or n_mul.op not in ("mul", "var_mult"):
            continue
        c = [x for x in n_mul.inputs if x != n_div.outputs[0]]
        if len(c) != 1 or not isinstance(c[0], Const):
            continue
        if avals[n_mul.outputs[0]] != avals[w]:
            continue
        drop.update((n_abs.index, n_sum.index, n_div.index, *guard))
        replace[n_mul.index] = Node(n_mul.index, ROWNORM, (w, c[0]), n_mul.outputs,
                                    (), n_mul.phase)
    return [replace.get(n.index, n) for n in live if n.index not in drop]


def rownorm_l1(np: Any) -> Callable[..., Any]:
    """``w *= c / sum(|w|, axis=1)`` in place, with ``scratch`` holding ``|w|`` (NumPy); an
    all-zero row stays zero."""

    def rownorm(w: Any, c: Any, out: Any, scratch: Any) -> Any:
        np.abs(w, out=scratch)
        s = np.einsum("ij->i", scratch)  # no BLAS: threaded gemv stalls on a loaded machine
        np.divide(c, s, out=s, where=s != 0)  # a zero row keeps factor 0: it stays zero
        return np.multiply(w, s[:, None], out=out)

    return rownorm


def scratch_factory(backend: Any, specs: list[tuple[str, tuple[int, ...], str, Any]]
                    ) -> Callable[[], tuple[Any, ...]]:
    """A function allocating the step's scratch buffers (zeros, or ``fill`` when given)."""

    def alloc() -> tuple[Any, ...]:
        return tuple(backend.full(shape, 0 if fill is None else fill, dtype)
                     for _, shape, dtype, fill in specs)

    return alloc


class TunedNumpy:
    """The NumPy backend with faster spellings of a few ops: ``clip`` as the bare ufunc
    (``np.clip`` adds a Python wrapper costing microseconds per call) and, for one sample per
    step, the batch-summed outer product as a broadcast multiply (a sum of one product:
    the same numbers, without matmul's slow path for an inner dimension of 1)."""

    def __init__(self, backend: Any, batch: int, dtype: str) -> None:
        import numpy as np

        self._backend = backend
        core: Any = getattr(np, "_core", None) or np.core  # NumPy 2 renamed np.core
        self._clip = core.umath.clip
        self._table: dict[str, Template] = {}
        if dtype.startswith("float"):  # np.clip's wrapper also handles huge int bounds
            self._table["clamp"] = Template("clip_ufunc({0}, {1}, {2})",
                                            "clip_ufunc({0}, {1}, {2}, out={out})")
        if batch == 1:
            self._table["mat_mult_pre"] = Template("{0}.T * {1}",
                                                   "xp.multiply({0}.T, {1}, out={out})",
                                                   alias_ok=())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def template(self, op: str) -> Any:
        return self._table.get(op) or self._backend.template(op)

    def helpers(self) -> dict[str, Any]:
        return {**self._backend.helpers(), "clip_ufunc": self._clip}
