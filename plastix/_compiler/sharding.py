"""Which rules give the same result when their batch is split across processes.

Data-parallel learning gives each process a slice of the batch and all-reduces every seam (the
change of a learned value) before it is applied. That reproduces one process with the whole
batch exactly when every value that outlives a step is one of

* **replicated**: identical on every process (weights, learned values, values computed from
  them and from constants, and every seam's output, which is all-reduced), or
* **per sample**: indexed by sample along a batch axis and mixing no samples (traces),

and nothing else. A value that mixes the samples of one process (a sum or mean over the batch,
a batch-summed outer product) is *rank-local*: it may reach a learned value only through a
seam. The batch axis of every value is found by building the rule's graph a second time with
one more sample (the axis that grows); each op then says how classes propagate,
conservatively (an op this module does not know, a function op, a transpose of per-sample data
counts as mixing samples). Random draws with the batch axis first are per sample: the binding
then draws them at its samples' indices in the global batch (:class:`ShardedSeed`), so every
process draws what one process with the whole batch would.

It also decides whether a rule may accumulate its change over several steps before reducing:
only when the change is *purely additive* (``target <- target + change`` and nothing else writes
the target, and the change does not read any learned value), so that applying the sum of k
changes at once equals applying them one by one.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from plastix._graph import Graph, Node, Value
from plastix._ops import SEAM, Aval
from plastix._validate import validate

REPLICATED, PER_SAMPLE, LOCAL = 0, 1, 2
_NAMES = {REPLICATED: "replicated", PER_SAMPLE: "per sample", LOCAL: "rank-local"}
_REDUCTIONS = {"sum", "mean", "amax"}

Avals = dict[str, dict[Value, Aval]]


@dataclasses.dataclass
class Split:
    """What the analysis found: why the rule cannot be split (empty when it can), the random
    streams (op indices) that draw per sample with the size of one sample's draw, and the
    variables that have a batch axis."""

    problems: list[str]
    random_streams: dict[int, int]
    per_sample: set[str] = dataclasses.field(default_factory=set)


def _axis(a: tuple[int, ...], b: tuple[int, ...]) -> int | None:
    if len(a) != len(b):
        return -1
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return diff[0] if len(diff) == 1 else (None if not diff else -1)


def grown(g: Graph, build: Any) -> Avals:
    """``g`` built again by ``build(g2)`` with one more sample in the batch; its avals."""
    g2 = Graph(g.rule, pre_shape=(g.pre_shape[0] + 1, *g.pre_shape[1:]),
               post_shape=(g.post_shape[0] + 1, *g.post_shape[1:]),
               weight_shape=g.weight_shape, dtype=g.dtype, dt=g.dt, params=g.params,
               mask=g.masked)
    build(g2)
    g2.finish()
    return validate(g2)


def classify(g: Graph, phase: str, avals: Avals, avals2: Avals
             ) -> tuple[dict[Value, int], dict[Value, int | None]]:
    """The class and batch axis of every value of ``phase`` (see the module docstring)."""
    one, two = avals[phase], avals2.get(phase, {})
    axis: dict[Value, int | None] = {}
    for v, a in one.items():
        b = two.get(v)
        axis[v] = -1 if b is None else _axis(a.shape, b.shape)
    cls: dict[Value, int] = {}
    for name in g.variables:
        v = Value(name, 0)
        ax = axis.get(v)
        cls[v] = REPLICATED if ax is None else LOCAL if ax == -1 else PER_SAMPLE

    def of(x: object) -> int:
        return cls.get(x, REPLICATED) if isinstance(x, Value) else REPLICATED

    for node in g.nodes_for(phase):
        ins = [of(x) for x in node.inputs]
        worst = max(ins, default=REPLICATED)
        spec = node.spec
        name = spec.name if spec is not None else ""
        out_axis = axis.get(node.outputs[0])
        in_axes = [axis.get(x) if isinstance(x, Value) else None for x in node.inputs]
        if any(axis.get(o) == -1 for o in node.outputs):
            out = LOCAL  # the batch does not show as one axis: cannot say, so refuse
        elif spec is SEAM:
            out = REPLICATED  # all-reduced by the data-parallel hook
        elif spec is not None and spec.random:
            out = REPLICATED if out_axis is None else PER_SAMPLE if out_axis == 0 else LOCAL
        elif worst == REPLICATED:
            out = REPLICATED
        elif worst == LOCAL or spec is None or name in ("mat_mult_pre", "transpose"):
            out = LOCAL
        elif name in _REDUCTIONS:
            out = LOCAL if out_axis is None else PER_SAMPLE
        elif name == "mat_mult":
            out = PER_SAMPLE if ins == [PER_SAMPLE, REPLICATED] and in_axes[0] == 0 else LOCAL
        elif name == "reshape":
            out = PER_SAMPLE if in_axes[0] == 0 and out_axis == 0 else LOCAL
        else:  # pointwise: per sample while every per-sample input's batch axis lines up
            nd = len(one[node.outputs[0]].shape)
            aligned = out_axis is not None and all(
                ax is not None and nd - out_axis == len(one[x].shape) - ax
                for x, c, ax in zip(node.inputs, ins, in_axes, strict=True)
                if c == PER_SAMPLE and isinstance(x, Value))
            out = PER_SAMPLE if aligned else LOCAL
        for o in node.outputs:
            cls[o] = out
    return cls, axis


def analyse(g: Graph, avals: Avals, build: Any) -> Split:
    """Whether ``g`` (built by ``build``) can be split over the batch; see :class:`Split`."""
    try:
        avals2 = grown(g, build)
    except Exception as exc:  # any failure means: cannot analyse, so refuse
        return Split([f"its graph cannot be built for another batch size ({exc})"], {})
    problems: list[str] = []
    streams: dict[int, int] = {}
    per_sample: set[str] = set()
    for phase in ("step", "final"):
        cls, axis = classify(g, phase, avals, avals2)
        per_sample |= {n for n in g.variables if axis.get(Value(n, 0)) is not None}
        nodes = g.nodes_for(phase)
        for node in nodes:
            if node.spec is not None and node.spec.random \
                    and axis.get(node.outputs[0]) is not None:
                shape = avals[phase][node.outputs[0]].shape
                if cls[node.outputs[0]] == PER_SAMPLE:
                    streams[node.index] = math.prod(shape[1:])
                else:
                    problems.append(f"op {node.index} draws random numbers with the batch "
                                    "on an axis other than the first (cannot be sharded)")
        for name, decl in g.variables.items():
            if decl.kind not in ("learned", "state", "fixed"):
                continue
            latest = [o for n in nodes for o in n.outputs if o.name == name]
            if not latest:
                continue
            got = cls[latest[-1]]
            allowed = PER_SAMPLE if decl.kind != "learned" and \
                axis.get(Value(name, 0)) is not None else REPLICATED
            if got > allowed:
                problems.append(f"{decl.kind} value {name!r} becomes {_NAMES[got]} (it "
                                "mixes the samples of one process outside a weight-change "
                                "seam), so the processes would diverge")
    return Split(list(dict.fromkeys(problems)), streams, per_sample)


def additive_problem(g: Graph) -> str | None:
    """Why the rule's changes may not be accumulated over steps (None when they may)."""
    learned = {n for n, d in g.variables.items() if d.kind in ("learned", "fixed")}
    for phase in ("step", "final"):
        nodes = g.nodes_for(phase)
        producer = {o: n for n in nodes for o in n.outputs}
        for node in nodes:
            if node.spec is not SEAM:
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


class ShardedSeed(int):
    """A binding's seed that also places its samples in the global batch.

    Random draws of the streams in ``streams`` (op index -> elements per sample) start at the
    element index of this process's first sample, ``first_sample``, so that they are the draws
    one process with the whole batch makes for the same samples. Pickles as a plain int.
    """

    first_sample: int
    streams: dict[int, int]

    def __new__(cls, seed: int, first_sample: int, streams: dict[int, int]) -> ShardedSeed:
        obj = super().__new__(cls, seed)
        obj.first_sample = first_sample
        obj.streams = dict(streams)
        return obj

    def element_offset(self, stream: int) -> int:
        return self.first_sample * self.streams.get(stream, 0) \
            if stream in self.streams else 0

    def __reduce__(self) -> tuple[Any, ...]:
        return (int, (int(self),))
