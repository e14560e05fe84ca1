r"""An example plastix plugin: Oja's rule on spike traces, written with public API only.

Each side keeps a trace of its spikes :math:`s` (shape (batch, n)) that includes this step's
spikes, with decay :math:`\lambda = e^{-\Delta t/\tau}` per step:

.. math::

    x_t = \lambda_{pre}\, x_{t-1} + s^{pre}_t, \qquad y_t = \lambda_{post}\, y_{t-1} + s^{post}_t

and the weight (n_post, n_pre) follows Oja's rule with the traces as rates, averaged over the
batch of size :math:`B`:

.. math::

    \Delta w_{ij} = \frac{\eta}{B} \sum_b y_{bi}\,\big(x_{bj} - y_{bi}\, w_{ij}\big)

The Hebbian term :math:`y x` grows a weight; the decay :math:`y^2 w` keeps it bounded. At a
fixed point :math:`w_{ij} = \langle y_i x_j \rangle / \langle y_i^2 \rangle`; when the post
neuron's output is itself :math:`y = w x` (as in Oja's analysis), this is the unit-norm
principal component of the input.

Reference: Oja, E. (1982). Simplified neuron model as a principal component analyzer.
*J. Math. Biol.* 15, 267-273. doi:10.1007/BF00275687
"""

from __future__ import annotations

from dataclasses import dataclass

import plastix as px
from plastix.registry import RegisterRule

__version__ = "0.1.0"


@px.rule("oja", aliases=("oja_trace",))
class OjaTrace(px.Rule):
    r"""Oja's rule with spike traces as rates (example plugin).

    .. math::

        \Delta w_{ij} = \frac{\eta}{B} \sum_b y_{bi}\,(x_{bj} - y_{bi}\, w_{ij})

    where :math:`x` and :math:`y` are the pre and post traces, decaying by
    :math:`e^{-\Delta t/\tau}` per step and stepping up by 1 on each spike.

    Reference: Oja (1982), doi:10.1007/BF00275687.
    """

    @dataclass(frozen=True)
    class Params:
        eta: float = px.param(1e-3, low=0, doc="learning rate")
        tau_pre: float = px.param(20.0, unit="ms", low=0, open_low=True,
                                  doc="time constant of the pre trace")
        tau_post: float = px.param(20.0, unit="ms", low=0, open_low=True,
                                   doc="time constant of the post trace")

    def build(self, g: px.Graph) -> None:
        for side, shape in (("pre", g.pre_shape), ("post", g.post_shape)):
            g.variable_to_backend(f"x_{side}", shape)
            # exp(-dt / tau) involves constants only: the compiler folds it to one number.
            g.op_to_backend(f"decay_{side}", "div", ["dt", f"tau_{side}"])
            g.op_to_backend(f"decay_{side}", "neg", [f"decay_{side}"])
            g.op_to_backend(f"decay_{side}", "exp", [f"decay_{side}"])
            g.op_to_backend(f"x_{side}", "var_linear", [f"x_{side}", f"decay_{side}", side])
        g.op_to_backend("hebb", "mat_mult_pre", ["x_post", "x_pre"])      # sum_b y_bi x_bj
        g.op_to_backend("y2", "mul", ["x_post", "x_post"])
        g.op_to_backend("y2", "sum", ["y2"], axis=0, keepdims=True)       # (1, n_post)
        g.op_to_backend("y2", "transpose", ["y2"])                        # (n_post, 1)
        g.op_to_backend("forget", "mul", ["y2", "weight"])
        g.op_to_backend("dw", "sub", ["hebb", "forget"])
        g.op_to_backend("dw", "mul", ["dw", "eta"])
        g.op_to_backend("dw", "div", ["dw", float(g.batch_size)])
        dw = g.weight_change("dw")
        g.op_to_backend("weight", "add", ["weight", dw])


@px.hookimpl
def register_rules(register: RegisterRule) -> None:
    """plastix calls this once, on first use of its registry."""
    register(OjaTrace)
