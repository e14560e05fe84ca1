"""The graph passes that run before anything is lowered: each takes the ops of one phase and
returns fewer or simpler ones, computing the same values.

* :func:`fold_constants`: an op whose inputs are all constants (``exp(-dt / tau)``) is
  evaluated once, with NumPy; a seam without a hook is its input, so its readers read that;
* :func:`final_values`: what each persistent variable holds at the end of the step;
* :func:`prune`: ops whose results reach no final value and no hooked seam are dropped.
"""

from __future__ import annotations

from plastix._graph import Const, Node, Operand, Value
from plastix._ops import SEAM
from plastix.backends import Backend

from .render import evaluate

#: A substitution: values that were folded to a constant or forwarded to another value.
Subst = dict[Value, Operand]


def resolve(subst: Subst, x: Operand) -> Operand:
    """``x`` after every substitution."""
    while isinstance(x, Value) and x in subst:
        x = subst[x]
    return x


def fold_constants(nodes: list[Node], numpy_backend: Backend, *, seams: bool,
                   variables: set[str]) -> tuple[list[Node], Subst]:
    """The ops that remain once constants are folded and unhooked seams forwarded, and the
    substitution that says what the others became. A folded value keeps its name (it becomes
    a named constant of the step's source) unless it is a variable's."""
    subst: Subst = {}
    kept: list[Node] = []
    for node in nodes:
        ins = tuple(resolve(subst, x) for x in node.inputs)
        node = Node(node.index, node.op, ins, node.outputs, node.attrs, node.phase, node.spec)
        if node.spec is SEAM and not seams:
            subst[node.outputs[0]] = ins[0]
            continue
        folded = _fold(node, numpy_backend)
        if folded is not None:
            out = node.outputs[0]
            subst[out] = Const(folded, out.name if out.name not in variables else None)
            continue
        kept.append(node)
    return kept, subst


def _fold(node: Node, numpy_backend: Backend) -> float | int | bool | None:
    """The scalar value of ``node`` when every input is a constant and its op may be folded."""
    if node.spec is None or not node.spec.foldable or len(node.outputs) != 1 \
            or not all(isinstance(x, Const) for x in node.inputs):
        return None
    import numpy as np

    values = [x.value for x in node.inputs if isinstance(x, Const)]
    with np.errstate(all="ignore"):
        result = evaluate(node, numpy_backend, values)
    if result is None:
        return None
    value = np.asarray(result[0])
    return value.item() if value.shape == () else None


def final_values(nodes: list[Node], subst: Subst, persistent: set[str]) -> dict[str, Operand]:
    """What each persistent variable that the ops write holds at the end of the step: its
    newest version, which is an op's output or what a folded or forwarded version became."""
    newest: dict[str, tuple[int, Operand]] = {}
    written = [o for node in nodes for o in node.outputs]
    for v in [*written, *subst]:
        if v.name in persistent and v.version > newest.get(v.name, (-1, v))[0]:
            newest[v.name] = (v.version, resolve(subst, v))
    return {name: x for name, (_, x) in newest.items()}


def prune(nodes: list[Node], finals: dict[str, Operand]) -> list[Node]:
    """The ops that contribute to a final value or are hooked seams, in their order."""
    needed: set[Value] = {v for v in finals.values() if isinstance(v, Value)}
    live: list[Node] = []
    for node in reversed(nodes):
        if node.spec is SEAM or any(o in needed for o in node.outputs):
            live.append(node)
            needed.update(x for x in node.inputs if isinstance(x, Value))
    live.reverse()
    return live
