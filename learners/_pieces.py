"""Sub-graphs shared by rule families: traces, pair terms, bounds, normalisation.

Each function appends a few ops to a graph and returns the handle of what it computed, so a
rule reads as a short composition of named pieces. Spikes are 0/1 arrays of shape
(batch, n); a trace has the shape of its spikes.

Trace kinds, with decay factor :math:`\\lambda` per step and spikes :math:`s_t`:

* ``cumulative`` (all-to-all): :math:`x_t = \\lambda x_{t-1} + s_t`
* ``nearest`` (a spike resets the trace to 1): :math:`x_t = (1 - s_t) \\lambda x_{t-1} + s_t`
"""

from __future__ import annotations

from typing import Any

from plastix._graph import Graph, Value


def trace(g: Graph, name: str, spikes: str | Value, decay: Any, kind: str = "cumulative",
          amplitude: Any = 1.0) -> Value:
    """Update the declared trace ``name`` from ``spikes`` with per-step factor ``decay``.

    ``amplitude`` is SPAIC's ``spike`` constant in the nearest form
    :math:`x_t = (a - s_t) \\lambda x_{t-1} + s_t` (1 for 0/1 spikes).
    """
    decayed = g.op_to_backend(f"{name}_decayed", "mul", [name, decay])
    if kind == "cumulative":
        return g.op_to_backend(name, "add", [spikes, decayed])  # type: ignore[return-value]
    if kind == "nearest":
        keep = g.op_to_backend(f"{name}_keep", "sub", [amplitude, spikes])
        return g.op_to_backend(name, "var_linear", [keep, decayed, spikes])  # type: ignore
    raise ValueError(f"unknown trace kind {kind!r}")


def pair_dw(g: Graph, name: str, *, pre: Any, post: Any, x_pre: Any, x_post: Any,
            a_plus: Any, a_minus: Any) -> Value:
    """The batch-summed pair term, as a weight change named ``name`` (n_post, n_pre):

    .. math:: \\Delta w = A_+\\, s_{post}^\\top x_{pre} - A_-\\, x_{post}^\\top s_{pre}
    """
    ltp = g.op_to_backend(f"{name}_ltp", "mat_mult_pre", [post, x_pre])
    ltd = g.op_to_backend(f"{name}_ltd", "mat_mult_pre", [x_post, pre])
    ltp = g.op_to_backend(f"{name}_ltp", "mul", [a_plus, ltp])
    ltd = g.op_to_backend(f"{name}_ltd", "mul", [a_minus, ltd])
    return g.op_to_backend(name, "sub", [ltp, ltd])  # type: ignore[return-value]


def add_change(g: Graph, dw: str | Value, target: str = "weight") -> Value:
    """Declare ``dw`` the change of ``target`` (the seam) and apply it additively."""
    dw = g.weight_change(dw if isinstance(dw, str) else dw.name, target)
    return g.op_to_backend(target, "add", [target, dw])  # type: ignore[return-value]


def clamp(g: Graph, target: str, low: Any, high: Any) -> Value:
    """Hard bounds: :math:`w \\leftarrow \\min(\\max(w, w_{min}), w_{max})`."""
    return g.op_to_backend(target, "clamp", [target, low, high])  # type: ignore[return-value]


def row_normalise(g: Graph, target: str, norm: Any) -> Value:
    """SPAIC's normalisation of each postsynaptic row to an L1 norm of ``norm``:

    .. math:: w_{ij} \\leftarrow w_{norm}\\, \\big(w_{ij} / \\textstyle\\sum_k |w_{ik}|\\big)

    A row that is all zero stays zero: SPAIC divides 0 by 0 there and writes NaN into the
    weight, which then never recovers (found by the fuzz tests, tests/test_fuzz.py).
    """
    size = g.op_to_backend(f"{target}_l1", "abs", [target])
    size = g.op_to_backend(f"{target}_l1", "sum", [size], axis=1, keepdims=True)
    empty = g.op_to_backend(f"{target}_empty", "equal", [size, 0])
    size = g.op_to_backend(f"{target}_l1", "where", [empty, 1, size])
    scaled = g.op_to_backend(target, "div", [target, size])
    return g.op_to_backend(target, "mul", [norm, scaled])  # type: ignore[return-value]
