r"""SPAIC's online STDP learners (``spaic.Learning.STDP_Learner``), as SPAIC's code computes them.

All four rules share SPAIC's pair term, summed over the batch (:math:`s` spikes, :math:`x`
traces, shapes (batch, n)):

.. math::

    \Delta w = A_{post}\, s_{post}^\top x_{pre} - A_{pre}\, x_{post}^\top s_{pre}

and differ in their traces and in how the change is applied. Two things in SPAIC belong to its
engine rather than its rules and are not reproduced: SPAIC's scheduler hands a learner the
previous step's spikes and applies the previous step's :math:`\Delta w`, so a spike reaches the
weight one or two steps late; in plastix a step's spikes update the traces and the weight in
that same step. SPAIC also stores every scalar as float32; plastix keeps the binding's dtype.

Reference: Diehl, P. U. and Cook, M. (2015). Unsupervised learning of digit recognition using
spike-timing-dependent plasticity. *Front. Comput. Neurosci.* 9:99. doi:10.3389/fncom.2015.00099
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import plastix as px

from ._pieces import add_change, clamp, pair_dw, row_normalise, trace

_LR = ("SPAIC reads 'lr' but never uses it; scale Apost and Apre instead")
_DECAY_20 = math.exp(-1 / 20)


def _bounds() -> tuple[float, float]:
    return px.param(0.0, unit="weight", doc="lower clamp (SPAIC: 0)"), \
        px.param(1.0, unit="weight", doc="upper clamp (SPAIC: 1)")


@px.rule("nearest_online_stdp", aliases=("nearest_online_STDP",))
class NearestOnlineSTDP(px.Rule):
    r"""Nearest-spike online STDP with per-step row normalisation (SPAIC ``nearest_online_STDP``).

    .. math::

        x_{pre} &\leftarrow (a - s_{pre})\, \lambda_{pre}\, x_{pre} + s_{pre} \\
        x_{post} &\leftarrow (a - s_{post})\, \lambda_{post}\, x_{post} + s_{post} \\
        w &\leftarrow w + A_{post}\, s_{post}^\top x_{pre} - A_{pre}\, x_{post}^\top s_{pre} \\
        w_{ij} &\leftarrow \mathrm{clip}\big(w_{norm}\, w_{ij} / \textstyle\sum_k |w_{ik}|,
                 \; w_{min}, w_{max}\big)

    with :math:`a` = ``spike`` (1): a spike resets its trace to 1. The traces include this
    step's spikes. Rows are normalised every step, as SPAIC's code does (its docstring names a
    ``trace_decay`` that the code never reads; here it is an alias setting both decays).
    ``w_norm`` = 78.4 is SPAIC's constant for 784 MNIST inputs (0.1 per input).

    Reference: Diehl and Cook (2015), doi:10.3389/fncom.2015.00099.
    """

    @dataclass(frozen=True)
    class Params:
        Apost: float = px.param(1e-2, doc="potentiation on a post spike, times the pre trace")
        Apre: float = px.param(1e-4, doc="depression on a pre spike, times the post trace")
        trace_pre: float = px.param(_DECAY_20, low=0, high=1, doc="pre trace decay per step "
                                    "(exp(-dt/tau), tau = 20 steps)")
        trace_post: float = px.param(_DECAY_20, low=0, high=1, doc="post trace decay per step")
        spike: float = px.param(1.0, doc="spike amplitude a in the trace update")
        w_norm: float = px.param(78.4, unit="weight", low=0, open_low=True,
                                 doc="L1 norm of each post neuron's row after normalisation")
        w_min: float = _bounds()[0]
        w_max: float = _bounds()[1]

    param_aliases = {"trace_decay": ("trace_pre", "trace_post")}
    rejected = {"lr": _LR}

    def build(self, g: px.Graph) -> None:
        g.variable_to_backend("x_pre", g.pre_shape)
        g.variable_to_backend("x_post", g.post_shape)
        trace(g, "x_pre", "pre", "trace_pre", "nearest", amplitude="spike")
        trace(g, "x_post", "post", "trace_post", "nearest", amplitude="spike")
        pair_dw(g, "dw", pre="pre", post="post", x_pre="x_pre", x_post="x_post",
                a_plus="Apost", a_minus="Apre")
        add_change(g, "dw")
        row_normalise(g, "weight", "w_norm")
        clamp(g, "weight", "w_min", "w_max")


@px.rule("full_online_stdp", aliases=("full_online_STDP",))
class FullOnlineSTDP(px.Rule):
    r"""All-to-all online STDP, normalised on the last step of a run (SPAIC ``full_online_STDP``).

    .. math::

        x &\leftarrow \lambda\, x + s \\
        w &\leftarrow \mathrm{clip}\big(w + A_{post}\, s_{post}^\top x_{pre}
             - A_{pre}\, x_{post}^\top s_{pre},\; w_{min}, w_{max}\big)

    On the last step of a run (``final`` phase: the last step of ``syn.run`` or
    ``syn.step(..., final=True)``), the row normalisation
    :math:`w_{ij} \leftarrow w_{norm} w_{ij} / \sum_k |w_{ik}|` runs between adding the
    change and clipping, where SPAIC's step counter puts it.

    Reference: Diehl and Cook (2015), doi:10.3389/fncom.2015.00099.
    """

    @dataclass(frozen=True)
    class Params:
        Apost: float = px.param(1e-2, doc="potentiation on a post spike, times the pre trace")
        Apre: float = px.param(1e-4, doc="depression on a pre spike, times the post trace")
        trace_decay: float = px.param(_DECAY_20, low=0, high=1,
                                      doc="trace decay per step (exp(-dt/tau), tau = 20 steps)")
        w_norm: float = px.param(78.4, unit="weight", low=0, open_low=True,
                                 doc="L1 norm of each row after the final normalisation")
        w_min: float = _bounds()[0]
        w_max: float = _bounds()[1]

    rejected = {"lr": _LR}

    def build(self, g: px.Graph) -> None:
        g.variable_to_backend("x_pre", g.pre_shape)
        g.variable_to_backend("x_post", g.post_shape)
        trace(g, "x_pre", "pre", "trace_decay", "cumulative")
        trace(g, "x_post", "post", "trace_decay", "cumulative")
        pair_dw(g, "dw", pre="pre", post="post", x_pre="x_pre", x_post="x_post",
                a_plus="Apost", a_minus="Apre")
        add_change(g, "dw")
        with g.phase("final"):
            row_normalise(g, "weight", "w_norm")
        clamp(g, "weight", "w_min", "w_max")


@px.rule("meta_nearest_online_stdp", aliases=("Meta_nearest_online_STDP",))
class MetaNearestOnlineSTDP(px.Rule):
    r"""Nearest-spike STDP with soft bounds and homeostatic row means (SPAIC
    ``Meta_nearest_online_STDP``).

    .. math::

        x_{pre} &\leftarrow \lambda_{pre}\, x_{pre}\, [s_{pre} \le 0] + s_{pre}, \qquad
        x_{post} \leftarrow \lambda_{post}\, x_{post}\, [s_{post} \le 0] + s_{post} \\
        \Delta w &= A_{post}\, s_{post}^\top x_{pre} - A_{pre}\, x_{post}^\top s_{pre} \\
        \bar w_i &\leftarrow \bar w_i - \rho\, A_{pre} \big(\langle x_{post,i} \rangle_b
                  - \langle x_{post} \rangle_{b,i}\big), \qquad
        \bar w \leftarrow \bar w\, \bar{\bar w} / \langle \bar w \rangle \\
        c_{ij} &= [\Delta w_{ij} < 0]\, e^{-\beta / \max(w_{ij} - w_{min}, \epsilon)}
               + [\Delta w_{ij} > 0]\, e^{-\beta / \max(w_{max} - w_{ij}, \epsilon)} \\
        w_{ij} &\leftarrow w_{ij}\, \bar w_i / \max(\langle w_i \rangle, \epsilon_m)
                 + \Delta w_{ij}\, c_{ij}

    :math:`\bar w_i` (``w_mean``, one per post neuron) starts as the mean of row i of the
    weight when the weight is bound, and :math:`\bar{\bar w}` (``aw_mean``) as their mean;
    neither is cleared by ``reset()`` (SPAIC sets them once). The drift of :math:`\bar w` is a
    batch mean, declared as the change of ``w_mean`` (a seam with ``reduction="mean"``).
    SPAIC's code hard-codes
    :math:`\rho = 0.1`, :math:`\beta = 0.2`, :math:`\epsilon = 10^{-4}` and
    :math:`\epsilon_m = 10^{-6}`; here they are the documented hyperparameters ``w_mean_rate``,
    ``soft_bound_scale``, ``soft_bound_eps`` and ``mean_eps`` with those defaults. SPAIC also
    sets ``w_norm = 1.2`` and never uses it; plastix has no such parameter. SPAIC updates only
    while its network is training; a plastix binding always learns.

    Reference: SPAIC, ``spaic.Learning.STDP_Learner.Meta_nearest_online_STDP``.
    """

    @dataclass(frozen=True)
    class Params:
        Apost: float = px.param(1e-2, doc="potentiation on a post spike, times the pre trace")
        Apre: float = px.param(1e-4, doc="depression on a pre spike; also scales the row-mean "
                               "drift")
        pre_decay: float = px.param(math.exp(-1 / 30), low=0, high=1,
                                    doc="pre trace decay per step (tau = 30 steps)")
        post_decay: float = px.param(math.exp(-1 / 200), low=0, high=1,
                                     doc="post trace decay per step (tau = 200 steps)")
        w_min: float = px.param(0.0, unit="weight", doc="soft lower bound")
        w_max: float = px.param(1.0, unit="weight", doc="soft upper bound")
        w_mean_rate: float = px.param(0.1, low=0, doc="rho: drift rate of the row means")
        soft_bound_scale: float = px.param(0.2, unit="weight", low=0,
                                           doc="beta: width of the soft bounds")
        soft_bound_eps: float = px.param(1e-4, unit="weight", low=0, open_low=True,
                                         doc="epsilon: floor of the distance to a bound")
        mean_eps: float = px.param(1e-6, unit="weight", low=0, open_low=True,
                                   doc="floor of a row's mean weight in the rescaling")

    rejected = {"lr": _LR, "w_norm": "SPAIC sets w_norm = 1.2 for this rule and never uses it"}

    def build(self, g: px.Graph) -> None:
        n_post = g.weight_shape[0]
        g.variable_to_backend("x_pre", g.pre_shape)
        g.variable_to_backend("x_post", g.post_shape)
        g.variable_to_backend("w_mean", (n_post, 1), reset=False)
        g.variable_to_backend("aw_mean", (), reset=False)
        with g.phase("bind"):
            g.op_to_backend("w_mean", "mean", ["weight"], axis=1, keepdims=True)
            g.op_to_backend("aw_mean", "mean", ["w_mean"])
        for x, s, decay in (("x_pre", "pre", "pre_decay"), ("x_post", "post", "post_decay")):
            silent = g.op_to_backend(f"{s}_silent", "le", [s, 0])
            silent = g.op_to_backend(f"{s}_silent", "cast", [silent], dtype=g.dtype)
            kept = g.op_to_backend(x, "mul", [decay, x])
            kept = g.op_to_backend(x, "mul", [kept, silent])
            g.op_to_backend(x, "add", [kept, s])
        pair_dw(g, "dw", pre="pre", post="post", x_pre="x_pre", x_post="x_post",
                a_plus="Apost", a_minus="Apre")
        # homeostatic drift of each row's target mean, then renormalised to the global mean
        g.op_to_backend("drift", "mean", ["x_post"], axis=0)
        g.op_to_backend("drift_all", "mean", ["x_post"])
        g.op_to_backend("drift", "sub", ["drift", "drift_all"])
        g.op_to_backend("drift", "reshape", ["drift"], shape=(n_post, 1))
        g.op_to_backend("rate", "mul", ["w_mean_rate", "Apre"])
        g.op_to_backend("drift", "mul", ["rate", "drift"])
        # the drift is a batch mean: exposed as w_mean's change so data-parallel ranks agree
        g.weight_change("drift", target="w_mean", reduction="mean")
        g.op_to_backend("w_mean", "sub", ["w_mean", "drift"])
        g.op_to_backend("w_mean_scaled", "mul", ["w_mean", "aw_mean"])
        g.op_to_backend("w_mean_avg", "mean", ["w_mean"])
        g.op_to_backend("w_mean", "div", ["w_mean_scaled", "w_mean_avg"])
        dw = g.weight_change("dw")
        # soft bounds, chosen by the sign of the change
        soft = []
        for side, gap_args in (("less", ["weight", "w_min"]), ("greater", ["w_max", "weight"])):
            gap = g.op_to_backend(f"gap_{side}", "sub", gap_args)
            gap = g.op_to_backend(f"gap_{side}", "maximum", [gap, "soft_bound_eps"])
            gap = g.op_to_backend(f"gap_{side}", "div", ["soft_bound_scale", gap])
            gap = g.op_to_backend(f"gap_{side}", "neg", [gap])
            gap = g.op_to_backend(f"gap_{side}", "exp", [gap])
            sign = g.op_to_backend(f"sign_{side}", side, [dw, 0])
            sign = g.op_to_backend(f"sign_{side}", "cast", [sign], dtype=g.dtype)
            soft.append(g.op_to_backend(f"soft_{side}", "mul", [sign, gap]))
        g.op_to_backend("soft", "add", soft)
        g.op_to_backend("row_mean", "mean", ["weight"], axis=1, keepdims=True)
        g.op_to_backend("row_mean", "maximum", ["row_mean", "mean_eps"])
        g.op_to_backend("scaled", "mul", ["weight", "w_mean"])
        g.op_to_backend("scaled", "div", ["scaled", "row_mean"])
        g.op_to_backend("dw_soft", "mul", [dw, "soft"])
        g.op_to_backend("weight", "add", ["scaled", "dw_soft"])


RULES = [NearestOnlineSTDP, FullOnlineSTDP, MetaNearestOnlineSTDP]
