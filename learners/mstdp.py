r"""Reward-modulated STDP (Florian 2007) as BindsNET's ``MSTDP`` and ``MSTDPET`` compute it.

Per batch sample, with pre trace :math:`P^+` (one per pre neuron), post trace :math:`P^-`
(one per post neuron), spikes :math:`f` and reward :math:`r`, each step of :math:`\delta t`:

.. math::

    P^+ &\leftarrow P^+ e^{-\delta t/\tau_+} + A_+ f_{pre}, \qquad
    P^- \leftarrow P^- e^{-\delta t/\tau_-} + A_- f_{post} \\
    \zeta_{ij} &= P^+_j\, f_{post,i} + f_{pre,j}\, P^-_i \\
    \text{MSTDP:}\quad w(t) &= w(t - \delta t)
        + \nu\, \mathrm{red}_b\big(r(t)\, \zeta(t - \delta t)\big) \\
    \text{MSTDP-ET:}\quad z(t) &= z(t - \delta t)\, e^{-\delta t/\tau_z}
        + \zeta(t - \delta t)/\tau_z, \qquad
    w(t) = w(t - \delta t) + \nu\, \delta t\, \mathrm{red}_b\big(r(t)\, z(t)\big)

The reward of a step multiplies the eligibility of the *previous* step (the weight is updated
first, then the traces and :math:`\zeta`), which is Florian's
:math:`w(t+\delta t) = w(t) + \gamma\, r(t+\delta t)\, \zeta(t)`. BindsNET's ``zero_lag=True``
advances the traces and :math:`\zeta` first, so the reward multiplies :math:`\zeta(t)` (MSTDP)
and :math:`z(t)` integrates :math:`\zeta(t)` (MSTDP-ET): a direct discretisation of Florian's
continuous-time equations. After the update, as BindsNET's ``LearningRule.update``:
:math:`w \leftarrow (1 - \lambda_w) w`, then clamping to :math:`[w_{min}, w_{max}]`.

Batches: BindsNET 0.3.4 keeps per-sample traces and eligibilities in both rules and reduces
over the batch, as plastix does; its reward must be a scalar or of shape (B, 1, 1) (shape
(B,) broadcasts against the wrong axis there), where plastix takes a scalar or one value per
sample. ``reset()`` clears traces and eligibilities (BindsNET never resets them). Weights are
(n_post, n_pre), the transpose of BindsNET's. Measured against BindsNET 0.3.4 with random
spike trains and rewards (batch 1 and 4, both lags): equal in float64, within 2e-6 of
weights of size 2 in float32 (the order of the batch reduction).

Reference: Florian, R. V. (2007). Reinforcement learning through modulation of
spike-timing-dependent synaptic plasticity. *Neural Comput.* 19(6):1468-1502.
doi:10.1162/neco.2007.19.6.1468; BindsNET ``learning.MSTDP`` / ``learning.MSTDPET``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import plastix as px

from ._modulation import batch_reduce, check_reduction, decay
from ._pieces import add_change, decay_and_clamp, sample_outer


@dataclass(frozen=True)
class _Common:
    nu: float = px.param(1.0, doc="gamma: learning rate (BindsNET's nu[0]; BindsNET has no "
                         "default and disables learning without one)")
    a_plus: float = px.param(1.0, doc="A+: pre trace increment per pre spike")
    a_minus: float = px.param(-1.0, doc="A-: post trace increment per post spike (signed)")
    tc_plus: float = px.param(20.0, unit="ms", low=0, open_low=True, doc="tau+: pre trace")
    tc_minus: float = px.param(20.0, unit="ms", low=0, open_low=True, doc="tau-: post trace")
    batch_reduction: Any = px.param(  # noqa: RUF009 - a name or a function
        "sum", doc="'sum', 'mean', 'amax' or f(x, axis, *, xp) over r * eligibility")
    weight_decay: float = px.param(0.0, low=0, high=1, doc="lambda_w: w *= 1 - lambda_w per step")
    w_min: float = px.param(-math.inf, unit="weight", doc="lower clamp (-inf: none)")
    w_max: float = px.param(math.inf, unit="weight", doc="upper clamp (inf: none)")
    zero_lag: bool = px.param(False, doc="BindsNET's zero_lag: the reward multiplies this "
                              "step's eligibility (True) instead of the previous step's")


class _Florian(px.Rule):
    """What MSTDP and MSTDP-ET share: traces, eligibility, decay and clamping."""

    param_aliases = {"wmin": ("w_min",), "wmax": ("w_max",)}

    @classmethod
    def make_params(cls, values: Mapping[str, Any], base: Any = None) -> Any:
        if "batch_reduction" in values:
            check_reduction(cls.name, "batch_reduction", values["batch_reduction"])
        return super().make_params(values, base)

    def declare(self, g: px.Graph) -> tuple[int, int, int]:
        batch, n_pre = g.pre_shape
        n_post = g.post_shape[1]
        g.signal("reward", (batch,))
        g.variable_to_backend("p_plus", g.pre_shape)
        g.variable_to_backend("p_minus", g.post_shape)
        g.variable_to_backend("eligibility", (batch, n_post, n_pre))
        g.op_to_backend("reward_col", "reshape", ["reward"], shape=(batch, 1, 1))
        return batch, n_pre, n_post

    def modulated(self, g: px.Graph, name: str, of: str) -> None:
        """The change nu * red_b(r * of), named ``name`` (scaled further by the caller)."""
        g.op_to_backend(name, "mul", ["reward_col", of])
        batch_reduce(g, name, name, self.p.batch_reduction)
        g.op_to_backend(name, "mul", ["nu", name])

    def eligibility(self, g: px.Graph) -> None:
        for x, s, a, tc in (("p_plus", "pre", "a_plus", "tc_plus"),
                            ("p_minus", "post", "a_minus", "tc_minus")):
            lam = decay(g, f"{x}_decay", tc)
            jump = g.op_to_backend(f"{x}_jump", "mul", [a, s])
            g.op_to_backend(x, "var_linear", [x, lam, jump])
        ltp = sample_outer(g, "zeta_ltp", "post", "p_plus")
        ltd = sample_outer(g, "zeta_ltd", "p_minus", "pre")
        g.op_to_backend("eligibility", "add", [ltp, ltd])

    def bound(self, g: px.Graph) -> None:
        decay_and_clamp(g, "weight_decay", "w_min", "w_max")

    def lagged(self, g: px.Graph, update: Callable[[], None]) -> None:
        """The weight update and the advance of the traces and the eligibility, in BindsNET's
        order: the update first (the reward meets the previous step's eligibility), or with
        ``zero_lag`` the advance first."""
        if self.p.zero_lag:
            self.eligibility(g)
        update()
        if not self.p.zero_lag:
            self.eligibility(g)
        self.bound(g)


@px.rule("mstdp", aliases=("MSTDP",))
class MSTDP(_Florian):
    r"""Reward-modulated STDP (Florian 2007), BindsNET ``MSTDP``.

    .. math::

        w \leftarrow w + \nu\, \mathrm{red}_b\big(r(t)\, \zeta(t - \delta t)\big), \qquad
        \zeta_{ij} = P^+_j f_{post,i} + f_{pre,j} P^-_i

    then the traces and :math:`\zeta` advance with this step's spikes (module docstring);
    ``reward`` (scalar or one per batch sample) is required at every step. No
    :math:`\delta t` factor, as in BindsNET. Simultaneous pre and post spikes give
    :math:`\zeta = A_+ + A_-` (0 with the defaults). With ``zero_lag=True`` the traces and
    :math:`\zeta` advance first and :math:`w \leftarrow w + \nu\, \mathrm{red}_b(r(t)\,
    \zeta(t))`: a causal pair is paid by the reward of the post spike's own step.

    Reference: Florian (2007), doi:10.1162/neco.2007.19.6.1468.
    """

    Params = _Common

    def build(self, g: px.Graph) -> None:
        self.declare(g)

        def update() -> None:
            self.modulated(g, "dw", "eligibility")
            add_change(g, "dw")

        self.lagged(g, update)


@dataclass(frozen=True)
class _ETParams(_Common):
    # eligibility gains z / tc_e_trace each step: a time constant below a microsecond (far
    # below any time step) would overflow it, so that is the floor
    tc_e_trace: float = px.param(25.0, unit="ms", low=1e-3,
                                 doc="tau_z: eligibility trace time constant")


@px.rule("mstdpet", aliases=("MSTDPET", "mstdp_et"))
class MSTDPET(_Florian):
    r"""Reward-modulated STDP with eligibility trace (Florian 2007), BindsNET ``MSTDPET``.

    .. math::

        z &\leftarrow z\, e^{-\delta t/\tau_z} + \zeta(t - \delta t) / \tau_z \\
        w &\leftarrow w + \nu\, \delta t\, \mathrm{red}_b\big(r(t)\, z\big)

    then the traces and :math:`\zeta` advance with this step's spikes (module docstring);
    with ``zero_lag=True`` they advance first and :math:`z` integrates :math:`\zeta(t)`.
    BindsNET multiplies by :math:`\delta t` here and not in MSTDP; so does plastix (inferno's
    MSTDPET omits it: ``inferno_mstdpet``). BindsNET reduces
    :math:`\nu\, \delta t\, r\, z` over the batch, plastix :math:`r z` and scales after,
    the same for the sum and the mean.

    Reference: Florian (2007), doi:10.1162/neco.2007.19.6.1468.
    """

    Params = _ETParams

    def build(self, g: px.Graph) -> None:
        batch, n_pre, n_post = self.declare(g)
        g.variable_to_backend("e_trace", (batch, n_post, n_pre))

        def update() -> None:
            lam = decay(g, "e_trace_decay", "tc_e_trace")
            g.op_to_backend("e_trace_in", "div", ["eligibility", "tc_e_trace"])
            g.op_to_backend("e_trace", "var_linear", ["e_trace", lam, "e_trace_in"])
            self.modulated(g, "dw", "e_trace")
            g.op_to_backend("dw", "mul", ["dt", "dw"])
            add_change(g, "dw")

        self.lagged(g, update)


RULES = [MSTDP, MSTDPET]
