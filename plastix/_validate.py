"""Validation of a rule's graph, run when the rule is built for a binding.

Abstract evaluation walks the ops in order and gives every value its shape and dtype. It
rejects names used before they are defined, unknown ops and attributes, shapes that do not
broadcast, dtype clashes, writes that do not fit the declared variable, and state that no op
reads. Every error names the rule, the op and the variable.
"""

from __future__ import annotations

import numpy as np

from ._errors import RuleValidationError
from ._graph import Const, Graph, Node, Value
from ._ops import WEAK, Aval, OpTypeError
from .registry._tables import OPS


def const_aval(c: Const) -> Aval:
    return Aval((), WEAK)


def _infer_function(g: Graph, node: Node, avals: list[Aval]) -> tuple[Aval, ...]:
    """Infer a user function's outputs by running it once with NumPy on zeros."""
    args = [operand.value if isinstance(operand, Const) else np.zeros(a.shape, dtype=a.dtype)
            for a, operand in zip(avals, node.inputs, strict=True)]
    try:
        result = node.op(*args, xp=np, **node.kwargs)  # type: ignore[operator]
    except Exception as exc:
        raise RuleValidationError(g.rule, f"raised {type(exc).__name__}: {exc} when run on "
                                  "zeros of the declared shapes", op=node.op_name) from exc
    results = result if isinstance(result, tuple) else (result,)
    if len(results) != len(node.outputs):
        raise RuleValidationError(g.rule, f"returned {len(results)} values for "
                                  f"{len(node.outputs)} outputs", op=node.op_name)
    out = []
    for r, v in zip(results, node.outputs, strict=True):
        arr = np.asarray(r)
        if arr.dtype.name not in ("bool", "int32", "int64", "float32", "float64"):
            raise RuleValidationError(g.rule, f"returned dtype {arr.dtype.name}",
                                      op=node.op_name, variable=v.name)
        out.append(Aval(tuple(arr.shape), arr.dtype.name))
    return tuple(out)


def infer_node(g: Graph, node: Node, avals: list[Aval]) -> tuple[Aval, ...]:
    """The abstract values of ``node``'s outputs given its inputs' abstract values."""
    if callable(node.op):
        return _infer_function(g, node, avals)
    spec = node.spec
    if spec is None:
        known = ", ".join(OPS.names(with_aliases=True))
        raise RuleValidationError(g.rule, f"unknown op; known ops: {known}", op=node.op_name)
    if len(avals) != spec.arity:
        raise RuleValidationError(g.rule, f"takes {spec.arity} inputs, got {len(avals)}",
                                  op=node.op_name)
    unknown = set(node.kwargs) - set(spec.attrs)
    if unknown:
        raise RuleValidationError(g.rule, f"unknown attribute(s) {sorted(unknown)}; "
                                  f"expected {list(spec.attrs)}", op=node.op_name)
    if len(node.outputs) != 1:
        raise RuleValidationError(g.rule, "a primitive has exactly one output", op=node.op_name)
    try:
        return (spec.infer(*avals, **node.kwargs),)
    except OpTypeError as exc:
        names = ", ".join(str(o) for o in node.inputs)
        raise RuleValidationError(g.rule, f"{exc} (inputs: {names})", op=node.op_name,
                                  variable=node.outputs[0].name) from None
    except TypeError as exc:
        raise RuleValidationError(g.rule, f"bad attributes: {exc}", op=node.op_name) from None


def validate(g: Graph) -> dict[str, dict[Value, Aval]]:
    """Check ``g``; return, per phase, the abstract value of every value the phase computes."""
    result: dict[str, dict[Value, Aval]] = {}
    read: set[str] = set()
    for phase in ("bind", "step", "final"):
        avals: dict[Value, Aval] = {Value(n, 0): d.aval for n, d in g.variables.items()}
        for node in g.nodes_for(phase):
            ins = []
            for x in node.inputs:
                if isinstance(x, Const):
                    ins.append(const_aval(x))
                    continue
                if x not in avals:
                    raise RuleValidationError(g.rule, "is read before it is written in this "
                                              "phase", op=node.op_name, variable=x.name)
                read.add(x.name)
                ins.append(avals[x])
            for value, aval in zip(node.outputs, infer_node(g, node, ins), strict=True):
                decl = g.variables.get(value.name)
                if decl is not None:
                    _check_write(g, node, value, aval, decl.aval)
                avals[value] = aval
        result[phase] = avals
    for name, decl in g.variables.items():
        if decl.kind in ("state", "fixed") and name not in read:
            raise RuleValidationError(g.rule, "is declared but never read by any op",
                                      variable=name)
    return result


def _check_write(g: Graph, node: Node, value: Value, got: Aval, declared: Aval) -> None:
    try:
        shape = np.broadcast_shapes(got.shape, declared.shape)
    except ValueError:
        shape = None
    if shape != declared.shape:
        raise RuleValidationError(g.rule, f"writes shape {list(got.shape)} to a variable "
                                  f"declared {list(declared.shape)}", op=node.op_name,
                                  variable=value.name)
    if got.dtype not in (declared.dtype, WEAK):
        raise RuleValidationError(g.rule, f"writes dtype {got.dtype} to a variable declared "
                                  f"{declared.dtype}; add an explicit 'cast'",
                                  op=node.op_name, variable=value.name)
