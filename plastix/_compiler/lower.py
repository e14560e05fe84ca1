"""The compiler: a validated graph becomes the source of one Python step function.

``rule -> graph -> validate -> optimise -> lower -> step source``:

1. **fold**: ops whose inputs are all constants (``exp(-dt / tau)``) are evaluated once, with
   NumPy, at compile time;
2. **prune**: ops whose results reach no state, learned value or enabled seam are dropped;
3. **rewrite** (NumPy): L1 row normalisation fused (:mod:`plastix._fastpaths`), and an
   event-driven branch for weight changes that are zero outside the rows and columns of
   neurons that spiked (:mod:`plastix._events`);
4. **plan buffers** (:mod:`plastix._buffers`): an elementwise op writes into the buffer of
   an input that dies with it (same shape and dtype), a new version of a state variable into
   the variable's own buffer, and a weight-sized temporary into a scratch buffer kept in
   ``S`` under a private key (``_scratch_<phase>``, allocated by the first step; not when a
   seam hook sees the change), so a step allocates few arrays;
5. **lower**: each op is rendered through the backend's template table into one line.

The emitted function has the signature ``step(S, pre, post, t, seed, seam, **signals)``:
``S`` maps state and learned names to arrays and is updated in place, ``t`` is the step
counter and ``seed`` the binding's seed (together they feed the counter-based random
generator), ``seam`` maps a learned name to a hook applied to its change (only when compiled
with seams). Compiled steps are cached by the graph's fingerprint and the backend.

Hyperparameters are *live*: a hyperparameter that an op reads by name is a global of the step
function (listed at the top of its source), and each binding runs the cached code with its
own copy of those globals (:meth:`CompiledStep.rebound`), so ``Binding.set`` changes them
(and the constants folded from them) without recompiling (:func:`update_constants`). A
hyperparameter that the rule's ``build`` reads in Python shapes the code itself; changing it
recompiles.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import Any

import numpy as np

from plastix._errors import RuleValidationError
from plastix._graph import Const, Graph, Node, Operand, Value
from plastix._ops import OPS, WEAK, Aval
from plastix.backends._lowering import Template

from . import events as ev
from . import rownorm as fp
from .buffers import plan_buffers
from .steps import CACHE, CompiledStep

_RESERVED = {"S", "t", "seam", "seed", "xp", "pre", "post", "_scratch", "_alloc_scratch",
             "_event_limit", "_event_area", "_sparse_bounds", "_bounds_ok", "_blk",
             "_post_on", "_rows", "_cols", "_rest", "rownorm_l1", "clip_ufunc"}


class _Names:
    """Python identifiers for graph values, readable and collision-free."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken) | set(keyword.kwlist) | {"np", "torch", "cupy", "math"}
        self.names: dict[Any, str] = {}

    def get(self, key: Any, stem: str) -> str:
        if key not in self.names:
            name = stem if stem not in self.taken else f"{stem}_"
            i = 1
            while name in self.taken:
                i += 1
                name = f"{stem}_{i}"
            self.taken.add(name)
            self.names[key] = name
        return self.names[key]


def _fold(node: Node, consts: list[Const], backend_np: Any) -> Const | None:
    """Evaluate a pure primitive on constants with NumPy, or None when it cannot be."""
    if callable(node.op) or node.op in ("seam", "rand_bits"):
        return None
    spec = OPS.resolve(node.op)
    tmpl = backend_np.template(spec.name) if spec else None
    if tmpl is None:
        return None
    args = [_fmt_const(c) for c in consts]
    attrs = dict(tmpl.defaults) | node.kwargs
    expr = tmpl.expr.format(*args, **{k: repr(v) for k, v in attrs.items()})
    with np.errstate(all="ignore"):
        value = eval(expr, backend_np.helpers())
    value = np.asarray(value)
    if value.shape != ():
        return None
    return Const(value.item(), None)


def _fmt_const(c: Const) -> str:
    v = c.value
    if isinstance(v, float) and not np.isfinite(v):
        return f"float({str(v)!r})"
    return repr(v)


def compile_phase(g: Graph, avals: dict[Value, Aval], backend: Any, phase: str, *,
                  seams: bool = False, numpy_backend: Any = None) -> CompiledStep:
    """Lower the ops of ``phase`` of ``g`` onto ``backend``; see the module docstring."""
    source, ns, signals = lower_phase(g, avals, backend, phase, seams=seams,
                                      numpy_backend=numpy_backend)
    code = compile(source, f"<plastix step {g.rule}:{phase}>", "exec")
    exec(code, ns)
    return CompiledStep(phase, source, ns["step"], signals, ns)


def lower_phase(g: Graph, avals: dict[Value, Aval], backend: Any, phase: str, *,
                seams: bool = False, numpy_backend: Any = None
                ) -> tuple[str, dict[str, Any], tuple[str, ...]]:
    """The step source of ``phase``, the namespace it runs in (helpers and named constants)
    and the names of its signals; nothing is compiled."""
    from plastix.backends import get_backend

    np_backend = numpy_backend or get_backend("numpy")
    nodes = g.nodes_for(phase)
    persistent = {n for n, d in g.variables.items() if d.kind in ("state", "fixed", "learned")}
    signals = tuple(n for n, d in g.variables.items() if d.kind == "signal")
    fast = backend.name == "numpy"
    if fast:
        backend = fp.TunedNumpy(backend, g.batch_size, g.dtype)

    # 1. fold constants and forward seams that are not hooked
    subst: dict[Value, Operand] = {}

    def sub(x: Operand) -> Operand:
        while isinstance(x, Value) and x in subst:
            x = subst[x]
        return x

    kept: list[Node] = []
    for node in nodes:
        ins = tuple(sub(x) for x in node.inputs)
        node = Node(node.index, node.op, ins, node.outputs, node.attrs, node.phase)
        if node.op == "seam" and not seams:
            subst[node.outputs[0]] = ins[0]
            continue
        if all(isinstance(x, Const) for x in ins) and len(node.outputs) == 1:
            folded = _fold(node, list(ins), np_backend)  # type: ignore[arg-type]
            if folded is not None:
                out = node.outputs[0]
                name = out.name if out.name not in g.variables else None
                subst[out] = Const(folded.value, name)
                continue
        kept.append(node)

    # 2. prune: keep what reaches a final state value or an enabled seam
    finals: dict[str, Operand] = {}
    for name in persistent:
        latest = _latest(kept, name, subst)
        if latest is not None:
            finals[name] = latest
    needed: set[Value] = {v for v in finals.values() if isinstance(v, Value)}
    live: list[Node] = []
    for node in reversed(kept):
        if node.op == "seam" or any(o in needed for o in node.outputs):
            live.append(node)
            needed.update(x for x in node.inputs if isinstance(x, Value))
    live.reverse()

    # 2b. rewrites (see plastix._fastpaths): row normalisation, event-driven updates
    event = None
    if fast:
        live = fp.fuse_rownorm(live, avals, finals)
        event = ev.find_event_add(live, avals, finals, g.pre_shape, g.post_shape)
        if event is not None:
            live = ev.reorder(live, event)

    # 3. plan buffers: which value owns which buffer, and which node writes into which
    buffer_of, out_into = plan_buffers(g, live, avals, finals, persistent, backend)
    if event is not None:
        i_add = live.index(event.add)
        if out_into.get(i_add) != (event.add.inputs.index(event.target),
                                   ("state", event.target.name)):
            event = None  # the update is not in place: no event-driven branch

    # 3b. scratch: weight-sized temporaries go to buffers kept in S (allocated once)
    scratch: list[tuple[str, tuple[int, ...], str, Any]] = []
    names = _Names(_RESERVED | set(backend.helpers()))

    def new_scratch(stem: str, shape: tuple[int, ...], dtype: str, fill: Any = None) -> str:
        nm = names.get(("scratch", len(scratch)), f"_buf_{stem}")
        scratch.append((nm, shape, dtype, fill))
        return nm

    extra: dict[int, dict[str, str]] = {}
    for i, node in enumerate(live):
        out = node.outputs[0]
        if node.op == fp.ROWNORM:
            shape, dtype = avals[out].shape, avals[out].dtype
            extra[i] = {"scratch": new_scratch(f"abs_{out.name}", shape, dtype)}
            if i not in out_into:
                out_into[i] = (-2, new_scratch(out.name, shape, dtype))
            continue
        # with seams a hook receives the change and may keep it: no buffer reused for it
        if seams or i in out_into or buffer_of.get(out) != ("temp", out) \
                or len(node.outputs) != 1 or not isinstance(node.op, str):
            continue
        spec = OPS.resolve(node.op)
        tmpl = backend.template(spec.name) if spec else None
        size = int(np.prod(avals[out].shape)) if avals[out].shape else 1
        if tmpl is None or tmpl.into is None or size < fp.SCRATCH_MIN \
                or avals[out].dtype == WEAK:
            continue
        out_into[i] = (-2, new_scratch(out.name, avals[out].shape, avals[out].dtype))

    # 4. lower to source
    for name in persistent:
        names.get(Value(name, 0), name)
    names.names[Value("pre", 0)] = "pre"
    names.names[Value("post", 0)] = "post"
    for s in signals:
        names.get(Value(s, 0), s)
    ns: dict[str, Any] = dict(backend.helpers())
    if fast:
        ns["rownorm_l1"] = fp.rownorm_l1(np)
    const_lines: list[str] = []

    def ref(x: Operand) -> str:
        if isinstance(x, Const):
            if x.name is not None:
                nm = names.get(("const", x.name), x.name)
                if nm not in ns:
                    ns[nm] = x.value
                    const_lines.append(f"# {nm} = {_fmt_const(x)}")
                return nm
            return _fmt_const(x)
        if x not in names.names:
            stem = x.name if x.version == 0 else f"{x.name}_{x.version}"
            names.get(x, stem)
        return names.names[x]

    body: list[str] = []
    used = {x.name for n in live for x in n.inputs if isinstance(x, Value) and x.version == 0}
    used |= set(finals)
    for name in sorted(persistent & used):
        body.append(f"{ref(Value(name, 0))} = S[{name!r}]")
    if scratch:
        key = f"_scratch_{phase}"
        ns["_alloc_scratch"] = fp.scratch_factory(backend, scratch)
        body += [f"_scratch = S.get({key!r})",
                 "if _scratch is None:",
                 f"    _scratch = S[{key!r}] = _alloc_scratch()",
                 f"{', '.join(s[0] for s in scratch)}, = _scratch"]
    if event is not None:
        ns["_event_limit"] = int(ev.EVENT_FRACTION * g.weight_shape[0] * g.weight_shape[1])
        ns["_event_area"] = g.weight_shape[0] * g.weight_shape[1]
        ns["_sparse_bounds"] = False
    dense_from = live.index(event.cone[0]) if event is not None else -1
    dense_to = live.index(event.add) if event is not None else -1
    for i, node in enumerate(live):
        line = _render(g, node, i, backend, ref, ns, out_into, names, extra.get(i, {}))
        if i == dense_from and event is not None:
            body += ev.render_event(event, avals, ref, lambda n: _template(backend, n), lambda
                                    stem: names.get(("event", stem), stem),
                                    (g.post_shape[1], g.pre_shape[1]), g.batch_size)
            body.append("else:")
        if dense_from <= i <= dense_to:
            line = "    " + line
        if event is not None and event.clamp is not None and node is event.clamp:
            body += ev.render_clamp(event, line, ref)
            continue
        body.append(line)
        if i == dense_to and event is not None and event.clamp is not None:
            body.append("    _bounds_ok = False")
    for name in sorted(finals):
        v = finals[name]
        target = Value(name, 0)
        if isinstance(v, Value) and buffer_of.get(v) == ("state", name):
            continue  # written in place
        body.append(f"assign({ref(target)}, {ref(v)})")
    args = ", ".join(("S", "pre", "post", "t", "seed", "seam", *(names.names[Value(s, 0)]
                                                          for s in signals)))
    src_lines = [f"# plastix step: rule {g.rule!r}, phase {phase!r}, backend {backend.key}",
                 *sorted(set(const_lines)), f"def step({args}):"]
    src_lines += [f"    {line}" for line in body] or ["    pass"]
    return "\n".join(src_lines) + "\n", ns, signals


def update_constants(step: CompiledStep, g: Graph, avals: dict[Value, Aval], backend: Any,
                     phase: str) -> bool:
    """Give ``step`` (a :meth:`CompiledStep.rebound` copy) the constants of graph ``g``, whose
    hyperparameters differ from the ones ``step`` was compiled with. Returns False, changing
    nothing, when ``g`` lowers to other code (a hyperparameter that shapes the graph)."""
    seams = "seam[" in step.source
    source, ns, _ = lower_phase(g, avals, backend, phase, seams=seams)
    if _code(source) != _code(step.source):
        return False
    for name, value in ns.items():
        if name.startswith("# ") or name in _RESERVED or callable(value):
            continue
        step.namespace[name] = value
    object.__setattr__(step, "source", source)
    return True


def _code(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not line.startswith("#"))


def _template(backend: Any, node: Node) -> tuple[Template, dict[str, str]]:
    spec = OPS.resolve(node.op)  # type: ignore[arg-type]
    assert spec is not None
    tmpl = backend.template(spec.name)
    attrs = dict(tmpl.defaults) | node.kwargs
    return tmpl, {k: (repr(tuple(v)) if isinstance(v, list) else repr(v))
                  for k, v in attrs.items()}


def _latest(nodes: list[Node], name: str, subst: dict[Value, Operand]) -> Operand | None:
    latest: Operand | None = None
    for node in nodes:
        for o in node.outputs:
            if o.name == name:
                latest = o
    for v, c in subst.items():
        if v.name == name and (latest is None or (isinstance(latest, Value)
                                                  and v.version > latest.version)):
            latest = c
            while isinstance(latest, Value) and latest in subst:
                latest = subst[latest]
    return latest


def _render(g: Graph, node: Node, i: int, backend: Any, ref: Callable[[Operand], str],
            ns: dict[str, Any], out_into: dict[int, tuple[int, Any]], names: _Names,
            extra: dict[str, str]) -> str:
    outs = ", ".join(ref(o) for o in node.outputs)
    args = [ref(x) for x in node.inputs]
    if node.op == fp.ROWNORM:
        pos, dest = out_into[i]
        dest = args[pos] if pos >= 0 else dest
        return f"{outs} = rownorm_l1({args[0]}, {args[1]}, {dest}, {extra['scratch']})"
    if node.op == "seam":
        target = node.kwargs["target"]
        return f"{outs} = seam[{target!r}]({args[0]})"
    if callable(node.op):
        fname = names.get(("fn", node.index), f"_{node.op_name}".replace("<", "").
                          replace(">", ""))
        if not fname.isidentifier():
            fname = names.get(("fn2", node.index), f"_fn{node.index}")
        ns[fname] = node.op
        kw = "".join(f", {k}={v!r}" for k, v in node.attrs)
        return f"{outs} = {fname}({', '.join(args)}, xp=xp{kw})"
    spec = OPS.resolve(node.op)
    assert spec is not None
    tmpl = backend.template(spec.name)
    if tmpl is None:
        raise RuleValidationError(g.rule, f"backend {backend.key!r} has no lowering for this "
                                  "op", op=node.op_name)
    params: dict[str, Any] = dict(tmpl.defaults) | node.kwargs
    if spec.name == "rand_bits":
        params["stream"] = node.index
    fmt = {k: (repr(tuple(v)) if isinstance(v, list) else repr(v)) for k, v in params.items()}
    if i in out_into and tmpl.into is not None:
        pos, buf = out_into[i]
        dest = args[pos] if pos >= 0 else buf if pos == -2 else ref(Value(node.outputs[0].name,
                                                                           0))
        return f"{outs} = {tmpl.into.format(*args, out=dest, **fmt)}"
    return f"{outs} = {tmpl.expr.format(*args, **fmt)}"


__all__ = ["CACHE", "WEAK", "CompiledStep", "compile_phase", "lower_phase", "update_constants"]
