r"""Sub-graphs shared by the modulated (three-factor) rules: decay factors, batch reductions
and inferno's routing of a modulated update into potentiative and depressive parts.

A *batch reduction* turns per-sample changes of shape (batch, n_post, n_pre) into one change
(n_post, n_pre). It is named (``"sum"``, ``"mean"``, ``"amax"``) or a function
``f(x, axis, *, xp)`` written against the array namespace ``xp`` that, like ``xp.sum``,
drops the reduced axis; it then runs on every backend.

inferno's routing (``DelayAdjustedMSTDP(D)``, ``MSTDP``): a rule computes two non-negative
per-sample magnitudes, :math:`P` (its causal term, rate :math:`\eta_P`) and :math:`Q` (its
anti-causal term, rate :math:`\eta_Q`). With a modulating signal :math:`M` and scale
:math:`\gamma`, a term goes to the *negative* slot where :math:`\mathrm{sgn}(\eta)\,
\mathrm{sgn}(M) < 0` (with :math:`\eta < 0` negative and :math:`M \ge 0` positive) and to
the *positive* slot otherwise, and the change is :math:`\mathrm{pos} - \mathrm{neg}`:

* signal of shape (batch,): each sample is first scaled by :math:`|\gamma M_b|`, the routed
  samples of each slot are concatenated along the batch axis and the slot is reduced;
* scalar signal: :math:`P` and :math:`Q` are reduced over the batch first and then scaled by
  :math:`|\gamma M|`, which equals the former only for reductions homogeneous of degree 1
  (inferno documents this as a warning; plastix keeps the behaviour).

With the sum both give :math:`\Delta = \gamma \sum_b M_b\,(\mathrm{sgn}(\eta_P) P_b +
\mathrm{sgn}(\eta_Q) Q_b)`.
"""

from __future__ import annotations

import inspect
from typing import Any

import plastix as px

#: The batch reductions known by name; anything else must be a function (see module doc).
NAMED_REDUCTIONS = ("sum", "mean", "amax")


def check_reduction(rule: str, param: str, value: Any) -> None:
    """Raise HyperparameterError unless ``value`` is a named reduction or a function that
    can be called as ``f(x, axis, xp=xp)``."""
    if isinstance(value, str) and value in NAMED_REDUCTIONS:
        return
    if callable(value):
        try:
            inspect.signature(value).bind(None, 0, xp=None)
            return
        except TypeError:
            pass
        except ValueError:  # a builtin without a signature: tried when the rule is built
            return
    raise px.HyperparameterError(rule, param, f"expected one of {list(NAMED_REDUCTIONS)} or a "
                                 f"function f(x, axis, *, xp), got {value!r}")


def reduce_batch(x: Any, how: Any, xp: Any, rule: str = "?") -> Any:
    """``x`` reduced over its first (batch) axis by ``how`` (a name or a function)."""
    if how == "sum":
        return xp.sum(x, axis=0)
    if how == "mean":
        return xp.mean(x, axis=0)
    if how == "amax":
        return (getattr(xp, "amax", None) or xp.max)(x, axis=0)
    out = how(x, 0, xp=xp)
    if tuple(out.shape) != tuple(x.shape[1:]):
        raise px.HyperparameterError(rule, "batch_reduction", f"the function must drop the batch "
                                     f"axis: {tuple(x.shape)} -> {tuple(x.shape[1:])}, got "
                                     f"{tuple(out.shape)}")
    return out


def decay(g: px.Graph, name: str, tau: str) -> px.Value:
    """The exact per-step decay :math:`e^{-\\Delta t/\\tau}` of the time constant ``tau`` (ms);
    folded to a constant when the graph is compiled."""
    ratio = g.op_to_backend(f"{name}_ratio", "div", ["dt", tau])
    ratio = g.op_to_backend(f"{name}_ratio", "neg", [ratio])
    return g.op_to_backend(name, "exp", [ratio])


def batch_reduce(g: px.Graph, name: str, x: str | px.Value, how: Any) -> px.Value:
    """Append the reduction of ``x`` over the batch axis: a primitive for a named reduction,
    a function op otherwise."""
    if isinstance(how, str):
        return g.op_to_backend(name, how, [x], axis=0)
    rule = g.rule

    def batch_reduction(v: Any, *, xp: Any) -> Any:
        return reduce_batch(v, how, xp, rule)

    return g.op_to_backend(name, batch_reduction, [x])


def routed_change(causal: Any, anticausal: Any, signal: Any, *, lr_causal: float,
                  lr_anticausal: float, scale: float, reduction: Any, xp: Any,
                  rule: str = "?") -> Any:
    """inferno's modulated change ``pos - neg`` (module docstring) of magnitudes of shape
    (batch, ...) under ``signal`` (0-d: scalar path; (batch,): per-sample path)."""
    gamma = abs(scale)
    terms = ((causal, lr_causal), (anticausal, lr_anticausal))
    if signal.ndim == 0:
        s = float(signal)
        pos = neg = None
        for x, lr in terms:
            r = reduce_batch(x, reduction, xp, rule)
            if lr * s < 0:
                neg = r if neg is None else neg + r
            else:
                pos = r if pos is None else pos + r
        diff = _minus(pos, neg, causal, xp)
        return diff * abs(s * gamma)
    if reduction in ("sum", "mean"):
        return _linear_slots(terms, signal, gamma, reduction, xp)
    mag = xp.abs(signal * gamma).reshape((-1,) + (1,) * (causal.ndim - 1))
    regular = signal >= 0
    slots: dict[bool, list[Any]] = {True: [], False: []}  # to_negative -> pieces
    for x, lr in terms:
        scaled = x * mag
        for group, signal_negative in ((regular, False), (~regular, True)):
            piece = scaled[group]
            if piece.shape[0]:
                slots[(lr < 0) != signal_negative].append(piece)
    pos, neg = (reduce_batch(xp.concat(slots[k], axis=0), reduction, xp, rule)
                if slots[k] else None for k in (False, True))
    return _minus(pos, neg, causal, xp)


def _linear_slots(terms: tuple[tuple[Any, float], ...], signal: Any, gamma: float,
                  reduction: str, xp: Any) -> Any:
    """The per-sample path for the sum and the mean without gathering the slots: each slot
    is a weighted sum of the samples (one product per term and slot) and, for the mean,
    divided by the number of rows the slot would hold."""
    mag = xp.abs(signal * gamma)
    negative = signal < 0
    shape = terms[0][0].shape
    totals: list[Any] = [0.0, 0.0]  # positive slot, negative slot
    rows = [0, 0]
    for x, lr in terms:
        to_negative = negative if lr >= 0 else ~negative
        flat = x.reshape((shape[0], -1))
        for slot, chosen in ((0, ~to_negative), (1, to_negative)):
            totals[slot] = totals[slot] + (mag * chosen) @ flat
            rows[slot] += int(chosen.sum())
    if reduction == "mean":
        totals = [t / n if n else t for t, n in zip(totals, rows, strict=True)]
    return (totals[0] - totals[1]).reshape(shape[1:])


def _minus(pos: Any, neg: Any, like: Any, xp: Any) -> Any:
    if pos is None and neg is None:
        return xp.zeros_like(like[0])
    if neg is None:
        return pos
    return -neg if pos is None else pos - neg


def modulated_change(g: px.Graph, name: str, *, causal: str, anticausal: str, signal: str,
                     lr_causal: float, lr_anticausal: float, scale: float,
                     reduction: Any) -> px.Value:
    """Append inferno's routed, reduced change (module docstring) as a function op."""
    rule = g.rule

    def modulated_reduction(p: Any, q: Any, m: Any, *, xp: Any) -> Any:
        return routed_change(p, q, m, lr_causal=lr_causal, lr_anticausal=lr_anticausal,
                             scale=scale, reduction=reduction, xp=xp, rule=rule)

    return g.op_to_backend(name, modulated_reduction,
                           [causal, anticausal, signal])

