"""The synapse rewrite: the weight-sized part of a step becomes one per-synapse kernel.

A rule's step is mostly array calls on vectors (traces, spikes) and a handful on arrays of the
weight's shape: the pair terms (batch-summed outer products of spikes and traces), their
scaling, a weight dependence, the update, the bounds, the mask. Lowered op by op, each of the
latter is a pass over a weight-sized array. This pass finds them (the *cone* of the final
values of the weight-sized variables) and replaces them by one node of the internal op
:data:`~plastix._ops.SYNAPSE`, lowered to a kernel generated from the same ops
(:mod:`plastix._compiler.kernels`) that computes every synapse in one pass over the weight:
an outer product's element is computed where it is needed, as the sum over the batch of two
vector elements, and the change is added and bounded in the same loop.

The cone may hold:

* elementwise ops on values of the weight's shape, of a row's ``(n_post, 1)``, of a
  column's ``(1, n_pre)`` / ``(n_pre,)`` or scalars;
* batch-summed outer products (``mat_mult_pre`` of ``(B, n_post)`` and ``(B, n_pre)``) when
  the batch is small enough to sum inline (:data:`INLINE_BATCH`); larger batches keep their
  outer products as matrix products (BLAS), which the kernel reads;
* reductions along a row (``sum``, ``mean``, ``amax`` over axis 1, kept dims) and the fused
  row normalisation: the kernel then makes one more pass over the row while it is in cache
  (SPAIC's per-step normalisation costs one pass over memory, not five).

Values of the cone may not be read outside it, so the kernel runs after every other op of the
step. Each element is computed by the same sequence of operations as the array lowering, in
the array's dtype; the results equal it to the last bit except for the order of the batch sum
of an outer product (batch > 1) and of row reductions (float rounding).

An update that is zero outside the rows and columns of neurons that spiked (found by
:mod:`plastix._compiler.events`) may run *event-driven*: the kernel visits only those rows and
columns. That is exact when the ops after the update (a clamp to constant bounds, the mask)
leave the other synapses unchanged, which the binding knows while nothing else wrote the
weight (``StepState.in_bounds``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plastix._graph import Const, Node, Operand, Value
from plastix._ops import ROWNORM, Aval

from .events import EventPlan
from .rank import INLINE_BATCH, RankTerm, rank_update

#: Weights smaller than this (synapses) keep the array lowering: a kernel call and its
#: compilation cost more than a few passes over a small weight.
KERNEL_MIN = 1 << 12

#: Elementwise ops the kernel can compute, by canonical name (their scalar forms are in
#: :mod:`plastix._compiler.kernels`).
ELEMENTWISE = frozenset({
    "add", "sub", "mul", "div", "var_linear", "neg", "abs", "exp", "log", "sqrt", "pow",
    "sign", "relu", "heaviside", "maximum", "minimum", "clamp", "where", "greater",
    "greater_equal", "less", "less_equal", "equal", "not_equal", "cast"})
ROW_REDUCTIONS = frozenset({"sum", "mean", "amax"})

ELEMENT, ROW, COL, SCALAR, OUTER, ROW_SUM = "element", "row", "col", "scalar", "outer", "rowsum"
VECTOR = "vector"


@dataclass
class KernelPlan:
    """What the kernel computes: the vector ops and the cone's ops in order, the level of
    every value (element, row, column, scalar, vector), the pass over the row in which each is
    computed, the variables it writes in place (weight-sized ones first, then vectors), its
    inputs, and whether it may run event-driven."""

    nodes: list[Node]
    #: vector ops (traces: shapes (batch, n_post) and (batch, n_pre)) computed before the
    #: synapses, in their order
    vector_nodes: list[Node]
    level: dict[Operand, str]
    stage: dict[Value, int]
    targets: list[tuple[str, Value]]
    inputs: list[Operand]
    shape: tuple[int, int]
    batch: int
    dtype: str
    avals: dict[Value, Aval] = field(default_factory=dict)
    event: EventPlan | None = None
    #: the ops after the update are clamps and the mask, which keep an in-bounds synapse
    #: unchanged: event-driven steps need the binding's ``in_bounds`` then
    needs_invariant: bool = False
    #: the first target's final value is clamped to constant bounds (and masked): after a
    #: dense pass every synapse is within them
    bounded: bool = False
    spikes: dict[str, Value] = field(default_factory=dict)
    #: batches too large to sum inline: the pair terms as one rank-k update of the weight
    #: (one BLAS call, ``w += U^T V``) made before the kernel, which reads the updated weight
    #: where the graph adds the change
    rank: tuple[RankTerm, ...] = ()
    rank_value: Value | None = None
    #: ops the kernel makes unnecessary (the terms' matrix products and their scaling)
    dropped: frozenset[int] = frozenset()


def _level(aval: Aval, shape: tuple[int, int]) -> str | None:
    n0, n1 = shape
    s = aval.shape
    if s == shape:
        return ELEMENT
    if all(d == 1 for d in s):
        return SCALAR
    if s == (n0, 1):
        return ROW
    if s in ((1, n1), (n1,)):
        return COL
    return None


def _is_outer(node: Node, avals: dict[Value, Aval], shape: tuple[int, int], batch: int) -> bool:
    if node.op != "mat_mult_pre" or batch > INLINE_BATCH:
        return False
    a, b = node.inputs
    return isinstance(a, Value) and isinstance(b, Value) \
        and avals[a].shape == (batch, shape[0]) and avals[b].shape == (batch, shape[1])


def _is_row_reduction(node: Node, avals: dict[Value, Aval], shape: tuple[int, int]) -> bool:
    x = node.inputs[0] if node.inputs else None
    return node.op in ROW_REDUCTIONS and isinstance(x, Value) and avals[x].shape == shape \
        and node.kwargs.get("axis") in (1, -1) and bool(node.kwargs.get("keepdims"))


def _kind(node: Node, avals: dict[Value, Aval], shape: tuple[int, int], batch: int
          ) -> str | None:
    """How ``node`` can be part of a kernel: element, outer, row sum, row, or None."""
    if node.spec is None or len(node.outputs) != 1:
        return None
    out = avals[node.outputs[0]]
    if node.spec is ROWNORM:
        return ELEMENT
    if _is_outer(node, avals, shape, batch):
        return OUTER
    if _is_row_reduction(node, avals, shape):
        return ROW_SUM
    if node.op not in ELEMENTWISE or out.dtype not in ("float32", "float64", "bool"):
        return None
    if node.op == "cast" and node.kwargs.get("dtype") not in ("float32", "float64", "bool"):
        return None
    level = _level(out, shape)
    if level is None or any(isinstance(x, Value) and _level(avals[x], shape) is None
                            for x in node.inputs):
        return None
    return level if level in (ELEMENT, ROW) else None


def _grow(live: list[Node], avals: dict[Value, Aval], start: list[Value],
          shape: tuple[int, int], batch: int) -> dict[int, str]:
    """The cone: node index -> kind, grown backwards from the targets' final values."""
    producer = {o: n for n in live for o in n.outputs}
    cone: dict[int, str] = {}
    stack = list(start)
    while stack:
        v = stack.pop()
        node = producer.get(v)
        if node is None or node.index in cone:
            continue
        kind = _kind(node, avals, shape, batch)
        if kind is None:
            continue
        cone[node.index] = kind
        if kind != OUTER:  # an outer product's operands are vectors: inputs of the kernel
            stack.extend(x for x in node.inputs if isinstance(x, Value))
    # row-level ops belong to the kernel only when they follow from its values (a row sum);
    # the others are cheaper as vector ops before it
    derived: set[Value] = set()
    for node in live:
        kind = cone.get(node.index)
        if kind is None:
            continue
        if kind == ROW and not any(x in derived for x in node.inputs):
            del cone[node.index]
        else:
            derived.update(node.outputs)
    return cone


def _stages(nodes: list[Node], level: dict[Operand, str]) -> dict[Value, int]:
    """The pass over a row in which each value is known: a row reduction or a row
    normalisation is known one pass after its input."""
    stage: dict[Value, int] = {}

    def of(x: Operand) -> int:
        return stage.get(x, 0) if isinstance(x, Value) else 0

    for node in nodes:
        s = max((of(x) for x in node.inputs), default=0)
        if level[node.outputs[0]] == ROW_SUM or node.spec is ROWNORM:
            s += 1
        stage[node.outputs[0]] = s
    return stage


def _event_chain(plan: EventPlan, nodes: list[Node], target: Value) -> tuple[bool, bool]:
    """Whether an event-driven kernel is exact: the update is in the cone and only clamps to
    constant bounds and the mask follow it up to the final value; and whether such ops exist
    (then the binding's invariant is needed)."""
    indices = {n.index for n in nodes}
    if plan.add.index not in indices or any(n.index not in indices for n in plan.cone):
        return False, False
    by_input: dict[Value, list[Node]] = {}
    for n in nodes:
        for x in n.inputs:
            if isinstance(x, Value):
                by_input.setdefault(x, []).append(n)
    v, after = plan.add.outputs[0], 0
    while v != target:
        users = by_input.get(v, [])
        if len(users) != 1:
            return False, False
        n = users[0]
        mask = n.op == "mul" and any(isinstance(x, Value) and x.name == "mask"
                                     and x.version == 0 for x in n.inputs)
        clamp = n.op == "clamp" and n.inputs[0] == v \
            and all(isinstance(x, Const) for x in n.inputs[1:])
        if not (mask or clamp):
            return False, False
        v, after = n.outputs[0], after + 1
    return True, after > 0


def _vector_kind(node: Node, avals: dict[Value, Aval], vshapes: set[tuple[int, ...]]) -> bool:
    """Whether ``node`` is an elementwise op on vectors the kernel can compute first."""
    if node.spec is None or len(node.outputs) != 1 or node.op not in ELEMENTWISE:
        return False
    if node.op == "cast" and node.kwargs.get("dtype") not in ("float32", "float64", "bool"):
        return False
    out = avals[node.outputs[0]]
    if out.shape not in vshapes or out.dtype not in ("float32", "float64", "bool"):
        return False
    n = out.shape[1]
    return all(isinstance(x, Const) or avals[x].shape in (out.shape, (1, n), (n,))
               or all(d == 1 for d in avals[x].shape) for x in node.inputs)


def _absorb_vectors(live: list[Node], cone: set[int], avals: dict[Value, Aval],
                    vector_finals: set[Value], vshapes: set[tuple[int, ...]]) -> list[Node]:
    """The vector ops that only the kernel reads (or that make a vector variable's final
    value nobody else reads): the kernel computes them first, so the step is one call."""
    readers: dict[Value, list[Node]] = {}
    for n in live:
        for x in n.inputs:
            if isinstance(x, Value):
                readers.setdefault(x, []).append(n)
    inside = set(cone)
    changed = True
    while changed:
        changed = False
        for n in reversed(live):
            if n.index in inside or not _vector_kind(n, avals, vshapes):
                continue
            users = readers.get(n.outputs[0], [])
            if (users or n.outputs[0] in vector_finals) \
                    and all(u.index in inside for u in users):
                inside.add(n.index)
                changed = True
    return [n for n in live if n.index in inside and n.index not in cone]


def _bounded(nodes: list[Node], final: Value) -> bool:
    """Whether ``final`` is a clamp to constant bounds, possibly masked afterwards."""
    made = {n.outputs[0]: n for n in nodes}
    node = made.get(final)
    if node is not None and node.op == "mul" and any(
            isinstance(x, Value) and x.name == "mask" and x.version == 0 for x in node.inputs):
        src = [x for x in node.inputs if not (isinstance(x, Value) and x.name == "mask")]
        node = made.get(src[0]) if src and isinstance(src[0], Value) else None
    return node is not None and node.op == "clamp" \
        and all(isinstance(x, Const) for x in node.inputs[1:])


def find_kernel(live: list[Node], avals: dict[Value, Aval], finals: dict[str, Operand],
                shape: tuple[int, ...], batch: int, dtype: str, variables: dict[str, Aval],
                event: EventPlan | None, *, vectors: bool = True) -> KernelPlan | None:
    """The kernel of this step's weight-sized ops, or None when there is none worth making
    or the step's ops do not fit one (see the module docstring). ``vectors=False`` leaves
    the vector ops to the array lowering (a GPU kernel runs one thread per synapse)."""
    if len(shape) != 2 or dtype not in ("float32", "float64") \
            or shape[0] * shape[1] < KERNEL_MIN:
        return None
    wshape = (shape[0], shape[1])
    producer = {o: n for n in live for o in n.outputs}
    targets = [(name, v) for name, v in sorted(finals.items(), key=lambda f: f[0] != "weight")
               if isinstance(v, Value) and v in producer and variables[name].shape == wshape]
    cone = _grow(live, avals, [v for _, v in targets], wshape, batch)
    targets = [(name, v) for name, v in targets if producer[v].index in cone]
    if not targets:
        return None
    rank = rank_update(live, cone, avals, wshape, batch, targets[0][0])
    dropped: set[int] = set()
    if rank is not None:
        for i in rank.linear:
            del cone[i]
        dropped = rank.linear | rank.products
    vshapes: set[tuple[int, ...]] = {(batch, wshape[0]), (batch, wshape[1])}
    vector_finals = {v: name for name, v in finals.items()
                     if isinstance(v, Value) and variables[name].shape in vshapes}
    vector_nodes = [] if rank is not None or not vectors else \
        _absorb_vectors(live, set(cone), avals, set(vector_finals), vshapes)
    targets += [(vector_finals[n.outputs[0]], n.outputs[0]) for n in vector_nodes
                if n.outputs[0] in vector_finals]
    nodes = [n for n in live if n.index in cone]
    everything = {n.index for n in nodes} | {n.index for n in vector_nodes}
    inside = {o for n in live if n.index in everything for o in n.outputs}
    final_values = {v for _, v in targets}
    for n in live:  # nothing outside may read a value of the kernel
        if n.index not in everything and n.index not in dropped \
                and any(x in inside for x in n.inputs):
            return None
    if any(v in inside and v not in final_values for v in finals.values()):
        return None
    level: dict[Operand, str] = {n.outputs[0]: VECTOR for n in vector_nodes}
    rank_add = rank.add if rank is not None else None
    for n in nodes:
        level[n.outputs[0]] = cone[n.index]
        if cone[n.index] == OUTER or n is rank_add:
            continue
        for x in n.inputs:
            if x not in level:
                level[x] = SCALAR if isinstance(x, Const) else _level(avals[x], wshape) or ""
    if "" in level.values():
        return None
    stage = _stages(nodes, level)
    for name, v in targets:  # the old value of a variable must not be read after its write
        if v in stage and any(stage[n.outputs[0]] > stage[v] for n in nodes
                              if Value(name, 0) in n.inputs):
            return None
    ops = [*vector_nodes, *[n for n in nodes if n is not rank_add]]
    inputs = list(dict.fromkeys(x for n in ops for x in n.inputs if x not in inside))
    if rank_add is not None and Value(targets[0][0], 0) not in inputs:
        inputs.insert(0, Value(targets[0][0], 0))
    plan = KernelPlan(nodes, vector_nodes, level, stage, targets, inputs, wshape, batch, dtype,
                      {v: a for v, a in avals.items() if v in inside or v in inputs})
    plan.bounded = _bounded(nodes, targets[0][1])
    if rank is not None and rank_add is not None:
        plan.rank, plan.rank_value = tuple(rank.terms), rank_add.outputs[0]
        plan.dropped = frozenset(dropped)
        return plan
    weight_targets = [t for t in targets if t[1] in stage]
    if event is not None and len(weight_targets) == 1 \
            and weight_targets[0][0] == event.target.name and max(stage.values()) == 0:
        exact, needs = _event_chain(event, nodes, weight_targets[0][1])
        if exact:
            plan.event, plan.needs_invariant = event, needs
            plan.spikes = {"rows": Value("post", 0), "cols": Value("pre", 0)}
    return plan
