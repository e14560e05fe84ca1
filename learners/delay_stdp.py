r"""Delay-adjusted, reward-modulated STDP from spike times: inferno's ``DelayAdjustedMSTDPD``
(learns delays) and ``DelayAdjustedMSTDP`` (learns weights, the same terms with the rates'
roles swapped).

Each neuron keeps the time elapsed since its most recent spike (its *age*, in ms; NaN until it
first fires). With :math:`t^f_n` the time of the most recent spike of neuron :math:`n` and
:math:`d` the learned delays (ms, shape (n_post, n_pre) like the weight):

.. math::

    t_\Delta(t) &= t^f_{post} - t^f_{pre} - d(t) \\
    \zeta(t) &= \eta_-\, e^{-|t_\Delta| / \tau_-}\, [t_\Delta \ge 0]
              + \eta_+\, e^{-|t_\Delta| / \tau_+}\, [t_\Delta < 0] \\
    d(t + \Delta t) &= d(t) + \gamma\, M(t)\, \zeta(t)

reduced over the batch as :mod:`plastix.learners._modulation` describes (inferno's split into
potentiative and depressive parts before the reduction). :math:`t_\Delta \ge 0` means the
post spike came at or after the *delayed* arrival of the pre spike (causal). The update is not
event-based: once both neurons have fired, the most recent pair contributes at every step
until one of the two spikes is superseded, as inferno's documented equation says.

Delays are in ms, as in inferno; to deliver spikes with them in a forward pass, see
:class:`plastix.DelayLine`, which rounds them to whole steps of ``dt``.

Reference: Nadafian, A. and Ganjtabesh, M. (2024). Bio-plausible unsupervised delay learning
for extracting spatiotemporal features in spiking neural networks. *Neural Comput.*
doi:10.1162/neco_a_01674 (arXiv:2011.09380); inferno ``learn.DelayAdjustedMSTDPD``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import plastix as px

from ._modulation import check_reduction, modulated_change
from ._pieces import add_change, clamp

_CUMULATIVE = ("inferno documents trace_mode ('cumulative' by default) but its code never "
               "reads it: the update always uses the most recent spike of each neuron, which "
               "plastix calls 'nearest', the only mode it accepts")


class _DelayAdjusted(px.Rule):
    """What both delay-adjusted rules check: trace_mode and the batch reduction."""

    @classmethod
    def make_params(cls, values: Mapping[str, Any], base: Any = None) -> Any:
        if values.get("trace_mode", "nearest") == "cumulative":
            raise px.HyperparameterError(cls.name, "trace_mode", _CUMULATIVE)
        if "batch_reduction" in values:
            check_reduction(cls.name, "batch_reduction", values["batch_reduction"])
        return super().make_params(values, base)


@dataclass(frozen=True)
class _SharedParams:
    interp_tolerance: float = px.param(0.0, unit="ms", low=0, doc="|t_delta| at or below which "
                                       "pre and post count as coincident")
    trace_mode: str = px.param("nearest", choices=("nearest",),
                               doc="spike pairing: the most recent spike of each neuron")
    batch_reduction: Any = px.param(  # noqa: RUF009 - a name or a function
        "sum", doc="'sum', 'mean', 'amax' or f(x, axis, *, xp)")
    scale: float = px.param(1.0, doc="gamma: scale of every update; its absolute value is used")


@px.rule("delay_adjusted_mstdpd", aliases=("DelayAdjustedMSTDPD", "delay_adjusted_mstdp_delay"))
class DelayAdjustedMSTDPD(_DelayAdjusted):
    r"""Reward-modulated learning of synaptic delays from the most recent spike times
    (inferno ``DelayAdjustedMSTDPD``).

    .. math::

        t_\Delta = t^f_{post} - t^f_{pre} - d, \qquad
        \Delta d = \gamma\, M \big(\eta_-\, e^{-|t_\Delta|/\tau_-} [t_\Delta \ge 0]
                   + \eta_+\, e^{-|t_\Delta|/\tau_+} [t_\Delta < 0]\big)

    applied at every step once both neurons of a synapse have fired, with ``reward``
    :math:`M` given to each ``step`` as a scalar or one value per batch element and
    :math:`\gamma` = ``|scale|``. A positive change lengthens the delay. The signs of the
    rates select the mode as inferno's documentation tabulates; "potentiative" there is a
    term that *shortens* the delay when :math:`M > 0` (a causal pair brings the delayed
    arrival closer to the post spike):

    =================  ==================  ==================  ===============  ===============
    mode               sgn :math:`\eta_-`  sgn :math:`\eta_+`  potentiative     depressive
    =================  ==================  ==================  ===============  ===============
    Hebbian            \-                  \+                  :math:`\eta_-`   :math:`\eta_+`
    anti-Hebbian       \+                  \-                  :math:`\eta_+`   :math:`\eta_-`
    potentiative only  \-                  \-                  both             none
    depressive only    \+                  \+                  none             both
    =================  ==================  ==================  ===============  ===============

    Batch reduction: ``batch_reduction`` is ``"sum"`` (default), ``"mean"``, ``"amax"`` or a
    function ``f(x, axis, *, xp)`` that drops the batch axis. With a per-sample ``reward`` the
    samples are scaled by :math:`|\gamma M_b|`, split by sign into the two slots, then reduced;
    with a scalar ``reward`` the parts are reduced first and scaled after, which is right only
    for reductions homogeneous of degree 1 (``f(aX) = a f(X)``; ``amax`` of negative values
    is not): inferno's documented warning, kept as behaviour. For a true batch mean, keep the
    sum and set ``scale`` = 1 / batch size (each slot holds a varying number of samples).

    Where inferno's documentation and its code disagree: the parameter line says the reduction
    is the mean when ``None``, its "Important" note and inferno's code take the sum; plastix
    defaults to the sum. The documentation lists ``trace_mode`` (default ``"cumulative"``),
    which the code never reads; plastix accepts only ``"nearest"`` (most recent spikes, what
    the code computes). ``interp_tolerance`` is stored but unused by inferno's trainer;
    plastix gives it the documented meaning: where :math:`|t_\Delta| \le` ``interp_tolerance``
    the spikes count as coincident (:math:`t_\Delta = 0`, causal); with the default 0 both
    agree. inferno takes ``scale`` per call; here it is a hyperparameter (a per-step factor
    goes into ``reward``). inferno requires the rates; plastix's defaults are its own. Delays
    start at 0 (as inferno's connection) and are not clamped (as inferno's trainer); write
    initial delays into ``syn.delay`` in place. With a ``mask``, absent synapses keep their
    delay.

    Reference: Nadafian and Ganjtabesh (2024), doi:10.1162/neco_a_01674.
    """

    @dataclass(frozen=True)
    class Params(_SharedParams):
        lr_neg: float = px.param(-0.01, unit="ms", doc="eta_-: rate of the causal term "
                                 "(t_delta >= 0); negative shortens the delay (Hebbian)")
        lr_pos: float = px.param(0.01, unit="ms", doc="eta_+: rate of the anti-causal term "
                                 "(t_delta < 0); positive lengthens the delay (Hebbian)")
        tc_neg: float = px.param(20.0, unit="ms", low=0, open_low=True,
                                 doc="tau_-: time constant of the causal term")
        tc_pos: float = px.param(20.0, unit="ms", low=0, open_low=True,
                                 doc="tau_+: time constant of the anti-causal term")

    def build(self, g: px.Graph) -> None:
        g.learned("delay")
        spike_time_change(g, "dd", causal=("lr_neg", "tc_neg"), anticausal=("lr_pos", "tc_pos"),
                          delay="delay")
        if g.masked:  # absent synapses learn no delay; their weight stays 0 (the mask contract)
            g.op_to_backend("dd", "mul", ["dd", "mask"])
            g.op_to_backend("weight", "mul", ["weight", "mask"])
        add_change(g, "dd", target="delay")


def spike_time_change(g: px.Graph, name: str, *, causal: tuple[str, str],
                      anticausal: tuple[str, str], delay: str) -> px.Value:
    """Append the modulated change ``name`` of both delay-adjusted rules: spike ages, the
    delay-adjusted :math:`t_\\Delta`, the causal and anti-causal magnitudes (rate and time
    constant named by ``causal`` and ``anticausal``) and inferno's routed batch reduction."""
    p = g.params
    batch, n_pre = g.pre_shape
    n_post = g.post_shape[1]
    g.signal("reward", (batch,), keep_scalar=True)
    for age, spikes in (("age_pre", "pre"), ("age_post", "post")):
        g.variable_to_backend(age, g.pre_shape if spikes == "pre" else g.post_shape,
                              value=math.nan)
        older = g.op_to_backend(f"{age}_older", "add", [age, "dt"])
        fired = g.op_to_backend(f"{spikes}_fired", "not_equal", [spikes, 0])
        g.op_to_backend(age, "where", [fired, 0.0, older])
    # t_post - t_pre = age_pre - age_post; NaN (never fired) fails both comparisons below
    col = g.op_to_backend("age_pre_col", "reshape", ["age_pre"], shape=(batch, 1, n_pre))
    row = g.op_to_backend("age_post_row", "reshape", ["age_post"], shape=(batch, n_post, 1))
    g.op_to_backend("t_delta", "sub", [col, row])
    g.op_to_backend("t_delta", "sub", ["t_delta", delay])
    g.op_to_backend("gap", "abs", ["t_delta"])
    if p["interp_tolerance"] > 0:
        near = g.op_to_backend("coincident", "less_equal", ["gap", "interp_tolerance"])
        g.op_to_backend("t_delta", "where", [near, 0.0, "t_delta"])
        g.op_to_backend("gap", "where", [near, 0.0, "gap"])
    for term, side, (lr, tc) in (("causal", "greater_equal", causal),
                                 ("anticausal", "less", anticausal)):
        g.op_to_backend(f"{term}_on", side, ["t_delta", 0.0])
        g.op_to_backend(f"{term}_rate", "abs", [lr])
        g.op_to_backend(term, "div", ["gap", tc])
        g.op_to_backend(term, "neg", [term])
        g.op_to_backend(term, "exp", [term])
        g.op_to_backend(term, "mul", [f"{term}_rate", term])
        g.op_to_backend(term, "where", [f"{term}_on", term, 0.0])
    return modulated_change(g, name, causal="causal", anticausal="anticausal",
                            signal="reward", lr_causal=p[causal[0]],
                            lr_anticausal=p[anticausal[0]], scale=p["scale"],
                            reduction=p["batch_reduction"])


@px.rule("delay_adjusted_mstdp", aliases=("DelayAdjustedMSTDP",))
class DelayAdjustedMSTDP(_DelayAdjusted):
    r"""Reward-modulated STDP of weights from the most recent spike times, adjusted for
    synaptic delays (inferno ``DelayAdjustedMSTDP``, the weight trainer beside the delay one).

    .. math::

        t_\Delta = t^f_{post} - t^f_{pre} - d, \qquad
        \Delta w = \gamma\, M \big(\eta_+\, e^{-|t_\Delta|/\tau_+} [t_\Delta \ge 0]
                   + \eta_-\, e^{-|t_\Delta|/\tau_-} [t_\Delta < 0]\big)

    The same machinery as ``delay_adjusted_mstdpd`` (spike ages, every-step update, routing,
    batch reduction, ``interp_tolerance``, ``trace_mode``; see there) with the roles of the
    rates swapped: here the causal term uses :math:`\eta_+, \tau_+` (Hebbian:
    :math:`\eta_+ > 0`, :math:`\eta_- < 0`), as inferno's argument order
    ``(lr_pos, lr_neg, tc_pos, tc_neg)`` says. The delays :math:`d` (ms, (n_post, n_pre);
    0 when not given) come with each step as the signal ``delay``, for example the ``delay``
    a ``delay_adjusted_mstdpd`` binding of the same connection learns. Weights are clamped to
    ``[w_min, w_max]`` after the update (no bounds by default, as inferno's trainer).

    Reference: Nadafian and Ganjtabesh (2024), doi:10.1162/neco_a_01674.
    """

    @dataclass(frozen=True)
    class Params(_SharedParams):
        lr_pos: float = px.param(0.01, doc="eta_+: rate of the causal term (t_delta >= 0); "
                                 "positive potentiates (Hebbian)")
        lr_neg: float = px.param(-0.01, doc="eta_-: rate of the anti-causal term (t_delta < 0); "
                                 "negative depresses (Hebbian)")
        tc_pos: float = px.param(20.0, unit="ms", low=0, open_low=True,
                                 doc="tau_+: time constant of the causal term")
        tc_neg: float = px.param(20.0, unit="ms", low=0, open_low=True,
                                 doc="tau_-: time constant of the anti-causal term")
        w_min: float = px.param(-math.inf, unit="weight", doc="lower clamp (-inf: none)")
        w_max: float = px.param(math.inf, unit="weight", doc="upper clamp (inf: none)")

    def build(self, g: px.Graph) -> None:
        g.signal("delay", g.weight_shape, default=0.0)
        spike_time_change(g, "dw", causal=("lr_pos", "tc_pos"),
                          anticausal=("lr_neg", "tc_neg"), delay="delay")
        add_change(g, "dw")
        if math.isfinite(self.p.w_min) or math.isfinite(self.p.w_max):
            clamp(g, "weight", "w_min", "w_max")


RULES = [DelayAdjustedMSTDPD, DelayAdjustedMSTDP]
