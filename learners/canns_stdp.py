r"""The STDP rule of canns's ``STDPTrainer``, as its default (compiled) training loop computes it.

Traces are discrete leaky sums that include the step's own spike (a per-step factor
:math:`\lambda`, canns's ``SpikingLayer.trace_decay``), and the change is scaled by a global
learning rate, then clipped:

.. math::

    x &\leftarrow \lambda\, x + s \\
    W &\leftarrow \mathrm{clip}\big(W + \eta\,(A_+\, s_{post}^\top x_{pre}
          - A_-\, x_{post}^\top s_{pre}),\; w_{min}, w_{max}\big)

A pre and a post spike in the same step therefore give both
:math:`+\eta A_+` and :math:`-\eta A_-`.
"""

from __future__ import annotations

from dataclasses import dataclass

import plastix as px

from ._pieces import add_change, clamp, pair_dw, trace


@px.rule("canns_stdp", aliases=("canns", "STDPTrainer", "stdp_trainer"))
class CannsSTDP(px.Rule):
    r"""Trace STDP of canns's ``STDPTrainer`` (compiled path), weight (n_post, n_pre).

    .. math::

        x &\leftarrow \lambda\, x + s \\
        W &\leftarrow \mathrm{clip}\big(W + \eta\,(A_+\, s_{post}^\top x_{pre}
              - A_-\, x_{post}^\top s_{pre}),\; w_{min}, w_{max}\big)

    canns's layer and trainer are unbatched; here a batch is summed (batch 1 is canns).
    Inputs may be graded, as canns's layer accepts. canns's uncompiled path
    (``compiled=False``) differs: it pairs each spike with the traces of the step before
    (no same-step pairs) and runs the layer on stale weights; plastix computes the compiled
    path, canns's default. canns's compiled loop also restarts its traces from zero at every
    ``train()`` call: call ``reset()`` between calls for the same result. The trainer object
    (a leaky integrate-and-fire layer with ``train``/``predict``) is ``plastix.STDPTrainer``.

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

    rejected = {"weight_attr": "a trainer option (the model attribute holding W); bind the "
                "weight instead",
                "compiled": "plastix computes canns's compiled path (its default)"}
    binary_spikes = False

    def build(self, g: px.Graph) -> None:
        g.variable_to_backend("x_pre", g.pre_shape)
        g.variable_to_backend("x_post", g.post_shape)
        trace(g, "x_pre", "pre", "trace_decay")
        trace(g, "x_post", "post", "trace_decay")
        pair_dw(g, "dw", pre="pre", post="post", x_pre="x_pre", x_post="x_post",
                a_plus="A_plus", a_minus="A_minus")
        g.op_to_backend("dw", "mul", ["learning_rate", "dw"])
        add_change(g, "dw")
        clamp(g, "weight", "w_min", "w_max")


RULES = [CannsSTDP]
