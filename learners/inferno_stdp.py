r"""inferno's trace STDP trainers (``inferno.learn``, 0.0.5): ``STDP``, ``MSTDP`` and
``MSTDPET``, as inferno's code computes them.

Each side keeps a spike trace whose amplitude is the *other* side's learning rate: the pre
trace :math:`x_{pre}` jumps by (or is set to) :math:`|\eta_{post}|`, the post trace
:math:`x_{post}` by :math:`|\eta_{pre}|`, with decay :math:`\lambda = e^{-dt/\tau}`
(``trace_mode`` "cumulative": :math:`x \leftarrow \lambda x + A s`; "nearest": :math:`x
\leftarrow A` at a spike, :math:`\lambda x` otherwise). Traces include this step's spikes.
Per sample, the two non-negative terms are

.. math::

    P_{ij} = s_{post,i}\, x_{pre,j} \quad (\text{on postsynaptic spikes}), \qquad
    Q_{ij} = s_{pre,j}\, x_{post,i} \quad (\text{on presynaptic spikes})

and the signs of :math:`\eta_{post}` and :math:`\eta_{pre}` say which potentiates
(Hebbian: :math:`\eta_{post} > 0 > \eta_{pre}`; inferno's table of four modes):
:math:`\Delta w = \mathrm{sgn}(\eta_{post})\, \mathrm{red}_b P + \mathrm{sgn}(\eta_{pre})\,
\mathrm{red}_b Q`, with :math:`\mathrm{sgn}(0) = +1`. The modulated trainers route each
term by the sign of the rate and of the reward :math:`M`, as
:mod:`plastix.learners._modulation` describes (inferno's split into potentiative and
depressive parts before the batch reduction).

inferno applies an update when ``connection.update()`` is called after the trainer; plastix
applies it in every ``step``. inferno's updater adds :math:`\mathrm{pos} - \mathrm{neg}` with
no bounds unless the user adds bounding hooks; here ``w_min``/``w_max`` clamp after the update
(none by default). Weights are (n_post, n_pre), as inferno's ``LinearDense``. Measured against
inferno 0.0.5 (its ``Serial`` layer with scripted post spikes, batch 1 and 4, scalar and
per-sample rewards, every step): within 9e-16 in float64 and 8e-7 in float32.

Reference: inferno ``inferno/learn/trainers/two_factor_stdp.py`` and
``three_factor_stdp.py`` (0.0.5); Florian, R. V. (2007), doi:10.1162/neco.2007.19.6.1468.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import plastix as px

from ._modulation import check_reduction, modulated_change
from ._pieces import add_change, clamp, decay_factor, reduced_outer, sample_outer, scaled_trace

_TRACE_MODES = ("cumulative", "nearest")
_DELAYED = ("inferno reads it only for connections with learned delays, which this rule does "
            "not have (see delay_adjusted_mstdp)")


@dataclass(frozen=True)
class _Pair:
    lr_post: float = px.param(5e-4, doc="eta_post: rate of the term on postsynaptic spikes; "
                              "|lr_post| is the pre trace's amplitude, its sign the term's")
    lr_pre: float = px.param(-5e-6, doc="eta_pre: rate of the term on presynaptic spikes; "
                             "|lr_pre| is the post trace's amplitude")
    tc_post: float = px.param(30.0, unit="ms", low=0, open_low=True,
                              doc="tau_post: postsynaptic trace time constant")
    tc_pre: float = px.param(30.0, unit="ms", low=0, open_low=True,
                             doc="tau_pre: presynaptic trace time constant")
    trace_mode: str = px.param("cumulative", choices=_TRACE_MODES, doc="'cumulative' (a spike "
                               "adds the amplitude) or 'nearest' (a spike sets it)")
    w_min: float = px.param(-math.inf, unit="weight", doc="lower clamp (-inf: none, as "
                            "inferno's trainer)")
    w_max: float = px.param(math.inf, unit="weight", doc="upper clamp (inf: none)")


class _Inferno(px.Rule):
    """What the three trainers share: the traces, the reduction check and the clamp."""

    rejected = {"delayed": _DELAYED, "interp_tolerance": _DELAYED,
                "step_time": "the binding's dt (bind(..., dt=...))"}

    @classmethod
    def make_params(cls, values: Mapping[str, Any], base: Any = None) -> Any:
        if "batch_reduction" in values:
            check_reduction(cls.name, "batch_reduction", values["batch_reduction"])
        return super().make_params(values, base)

    def traces(self, g: px.Graph) -> None:
        """Advance x_pre (amplitude |lr_post|) and x_post (amplitude |lr_pre|)."""
        additive = self.p.trace_mode == "cumulative"
        for x, s, tc, lr in (("x_pre", "pre", "tc_pre", "lr_post"),
                             ("x_post", "post", "tc_post", "lr_pre")):
            g.variable_to_backend(x, getattr(g, f"{s}_shape"))
            amp = g.op_to_backend(f"{x}_amp", "abs", [lr])
            scaled_trace(g, x, s, decay_factor(g, f"{x}_decay", tc), amp, additive=additive)

    def bound(self, g: px.Graph) -> None:
        if math.isfinite(self.p.w_min) or math.isfinite(self.p.w_max):
            clamp(g, "weight", "w_min", "w_max")


def _sign(rate: float) -> float:
    """inferno's mode: a rate >= 0 makes its term potentiative."""
    return 1.0 if rate >= 0 else -1.0


@px.rule("inferno_stdp", aliases=("inferno.STDP",))
class InfernoSTDP(_Inferno):
    r"""Pair STDP with traces scaled by the learning rates (inferno ``STDP``).

    .. math::

        \Delta w = \mathrm{sgn}(\eta_{post})\, \mathrm{red}_b\big(s_{post}^\top x_{pre}\big)
                 + \mathrm{sgn}(\eta_{pre})\, \mathrm{red}_b\big(x_{post}^\top s_{pre}\big)

    with :math:`x_{pre}` of amplitude :math:`|\eta_{post}|` and :math:`x_{post}` of amplitude
    :math:`|\eta_{pre}|` (module docstring). The batch reduction defaults to the **mean**, as
    inferno's. For one pair, Hebbian rates and :math:`\Delta t = t_{post} - t_{pre} \ge 0`
    steps, the window is :math:`\eta_{post} e^{-\Delta t\, dt/\tau_{pre}}`, and for
    :math:`\Delta t \le 0` it is :math:`\eta_{pre} e^{\Delta t\, dt/\tau_{post}}` (a
    same-step pair gives both). inferno's documentation writes the update without the signs
    and with :math:`\eta` as trace increments; its code takes the absolute value of each rate
    as the amplitude and uses the signs to pick potentiation or depression, as here. inferno
    requires every rate and time constant and refuses a rate of 0 (a zero trace amplitude);
    the defaults here are those of inferno's MNIST example, and a rate of 0 removes its
    term.

    Reference: inferno ``learn.STDP`` (0.0.5).
    """

    @dataclass(frozen=True)
    class Params(_Pair):
        batch_reduction: Any = px.param(  # noqa: RUF009 - a name or a function
            "mean", doc="'mean' (inferno's default), 'sum', 'amax' or f(x, axis, *, xp)")

    def build(self, g: px.Graph) -> None:
        p = self.p
        self.traces(g)
        on_post = reduced_outer(g, "on_post", "post", "x_pre", p.batch_reduction)
        on_pre = reduced_outer(g, "on_pre", "x_post", "pre", p.batch_reduction)
        on_post = g.op_to_backend("on_post", "mul", [_sign(p.lr_post), on_post])
        on_pre = g.op_to_backend("on_pre", "mul", [_sign(p.lr_pre), on_pre])
        g.op_to_backend("dw", "add", [on_post, on_pre])
        add_change(g, "dw", reduction="mean" if p.batch_reduction == "mean" else "sum")
        self.bound(g)


@dataclass(frozen=True)
class _Modulated(_Pair):
    lr_post: float = px.param(0.2, doc="eta_post: rate of the term on postsynaptic spikes; "
                              "|lr_post| is the pre trace's amplitude, its sign the term's")
    lr_pre: float = px.param(-0.2, doc="eta_pre: rate of the term on presynaptic spikes; "
                             "|lr_pre| is the post trace's amplitude")
    tc_post: float = px.param(20.0, unit="ms", low=0, open_low=True,
                              doc="tau_post: postsynaptic trace time constant")
    tc_pre: float = px.param(20.0, unit="ms", low=0, open_low=True,
                             doc="tau_pre: presynaptic trace time constant")
    batch_reduction: Any = px.param(  # noqa: RUF009 - a name or a function
        "sum", doc="'sum' (inferno's default), 'mean', 'amax' or f(x, axis, *, xp)")
    scale: float = px.param(1.0, doc="gamma: inferno's forward(scale=...); its absolute value "
                            "scales every update")


class _ModulatedRule(_Inferno):
    def routed(self, g: px.Graph, causal: str, anticausal: str) -> None:
        p = self.p
        modulated_change(g, "dw", causal=causal, anticausal=anticausal, signal="reward",
                         lr_causal=p.lr_post, lr_anticausal=p.lr_pre, scale=p.scale,
                         reduction=p.batch_reduction)
        add_change(g, "dw")
        self.bound(g)


@px.rule("inferno_mstdp", aliases=("inferno.MSTDP",))
class InfernoMSTDP(_ModulatedRule):
    r"""Reward-modulated pair STDP without eligibility trace (inferno ``MSTDP``).

    .. math::

        \Delta w = |\gamma|\, \big(\mathrm{red}_b\, \mathrm{pos} - \mathrm{red}_b\,
        \mathrm{neg}\big), \qquad P = s_{post} \otimes x_{pre},\ Q = s_{pre} \otimes x_{post}

    where each sample's :math:`|M_b| P_b` goes to pos when :math:`\eta_{post} M_b \ge 0` and
    to neg otherwise, and likewise :math:`|M_b| Q_b` by the sign of :math:`\eta_{pre} M_b`;
    with the sum this is :math:`\Delta w = \gamma \sum_b M_b (\mathrm{sgn}(\eta_{post}) P_b
    + \mathrm{sgn}(\eta_{pre}) Q_b)`. The reward of a step meets this step's spikes and
    traces (no lag). ``reward`` is required at every step: a scalar (inferno's float: the
    terms are reduced first and scaled after) or one value per sample (inferno's tensor
    path). inferno's documentation writes :math:`\gamma M (x_{pre}[t = t_{post}] +
    x_{post}[t = t_{pre}])`; its code routes by the signs as above.

    Reference: inferno ``learn.MSTDP`` (0.0.5); Florian (2007).
    """

    Params = _Modulated

    def build(self, g: px.Graph) -> None:
        g.signal("reward", (g.batch_size,), keep_scalar=True)
        self.traces(g)
        sample_outer(g, "causal", "post", "x_pre")
        sample_outer(g, "anticausal", "x_post", "pre")
        self.routed(g, "causal", "anticausal")


@px.rule("inferno_mstdpet", aliases=("inferno.MSTDPET",))
class InfernoMSTDPET(_ModulatedRule):
    r"""Reward-modulated STDP with eligibility traces (inferno ``MSTDPET``).

    Two eligibility traces per synapse and sample, one per term, each integrating the term of
    this step:

    .. math::

        z_{post} \leftarrow z_{post}\, e^{-dt/\tau_z} + \tfrac{1}{\tau_z}\, s_{post} \otimes
        x_{pre}, \qquad
        z_{pre} \leftarrow z_{pre}\, e^{-dt/\tau_z} + \tfrac{1}{\tau_z}\, s_{pre} \otimes
        x_{post}

    and the reward routes and reduces :math:`z_{post}` (rate :math:`\eta_{post}`) and
    :math:`z_{pre}` (rate :math:`\eta_{pre}`) as ``inferno_mstdp`` does :math:`P` and
    :math:`Q`. inferno's documentation writes the update as :math:`\gamma M (z_{post} +
    z_{pre})\, \Delta t`; its code has no :math:`\Delta t` factor, and neither has plastix
    (BindsNET's MSTDP-ET, ``mstdpet``, has one).

    Reference: inferno ``learn.MSTDPET`` (0.0.5); Florian (2007).
    """

    @dataclass(frozen=True)
    class Params(_Modulated):
        tc_eligibility: float = px.param(25.0, unit="ms", low=1e-3,
                                         doc="tau_z: eligibility trace time constant")

    def build(self, g: px.Graph) -> None:
        g.signal("reward", (g.batch_size,), keep_scalar=True)
        self.traces(g)
        lam = decay_factor(g, "z_decay", "tc_eligibility")
        rate = g.op_to_backend("z_rate", "div", [1.0, "tc_eligibility"])
        for z, rows, cols in (("z_post", "post", "x_pre"), ("z_pre", "x_post", "pre")):
            g.variable_to_backend(z, (g.batch_size, *g.weight_shape))
            term = sample_outer(g, f"{z}_in", rows, cols)
            term = g.op_to_backend(f"{z}_in", "mul", [rate, term])
            g.op_to_backend(z, "var_linear", [z, lam, term])
        self.routed(g, "z_post", "z_pre")


RULES = [InfernoSTDP, InfernoMSTDP, InfernoMSTDPET]
