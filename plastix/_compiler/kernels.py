"""Generated per-synapse kernels: a :class:`~plastix._compiler.synapse.KernelPlan` as the
source of one Numba function, compiled once per source and called from the step.

The kernel loops over the rows of the weight; in each row it makes one pass over the columns
per *stage* (a row reduction or a row normalisation needs the whole row before the next
stage can use it), computing every value of the plan with the scalar form of its op
(:data:`SCALAR_FORMS`, NumPy's semantics: ``maximum`` and ``clip`` keep NaN, a division by
zero gives an infinity), in the arrays' dtype, and writes the new values of the variables it
updates in place. Values that later stages read are kept in row buffers; a row reduction
sums with eight partial sums in float64. An event-driven variant visits only the rows and
columns of neurons that spiked (see :mod:`plastix._compiler.synapse`).

``syn.source`` shows the call; ``Kernel.source`` the kernel's own source.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plastix._graph import Const, Node, Operand, Value
from plastix._ops import ROWNORM

from .synapse import COL, ELEMENT, OUTER, ROW, ROW_SUM, SCALAR, KernelPlan

#: The scalar form of each elementwise op (operands ``{0}``, ``{1}``, ``{2}``).
SCALAR_FORMS = {
    "add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})", "div": "({0} / {1})",
    "var_linear": "({0} * {1} + {2})", "neg": "(-{0})", "abs": "abs({0})",
    "exp": "np.exp({0})", "log": "np.log({0})", "sqrt": "np.sqrt({0})", "pow": "({0} ** {1})",
    "sign": "np.sign({0})", "relu": "_maximum({0}, _ZERO)",
    "heaviside": "(_ONE if {0} > _ZERO else _ZERO)", "maximum": "_maximum({0}, {1})",
    "minimum": "_minimum({0}, {1})", "clamp": "_clip({0}, {1}, {2})",
    "where": "({1} if {0} else {2})", "greater": "({0} > {1})", "greater_equal": "({0} >= {1})",
    "less": "({0} < {1})", "less_equal": "({0} <= {1})", "equal": "({0} == {1})",
    "not_equal": "({0} != {1})",
}

_PRELUDE = '''import numpy as np
from numba import njit

_T = np.{dtype}
_ZERO = _T(0.0)
_ONE = _T(1.0)


@njit(inline="always")
def _maximum(a, b):
    return a if (a > b or a != a) else b


@njit(inline="always")
def _minimum(a, b):
    return a if (a < b or a != a) else b


@njit(inline="always")
def _clip(x, lo, hi):
    x = lo if x < lo else x
    return hi if x > hi else x


@njit(inline="always")
def _sum(x):
    n = x.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    k = 0
    while k + 8 <= n:
        s0 += x[k]
        s1 += x[k + 1]
        s2 += x[k + 2]
        s3 += x[k + 3]
        s4 += x[k + 4]
        s5 += x[k + 5]
        s6 += x[k + 6]
        s7 += x[k + 7]
        k += 8
    total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while k < n:
        total += x[k]
        k += 1
    return total


@njit(inline="always")
def _amax(x):
    m = x[0]
    for k in range(1, x.shape[0]):
        m = _maximum(m, x[k])
    return m
'''


class _Writer:
    """Source lines with indentation."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def indent(self) -> _Writer:
        self.depth += 1
        return self

    def dedent(self) -> None:
        self.depth -= 1


class Source:
    """Builds the source of one kernel from a plan (see the module docstring)."""

    def __init__(self, plan: KernelPlan) -> None:
        self.plan = plan
        self.names: dict[Any, str] = {}
        self.params: list[str] = []
        #: each parameter's name in the rule's graph, for the kernel's legend
        self.labels: dict[str, str] = {}
        for k, (name, _) in enumerate(plan.targets):
            self.names[Value(name, 0)] = self.names[("out", name)] = f"o{k}"
            self._param(f"o{k}", name)
        for k, x in enumerate(x for x in plan.inputs if x not in self.names):
            self.names[x] = f"a{k}"
            # a constant comes as a Python number and is cast to the arrays' dtype in the
            # kernel, as NumPy treats a Python scalar (a float64 would round differently)
            self._param(f"a{k}_in" if isinstance(x, Const) else f"a{k}",
                        str(x) if not isinstance(x, Const) or x.name else repr(x.value))
        for role, v in plan.spikes.items():
            if v not in self.names:
                self.names[v] = f"s_{role}"
                self._param(f"s_{role}", str(v))
        for n in plan.nodes:
            self.names[n.outputs[0]] = f"v{n.index}"
        self._vector_groups()
        #: row values that divide element values (see :meth:`expr`)
        self.divisors = {n.inputs[1] for n in plan.nodes if n.op == "div"
                         and isinstance(n.inputs[1], Value)
                         and plan.level.get(n.inputs[1]) == ROW and n.inputs[1] in plan.stage}
        stages = max(plan.stage.values(), default=0)
        readers: dict[Value, int] = {}
        for n in plan.nodes:
            for x in n.inputs:
                if isinstance(x, Value) and x in plan.stage:
                    readers[x] = max(readers.get(x, 0), plan.stage[n.outputs[0]])
        #: element values read in a later stage live in row buffers
        self.buffered = sorted((v for v, s in readers.items()
                                if plan.level[v] == ELEMENT and s > plan.stage[v]),
                               key=lambda v: (v.name, v.version))
        self.buffered += [n.inputs[0] for n in plan.nodes
                          if plan.level[n.outputs[0]] == ROW_SUM and n.inputs[0] not in
                          self.buffered and n.inputs[0] in plan.stage]
        self.stages = stages

    def _vector_groups(self) -> None:
        """Runs of vector ops of one shape share a loop; a value read outside its run (by
        another run or by the synapses) or a vector variable's new value is kept in an
        array ``t_v<i>``, the others are scalars of the loop."""
        plan = self.plan
        self.group: dict[Value, int] = {}
        shape = None
        g = -1
        for n in plan.vector_nodes:
            out = plan.avals[n.outputs[0]].shape
            if out != shape:
                g, shape = g + 1, out
            self.group[n.outputs[0]] = g
        keep = {v for _, v in plan.targets if v in self.group}
        for n in [*plan.vector_nodes, *plan.nodes]:
            here = self.group.get(n.outputs[0], -1)
            keep.update(x for x in n.inputs if isinstance(x, Value) and x in self.group
                        and self.group[x] != here)
        self.kept = keep
        for n in plan.vector_nodes:
            v = n.outputs[0]
            self.names[v] = f"t_v{n.index}" if v in keep else f"v{n.index}"

    def array(self, x: Value) -> str:
        """The name of an array the kernel holds: a parameter or a kept vector value."""
        return self.names[x]

    def read_vector(self, x: Operand, out: tuple[int, ...]) -> str:
        """How a vector loop over ``out`` (indices ``b``, ``k``) reads operand ``x``."""
        if isinstance(x, Const):
            return self.names[x]
        if x in self.group and x not in self.kept:
            return self.names[x]
        shape = self.plan.avals[x].shape
        name = self.names[x]
        if shape == out:
            return f"{name}[b, k]"
        if len(shape) == 2 and shape[0] == 1 and shape[1] == out[1]:
            return f"{name}[0, k]"
        if shape == (out[1],):
            return f"{name}[k]"
        return f"{name}_s"

    def vector_stage(self, w: _Writer) -> None:
        plan = self.plan
        for v in sorted(self.kept, key=lambda v: (v.name, v.version)):
            aval = plan.avals[v]
            dtype = "np.bool_" if aval.dtype == "bool" else f"np.{aval.dtype}"
            w(f"{self.names[v]} = np.empty({aval.shape}, {dtype})")
        runs: dict[int, list[Node]] = {}
        for n in plan.vector_nodes:
            runs.setdefault(self.group[n.outputs[0]], []).append(n)
        for nodes in runs.values():
            out = plan.avals[nodes[0].outputs[0]].shape
            w(f"for b in range({out[0]}):")
            w.indent()
            w(f"for k in range({out[1]}):")
            w.indent()
            for n in nodes:
                args = [self.read_vector(x, out) for x in n.inputs]
                expr = self.scalar(n, args)
                v = n.outputs[0]
                w(f"{self.names[v]}[b, k] = {expr}" if v in self.kept
                  else f"{self.names[v]} = {expr}")
            w.dedent()
            w.dedent()

    def write_back(self, w: _Writer) -> None:
        """Store the vector variables' new values (after every read of their old ones)."""
        for k, (_, v) in enumerate(self.plan.targets):
            if v in self.group:
                w(f"o{k}[:, :] = {self.names[v]}")

    @staticmethod
    def scalar(node: Node, args: list[str]) -> str:
        if node.op == "cast":
            return f"_T({args[0]})" if node.kwargs["dtype"] != "bool" else f"({args[0]} != 0)"
        return SCALAR_FORMS[str(node.op)].format(*args)

    # -- operands -----------------------------------------------------------------------------
    def read(self, x: Operand, stage: int) -> str:
        """How the loop body of ``stage`` reads operand ``x`` at row ``i``, column ``j``."""
        level = self.plan.level.get(x, SCALAR)
        name = self.names[x]
        if isinstance(x, Value) and x in self.group:  # a vector value, kept in an array
            shape = self.plan.avals[x].shape
            return f"{name}[0, j]" if shape[-1] == self.plan.shape[1] else f"{name}[0, i]"
        if isinstance(x, Value) and x in self.plan.stage:  # a value the kernel computes
            if level == ELEMENT and x in self.buffered and self.plan.stage[x] < stage:
                return f"buf_{name}[j]"
            return name
        if level == ELEMENT:
            return f"{name}[i, j]"
        if level == ROW:
            return f"{name}_i"
        if level == COL and isinstance(x, Value):
            return f"{name}[0, j]" if len(self.plan.avals[x].shape) == 2 else f"{name}[j]"
        if isinstance(x, Value):  # an array of one element (a scalar signal)
            return f"{name}_s"
        return name  # a constant parameter

    def outer(self, node: Node) -> str:
        a, b = (self.names[x] for x in node.inputs)
        return " + ".join(f"{a}_i{k} * {b}[{k}, j]" for k in range(self.plan.batch))

    def expr(self, node: Node, stage: int, alias: dict[Value, str] | None = None) -> str:
        if node.outputs[0] == self.plan.rank_value:  # the weight after the rank-k update
            return f"{self.names[Value(self.plan.targets[0][0], 0)]}[i, j]"
        kind = self.plan.level[node.outputs[0]]
        if kind == OUTER:
            return f"({self.outer(node)})"
        if node.spec is ROWNORM:
            x, name = self.read(node.inputs[0], stage), self.names[node.outputs[0]]
            c = self.read(node.inputs[1], stage)
            return f"({x} * factor_{name} if finite_{name} else {c} * ({x} / total_{name}))"
        args = [alias[x] if alias and isinstance(x, Value) and x in alias else self.read(x, stage)
                for x in node.inputs]
        divisor = node.inputs[1] if node.op == "div" else None
        if isinstance(divisor, Value) and self.plan.level.get(divisor) == ROW:
            # a division by a row's value: a multiplication by its reciprocal, computed once
            # per row (within a rounding of the quotient), unless the reciprocal overflows
            inv = f"inv_{self.names[divisor]}"
            return f"({args[0]} * {inv} if finite_{inv} else {args[0]} / {args[1]})"
        return self.scalar(node, args)

    # -- blocks -------------------------------------------------------------------------------
    def row_hoists(self, w: _Writer) -> None:
        for x in self.plan.inputs:
            if self.plan.level.get(x) == ROW:
                w(f"{self.names[x]}_i = {self.names[x]}[i, 0]")
        for n in self.plan.nodes:
            if self.plan.level[n.outputs[0]] == OUTER:
                a = self.names[n.inputs[0]]
                for k in range(self.plan.batch):
                    w(f"{a}_i{k} = {a}[{k}, i]")

    def element_body(self, w: _Writer, stage: int, zero_rows: bool = False) -> None:
        """The loop body of ``stage``; with ``zero_rows``, for a row whose spikes in the
        outer products' row operand (:meth:`zero_operand`) are all 0: those products are 0,
        and the ops they feed are simplified (``x * 0 = 0``, ``x + 0 = x``, ``0 - y = -y``;
        the factors are finite), so a silent post neuron's row costs less."""
        plan = self.plan
        zero: set[Value] = set()
        alias: dict[Value, str] = {}
        lines: list[tuple[Value, str]] = []
        spike = self.zero_operand() if zero_rows else None
        for n in plan.nodes:
            v = n.outputs[0]
            if plan.stage[v] != stage or plan.level[v] not in (ELEMENT, OUTER):
                continue
            if spike is not None and plan.level[v] == OUTER and n.inputs[0] == spike:
                zero.add(v)
                continue
            simple = self.simplified(n, zero, alias, stage) if zero else None
            if simple == "0":
                zero.add(v)
            elif simple is not None and simple.startswith("="):
                alias[v] = simple[1:]
            else:
                lines.append((v, simple or self.expr(n, stage, alias)))
        needed = self._needed(stage, zero, alias, lines)
        for v, text in lines:
            if v in needed:
                w(f"{self.names[v]} = {text}")
        for v in self.buffered:
            if plan.stage.get(v) == stage:
                w(f"buf_{self.names[v]}[j] = {self.value(v, zero, alias)}")
        for n in plan.nodes:  # a row normalisation's |input| for the next stage's factor
            if n.spec is ROWNORM and plan.stage[n.outputs[0]] == stage + 1:
                x = n.inputs[0]
                src = self.value(x, zero, alias) if isinstance(x, Value) and x in plan.stage \
                    else self.read(x, stage)
                w(f"abs_{self.names[n.outputs[0]]}[j] = abs({src})")
        for k, (_, v) in enumerate(plan.targets):
            if plan.stage.get(v) == stage:
                w(f"o{k}[i, j] = {self.value(v, zero, alias)}")

    def value(self, v: Value, zero: set[Value], alias: dict[Value, str]) -> str:
        return "_ZERO" if v in zero else alias.get(v, self.names[v])

    def _needed(self, stage: int, zero: set[Value], alias: dict[Value, str],
                lines: list[tuple[Value, str]]) -> set[Value]:
        """The values of ``lines`` that the stage's stores read, directly or through others."""
        plan = self.plan
        made = {n.outputs[0]: n for n in plan.nodes}
        stack = [v for v in self.buffered if plan.stage.get(v) == stage]
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
                stack += [u for u in computed if self.names[u] == alias[v]]
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
        return self.scalar(n, other)

    def operand(self, x: Operand, zero: set[Value], alias: dict[Value, str],
                stage: int) -> str:
        if isinstance(x, Value) and x in zero:
            return "_ZERO"
        if isinstance(x, Value) and x in alias:
            return alias[x]
        return self.read(x, stage)

    def zero_operand(self) -> Value | None:
        """The row operand of the outer products that is worth testing for zero rows: the
        post spikes (a silent post neuron's row has no potentiation), when an outer product
        reads them."""
        post = Value("post", 0)
        used = any(self.plan.level[n.outputs[0]] == OUTER and n.inputs[0] == post
                   for n in self.plan.nodes)
        return post if used else None

    def row_values(self, w: _Writer, stage: int) -> None:
        """The row values known from ``stage`` on: reductions, factors, row-level ops."""
        plan = self.plan
        for n in plan.nodes:
            v = n.outputs[0]
            if plan.stage[v] != stage:
                continue
            name = self.names[v]
            if plan.level[v] == ROW_SUM:
                x = n.inputs[0]  # a value of the kernel (in a row buffer) or an array's row
                src = f"buf_{self.names[x]}" if x in plan.stage else f"{self.names[x]}[i]"
                if n.op == "amax":
                    w(f"{name} = _amax({src})")
                elif n.op == "mean":
                    w(f"{name} = _T(_sum({src})) / _T({src}.shape[0])")
                else:
                    w(f"{name} = _T(_sum({src}))")
            elif n.spec is ROWNORM:
                c = self.read(n.inputs[1], stage)
                w(f"total_{name} = _T(_sum(abs_{name}))")
                w(f"factor_{name} = {c} / total_{name} if total_{name} != 0 else total_{name}")
                w(f"finite_{name} = abs(factor_{name}) < np.inf")
            elif plan.level[v] == ROW:
                w(f"{name} = {self.expr(n, stage)}")
            if v in self.divisors:
                w(f"inv_{name} = _ONE / {name}")
                w(f"finite_inv_{name} = abs(inv_{name}) < np.inf")

    def loops(self, w: _Writer, cols: str = "range(n1)", zero_rows: bool | None = None) -> None:
        """The passes over one row; ``zero_rows`` None tests the row (see
        :meth:`zero_operand`) and takes the simplified passes for a silent one."""
        spike = self.zero_operand()
        if zero_rows is None and spike is not None:
            a = self.names[spike]
            w("if " + " and ".join(f"{a}_i{k} == 0" for k in range(self.plan.batch)) + ":")
            self.loops(w.indent(), cols, True)
            w.dedent()
            w("else:")
            self.loops(w.indent(), cols, False)
            w.dedent()
            return
        for stage in range(self.stages + 1):
            if stage:
                self.row_values(w, stage)
            w(f"for j in {cols}:")
            self.element_body(w.indent(), stage, bool(zero_rows))
            w.dedent()

    def event_block(self, w: _Writer) -> None:
        plan = self.plan
        assert plan.event is not None
        line = 64 // (4 if plan.dtype == "float32" else 8)
        w("if ok:")
        w.indent()
        for role, n in (("rows", "n0"), ("cols", "n1")):
            on = getattr(plan.event, role)
            s = self.names[plan.spikes[role]]
            w(f"{role} = np.empty({n}, np.intp)")
            w(f"n_{role} = 0")
            if on:
                w(f"for k in range({n}):")
                w.indent()
                cond = " or ".join(f"{s}[{b}, k] != 0" for b in range(plan.batch))
                w(f"if {cond}:")
                w.indent()
                w(f"{role}[n_{role}] = k")
                w(f"n_{role} += 1")
                w.dedent()
                w.dedent()
        w(f"cost = n_rows * n1 + (n0 - n_rows) * min(n_cols * {line}, n1)")
        w("if cost <= limit:")
        w.indent()
        w("is_row = np.zeros(n0, np.bool_)")
        w("for r in range(n_rows):")
        w.indent()
        w("i = rows[r]")
        w("is_row[i] = True")
        self.row_hoists(w)
        self.loops(w)
        w.dedent()
        w("if n_cols:")
        w.indent()
        w("for i in range(n0):")
        w.indent()
        w("if is_row[i]:")
        w("    continue")
        self.row_hoists(w)
        self.loops(w, "cols[:n_cols]")
        w.dedent()
        w.dedent()
        w("done = True")
        w.dedent()
        w.dedent()

    def _param(self, name: str, label: str) -> None:
        self.params.append(name)
        self.labels[name] = label

    def legend(self) -> list[str]:
        """Comment lines naming what each parameter is in the rule's graph."""
        lines, line = [], "#"
        for item in (f"{p}={self.labels[p]}" for p in self.params):
            if len(line) + len(item) > 90:
                lines.append(line)
                line = "#"
            line += f" {item}"
        return [*lines, line]

    def text(self, fname: str) -> str:
        w = _Writer()
        for line in self.legend():
            w(line)
        w("n0 = o0.shape[0]")
        w("n1 = o0.shape[1]")
        for x in self.plan.inputs:
            if isinstance(x, Const):
                w(f"{self.names[x]} = _T({self.names[x]}_in)")
            elif self.plan.level.get(x) == SCALAR:
                w(f"{self.names[x]}_s = {self.names[x]}.ravel()[0]")
        self.vector_stage(w)
        w("done = False")
        if self.plan.event is not None:
            self.event_block(w)
        w("if not done:")
        w.indent()
        for v in self.buffered:
            dtype = self.plan.avals[v].dtype
            w(f"buf_{self.names[v]} = np.empty(n1, np.{'bool_' if dtype == 'bool' else dtype})")
        for n in self.plan.nodes:
            if n.spec is ROWNORM:
                w(f"abs_{self.names[n.outputs[0]]} = np.empty(n1, _T)")
        w("for i in range(n0):")
        w.indent()
        self.row_hoists(w)
        self.loops(w)
        w.dedent()
        w.dedent()
        self.write_back(w)
        w("return done")
        head = f"@njit(nogil=True, error_model='numpy', cache=CACHE)\ndef {fname}(ok, limit, " \
            f"{', '.join(self.params)}):"
        return "\n".join([_PRELUDE.format(dtype=self.plan.dtype), "", head, *w.lines, ""])


_CACHE: dict[str, Callable[..., bool]] = {}
_LOCK = threading.Lock()
CACHE_ENV = "PLASTIX_KERNEL_CACHE"


def cache_folder() -> Path | None:
    """Where compiled kernels are kept between processes (Numba's cache beside a copy of
    each kernel's source): ``$PLASTIX_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/plastix`` or
    ``~/.cache/plastix``; None when ``PLASTIX_KERNEL_CACHE=0`` turns it off."""
    chosen = os.environ.get(CACHE_ENV, "").strip()
    if chosen.lower() in ("0", "false", "no", "off"):
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "plastix" / "kernels"


def _source_file(source: str) -> str | None:
    """A file holding ``source`` for Numba's cache to key on (it checks the file and keeps
    the machine code beside it); None when no cache folder can be written."""
    folder = cache_folder()
    if folder is None:
        return None
    path = folder / f"kernel_{hashlib.sha256(source.encode()).hexdigest()[:20]}.py"
    try:
        if not path.exists() or path.read_text() != source:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(source)
            os.replace(tmp, path)
    except OSError:
        return None
    return str(path)


def compile_kernel(source: str, fname: str) -> Callable[..., bool]:
    """The Numba function defined by ``source``, once per source. The code run is always
    ``source`` itself; with a cache folder, Numba keeps its machine code there, so a kernel
    is compiled once per machine rather than once per process."""
    with _LOCK:
        hit = _CACHE.get(source)
        if hit is None:
            filename = _source_file(source)
            # Numba rebuilds a cached kernel's environment from an importable module's name
            namespace: dict[str, Any] = {"CACHE": filename is not None, "__name__": __name__}
            exec(compile(source, filename or f"<plastix kernel {fname}>", "exec"), namespace)
            hit = _CACHE[source] = namespace[fname]
        return hit


@dataclass
class Kernel:
    """A generated kernel and how a step calls it: ``kernel(X, *arrays and constants)``,
    returning the arrays of the variables it updated in place. ``source`` is the kernel's
    source; ``call`` the function the step calls (it passes the backend's arrays as the
    kernel reads them, and keeps ``X``'s bound flags)."""

    source: str
    call: Callable[..., tuple[Any, ...]]
    is_kernel = True

    def __call__(self, X: Any, *args: Any) -> tuple[Any, ...]:
        return self.call(X, *args)


_CALL = """def call(X, {params}{rank_params}):
    {rank}ok = {ok}
    fn(ok, X.event_limit, {args})
    X.in_bounds = {bounded}
    return {targets},
"""


def _caller(plan: KernelPlan, fn: Callable[..., bool], operands: list[Operand],
            view: Callable[[Any], Any] | None, tracks_writes: bool,
            rank_update: Callable[..., None] | None) -> Callable[..., tuple[Any, ...]]:
    """The Python function the step calls: arrays through ``view`` (None: as they are), and
    the event-driven path allowed only while the bound flags can be trusted (the step checks
    the weight's write count on backends that count writes, see ``emit``; elsewhere the user
    promises it with ``sparse_bounds``)."""
    params = [f"p{k}" for k in range(len(operands))]
    args = [p if isinstance(x, Const) or view is None else f"view({p})"
            for p, x in zip(params, operands, strict=True)]
    trusted = "X.in_bounds" + ("" if tracks_writes else " and X.sparse_bounds")
    rank_params, terms, k = [], [], 0
    for term in plan.rank:  # its coefficients, then a and b (see rank_operands)
        names = [f"r{k + m}" for m in range(len(term.coefficients) + 2)]
        k += len(names)
        rank_params += names
        coef = " * ".join([str(term.sign), *names[:-2]])
        terms.append(f"({coef}, {names[-2]}, {names[-1]})")
    text = _CALL.format(
        params=", ".join(params), args=", ".join(args),
        rank_params="".join(f", {p}" for p in rank_params),
        rank=f"rank_update(p0, ({', '.join(terms)},))\n    " if plan.rank else "",
        ok=trusted if plan.needs_invariant else "True", bounded=plan.bounded,
        targets=", ".join(params[:len(plan.targets)]))
    namespace: dict[str, Any] = {"fn": fn, "view": view, "rank_update": rank_update}
    exec(compile(text, "<plastix kernel call>", "exec"), namespace)
    return namespace["call"]


def build(plan: KernelPlan, view: Callable[[Any], Any] | None, tracks_writes: bool,
          rank_update: Callable[..., None] | None, fname: str = "synapse") -> Kernel:
    """The kernel of ``plan`` for a backend whose arrays the kernel reads through ``view``
    (None: as they are); ``tracks_writes``: the step notices a weight written from outside;
    ``rank_update(w, terms)`` adds ``sum c a^T b`` to ``w`` in place."""
    source = Source(plan).text(fname)
    fn = compile_kernel(source, fname)
    return Kernel(source, _caller(plan, fn, call_operands(plan), view, tracks_writes,
                                  rank_update))


def call_operands(plan: KernelPlan, src: Source | None = None) -> list[Operand]:
    """What the step passes to the kernel, after ``X``: the targets' arrays (their values at
    the start of the step), the inputs, the spike arrays of an event-driven kernel (then
    :func:`rank_operands`)."""
    targets = [Value(name, 0) for name, _ in plan.targets]
    rest = [x for x in plan.inputs if x not in targets]
    spikes = [v for v in plan.spikes.values() if v not in targets and v not in rest]
    return [*targets, *rest, *dict.fromkeys(spikes)]


def rank_operands(plan: KernelPlan) -> list[Operand]:
    """What the step passes for the rank-k update, after :func:`call_operands`: per term its
    coefficients, then its two vectors."""
    out: list[Operand] = []
    for t in plan.rank:
        out += [*t.coefficients, t.a, t.b]
    return out
