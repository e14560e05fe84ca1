"""The source of a generated per-synapse kernel: a
:class:`~plastix._compiler.synapse.KernelPlan` as one Numba function.

The kernel loops over the rows of the weight; in each row it makes one pass over the columns
per *stage* (a row reduction or a row normalisation needs the whole row before the next
stage can use it), computing every value of the plan with the scalar form of its op
(:data:`SCALAR_FORMS`, NumPy's semantics: ``maximum`` and ``clip`` keep NaN, a division by
zero gives an infinity), in the arrays' dtype, and writes the new values of the variables it
updates in place. Values that later stages read are kept in row buffers; a row reduction
sums with eight partial sums in float64. An event-driven variant visits only the rows and
columns of neurons that spiked (see :mod:`plastix._compiler.synapse`).

A silent post neuron's row takes simplified passes (:mod:`.kernel_zero`). ``syn.source`` shows
the call and the kernel's source.
"""

from __future__ import annotations

from typing import Any

from plastix._graph import Const, Node, Operand, Value
from plastix._ops import ROWNORM

from .kernel_event import event_block
from .kernel_text import _PRELUDE, SCALAR_FORMS, Writer
from .kernel_vectors import VectorStage
from .kernel_zero import ZeroRows
from .synapse import COL, ELEMENT, OUTER, ROW, ROW_SUM, SCALAR, KernelPlan


#: The scalar form of each elementwise op (operands ``{0}``, ``{1}``, ``{2}``).
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
        self.vectors = VectorStage(self)
        self.group, self.kept = self.vectors.group, self.vectors.kept
        self.zero = ZeroRows(self)
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
    def row_hoists(self, w: Writer) -> None:
        for x in self.plan.inputs:
            if self.plan.level.get(x) == ROW:
                w(f"{self.names[x]}_i = {self.names[x]}[i, 0]")
        for n in self.plan.nodes:
            if self.plan.level[n.outputs[0]] == OUTER:
                a = self.names[n.inputs[0]]
                for k in range(self.plan.batch):
                    w(f"{a}_i{k} = {a}[{k}, i]")

    def element_body(self, w: Writer, stage: int, zero_rows: bool = False) -> None:
        """The loop body of ``stage``; with ``zero_rows``, for a row whose post spikes are all
        0, the simplified body (:class:`~.kernel_zero.ZeroRows`)."""
        plan = self.plan
        zero: set[Value] = set()
        alias: dict[Value, str] = {}
        lines: list[tuple[Value, str]] = []
        spike = self.zero.operand_to_test() if zero_rows else None
        for n in plan.nodes:
            v = n.outputs[0]
            if plan.stage[v] != stage or plan.level[v] not in (ELEMENT, OUTER):
                continue
            if spike is not None and plan.level[v] == OUTER and n.inputs[0] == spike:
                zero.add(v)
                continue
            simple = self.zero.simplified(n, zero, alias, stage) if zero else None
            if simple == "0":
                zero.add(v)
            elif simple is not None and simple.startswith("="):
                alias[v] = simple[1:]
            else:
                lines.append((v, simple or self.expr(n, stage, alias)))
        needed = self.zero.needed(stage, zero, alias, lines)
        for v, text in lines:
            if v in needed:
                w(f"{self.names[v]} = {text}")
        for v in self.buffered:
            if plan.stage.get(v) == stage:
                w(f"buf_{self.names[v]}[j] = {self.zero.value(v, zero, alias)}")
        for n in plan.nodes:  # a row normalisation's |input| for the next stage's factor
            if n.spec is ROWNORM and plan.stage[n.outputs[0]] == stage + 1:
                x = n.inputs[0]
                src = self.zero.value(x, zero, alias) if isinstance(x, Value) and x in plan.stage \
                    else self.read(x, stage)
                w(f"abs_{self.names[n.outputs[0]]}[j] = abs({src})")
        for k, (_, v) in enumerate(plan.targets):
            if plan.stage.get(v) == stage:
                w(f"o{k}[i, j] = {self.zero.value(v, zero, alias)}")

    def row_values(self, w: Writer, stage: int) -> None:
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

    def loops(self, w: Writer, cols: str = "range(n1)", zero_rows: bool | None = None) -> None:
        """The passes over one row; ``zero_rows`` None tests the row (see
        :meth:`.ZeroRows.operand_to_test`) and takes the simplified passes for a silent one."""
        spike = self.zero.operand_to_test()
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
        w = Writer()
        for line in self.legend():
            w(line)
        w("n0 = o0.shape[0]")
        w("n1 = o0.shape[1]")
        for x in self.plan.inputs:
            if isinstance(x, Const):
                w(f"{self.names[x]} = _T({self.names[x]}_in)")
            elif self.plan.level.get(x) == SCALAR:
                w(f"{self.names[x]}_s = {self.names[x]}.ravel()[0]")
        self.vectors.stage(w)
        w("done = False")
        if self.plan.event is not None:
            event_block(self, w)
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
        self.vectors.write_back(w)
        w("return done")
        head = f"@njit(nogil=True, error_model='numpy', cache=CACHE)\ndef {fname}(ok, limit, " \
            f"{', '.join(self.params)}):"
        return "\n".join([_PRELUDE.format(dtype=self.plan.dtype), "", head, *w.lines, ""])
