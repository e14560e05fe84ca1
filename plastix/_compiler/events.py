"""Event-driven weight updates: a compiler rewrite for changes that are zero outside the rows
and columns of neurons that spiked.

An outer product of spikes and traces (``mat_mult_pre(post, x_pre)``: row ``i`` is zero unless
post neuron ``i`` spiked; ``mat_mult_pre(x_post, pre)``: column ``j`` is zero unless pre neuron
``j`` spiked), scaled and combined by ``mul``/``neg``/``add``/``sub``, then added to the weight,
changes only the rows and columns whose neurons spiked. The generated step counts them every
step (the *observed* density) and computes the change on those rows (whole rows) and columns
(whole columns, the spiking rows zeroed there so no synapse is counted twice) when they are
few, the dense change otherwise. Weight-sized elementwise ops that only the change reads (a
weight dependence such as ``(w_max - w) ** mu``) move into the branch too. Each element of the
change is computed by the same expression in both branches, so for one or two samples per step
both are bit-for-bit equal; with larger batches BLAS may add the batch in another order on a
subset (last-bit differences). A hard clamp right after the update may be applied to the
touched part only (``Binding.sparse_bounds``, opt-in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from plastix._graph import Const, Node, Operand, Value
from plastix._ops import Aval
from plastix.backends import Template

from .render import render

#: Weights smaller than this (synapses) keep the dense update only: the event-driven branch
#: costs a dozen extra calls, more than a dense pass over a small weight.
EVENT_MIN = 1 << 15


@dataclass(frozen=True)
class EventPlan:
    """An ``add``/``sub`` of a spike-sparse change into a weight, and the ops computing it."""

    add: Node
    target: Value
    change: Value
    cone: tuple[Node, ...]
    rows: bool
    cols: bool
    clamp: Node | None = None  # hard bounds right after the update: clamp the touched part
    #: values that are zero outside the spiking rows (row support only)
    row_only: frozenset[Value] = frozenset()


def find_event_add(live: list[Node], avals: dict[Value, Aval], finals: dict[str, Operand],
                   pre_shape: tuple[int, ...], post_shape: tuple[int, ...]) -> EventPlan | None:
    """The first weight update whose change is zero outside spiking rows and columns."""
    if len(pre_shape) != 2 or len(post_shape) != 2 or pre_shape[1] * post_shape[1] < EVENT_MIN:
        return None
    wshape = (post_shape[1], pre_shape[1])
    pre, post = Value("pre", 0), Value("post", 0)
    support: dict[Value, tuple[bool, bool]] = {}
    made_by: dict[Value, Node] = {}
    for node in live:
        if len(node.outputs) != 1 or not isinstance(node.op, str):
            continue
        out = node.outputs[0]
        ins = node.inputs
        sp = [support.get(x) if isinstance(x, Value) else None for x in ins]
        got: tuple[bool, bool] | None = None
        if node.op == "mat_mult_pre" and avals[out].shape == wshape:
            if ins[0] == post:
                got = (True, False)
            elif ins[1] == pre:
                got = (False, True)
        elif node.op == "mul" and any(sp) \
                and all(_region_ok(x, avals, wshape) for x in ins):
            got = next(s for s in sp if s)
        elif node.op == "neg" and sp[0]:
            got = sp[0]
        elif node.op in ("add", "sub") and sp[0] and sp[1]:
            got = (sp[0][0] or sp[1][0], sp[0][1] or sp[1][1])
        elif node.op in ("add", "sub") and avals[out].shape == wshape:
            target = ins[0]
            change = ins[1]
            if node.op == "add" and sp[0] and not sp[1]:
                target, change = ins[1], ins[0]
            s = support.get(change) if isinstance(change, Value) else None
            if s and isinstance(target, Value) and isinstance(change, Value) \
                    and target not in support \
                    and avals[target] == avals[out] and target.version == 0:
                plan = _plan(node, target, change, s, made_by, live, finals, avals, wshape)
                if plan is not None:
                    rows_only = frozenset(v for v, sv in support.items() if sv == (True, False))
                    return replace(plan, row_only=rows_only)
        if got is not None and avals[out].shape == wshape:
            support[out] = got
            made_by[out] = node
    return None


def _region_ok(x: Operand, avals: dict[Value, Aval], wshape: tuple[int, int]) -> bool:
    if isinstance(x, Const):
        return True
    shape = avals[x].shape
    n_post, n_pre = wshape
    return all(d == 1 for d in shape) or shape in (wshape, (n_post, 1), (1, n_pre), (n_pre,))


def _plan(add: Node, target: Value, change: Value, s: tuple[bool, bool],
          made_by: dict[Value, Node], live: list[Node], finals: dict[str, Operand],
          avals: dict[Value, Aval], wshape: tuple[int, int]) -> EventPlan | None:
    cone: dict[int, Node] = {}
    stack = [change]
    while stack:
        v = stack.pop()
        node = made_by.get(v)
        if node is None or node.index in cone:
            continue
        cone[node.index] = node
        stack.extend(x for x in node.inputs if isinstance(x, Value) and x in made_by)
    final_values = {v for v in finals.values() if isinstance(v, Value)}
    _pull_prework(cone, add, live, avals, final_values, wshape)
    inside = {o for n in cone.values() for o in n.outputs}
    for node in live:
        if node.index in cone or node is add:
            continue
        if any(x in inside for x in node.inputs):
            return None  # the change escapes (another op reads it): keep it dense
    if inside & final_values:
        return None
    order = tuple(n for n in live if n.index in cone)
    users = [n for n in live if add.outputs[0] in n.inputs]
    clamp = users[0] if len(users) == 1 else None
    if clamp is None or clamp.op != "clamp" or clamp.inputs[0] != add.outputs[0] \
            or not all(isinstance(x, Const) for x in clamp.inputs[1:]) \
            or finals.get(target.name) != clamp.outputs[0]:
        clamp = None
    return EventPlan(add, target, change, order, s[0], s[1], clamp)


def _pull_prework(cone: dict[int, Node], add: Node, live: list[Node],
                  avals: dict[Value, Aval], final_values: set[Value],
                  wshape: tuple[int, int]) -> None:
    """Add to ``cone`` the weight-sized elementwise ops only it reads (a weight dependence
    such as ``(w_max - w) ** mu``): the event-driven branch computes them on its rows and
    columns only, instead of on the whole weight every step."""
    grown = True
    while grown:
        grown = False
        for node in live:
            if node.index in cone or node is add or len(node.outputs) != 1 \
                    or not isinstance(node.op, str):
                continue
            out = node.outputs[0]
            spec = node.spec
            if spec is None or not spec.elementwise or out in final_values \
                    or avals[out].shape != wshape \
                    or not all(_region_ok(x, avals, wshape) for x in node.inputs):
                continue
            users = [n for n in live if out in n.inputs]
            if users and all(u.index in cone for u in users):
                cone[node.index] = node
                grown = True


def reorder(live: list[Node], plan: EventPlan) -> list[Node]:
    """Move the change's ops just before its update, so both branches sit together."""
    cone = {n.index for n in plan.cone}
    rest = [n for n in live if n.index not in cone]
    i = rest.index(plan.add)
    return [*rest[:i], *plan.cone, *rest[i:]]


def render_event(plan: EventPlan, avals: dict[Value, Aval], ref: Callable[[Operand], str],
                 template: Callable[[Node], Template], temp: Callable[[str], str],
                 wshape: tuple[int, int], batch: int, trusted: bool = False) -> list[str]:
    """The event-driven branch: header lines, then the branch body (indented). ``trusted``:
    the step notices writes from outside, so the in-bounds flag needs no user promise."""
    n_post, n_pre = wshape
    lines = ["# event-driven: touch only rows of post neurons and columns of pre neurons "
             "that spiked"]
    on = {}
    for side in ("post", "pre"):
        on[side] = f"{side}[0] != 0" if batch == 1 else f"xp.any({side} != 0, axis=0)"
    if plan.rows:
        lines.append(f"_rows = xp.flatnonzero({on['post']})")
    if plan.cols:
        lines.append(f"_cols = xp.flatnonzero({on['pre']})")
    area = " + ".join(([f"_rows.size * {n_pre}"] if plan.rows else [])
                      + ([f"_cols.size * {n_post}"] if plan.cols else []))
    lines.append(f"if {area} <= X.event_limit:")
    body: list[str] = []
    regions: list[tuple[str, str | None, str | None]] = []
    if plan.rows:
        regions.append(("r", "_rows", None))
    if plan.cols:
        regions.append(("c", None, "_cols"))
    sym = "+=" if plan.add.op == "add" else "-="
    w = ref(plan.target)
    clip_into = ""
    if plan.clamp is not None:
        # untouched synapses are within the bounds when only this binding writes the weight
        # (opt-in: syn.sparse_bounds); the flag in S says a full clamp has run since binding.
        # The touched part is clamped while gathered, before it is written back.
        tmpl = template(plan.clamp)
        lo, hi = (ref(x) for x in plan.clamp.inputs[1:])
        clip = render(plan.clamp, tmpl, ["_blk", lo, hi], out="_blk")
        clip_into = clip if tmpl.into else f"_blk = {clip}"
        body.append("_bounds_ok = X.in_bounds" if trusted
                    else "_bounds_ok = X.sparse_bounds and X.in_bounds")
    for tag, ri, ci in regions:
        names: dict[Value, str] = {}

        def operand(x: Operand, ri: str | None = ri, ci: str | None = ci,
                    names: dict[Value, str] = names) -> str:
            if isinstance(x, Const):
                return ref(x)
            if x in names:
                return names[x]
            shape = avals[x].shape
            r = ref(x)
            if all(d == 1 for d in shape):
                return r
            if shape == wshape:
                return f"{r}[:, {ci}]" if ci else f"{r}[{ri}]"
            if shape == (n_post, 1):
                return f"{r}[{ri}]" if ri else r
            if shape == (1, n_pre):
                return f"{r}[:, {ci}]" if ci else r
            return f"{r}[{ci}]" if ci else r  # (n_pre,)

        for node in _needed(plan, tag):
            if tag == "c" and plan.rows:
                # outside the spiking rows a row-only term is 0 (and those rows are dropped):
                # 0 * y = 0, x + 0 = x, 0 - y = -y, as the dense branch computes them
                out, ins = node.outputs[0], node.inputs
                if out in plan.row_only:
                    continue
                if node.op in ("add", "sub") and any(x in plan.row_only for x in ins):
                    if ins[0] in plan.row_only and node.op != "add":
                        name = temp(f"{out.name}_{tag}")
                        names[out] = name
                        body.append(f"{name} = -{operand(ins[1])}")
                    else:
                        names[out] = operand(ins[1] if ins[0] in plan.row_only else ins[0])
                    continue
            if node.op == "mat_mult_pre":
                a, b = (ref(x) for x in node.inputs)
                a = f"{a}[:, {ri}]" if ri else a
                b = f"{b}[:, {ci}]" if ci else b
                args = [a, b]
            else:
                args = [operand(x) for x in node.inputs]
            name = temp(f"{node.outputs[0].name}_{tag}")
            names[node.outputs[0]] = name
            body.append(f"{name} = {render(node, template(node), args)}")
        idx = f":, {ci}" if ci else ri
        if tag == "c" and plan.rows:
            # rows that spiked were updated whole above; adding 0 there keeps them exact
            body.append(f"{names[plan.change]}[_rows] = 0")
        if clip_into:
            body += [f"_blk = {w}[{idx}]", f"_blk {sym} {names[plan.change]}",
                     "if _bounds_ok:", f"    {clip_into}", f"{w}[{idx}] = _blk"]
        else:
            body.append(f"{w}[{idx}] {sym} {names[plan.change]}")
    body.append(f"{ref(plan.add.outputs[0])} = {w}")
    return lines + [f"    {b}" for b in body]


def _needed(plan: EventPlan, tag: str) -> list[Node]:
    """The cone's ops the region needs: in the column region (beside spiking rows) the ops
    that only feed row-only terms are skipped."""
    if tag != "c" or not plan.rows:
        return list(plan.cone)
    made = {n.outputs[0]: n for n in plan.cone}
    need: set[int] = set()
    stack = [plan.change]
    while stack:
        v = stack.pop()
        node = made.get(v)
        if node is None or node.index in need or v in plan.row_only:
            continue
        need.add(node.index)
        stack.extend(x for x in node.inputs if isinstance(x, Value))
    return [n for n in plan.cone if n.index in need]


def render_clamp(plan: EventPlan, dense_line: str, ref: Callable[[Operand], str]) -> list[str]:
    """The clamp after an event-driven update: skipped when the event branch clamped."""
    assert plan.clamp is not None
    return ["if _bounds_ok:", f"    {ref(plan.clamp.outputs[0])} = {ref(plan.add.outputs[0])}",
            "else:", f"    {dense_line}", "X.in_bounds = True"]
