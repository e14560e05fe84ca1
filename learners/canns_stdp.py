r"""The STDP rule of canns's ``STDPTrainer``, as both of its training loops compute it.

Traces are discrete leaky sums (a per-step factor :math:`\lambda`, canns's
``SpikingLayer.trace_decay``), and the change is scaled by a global learning rate, then
clipped. The compiled loop (canns's default) pairs each spike with the traces that already
hold this step's spikes; the uncompiled loop (``compiled=False``) keeps the traces of before
the layer's forward pass and pairs with those:

.. math::

    x(t) &= \lambda\, x(t-1) + s(t) \\
    W &\leftarrow \mathrm{clip}\big(W + \eta\,(A_+\, s_{post}^\top \hat x_{pre}
          - A_-\, \hat x_{post}^\top s_{pre}),\; w_{min}, w_{max}\big), \qquad
    \hat x = \begin{cases} x(t) & \text{compiled} \\ x(t-1) & \text{uncompiled}
    \end{cases}

Compiled, a pre and a post spike in the same step give both :math:`+\eta A_+` and
:math:`-\eta A_-`; uncompiled, they give nothing, and a pair :math:`k \ge 1` steps apart
gives :math:`\eta A \lambda^{k-1}` instead of :math:`\eta A \lambda^k`.
"""

from __future__ import annotations

from dataclasses import dataclass

import plastix as px

from ._pieces import add_change, clamp, pair_dw, trace


@px.rule("canns_stdp", aliases=("canns", "STDPTrainer", "stdp_trainer"))
class CannsSTDP(px.Rule):
    r"""Trace STDP of canns's ``STDPTrainer``, either training loop, weight (n_post, n_pre).

    .. math::

        x &\leftarrow \lambda\, x + s \\
        W &\leftarrow \mathrm{clip}\big(W + \eta\,(A_+\, s_{post}^\top x_{pre}
              - A_-\, x_{post}^\top s_{pre}),\; w_{min}, w_{max}\big)

    with :math:`x` the traces of this step (``compiled=True``, canns's default) or of the
    step before (``compiled=False``, canns's Python loop, module docstring). canns's layer
    and trainer are unbatched; here a batch is summed (batch 1 is canns). Inputs may be
    graded, as canns's layer accepts. canns's compiled loop restarts its traces from zero at
    every ``train()`` call (call ``reset()`` between calls for the same result); its
    uncompiled loop keeps the layer's traces across calls, as a binding does, and runs the
    layer's forward pass on the weights of the start of the call (spikes given to ``step``
    here come from whatever produced them). Measured against canns 1.5.0's Python loop
    (120 steps, its layer's own spikes, float32, canns's only dtype): equal to the last bit.
    The trainer object (a leaky integrate-and-fire layer with ``train``/``predict``) is
    ``plastix.STDPTrainer``, which runs the compiled path only.

    Reference: canns ``canns/trainer/stdp.py`` and ``canns/models/brain_inspired/spiking.py``;
    Morrison, A., Diesmann, M. and Gerstner, W. (2008). Phenomenological models of synaptic
    plasticity based on spike timing. *Biol. Cybern.* 98:459-478.
    """

    @dataclass(frozen=True)
    class Params:
        learning_rate: float = px.param(0.01, doc="global learning rate eta")
        A_plus: float = px.param(0.005, doc="potentiation per post spike, times the pre trace")
        A_minus: float = px.param(0.00525, doc="depression per pre spike, times the post trace")
        w_min: float = px.param(0.0, unit="weight", doc="lower clip")
        w_max: float = px.param(1.0, unit="weight", doc="upper clip")
        trace_decay: float = px.param(0.95, low=0, high=1, doc="trace factor per step (canns's "
                                      "SpikingLayer default)")
        compiled: bool = px.param(True, doc="canns's compiled loop (pairs with this step's "
                                  "traces) or, False, its Python loop (the traces of before)")

    rejected = {"weight_attr": "a trainer option (the model attribute holding W); bind the "
                "weight instead"}
    binary_spikes = False

    def build(self, g: px.Graph) -> None:
        g.variable_to_backend("x_pre", g.pre_shape)
        g.variable_to_backend("x_post", g.post_shape)
        trace(g, "x_pre", "pre", "trace_decay")
        trace(g, "x_post", "post", "trace_decay")
        paired = (("x_pre", "x_post") if self.p.compiled else
                  (g.previous("x_pre"), g.previous("x_post")))
        pair_dw(g, "dw", pre="pre", post="post", x_pre=paired[0], x_post=paired[1],
                a_plus="A_plus", a_minus="A_minus")
        g.op_to_backend("dw", "mul", ["learning_rate", "dw"])
        add_change(g, "dw")
        clamp(g, "weight", "w_min", "w_max")


RULES = [CannsSTDP]
