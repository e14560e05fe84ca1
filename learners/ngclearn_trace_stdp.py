r"""ngclearn's ``TraceSTDPSynapse`` and its modulated subclass ``MSTDPETSynapse`` (ngclearn
3.2.1), with the ``VarTrace`` traces computed in the rule.

Each step first advances both traces as ngclearn's ``VarTrace`` does (decay, then the spike;
:mod:`plastix.learners.ngclearn_stdp`), then the synapse's ``evolve``. The STDP update, summed
over the batch, with the optional power weight dependence (``mu`` > 0) and the pre-trace
target :math:`x_{tar}`:

.. math::

    D = A_+\, f_+(W) \odot s_{post}^\top (x_{pre} - x_{tar})
        - [A_- > 0]\, A_-\, f_-(W) \odot x_{post}^\top s_{pre}, \qquad
    (f_+, f_-) = \begin{cases} \big((w_b - W)^\mu,\ W^\mu\big) & \mu > 0 \\ (1, 1) &
    \mu = 0 \end{cases}

``TraceSTDPSynapse`` applies it at once, :math:`W \leftarrow \mathrm{clip}(W + \eta D -
W/\tau_w, 0, w_b)` (the decay only for :math:`\tau_w > 0`, which this synapse, unlike
``ExpSTDPSynapse``, does apply). ``MSTDPETSynapse`` keeps :math:`D` of the previous step as
its eligibility's input and applies the modulator :math:`r`:

.. math::

    z &\leftarrow z\, e^{-dt/\tau_{elg}}\, \gamma_{elg} + D(t - dt)/\tau_{elg} \quad
        (\tau_{elg} > 0), \qquad z \leftarrow D(t - dt) \quad (\tau_{elg} = 0) \\
    W &\leftarrow \mathrm{clip}(W + \eta\, r\, z - W/\tau_w,\ 0,\ w_b)

Layout: ngclearn's weight is (n_pre, n_post), a plastix weight (n_post, n_pre), ngclearn's
transposed. ngclearn's ``weight_mask`` is ``bind(weight, mask=M.T)`` (masked weights are 0
after every step, as ngclearn's ``where(mask != 0, w, 0)``). Measured against ngclearn 3.2.1
(the synapse fed by two ``VarTrace`` components, batch 1 and 4, every step): within 1.2e-15
in float64 and 7e-7 in float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plastix as px

from ._pieces import add_change, clamp, decay_factor, sample_outer
from .ngclearn_stdp import VarTraceParams, var_traces

_REJECTED = {"weight_init": "bind the initial weight instead",
             "p_conn": "ngclearn draws it into the initial weights only: bind a weight with "
             "the dropped synapses at 0, or bind(weight, mask=...) to keep them at 0",
             "weight_mask": "bind(weight, mask=...) (plastix's weight is ngclearn's transposed)",
             "g_conduct_factor": "scales ngclearn's forward output only; no effect on learning",
             "resist_scale": "scales ngclearn's forward output only; no effect on learning",
             "batch_size": "the binding's batch size (bind(..., batch_size=...))"}


@dataclass(frozen=True)
class TraceParams(VarTraceParams):
    A_plus: float = px.param(1.0, doc="strength of potentiation (LTP)")
    A_minus: float = px.param(1.0, doc="strength of depression (LTD); <= 0 disables it")
    eta: float = px.param(1.0, doc="global learning rate (ngclearn's default)")
    mu: float = px.param(0.0, low=0, doc="power of the weight dependence; 0: none")
    pretrace_target: float = px.param(0.0, doc="x_tar: pre-trace target (higher -> lower "
                                      "weights)")
    w_bound: float = px.param(1.0, unit="weight", low=0, open_low=True,
                              doc="maximum weight; weights are clipped to [0, w_bound]")
    tau_w: float = px.param(0.0, unit="steps", low=0, doc="weight decay: W/tau_w is "
                            "subtracted each step (0: none)")


def trace_stdp_change(g: px.Graph, name: str, p: TraceParams, *, per_sample: bool) -> None:
    """Append ngclearn's ``_compute_update`` as ``name`` (before ``eta``), summed over the
    batch, or per sample, (batch, n_post, n_pre), for the modulated synapse; the products
    in ngclearn's order."""
    gap = g.op_to_backend("pre_gap", "sub", ["x_pre", "pretrace_target"])
    ltd = p.A_minus > 0

    def term(out: str, rows: Any, cols: Any, rate: str, factor: Any) -> px.Value:
        if p.mu == 0:  # ngclearn scales the spikes or the trace by the rate before the product
            rows = g.op_to_backend(f"{out}_rows", "mul", [rows, rate])
        value = sample_outer(g, out, rows, cols) if per_sample else \
            g.op_to_backend(out, "mat_mult_pre", [rows, cols])
        if p.mu > 0:
            value = g.op_to_backend(out, "mul", [factor, value])
            value = g.op_to_backend(out, "mul", [value, rate])
        return value

    f_plus = f_minus = None
    if p.mu > 0:  # distances clipped at 0: ngclearn's power of a negative one is NaN
        room = g.op_to_backend("room", "relu", [g.op_to_backend("room", "sub",
                                                                ["w_bound", "weight"])])
        f_plus = g.op_to_backend("f_plus", "pow", [room, "mu"])
        f_minus = g.op_to_backend("f_minus", "pow", [g.op_to_backend("w_pos", "relu",
                                                                     ["weight"]), "mu"])
    ltp = term(f"{name}_ltp" if ltd else name, "post", gap, "A_plus", f_plus)
    if ltd:
        g.op_to_backend(name, "sub", [ltp, term(f"{name}_ltd", "x_post", "pre", "A_minus",
                                                f_minus)])


def decay_then_clip(g: px.Graph, p: TraceParams) -> None:
    """The weight decay :math:`-W/\\tau_w` (added to the change ``dw``), the seam and the clip
    to [0, w_bound], as both synapses' ``evolve``."""
    if p.tau_w > 0:
        g.op_to_backend("dw", "sub", ["dw", g.op_to_backend("w_decay", "div",
                                                            ["weight", "tau_w"])])
    add_change(g, "dw")
    clamp(g, "weight", 0.0, "w_bound")


@px.rule("trace_stdp", aliases=("TraceSTDPSynapse", "ngclearn_trace_stdp"))
class TraceSTDP(px.Rule):
    r"""Trace STDP with optional power weight dependence (ngclearn ``TraceSTDPSynapse``).

    .. math::

        W \leftarrow \mathrm{clip}\big(W + \eta\, A_+ f_+(W) \odot s_{post}^\top (x_{pre} -
        x_{tar}) - \eta\, [A_- > 0]\, A_- f_-(W) \odot x_{post}^\top s_{pre} - W/\tau_w,\
        0,\ w_b\big)

    with :math:`f_+ = (w_b - W)^\mu`, :math:`f_- = W^\mu` for ``mu`` > 0 and 1 otherwise, and
    ``VarTrace`` traces that include this step's spikes. For one pair with default traces
    (a spike resets its trace to ``P_scale`` = 1) and :math:`\Delta t = t_{post} - t_{pre} > 0`
    steps the change is :math:`\eta A_+ e^{-\Delta t\, dt/\tau_{tr}}`, for :math:`\Delta t < 0`
    :math:`-\eta A_- e^{\Delta t\, dt/\tau_{tr}}`, and a same-step pair gives
    :math:`\eta (A_+ - A_-)`. ``x_tar`` > 0 depresses a synapse at every post spike by
    :math:`\eta A_+ x_{tar}` (times :math:`f_+`). For a weight outside :math:`[0, w_b]` (only
    possible before the first clip) ngclearn's fractional power gives NaN, which then never
    leaves the weight; plastix takes the power of the distance clipped at 0 (no change
    towards the far side), so the clip brings the weight back. ngclearn requires ``A_plus`` and
    ``A_minus``; the defaults (1, 1) are the example at the end of its
    ``traceSTDPSynapse.py``. The clip's margin ``w_eps`` is 0 in this synapse (ngclearn's
    ``ExpSTDPSynapse`` uses 0.01). Batches are summed.

    Reference: ngclearn ``components/synapses/hebbian/traceSTDPSynapse.py`` (3.2.1);
    Morrison, A., Aertsen, A. and Diesmann, M. (2007). Spike-timing-dependent plasticity in
    balanced random networks. *Neural Comput.* 19(6):1437-1467.
    """

    Params = TraceParams
    rejected = _REJECTED

    def build(self, g: px.Graph) -> None:
        var_traces(g, self.name, self.p)
        trace_stdp_change(g, "stdp", self.p, per_sample=False)
        g.op_to_backend("dw", "mul", ["stdp", "eta"])
        decay_then_clip(g, self.p)


@dataclass(frozen=True)
class _MSTDPETParams(TraceParams):
    tau_elg: float = px.param(0.0, unit="ms", low=0, doc="eligibility time constant; 0: no "
                              "trace (M-STDP: the modulator meets the previous step's update)")
    elg_decay: float = px.param(1.0, low=0, doc="extra decay factor of the eligibility per "
                                "step")


@px.rule("ngclearn_mstdpet", aliases=("MSTDPETSynapse", "ngclearn.MSTDPETSynapse"))
class NgclearnMSTDPET(px.Rule):
    r"""Modulated trace STDP with an eligibility trace (ngclearn ``MSTDPETSynapse``): M-STDP
    for ``tau_elg`` = 0 (ngclearn's default), M-STDP-ET otherwise.

    .. math::

        z_b &\leftarrow z_b\, e^{-dt/\tau_{elg}}\, \gamma_{elg} + D_b(t - dt)/\tau_{elg}
            \quad\text{or}\quad z_b \leftarrow D_b(t - dt) \\
        W &\leftarrow \mathrm{clip}\Big(W + \eta \sum_b r_b\, z_b - W/\tau_w,\ 0,\ w_b\Big)

    then :math:`D_b(t)`, the ``trace_stdp`` update of sample :math:`b` (before :math:`\eta`;
    weight factors of the weight before this step), is stored for the next step: the
    modulator of a step meets the STDP update of the step before. ``reward`` (ngclearn's
    ``modulator``) is required at every step, a scalar or one value per sample.

    ngclearn keeps one batch-summed eligibility and multiplies it by its modulator of shape
    (batch_size, 1), which broadcasts only for batch 1 or a single value; plastix keeps the
    eligibility per sample (the same numbers summed, as every step is linear in the samples)
    so that each sample can take its own reward and a batch can be split across processes.
    ngclearn's ``outmask`` is zero until the first ``reset()``, so a synapse that was never
    reset does not learn there; plastix behaves as after that reset. ngclearn's docstring
    says ``tau_elg`` "must be > 0, otherwise the trace is disabled": its code then uses
    :math:`D(t - dt)` directly, as here.

    Reference: ngclearn ``components/synapses/modulated/MSTDPETSynapse.py`` (3.2.1); Florian,
    R. V. (2007), doi:10.1162/neco.2007.19.6.1468.
    """

    Params = _MSTDPETParams
    rejected = _REJECTED

    def build(self, g: px.Graph) -> None:
        p = self.p
        each = (g.batch_size, *g.weight_shape)
        g.signal("reward", (g.batch_size,))
        g.variable_to_backend("stdp", each)
        var_traces(g, self.name, p)
        elig: Any = "stdp"  # tau_elg = 0: the previous step's update itself
        if p.tau_elg > 0:
            g.variable_to_backend("eligibility", each)
            kept = g.op_to_backend("elg_kept", "mul", ["eligibility",
                                                       decay_factor(g, "elg_decay_dt",
                                                                    "tau_elg")])
            kept = g.op_to_backend("elg_kept", "mul", [kept, "elg_decay"])
            fresh = g.op_to_backend("elg_in", "div", ["stdp", "tau_elg"])
            elig = g.op_to_backend("eligibility", "add", [kept, fresh])
        r = g.op_to_backend("reward_col", "reshape", ["reward"], shape=(g.batch_size, 1, 1))
        g.op_to_backend("dw", "mul", [elig, r])
        g.op_to_backend("dw", "sum", ["dw"], axis=0)
        g.op_to_backend("dw", "mul", ["dw", "eta"])
        trace_stdp_change(g, "stdp", p, per_sample=True)
        decay_then_clip(g, p)


RULES = [TraceSTDP, NgclearnMSTDPET]
