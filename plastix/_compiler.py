"""The compiler: a validated graph becomes the source of one Python step function.

``rule -> graph -> validate -> optimise -> lower -> step source``:

1. **fold**: ops whose inputs are all constants (``exp(-dt / tau)``) are evaluated once, with
   NumPy, at compile time;
2. **prune**: ops whose results reach no state, learned value or enabled seam are dropped;
3. **plan buffers**: an elementwise op writes into the buffer of an input that dies with it
   (same shape and dtype), and a new version of a state variable into the variable's own
   buffer, so a step allocates few arrays;
4. **lower**: each op is rendered through the backend's template table into one line.

The emitted function has the signature ``step(S, pre, post, t, seed, seam, **signals)``:
``S`` maps state and learned names to arrays and is updated in place; ``t`` (the step counter)
and ``seed`` feed the counter-based random generator; ``seam`` maps a learned name to a hook
applied to its change (only when compiled with seams). Compiled steps are cached by the graph's
fingerprint and the backend.
"""

from __future__ import annotations

import keyword
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import RuleValidationError
from ._graph import Const, Graph, Node, Operand, Value
from ._ops import OPS, WEAK, Aval


@dataclass(frozen=True)
class CompiledStep:
    """A lowered phase of a graph: its source and the function built from it."""

    phase: str
    source: str
    fn: Callable[..., None]
    inputs: tuple[str, ...]


_RESERVED = {"S", "t", "seam", "seed", "xp", "pre", "post"}


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
    from plastix.backends import get_backend

    np_backend = numpy_backend or get_backend("numpy")
    nodes = g.nodes_for(phase)
    persistent = {n for n, d in g.variables.items() if d.kind in ("state", "fixed", "learned")}
    signals = tuple(n for n, d in g.variables.items() if d.kind == "signal")

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

    # 3. plan buffers: which value owns which buffer, and which node writes into which
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

    # 4. lower to source
    names = _Names(_RESERVED | set(backend.helpers()))
    for name in persistent:
        names.get(Value(name, 0), name)
    names.names[Value("pre", 0)] = "pre"
    names.names[Value("post", 0)] = "post"
    for s in signals:
        names.get(Value(s, 0), s)
    ns: dict[str, Any] = dict(backend.helpers())
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
    for i, node in enumerate(live):
        body.append(_render(g, node, i, backend, ref, ns, out_into, names))
    for name in sorted(finals):
        v = finals[name]
        target = Value(name, 0)
        if isinstance(v, Value) and buffer_of.get(v) == ("state", name):
            if v != target:
                continue  # written in place
            continue
        body.append(f"assign({ref(target)}, {ref(v)})")
    args = ", ".join(("S", "pre", "post", "t", "seed", "seam", *(names.names[Value(s, 0)]
                                                          for s in signals)))
    src_lines = [f"# plastix step: rule {g.rule!r}, phase {phase!r}, backend {backend.key}",
                 *sorted(set(const_lines)), f"def step({args}):"]
    src_lines += [f"    {line}" for line in body] or ["    pass"]
    source = "\n".join(src_lines) + "\n"
    code = compile(source, f"<plastix step {g.rule}:{phase}>", "exec")
    exec(code, ns)
    return CompiledStep(phase, source, ns["step"], signals)


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
            ns: dict[str, Any], out_into: dict[int, tuple[int, Any]], names: _Names) -> str:
    outs = ", ".join(ref(o) for o in node.outputs)
    args = [ref(x) for x in node.inputs]
    if node.op == "seam":
        target = node.kwargs["target"]
        return f"{outs} = seam[{target!r}]({args[0]})"
    if callable(node.op):
        fname = names.get(("fn", node.index), f"_{node.op_name}".replace("<", "").
                          replace(">", ""))
        if not fname.isidentifier():
            fname = names.get(("fn2", node.index), f"_fn{node.index}")
        ns[fname] = node.op
        attrs = "".join(f", {k}={v!r}" for k, v in node.attrs)
        return f"{outs} = {fname}({', '.join(args)}, xp=xp{attrs})"
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
        pos, _ = out_into[i]
        dest = args[pos] if pos >= 0 else ref(Value(node.outputs[0].name, 0))
        return f"{outs} = {tmpl.into.format(*args, out=dest, **fmt)}"
    return f"{outs} = {tmpl.expr.format(*args, **fmt)}"


class CompileCache:
    """Compiled steps keyed by (graph fingerprint, backend, phase, seams); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: dict[Any, CompiledStep] = {}

    def get(self, key: Any, make: Callable[[], CompiledStep]) -> CompiledStep:
        with self._lock:
            hit = self._steps.get(key)
        if hit is not None:
            return hit
        step = make()
        with self._lock:
            return self._steps.setdefault(key, step)

    def clear(self) -> None:
        with self._lock:
            self._steps.clear()

    def __len__(self) -> int:
        return len(self._steps)


CACHE = CompileCache()

__all__ = ["CACHE", "WEAK", "CompiledStep", "compile_phase"]
