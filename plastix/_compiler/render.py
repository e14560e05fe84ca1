"""Rendering one op: the single place where a node and its backend's template become code.

Three parts of plastix need an op as code: constant folding (evaluated with NumPy when the
step is compiled), lowering (one line of the step's source) and checked steps (a step replayed
op by op to find the op that produced a non-finite value). All three render through
:func:`render`, so a template's defaults, a node's keyword attributes and the numbering of the
random streams are applied in one way; :func:`evaluate` renders with placeholder names and
evaluates the expression on concrete values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from plastix._graph import Node
from plastix.backends import Backend, Template


def literal(value: Any) -> str:
    """``value`` as Python source: non-finite floats as ``float('inf')``, lists as tuples."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, list):
        return repr(tuple(value))
    return repr(value)


def template_of(backend: Backend, node: Node) -> Template | None:
    """The template ``backend`` lowers ``node``'s op with (None for a function op, or an op
    the backend has no lowering for)."""
    return backend.template(node.spec.name) if node.spec is not None else None


def attributes(node: Node, template: Template) -> dict[str, str]:
    """The template's keyword fields for ``node``, as source: the template's defaults, the
    node's attributes, and for a random op its stream (the node's index in the graph)."""
    params: dict[str, Any] = dict(template.defaults) | node.kwargs
    if node.spec is not None and node.spec.random:
        params["stream"] = node.index
    return {k: literal(v) for k, v in params.items()}


def render(node: Node, template: Template, args: Sequence[str], *, out: str | None = None,
           scratch: Sequence[str] = ()) -> str:
    """``node`` as an expression over the sources ``args``; with ``out``, the form that writes
    into that buffer (when the template has one); ``scratch`` fills ``{scratch0}``, ... ."""
    fields = attributes(node, template) | {f"scratch{i}": s for i, s in enumerate(scratch)}
    if out is not None and template.into is not None:
        return template.into.format(*args, out=out, **fields)
    return template.expr.format(*args, **fields)


def evaluate(node: Node, backend: Backend, values: Sequence[Any],
             namespace: Mapping[str, Any] = {}) -> tuple[Any, ...] | None:
    """``node`` computed on concrete ``values`` with ``backend``'s lowering: one result per
    output, or None when the backend cannot lower it (or it is a fused kernel, which needs
    work space and exists only in compiled steps). ``namespace`` adds the names a template
    may read besides the backend's helpers (``seed`` and ``t`` for random ops, ``seam``)."""
    if callable(node.op):
        result = node.op(*values, xp=backend.xp, **node.kwargs)
        return result if isinstance(result, tuple) else (result,)
    template = template_of(backend, node)
    if template is None or (node.spec is not None and node.spec.scratch):
        return None
    names = [f"_a{i}" for i in range(len(values))]
    env = {**backend.helpers(), **namespace, **dict(zip(names, values, strict=True))}
    return (eval(render(node, template, names), env),)
