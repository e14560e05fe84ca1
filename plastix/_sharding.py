"""Which rules give the same result when their batch is split across processes.

Data-parallel learning gives each process a slice of the batch and all-reduces every seam (the
change of a learned value) before it is applied. That reproduces one process with the whole
batch exactly when every value that outlives a step is one of

* **replicated**: identical on every process (weights, learned values, values computed from
  them and from constants, and every seam's output, which is all-reduced), or
* **per sample**: carries the batch axis first and mixes no samples (traces),

and nothing else. A value that mixes the samples of one process (a sum or mean over the batch,
a batch-summed outer product) is *rank-local*: it may reach a learned value only through a
seam. This module classifies every value of a graph by following its ops, conservatively (an
op it does not know, a function op, a transpose of per-sample data, counts as mixing samples),
and says why a rule cannot be split. Random draws with the batch axis first are refused: each
process would draw for its own sample indices 0..b-1, not for its slice of the global batch.

It also decides whether a rule may accumulate its change over several steps before reducing:
only when the change is *purely additive* (``target <- target + change`` and nothing else writes
the target, and the change does not read any learned value), so that applying the sum of k
changes at once equals applying them one by one.
"""

from __future__ import annotations

from ._graph import Graph, Node, Value
from ._ops import OPS

REPLICATED, PER_SAMPLE, LOCAL = 0, 1, 2
_NAMES = {REPLICATED: "replicated", PER_SAMPLE: "per sample", LOCAL: "rank-local"}
_MIXING = {"mat_mult_pre"}
_REDUCTIONS = {"sum", "mean", "amax"}


def _batched(shape: tuple[int, ...], batch: int) -> bool:
    return len(shape) >= 1 and shape[0] == batch


def _reduces_batch(node: Node, ndim: int) -> bool:
    axis = node.kwargs.get("axis")
    if axis is None:
        return True
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return any(a % max(ndim, 1) == 0 for a in axes)


def classify(g: Graph, phase: str, shapes: dict[Value, tuple[int, ...]]) -> dict[Value, int]:
    """The class of every value written in ``phase`` (see the module docstring)."""
    batch = g.batch_size
    cls: dict[Value, int] = {}
    for name, decl in g.variables.items():
        v = Value(name, 0)
        if decl.kind in ("input",):
            cls[v] = PER_SAMPLE
        elif decl.kind in ("state", "fixed", "signal"):
            cls[v] = PER_SAMPLE if _batched(decl.aval.shape, batch) else REPLICATED
        else:
            cls[v] = REPLICATED

    def of(x: object) -> int:
        return cls.get(x, REPLICATED) if isinstance(x, Value) else REPLICATED

    for node in g.nodes_for(phase):
        ins = [of(x) for x in node.inputs]
        worst = max(ins, default=REPLICATED)
        spec = OPS.resolve(node.op) if isinstance(node.op, str) else None
        name = spec.name if spec is not None else ""
        if node.op == "seam":
            out = REPLICATED  # all-reduced by the data-parallel hook
        elif worst == REPLICATED and name != "rand_bits":
            out = REPLICATED
        elif name == "rand_bits":
            shape = tuple(node.kwargs.get("shape", ()))
            out = LOCAL if _batched(shape, batch) else REPLICATED
        elif worst == LOCAL or spec is None or name in _MIXING or name == "transpose":
            out = LOCAL
        else:
            first = node.inputs[0]
            in_shape = shapes.get(first, ()) if isinstance(first, Value) else ()
            out_shape = shapes.get(node.outputs[0], ())
            if name in _REDUCTIONS:
                out = LOCAL if ins[0] != REPLICATED and _reduces_batch(node, len(in_shape)) \
                    else PER_SAMPLE
            elif name == "mat_mult":
                out = PER_SAMPLE if ins == [PER_SAMPLE, REPLICATED] else LOCAL
            else:  # pointwise and reshape: per sample while the batch axis stays first
                per_in = [shapes.get(x, ()) for x, c in zip(node.inputs, ins, strict=True)
                          if c == PER_SAMPLE and isinstance(x, Value)]
                keeps = all(_batched(s, batch) and len(s) == len(out_shape) for s in per_in) \
                    if spec.name != "reshape" else _batched(in_shape, batch)
                out = PER_SAMPLE if keeps and _batched(out_shape, batch) else LOCAL
        for o in node.outputs:
            cls[o] = out
    return cls


def split_problems(g: Graph, avals: dict[str, dict[Value, object]]) -> list[str]:
    """Why ``g`` cannot be split over the batch (an empty list when it can)."""
    problems: list[str] = []
    for phase in ("step", "final"):
        shapes = {v: tuple(getattr(a, "shape", ())) for v, a in avals.get(phase, {}).items()}
        cls = classify(g, phase, shapes)
        nodes = g.nodes_for(phase)
        for node in nodes:
            if isinstance(node.op, str) and node.op == "rand_bits" \
                    and cls[node.outputs[0]] == LOCAL:
                problems.append(f"op {node.index} draws random numbers per sample, so the "
                                "processes' draws would not be those of the global batch")
        for name, decl in g.variables.items():
            if decl.kind not in ("learned", "state", "fixed"):
                continue
            latest = [o for n in nodes for o in n.outputs if o.name == name]
            if not latest:
                continue
            got = cls[latest[-1]]
            allowed = PER_SAMPLE if decl.kind != "learned" and \
                _batched(decl.aval.shape, g.batch_size) else REPLICATED
            if got > allowed:
                problems.append(f"{decl.kind} value {name!r} becomes {_NAMES[got]} (it "
                                "mixes the samples of one process outside a weight-change "
                                "seam), so the processes would diverge")
    return list(dict.fromkeys(problems))


def additive_problem(g: Graph) -> str | None:
    """Why the rule's changes may not be accumulated over steps (None when they may)."""
    learned = {n for n, d in g.variables.items() if d.kind in ("learned", "fixed")}
    for phase in ("step", "final"):
        nodes = g.nodes_for(phase)
        producer = {o: n for n in nodes for o in n.outputs}
        for node in nodes:
            if node.op != "seam":
                continue
            target = node.kwargs["target"]
            out = node.outputs[0]
            users = [n for n in nodes if out in n.inputs]
            if len(users) != 1 or users[0].op != "add" or users[0].outputs[0].name != target \
                    or not any(isinstance(x, Value) and x.name == target
                               for x in users[0].inputs):
                return f"the change of {target!r} is not applied as target + change"
            after = nodes[nodes.index(users[0]) + 1:]
            for n in after:
                if any(o.name == target for o in n.outputs) and not _is_mask(n):
                    return f"op {n.index} ({n.op_name}) writes {target!r} after its change"
            stack = [x for x in node.inputs if isinstance(x, Value)]
            seen: set[Value] = set()
            while stack:
                v = stack.pop()
                if v in seen:
                    continue
                seen.add(v)
                if v.version == 0 and v.name in learned:
                    return f"the change of {target!r} reads the learned value {v.name!r}"
                src = producer.get(v)
                if src is not None:
                    stack.extend(x for x in src.inputs if isinstance(x, Value))
    return None


def _is_mask(node: Node) -> bool:
    return node.op == "mul" and any(isinstance(x, Value) and x.name == "mask"
                                    for x in node.inputs)
