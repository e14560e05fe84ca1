r"""SpikingJelly's plasticity learners (``spikingjelly.activation_based.learning``, 2.0.0):
``STDPLearner``, ``MSTDPLearner`` and ``MSTDPETLearner`` for a linear synapse, as SpikingJelly's
code computes them.

Time constants are in time steps (``dt`` plays no part, as in SpikingJelly). The traces
include this step's spikes, with two discretisations:

.. math::

    \text{STDP:}\quad x \leftarrow x - x/\tau + s \quad (\text{Euler, } 1 - 1/\tau) \qquad
    \text{MSTDP, MSTDP-ET:}\quad x \leftarrow x\, e^{-1/\tau} + s

and the pair term of one sample is weighted by functions of the weight, :math:`f_{post}`
for the term on postsynaptic spikes and :math:`f_{pre}` for the one on presynaptic spikes:

.. math::

    e = f_{post}(W) \odot s_{post} \otimes x_{pre} - f_{pre}(W) \odot x_{post} \otimes s_{pre}

SpikingJelly's default :math:`f` is the identity, so by default every change is proportional
to the weight (a weight of 0 never changes). ``f_pre``/``f_post`` here are any function of the
weight array that runs on every backend: ``f(w)`` written with arithmetic, or ``f(w, xp=xp)``
given the backend's array namespace; ``None`` (the default) is the identity.

SpikingJelly's learners never change the weight: ``step(on_grad=True)`` adds :math:`-\Delta W`
to ``weight.grad`` for an optimiser to apply, ``step(on_grad=False)`` returns
:math:`\Delta W`. plastix applies :math:`W \leftarrow W + \Delta W` in every step (what
``torch.optim.SGD(lr=1)`` makes of the gradient); to use another optimiser, let the binding
write the change into ``weight.grad`` instead (plastix's weight-change seam). ``scale`` is
the factor of SpikingJelly's ``step(scale=...)``. Weights are (n_post, n_pre), as
``nn.Linear``'s. Measured against SpikingJelly 2.0.0 (an ``nn.Linear`` synapse, batch 1 and
4, with and without weight functions, every step): equal to the last bit except for
MSTDP-ET at batch 4 (compared with four unbatched learners sharing a weight): 3.3e-16 in
float64, 1.8e-7 in float32.

Reference: SpikingJelly ``activation_based/learning/plasticity.py`` and
``activation_based/functional/learning.py`` (2.0.0); Fang, W. et al. (2023). SpikingJelly: an
open-source machine learning infrastructure platform for spike-based intelligence. *Sci.
Adv.* 9(40):eadi1480. doi:10.1126/sciadv.adi1480
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import plastix as px

from ._pieces import add_change, sample_outer, weight_function

_WEIGHT_FN = ("a function of the weight array, f(w) or f(w, *, xp), or None for the "
              "identity (SpikingJelly's default)")


@dataclass(frozen=True)
class _Common:
    f_pre: Any = px.param(  # noqa: RUF009 - a function or None
        None, doc="weights the term on presynaptic spikes (depression); None: identity")
    f_post: Any = px.param(  # noqa: RUF009 - a function or None
        None, doc="weights the term on postsynaptic spikes (potentiation); None: identity")
    scale: float = px.param(1.0, doc="factor of every change (SpikingJelly's step(scale=...))")


class _SpikingJelly(px.Rule):
    """What the three learners share: the weight functions and the pair term."""

    rejected = {"step_mode": "plastix steps one time step per step() ('s'); a multi-step "
                "run is syn.run(...)", "on_grad": "plastix applies the change; the seam "
                "writes it into weight.grad when the binding is asked to",
                "synapse": "bind the weight", "sn": "give the post spikes to step()"}

    @classmethod
    def make_params(cls, values: Mapping[str, Any], base: Any = None) -> Any:
        for key in ("f_pre", "f_post"):
            value = values.get(key)
            if value is not None and not callable(value):
                raise px.HyperparameterError(cls.name, key, f"expected {_WEIGHT_FN}, got "
                                             f"{value!r}")
        return super().make_params(values, base)

    def factor(self, g: px.Graph, key: str) -> Any:
        """f(W) of the weight before this step's change (the weight itself for None)."""
        fn = getattr(self.p, key)
        return "weight" if fn is None else weight_function(g, f"{key}_of_w", fn)

    def traces(self, g: px.Graph, euler: bool) -> None:
        for x, s, tau in (("x_pre", "pre", "tau_pre"), ("x_post", "post", "tau_post")):
            g.variable_to_backend(x, getattr(g, f"{s}_shape"))
            if euler:  # SpikingJelly's x - x / tau + s, in that order
                leak = g.op_to_backend(f"{x}_leak", "div", [x, tau])
                kept = g.op_to_backend(f"{x}_kept", "sub", [x, leak])
            else:  # x * exp(-1 / tau) + s
                ratio = g.op_to_backend(f"{x}_ratio", "div", [1.0, tau])
                lam = g.op_to_backend(f"{x}_decay", "exp",
                                      [g.op_to_backend(f"{x}_ratio", "neg", [ratio])])
                kept = g.op_to_backend(f"{x}_kept", "mul", [x, lam])
            g.op_to_backend(x, "add", [kept, s])

    def sample_term(self, g: px.Graph, name: str) -> px.Value:
        """The weighted pair term of every sample, (batch, n_post, n_pre)."""
        ltp = sample_outer(g, f"{name}_ltp", "post", "x_pre")
        ltd = sample_outer(g, f"{name}_ltd", "x_post", "pre")
        ltp = g.op_to_backend(f"{name}_ltp", "mul", [self.factor(g, "f_post"), ltp])
        ltd = g.op_to_backend(f"{name}_ltd", "mul", [self.factor(g, "f_pre"), ltd])
        return g.op_to_backend(name, "sub", [ltp, ltd])


@px.rule("spikingjelly_stdp", aliases=("STDPLearner", "spikingjelly.STDPLearner"))
class SpikingJellySTDP(_SpikingJelly):
    r"""Trace STDP of SpikingJelly's ``STDPLearner`` (linear synapse, single step).

    .. math::

        x &\leftarrow x - x/\tau + s \\
        \Delta W &= \gamma\,\big[f_{post}(W) \odot \textstyle\sum_b s_{post}^\top x_{pre}
                  - f_{pre}(W) \odot \sum_b x_{post}^\top s_{pre}\big], \qquad
        W \leftarrow W + \Delta W

    summed over the batch (SpikingJelly sums over batch, space and time). For one pair with
    the identity :math:`f` and :math:`\Delta t = t_{post} - t_{pre} \ge 0` steps the change
    is :math:`\gamma W (1 - 1/\tau_{pre})^{\Delta t}`, for :math:`\Delta t \le 0` it is
    :math:`-\gamma W (1 - 1/\tau_{post})^{-\Delta t}` (a same-step pair gives both, 0 with
    the identity). SpikingJelly requires ``tau_pre`` and ``tau_post`` (finite, >= 1 step);
    the defaults here are plastix's. Its convolutional variants are not part of this rule.

    Reference: SpikingJelly ``learning.STDPLearner``, ``functional.learning.stdp_linear_step``
    (2.0.0).
    """

    @dataclass(frozen=True)
    class Params(_Common):
        tau_pre: float = px.param(2.0, unit="steps", low=1, doc="pre trace time constant "
                                  "(decay 1 - 1/tau per step)")
        tau_post: float = px.param(2.0, unit="steps", low=1, doc="post trace time constant")

    def build(self, g: px.Graph) -> None:
        self.traces(g, euler=True)
        ltp = g.op_to_backend("ltp", "mat_mult_pre", ["post", "x_pre"])
        ltd = g.op_to_backend("ltd", "mat_mult_pre", ["x_post", "pre"])
        ltp = g.op_to_backend("ltp", "mul", [self.factor(g, "f_post"), ltp])
        ltd = g.op_to_backend("ltd", "mul", [self.factor(g, "f_pre"), ltd])
        g.op_to_backend("dw", "sub", [ltp, ltd])
        g.op_to_backend("dw", "mul", ["dw", "scale"])
        add_change(g, "dw")


@dataclass(frozen=True)
class _Modulated(_Common):
    tau_pre: float = px.param(2.0, unit="steps", low=0, open_low=True,
                              doc="pre trace time constant (decay exp(-1/tau) per step)")
    tau_post: float = px.param(2.0, unit="steps", low=0, open_low=True,
                               doc="post trace time constant")


@px.rule("spikingjelly_mstdp", aliases=("MSTDPLearner", "spikingjelly.MSTDPLearner"))
class SpikingJellyMSTDP(_SpikingJelly):
    r"""Reward-modulated STDP of SpikingJelly's ``MSTDPLearner``.

    .. math::

        \Delta W = \gamma \textstyle\sum_b r_b(t)\, e_b(t - 1), \qquad W \leftarrow W +
        \Delta W

    then the traces (:math:`x \leftarrow x e^{-1/\tau} + s`) and the eligibility :math:`e_b`
    of each sample (module docstring) advance with this step's spikes: the reward of a step
    multiplies the eligibility of the step before. ``reward`` is required at every step, a
    scalar or one value per sample (SpikingJelly's shape [N]).

    Reference: SpikingJelly ``learning.MSTDPLearner``, ``functional.learning.
    mstdp_linear_step`` (2.0.0); Florian (2007), doi:10.1162/neco.2007.19.6.1468.
    """

    Params = _Modulated

    def build(self, g: px.Graph) -> None:
        batch = g.batch_size
        g.signal("reward", (batch,))
        g.variable_to_backend("eligibility", (batch, *g.weight_shape))
        r = g.op_to_backend("reward_col", "reshape", ["reward"], shape=(batch, 1, 1))
        g.op_to_backend("dw", "mul", [r, "eligibility"])
        g.op_to_backend("dw", "sum", ["dw"], axis=0)
        g.op_to_backend("dw", "mul", ["dw", "scale"])
        self.traces(g, euler=False)
        self.sample_term(g, "eligibility")
        add_change(g, "dw")


@px.rule("spikingjelly_mstdpet", aliases=("MSTDPETLearner", "spikingjelly.MSTDPETLearner"))
class SpikingJellyMSTDPET(_SpikingJelly):
    r"""Reward-modulated STDP with an eligibility trace, SpikingJelly's ``MSTDPETLearner``.

    .. math::

        z_b &\leftarrow z_b\, e^{-1/\tau_z} + e_b(t - 1)/\tau_z \\
        \Delta W &= \gamma \textstyle\sum_b r_b(t)\, z_b, \qquad W \leftarrow W + \Delta W

    then the traces and the eligibility :math:`e_b` advance with this step's spikes (module
    docstring). SpikingJelly's MSTDP-ET takes only unbatched spikes ([I], [O]) and a scalar
    reward. plastix accepts a batch: each sample keeps its own traces, eligibility and
    eligibility trace, and the changes of the samples are summed, each times its reward (a
    scalar reward is every sample's). At batch 1 that is SpikingJelly's learner; at batch B it
    is B such learners sharing one weight, their changes added (as SpikingJelly's ``MSTDPLearner``
    sums its batch).

    Reference: SpikingJelly ``learning.MSTDPETLearner``, ``functional.learning.
    mstdpet_linear_step`` and ``mstdpet_reward_step`` (2.0.0); Florian (2007).
    """

    @dataclass(frozen=True)
    class Params(_Modulated):
        tau_trace: float = px.param(25.0, unit="steps", low=1e-3, doc="eligibility trace "
                                    "time constant")

    def build(self, g: px.Graph) -> None:
        batch = g.batch_size
        each = (batch, *g.weight_shape)
        g.signal("reward", (batch,))
        g.variable_to_backend("eligibility", each)
        g.variable_to_backend("trace_e", each)
        ratio = g.op_to_backend("trace_e_ratio", "div", [1.0, "tau_trace"])
        lam = g.op_to_backend("trace_e_decay", "exp",
                              [g.op_to_backend("trace_e_ratio", "neg", [ratio])])
        kept = g.op_to_backend("trace_e_kept", "mul", ["trace_e", lam])
        fresh = g.op_to_backend("trace_e_in", "div", ["eligibility", "tau_trace"])
        g.op_to_backend("trace_e", "add", [kept, fresh])
        r = g.op_to_backend("reward_col", "reshape", ["reward"], shape=(batch, 1, 1))
        g.op_to_backend("dw", "mul", [r, "trace_e"])
        g.op_to_backend("dw", "sum", ["dw"], axis=0)
        g.op_to_backend("dw", "mul", ["dw", "scale"])
        self.traces(g, euler=False)
        self.sample_term(g, "eligibility")
        add_change(g, "dw")


RULES = [SpikingJellySTDP, SpikingJellyMSTDP, SpikingJellyMSTDPET]
