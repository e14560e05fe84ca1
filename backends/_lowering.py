"""The base lowering table: how each primitive op is written in generated step code.

A backend copies this table and overrides the few entries its array library spells
differently (as Brian2's code generators share one operator table). Templates refer to their
inputs as ``{0}``, ``{1}``, ..., to static attributes by name and to the result buffer as
``{out}``; ``xp`` is the backend's array namespace, and any other name is a helper function
of the backend (see ``Backend.helpers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    """How one op is rendered.

    ``expr`` computes a new array; ``into`` (optional) writes the result into ``{out}``,
    which may be the buffer of any input listed in ``alias_ok`` (a one-pass elementwise
    kernel reads each element before it writes it).
    """

    expr: str
    into: str | None = None
    alias_ok: tuple[int, ...] = (0, 1, 2)
    defaults: tuple[tuple[str, object], ...] = ()


def _ufunc(fn: str, arity: int, expr: str | None = None) -> Template:
    args = ", ".join(f"{{{i}}}" for i in range(arity))
    return Template(expr or f"xp.{fn}({args})", f"xp.{fn}({args}, out={{out}})")


BASE_TABLE: Mapping[str, Template] = {
    "add": _ufunc("add", 2, "{0} + {1}"),
    "sub": _ufunc("subtract", 2, "{0} - {1}"),
    "mul": _ufunc("multiply", 2, "{0} * {1}"),
    "div": _ufunc("divide", 2, "{0} / {1}"),
    "var_linear": Template("{0} * {1} + {2}",
                           "xp.add(xp.multiply({0}, {1}, out={out}), {2}, out={out})",
                           alias_ok=(0, 1)),
    "neg": _ufunc("negative", 1, "-{0}"),
    "abs": _ufunc("abs", 1),
    "exp": _ufunc("exp", 1),
    "log": _ufunc("log", 1),
    "sqrt": _ufunc("sqrt", 1),
    "sign": _ufunc("sign", 1),
    "pow": _ufunc("power", 2, "{0} ** {1}"),
    "relu": Template("xp.maximum({0}, 0)", "xp.maximum({0}, 0, out={out})"),
    "heaviside": Template("heaviside({0})"),
    "maximum": _ufunc("maximum", 2),
    "minimum": _ufunc("minimum", 2),
    "clamp": Template("xp.clip({0}, {1}, {2})", "xp.clip({0}, {1}, {2}, out={out})"),
    "where": Template("xp.where({0}, {1}, {2})"),
    "greater": Template("{0} > {1}"),
    "greater_equal": Template("{0} >= {1}"),
    "less": Template("{0} < {1}"),
    "less_equal": Template("{0} <= {1}"),
    "equal": Template("{0} == {1}"),
    "not_equal": Template("{0} != {1}"),
    "right_shift": _ufunc("right_shift", 2, "{0} >> {1}"),
    "left_shift": _ufunc("left_shift", 2, "{0} << {1}"),
    "bitwise_and": _ufunc("bitwise_and", 2, "{0} & {1}"),
    "cast": Template("cast({0}, {dtype})"),
    "sum": Template("reduce_sum({0}, {axis}, {keepdims})",
                    defaults=(("axis", None), ("keepdims", False))),
    "mean": Template("reduce_mean({0}, {axis}, {keepdims})",
                     defaults=(("axis", None), ("keepdims", False))),
    "amax": Template("reduce_amax({0}, {axis}, {keepdims})",
                     defaults=(("axis", None), ("keepdims", False))),
    "mat_mult_pre": Template("{0}.T @ {1}", "xp.matmul({0}.T, {1}, out={out})", alias_ok=()),
    "mat_mult": Template("{0} @ {1}", "xp.matmul({0}, {1}, out={out})", alias_ok=()),
    "transpose": Template("{0}.T"),
    "reshape": Template("{0}.reshape({shape})"),
    "rand_bits": Template("rand_bits(seed, t, {stream}, {shape})"),
    # the weight-change seam: the binding's hook for the change (see Graph.weight_change)
    "seam": Template("seam[{target}]({0})"),
    # generic strided slicing (Backend.helpers); a backend with a native im2col overrides it
    "unfold": Template("unfold({0}, {kernel}, {stride}, {padding}, {dilation})",
                       defaults=(("stride", 1), ("padding", 0), ("dilation", 1))),
}
