r"""BindsNET's two-factor rules (``bindsnet.learning``, 0.3.4): ``PostPre``, ``Hebbian`` and
``WeightDependentPostPre``, with the node traces BindsNET's ``Nodes`` keep.

Each population keeps one trace per neuron, advanced by its ``Nodes.forward`` *before* the
connection learns (so a step's own spikes count), with decay :math:`\lambda = e^{-dt/\tau}`
(``tc_trace``) and scale :math:`a` (``trace_scale``):

.. math::

    x \leftarrow \begin{cases} \lambda x + a\, s & \texttt{traces\_additive} \\
                 a \text{ where } s = 1,\ \lambda x \text{ elsewhere} & \text{otherwise
                 (BindsNET's default)} \end{cases}

The connection's update then uses the learning rates :math:`(\nu_0, \nu_1)` = ``nu``
(:math:`\nu_0` for presynaptic events, :math:`\nu_1` for postsynaptic ones) and a batch
reduction :math:`\mathrm{red}_b` (the sum; BindsNET squeezes batch 1, the same), and
afterwards, as BindsNET's ``LearningRule.update``, decays the weight,
:math:`w \leftarrow (1 - \lambda_w) w` (``weight_decay``), and clamps it to
``[wmin, wmax]`` when either bound is finite (a ``Connection``'s bounds).

Layout: BindsNET's weight is (n_pre, n_post), a plastix weight (n_post, n_pre): a plastix
weight is BindsNET's ``connection.w.T``, and the products below are written for it.
``nu`` is BindsNET's pair ``nu=(nu_0, nu_1)``, or one number for both; it sets ``nu_pre``
and ``nu_post``. BindsNET stores ``nu``, ``wmin`` and ``wmax`` in float32 whatever the
weight's dtype, and converts spikes with ``.float()``, so it runs in float32 only; plastix
computes in the binding's dtype. Measured against BindsNET 0.3.4 (random spike trains, batch 1
and 4, every step; float64 with ``.float()`` mapped to float64 for the run): within 7e-15
in float64 and 3e-6 on weights of size 14 in float32 (the order of the batch sums).

Reference: BindsNET ``bindsnet/learning/learning.py`` and ``bindsnet/network/nodes.py``
(0.3.4); Hazan, H. et al. (2018). BindsNET: a machine learning-oriented spiking neural
networks library in Python. *Front. Neuroinform.* 12:89. doi:10.3389/fninf.2018.00089
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import plastix as px

from ._modulation import check_reduction
from ._pieces import (
    add_change,
    decay_and_clamp,
    decay_factor,
    reduced_outer,
    row_normalise,
    scaled_trace,
)

_NODE_ALIASES = {"tc_trace": ("tc_trace_pre", "tc_trace_post"),
                 "trace_scale": ("trace_scale_pre", "trace_scale_post"),
                 "traces_additive": ("traces_additive_pre", "traces_additive_post")}


def split_nu(rule: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with BindsNET's ``nu`` (one number or a pair) replaced by ``nu_pre`` and
    ``nu_post`` (explicit ``nu_pre``/``nu_post`` win)."""
    if "nu" not in values:
        return dict(values)
    out = {k: v for k, v in values.items() if k != "nu"}
    nu = values["nu"]
    if isinstance(nu, int | float) and not isinstance(nu, bool):
        pair: tuple[Any, ...] = (nu, nu)
    elif isinstance(nu, tuple | list) and len(nu) == 2:
        pair = tuple(nu)
    else:
        raise px.HyperparameterError(rule, "nu", f"expected a number or a pair (nu_pre, "
                                     f"nu_post), got {nu!r}")
    for key, value in zip(("nu_pre", "nu_post"), pair, strict=True):
        out.setdefault(key, value)
    return out


@dataclass(frozen=True)
class BindsNETParams:
    nu_pre: float = px.param(1e-4, doc="nu[0]: rate of the update on presynaptic spikes "
                             "(BindsNET has no default and learns nothing without nu)")
    nu_post: float = px.param(1e-2, doc="nu[1]: rate of the update on postsynaptic spikes")
    reduction: Any = px.param(  # noqa: RUF009 - a name or a function
        "sum", doc="batch reduction: 'sum' (BindsNET's default), 'mean', 'amax' or "
        "f(x, axis, *, xp)")
    weight_decay: float = px.param(0.0, low=0, high=1, doc="lambda_w: w *= 1 - lambda_w per "
                                   "step, after the update")
    wmin: float = px.param(-math.inf, unit="weight", doc="lower clamp (-inf: none, BindsNET's "
                           "Connection default)")
    wmax: float = px.param(math.inf, unit="weight", doc="upper clamp (inf: none)")
    norm: float = px.param(0.0, unit="weight", low=0, doc="Connection.norm: L1 norm of each "
                           "post neuron's weights, set at the end of a run (0: none)")
    tc_trace_pre: float = px.param(20.0, unit="ms", low=0, open_low=True,
                                   doc="tc_trace of the pre (source) nodes")
    tc_trace_post: float = px.param(20.0, unit="ms", low=0, open_low=True,
                                    doc="tc_trace of the post (target) nodes")
    trace_scale_pre: float = px.param(1.0, doc="trace_scale of the pre nodes")
    trace_scale_post: float = px.param(1.0, doc="trace_scale of the post nodes")
    traces_additive_pre: bool = px.param(False, doc="traces_additive of the pre nodes "
                                         "(False: a spike sets the trace to trace_scale)")
    traces_additive_post: bool = px.param(False, doc="traces_additive of the post nodes")


class _BindsNETRule(px.Rule):
    """What the three rules share: ``nu``, the node traces, decay, clamp and ``norm``."""

    Params = BindsNETParams
    param_aliases = _NODE_ALIASES
    rejected = {"update_rule": "the rule is chosen by name", "w_dtype": "the binding's dtype "
                "(bind(..., dtype=...)) is the weight's",
                "Dales_rule": "not part of the learning rule; clamp signs with a mask or wmin/"
                "wmax", "mask": "BindsNET's mask marks synapses to zero; give plastix the "
                "complement as bind(weight, mask=...)"}

    @classmethod
    def make_params(cls, values: Mapping[str, Any], base: Any = None) -> Any:
        values = split_nu(cls.name, values)
        if "reduction" in values:
            check_reduction(cls.name, "reduction", values["reduction"])
        return super().make_params(values, base)

    @classmethod
    def describe(cls) -> str:
        return super().describe() + "\n\nnu sets nu_pre, nu_post: one number for both, or " \
            "BindsNET's pair (nu_pre, nu_post)"

    def build(self, g: px.Graph) -> None:
        p = self.p
        for x, s in (("x_pre", "pre"), ("x_post", "post")):
            g.variable_to_backend(x, getattr(g, f"{s}_shape"))
            lam = decay_factor(g, f"{x}_decay", f"tc_trace_{s}")
            scaled_trace(g, x, s, lam, f"trace_scale_{s}",
                         additive=getattr(p, f"traces_additive_{s}"))
        # term on presynaptic spikes (x_post^T s_pre) and on postsynaptic ones (s_post^T x_pre)
        on_pre = reduced_outer(g, "on_pre", "x_post", "pre", p.reduction)
        on_post = reduced_outer(g, "on_post", "post", "x_pre", p.reduction)
        self.combine(g, on_pre, on_post)
        add_change(g, "dw", reduction="mean" if p.reduction == "mean" else "sum")
        decay_and_clamp(g, "weight_decay", "wmin", "wmax")
        if p.norm > 0:
            with g.phase("final"):
                row_normalise(g, "weight", "norm")

    def combine(self, g: px.Graph, on_pre: px.Value, on_post: px.Value) -> None:
        """Declare ``dw`` from the two batch-reduced terms."""
        raise NotImplementedError


@px.rule("post_pre", aliases=("PostPre", "bindsnet.PostPre"))
class PostPre(_BindsNETRule):
    r"""Pair STDP with node traces, BindsNET ``PostPre``: depression on presynaptic spikes,
    potentiation on postsynaptic ones.

    .. math::

        \Delta w = \nu_1\, \mathrm{red}_b\big(s_{post}^\top x_{pre}\big)
                 - \nu_0\, \mathrm{red}_b\big(x_{post}^\top s_{pre}\big), \qquad
        w \leftarrow \mathrm{clamp}\big((1 - \lambda_w)(w + \Delta w), w_{min}, w_{max}\big)

    Traces include this step's spikes (module docstring), so a pre and a post spike in the
    same step give :math:`\nu_1 a_{pre} - \nu_0 a_{post}`. For one pair with
    :math:`\Delta t = t_{post} - t_{pre} > 0` steps and default (resetting) traces the window
    is :math:`\nu_1 a_{pre} e^{-\Delta t\, dt/\tau_{pre}}`, and for :math:`\Delta t < 0`
    :math:`-\nu_0 a_{post} e^{\Delta t\, dt/\tau_{post}}`. BindsNET applies the two terms one
    after the other; plastix adds their sum (the same to rounding). ``norm`` > 0 rescales each
    post neuron's weights to that L1 norm on the last step of a run (``run(...)`` or
    ``step(..., final=True)``), as BindsNET's ``Network.run`` calls ``Connection.normalize``
    once at its end; as there, the normalised weights are not clamped again (they may leave
    ``[wmin, wmax]``).

    Reference: BindsNET ``learning.PostPre`` (0.3.4).
    """

    def combine(self, g: px.Graph, on_pre: px.Value, on_post: px.Value) -> None:
        ltd = g.op_to_backend("ltd", "mul", ["nu_pre", on_pre])
        ltp = g.op_to_backend("ltp", "mul", ["nu_post", on_post])
        g.op_to_backend("dw", "sub", [ltp, ltd])


@px.rule("hebbian", aliases=("Hebbian", "bindsnet.Hebbian"))
class Hebbian(_BindsNETRule):
    r"""Hebbian learning with node traces, BindsNET ``Hebbian``: both terms potentiate.

    .. math::

        \Delta w = \nu_0\, \mathrm{red}_b\big(x_{post}^\top s_{pre}\big)
                 + \nu_1\, \mathrm{red}_b\big(s_{post}^\top x_{pre}\big), \qquad
        w \leftarrow \mathrm{clamp}\big((1 - \lambda_w)(w + \Delta w), w_{min}, w_{max}\big)

    The window of one pair is symmetric in the order of the spikes:
    :math:`\nu_1 a_{pre} e^{-|\Delta t|\, dt/\tau_{pre}}` when the post spike comes last and
    :math:`\nu_0 a_{post} e^{-|\Delta t|\, dt/\tau_{post}}` when the pre spike does (both
    for a same-step pair). Without bounds the weights only grow: set ``wmax`` (or
    ``weight_decay``, ``norm``).

    Reference: BindsNET ``learning.Hebbian`` (0.3.4).
    """

    def combine(self, g: px.Graph, on_pre: px.Value, on_post: px.Value) -> None:
        ltp_pre = g.op_to_backend("ltp_pre", "mul", ["nu_pre", on_pre])
        ltp_post = g.op_to_backend("ltp_post", "mul", ["nu_post", on_post])
        g.op_to_backend("dw", "add", [ltp_pre, ltp_post])


@dataclass(frozen=True)
class _BoundedParams(BindsNETParams):
    wmin: float = px.param(0.0, unit="weight", doc="lower bound: depression scales with "
                           "w - wmin (finite; BindsNET requires it)")
    wmax: float = px.param(1.0, unit="weight", doc="upper bound: potentiation scales with "
                           "wmax - w (finite; BindsNET requires it)")


@px.rule("weight_dependent_post_pre", aliases=("WeightDependentPostPre",
                                               "bindsnet.WeightDependentPostPre"))
class WeightDependentPostPre(_BindsNETRule):
    r"""``PostPre`` with soft bounds, BindsNET ``WeightDependentPostPre``: each term is
    scaled by the distance of the weight to the bound it moves towards.

    .. math::

        \Delta w = \nu_1\, \mathrm{red}_b\big(s_{post}^\top x_{pre}\big) \odot (w_{max} - w)
                 - \nu_0\, \mathrm{red}_b\big(x_{post}^\top s_{pre}\big) \odot (w - w_{min}),
        \qquad w \leftarrow \mathrm{clamp}\big((1 - \lambda_w)(w + \Delta w), w_{min},
        w_{max}\big)

    with :math:`w` the weight before the step. ``wmin`` and ``wmax`` must be finite (BindsNET
    asserts it; a Connection's bounds have no finite default there, here they are 0 and 1).
    For one causal pair the change is :math:`\nu_1 a_{pre} e^{-\Delta t\, dt/\tau_{pre}}
    (w_{max} - w)`, which never crosses :math:`w_{max}` while :math:`\nu_1 a_{pre} \le 1`.

    Reference: BindsNET ``learning.WeightDependentPostPre`` (0.3.4).
    """

    Params = _BoundedParams

    @classmethod
    def make_params(cls, values: Mapping[str, Any], base: Any = None) -> Any:
        params = super().make_params(values, base)
        for bound in ("wmin", "wmax"):
            if not math.isfinite(getattr(params, bound)):
                raise px.HyperparameterError(cls.name, bound, f"expected a finite bound (the "
                                             f"update scales with it), got "
                                             f"{getattr(params, bound)!r}")
        return params

    def combine(self, g: px.Graph, on_pre: px.Value, on_post: px.Value) -> None:
        room_up = g.op_to_backend("room_up", "sub", ["wmax", "weight"])
        room_down = g.op_to_backend("room_down", "sub", ["weight", "wmin"])
        ltp = g.op_to_backend("ltp", "mul", ["nu_post", on_post])
        ltp = g.op_to_backend("ltp", "mul", [ltp, room_up])
        ltd = g.op_to_backend("ltd", "mul", ["nu_pre", on_pre])
        ltd = g.op_to_backend("ltd", "mul", [ltd, room_down])
        g.op_to_backend("dw", "sub", [ltp, ltd])


RULES = [PostPre, Hebbian, WeightDependentPostPre]
