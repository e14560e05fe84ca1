r"""ngclearn's ``ExpSTDPSynapse`` with its traces (``VarTrace``), as ngclearn v3.0.0 computes it.

Each step first advances both traces as ngclearn's ``VarTrace`` does (decay, then the spike;
:math:`d = e^{-dt/\tau_{tr}}`), then applies the synapse's ``evolve``: exponential weight
dependence with strength :math:`\beta`, summed over the batch, then a clip:

.. math::

    x &\leftarrow \gamma\, x\, d\, (1 - s) + P\, s
         \quad (a_\delta = 0) \qquad\text{or}\qquad
    x \leftarrow \gamma\, x\, d + a_\delta\, s \quad (a_\delta > 0) \\
    \Delta W &= A_+ \big[e^{-\beta W} \odot s_{post}^\top x_{pre}
        - e^{-\beta (w_b - W)} \odot x_{tar}\, s_{post}^\top \mathbf 1\big]
        - [A_- > 0]\, A_-\, e^{-\beta W} \odot x_{post}^\top s_{pre} \\
    W &\leftarrow \mathrm{clip}(W + \eta\, \Delta W,\; \epsilon,\; w_b - \epsilon)
         \odot M

Layout: ngclearn's weight is (n_pre, n_post); plastix's is (n_post, n_pre), so a plastix
weight is ngclearn's transposed (``W_plastix = W_ngclearn.T``) and the products above are
written for that layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plastix as px

from ._pieces import add_change, bernoulli_mask, clamp, decay_factor, exp_dependence, var_trace

_DECAYS = ("exp", "lin", "step")


@dataclass(frozen=True)
class VarTraceParams:
    """The hyperparameters of ngclearn's ``VarTrace``, shared by both traces of a rule."""

    tau_tr: float = px.param(20.0, unit="ms", low=0, open_low=True,
                             doc="VarTrace time constant of both traces")
    a_delta: float = px.param(0.0, low=0, doc="VarTrace increment; 0: a spike resets the "
                              "trace to P_scale")
    P_scale: float = px.param(1.0, doc="VarTrace value set by a spike when a_delta = 0")
    gamma_tr: float = px.param(1.0, doc="VarTrace extra decay factor per step")
    decay_type: str = px.param("exp", choices=_DECAYS, doc="VarTrace decay: exp(-dt/tau), "
                               "1 - dt/tau, or 0 (the trace is the current pulse)")
    n_nearest_spikes: int = px.param(0, low=0, doc="VarTrace k (ngclearn 3.2): k > 0 adds "
                                     "s (a_delta - x/k) instead (0: off)")


def var_traces(g: px.Graph, rule: str, p: Any) -> None:
    """Declare and advance ``x_pre`` and ``x_post`` as ngclearn's ``VarTrace`` components
    (hyperparameters :class:`VarTraceParams`) do, before the synapse evolves."""
    decay: Any
    if p.decay_type == "exp":
        decay = decay_factor(g, "trace_decay", "tau_tr")
    elif p.decay_type == "lin":
        if g.dt > p.tau_tr:  # the factor 1 - dt/tau_tr would be negative: traces blow up
            raise px.HyperparameterError(rule, "tau_tr", f"linear decay needs tau_tr >= dt "
                                         f"({g.dt} ms), got {p.tau_tr!r}")
        ratio = g.op_to_backend("trace_decay", "div", ["dt", "tau_tr"])
        decay = g.op_to_backend("trace_decay", "sub", [1.0, ratio])
    else:
        decay = 0.0
    for x, s in (("x_pre", "pre"), ("x_post", "post")):
        g.variable_to_backend(x, getattr(g, f"{s}_shape"))
        var_trace(g, x, s, decay, cumulative=p.a_delta > 0, a_delta="a_delta",
                  p_scale="P_scale", gamma="gamma_tr", n_nearest=p.n_nearest_spikes)


@px.rule("exp_stdp", aliases=("ExpSTDPSynapse", "ngclearn_exp_stdp"))
class ExpSTDP(px.Rule):
    r"""Trace STDP with exponential weight dependence (ngclearn ``ExpSTDPSynapse``, Diehl and
    Cook's eq. 4), with ngclearn ``VarTrace`` traces computed in the rule.

    .. math::

        W \leftarrow \mathrm{clip}\Big(W + \eta A_+ \big[e^{-\beta W} s_{post}^\top x_{pre}
            - e^{-\beta(w_b - W)} x_{tar} s_{post}^\top \mathbf 1\big]
            - \eta A_- e^{-\beta W} x_{post}^\top s_{pre},\; \epsilon, w_b - \epsilon\Big)

    Traces (``VarTrace``): ``tau_tr`` in ms, exponential decay; with ``a_delta = 0`` (the
    default, Diehl and Cook's traces) a spike resets its trace to ``P_scale``; with
    ``a_delta > 0`` a spike adds ``a_delta`` (cumulative). Both traces include this step's
    spikes. Layout: ngclearn's weight is (n_pre, n_post); a plastix weight is (n_post,
    n_pre), ngclearn's transposed (``W_ngclearn.T``). LTD is skipped when
    ``A_minus <= 0``, as in ngclearn (a negative ``A_minus`` does not potentiate). Batches
    are summed (``bind(batch_size=...)``, ngclearn's ``batch_size``).

    Masks: ``bind(weight, mask=M)`` is ngclearn's ``weight_mask`` (masked weights are 0 after
    every step). ``p_conn`` in (0, 1) draws a fixed Bernoulli(``p_conn``) connectivity mask
    from the binding's seed when the weight is bound and applies it to the weight and to
    every update, as the plastix issue asks. ngclearn itself applies its mask to the weight
    only once and keeps no copy, so its clip lifts the dropped synapses to ``eps`` after the
    first step; plastix keeps them at 0. As in ngclearn, ``p_conn`` outside (0, 1) means no
    mask.

    Kept from ngclearn for fidelity: the hard-coded clip margin (``eps``, 0.01); ``tau_w``,
    whose decay ngclearn computes and never applies: it is ignored unless
    ``apply_tau_w=True``, which applies the documented decay
    :math:`W \leftarrow W + \eta\,\Delta W - W/\tau_w` (per step, for ``tau_w > 0``);
    ``resist_scale``, which scales ngclearn's forward output only and has no effect on
    learning. ngclearn requires ``A_plus``, ``A_minus`` and ``exp_beta``; the defaults here
    (1, 1, 1) are those of the example at the end of ngclearn's ``expSTDPSynapse.py``.

    Reference: ngclearn ``components/synapses/hebbian/expSTDPSynapse.py`` (v3.0.0); Diehl, P.
    U. and Cook, M. (2015), doi:10.3389/fncom.2015.00099; Nessler, B. et al. (2013), PLoS
    Comput. Biol. 9(4):e1003037.
    """

    @dataclass(frozen=True)
    class Params(VarTraceParams):
        A_plus: float = px.param(1.0, doc="strength of potentiation (LTP)")
        A_minus: float = px.param(1.0, doc="strength of depression (LTD); <= 0 disables it")
        exp_beta: float = px.param(1.0, unit="1/weight", doc="beta: strength of the exponential "
                                   "weight dependence")
        eta: float = px.param(1.0, doc="global learning rate")
        pretrace_target: float = px.param(0.0, doc="x_tar: pre-trace target (higher -> lower "
                                          "weights)")
        w_bound: float = px.param(1.0, unit="weight", low=0, open_low=True,
                                  doc="maximum weight")
        eps: float = px.param(0.01, unit="weight", low=0, doc="clip margin: weights stay in "
                              "[eps, w_bound - eps] (ngclearn hard-codes 0.01)")
        tau_w: float = px.param(0.0, unit="steps", low=0, doc="weight decay constant; ngclearn "
                                "computes W/tau_w and never applies it")
        apply_tau_w: bool = px.param(False, doc="apply the documented decay -W/tau_w each step")
        resist_scale: float = px.param(1.0, doc="scales ngclearn's forward output only; no "
                                       "effect on learning")
        p_conn: float = px.param(1.0, low=0, high=1, doc="connection probability of a fixed "
                                 "random mask (from the binding's seed); only in (0, 1)")
        def __post_init__(self) -> None:
            if 2 * self.eps >= self.w_bound:
                raise ValueError(f"w_bound ({self.w_bound}) must exceed 2 * eps ({self.eps})")

    def build(self, g: px.Graph) -> None:
        p = self.p
        masked = 0.0 < p.p_conn < 1.0
        if masked:
            bernoulli_mask(g, "conn", "p_conn")
        var_traces(g, self.name, p)
        e_w, e_gap = exp_dependence(g, "exp_beta", "w_bound")
        ltp = g.op_to_backend("ltp", "mat_mult_pre", ["post", "x_pre"])
        ltp = g.op_to_backend("ltp", "mul", [e_w, ltp])
        count = g.op_to_backend("post_count", "sum", ["post"], axis=0)
        count = g.op_to_backend("post_count", "reshape", [count], shape=(g.post_shape[1], 1))
        target = g.op_to_backend("target", "mul", ["pretrace_target", count])
        g.op_to_backend("ltp", "sub", [ltp, g.op_to_backend("ltp_tar", "mul", [e_gap, target])])
        g.op_to_backend("dw", "mul", ["ltp", "A_plus"])
        if p.A_minus > 0:
            ltd = g.op_to_backend("ltd", "mat_mult_pre", ["x_post", "pre"])
            ltd = g.op_to_backend("ltd", "mul", [e_w, ltd])
            g.op_to_backend("dw", "sub", ["dw", g.op_to_backend("ltd", "mul", [ltd, "A_minus"])])
        g.op_to_backend("dw", "mul", ["dw", "eta"])
        if p.apply_tau_w and p.tau_w > 0:
            g.op_to_backend("dw", "sub", ["dw", g.op_to_backend("w_decay", "div",
                                                                ["weight", "tau_w"])])
        if masked:
            g.op_to_backend("dw", "mul", ["dw", "conn"])
        add_change(g, "dw")
        clamp(g, "weight", "eps", g.op_to_backend("w_high", "sub", ["w_bound", "eps"]))
        if masked:
            g.op_to_backend("weight", "mul", ["weight", "conn"])


RULES = [ExpSTDP]
