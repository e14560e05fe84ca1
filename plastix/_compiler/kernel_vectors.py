"""The vector stage of a generated kernel: the ops on traces and spikes, computed before the
synapses (loops over (batch, n) instead of calls), and the new values of the vector
variables, stored after every read of their old ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plastix._graph import Const, Node, Operand, Value

from .kernel_text import Writer

if TYPE_CHECKING:
    from .kernel_source import Source


class VectorStage:
    """The vector ops of one kernel, grouped into loops by shape."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.group: dict[Value, int] = {}
        self.kept: set[Value] = set()
        self._groups()

    def _groups(self) -> None:
        """Runs of vector ops of one shape share a loop; a value read outside its run (by
        another run or by the synapses) or a vector variable's new value is kept in an
        array ``t_v<i>``, the others are scalars of the loop."""
        plan = self.src.plan
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
            self.src.names[v] = f"t_v{n.index}" if v in keep else f"v{n.index}"

    def read(self, x: Operand, out: tuple[int, ...]) -> str:
        """How a vector loop over ``out`` (indices ``b``, ``k``) reads operand ``x``."""
        if isinstance(x, Const):
            return self.src.names[x]
        if x in self.group and x not in self.kept:
            return self.src.names[x]
        shape = self.src.plan.avals[x].shape
        name = self.src.names[x]
        if shape == out:
            return f"{name}[b, k]"
        if len(shape) == 2 and shape[0] == 1 and shape[1] == out[1]:
            return f"{name}[0, k]"
        if shape == (out[1],):
            return f"{name}[k]"
        return f"{name}_s"

    def stage(self, w: Writer) -> None:
        plan = self.src.plan
        for v in sorted(self.kept, key=lambda v: (v.name, v.version)):
            aval = plan.avals[v]
            dtype = "np.bool_" if aval.dtype == "bool" else f"np.{aval.dtype}"
            w(f"{self.src.names[v]} = np.empty({aval.shape}, {dtype})")
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
                args = [self.read(x, out) for x in n.inputs]
                expr = self.src.scalar(n, args)
                v = n.outputs[0]
                w(f"{self.src.names[v]}[b, k] = {expr}" if v in self.kept
                  else f"{self.src.names[v]} = {expr}")
            w.dedent()
            w.dedent()

    def write_back(self, w: Writer) -> None:
        """Store the vector variables' new values (after every read of their old ones)."""
        for k, (_, v) in enumerate(self.src.plan.targets):
            if v in self.group:
                w(f"o{k}[:, :] = {self.src.names[v]}")
