r"""Dopamine-modulated STDP (Izhikevich 2007; Potjans et al. 2010), NEST's
``stdp_dopamine_synapse``, integrated in closed form step by step as NEST integrates it
between events.

Each synapse keeps an eligibility :math:`c` and a dopamine concentration :math:`n` (NEST
keeps :math:`n` in every synapse of a volume transmitter; here one per batch sample); the
weight follows :math:`\dot w = c\,(n - b)` with :math:`c` and :math:`n` decaying with
:math:`\tau_c` and :math:`\tau_n` between jumps. Over one step of length :math:`dt`, from the
values :math:`c_0, n_0` after the previous step's jumps:

.. math::

    w &\leftarrow \mathrm{clip}\Big(w - \textstyle\sum_b c_0 \big(\tfrac{n_0}{\tau_s}
        (e^{-\tau_s dt} - 1) - b\,\tau_c (e^{-dt/\tau_c} - 1)\big),
        W_{min}, W_{max}\Big), \qquad \tau_s = \tfrac{\tau_c + \tau_n}{\tau_c \tau_n} \\
    c &\leftarrow c\,e^{-dt/\tau_c} + A_+ K^+ [\text{post spike reaches the synapse}]
        - A_- K^- [\text{pre spike}], \qquad
    n \leftarrow n\,e^{-dt/\tau_n} + r / \tau_n

with the all-to-all traces :math:`K^+` (pre, ``tau_plus``) and :math:`K^-` (post,
``tau_minus``) read before this step's spikes add to them, and :math:`r` the ``reward``
signal: the number of dopamine spikes (NEST's multiplicity) that reach the volume transmitter
in this step, per batch sample. Timing as :mod:`plastix.learners._nest` says: a post spike of
step :math:`q` counts at step :math:`q + d` (so a post spike and a pre spike :math:`d` steps
later coincide and do not pair).

**Readout.** plastix's weight after step :math:`t` is NEST's weight at time
:math:`(t + 1)\,dt` when NEST's volume transmitter updates every synapse every step
(``deliver_interval`` 1 and a minimum delay of one step). NEST integrates the same closed
form over every interval between events and updates and clips at each of them; with a
longer update interval it clips less often, and the two differ where the clip acts within an
interval.

Reference: NEST's documentation of ``stdp_dopamine_synapse``; Potjans, W., Morrison, A.
and Diesmann, M. (2010). Enabling functional neural circuit simulations with distributed
computing of neuromodulated plasticity. *Front. Comput. Neurosci.* 4:141; Izhikevich, E. M.
(2007). Solving the distal reward problem through linkage of STDP and dopamine signaling.
*Cereb. Cortex* 17(10):2443-2452.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import plastix as px

from ._nest import delay_param, post_events, tau_minus_param
from ._pieces import add_change, clamp, decay_factor


@dataclass(frozen=True)
class _DopamineParams:
    A_plus: float = px.param(1.0, doc="eligibility added per pre-before-post pair (times K+)")
    A_minus: float = px.param(1.5, doc="eligibility removed per post-before-pre pair "
                              "(times K-)")
    tau_plus: float = px.param(20.0, unit="ms", low=0, open_low=True,
                               doc="pre trace time constant")
    tau_minus: float = tau_minus_param()
    tau_c: float = px.param(1000.0, unit="ms", low=0, open_low=True,
                            doc="eligibility time constant")
    # a dopamine spike adds 1/tau_n: a time constant below a microsecond (far below any time
    # step) overflows n to inf (found by fuzzing), so that is the floor
    tau_n: float = px.param(200.0, unit="ms", low=1e-3, doc="dopamine time constant")
    b: float = px.param(0.0, doc="dopamine baseline concentration")
    Wmin: float = px.param(0.0, unit="weight", doc="minimum weight")
    Wmax: float = px.param(200.0, unit="weight", doc="maximum weight")
    delay: float = delay_param()


@px.rule("nest_stdp_dopamine", aliases=("stdp_dopamine_synapse",
                                        "nest.stdp_dopamine_synapse"))
class NestDopamineSTDP(px.Rule):
    r"""Dopamine-modulated STDP, NEST's ``stdp_dopamine_synapse`` (module docstring).

    .. math::

        \dot w = c\,(n - b), \qquad
        c \mathrel{+}= A_+ K^+ \text{ (post)}, \quad c \mathrel{-}= A_- K^- \text{ (pre)},
        \quad n \mathrel{+}= r / \tau_n

    integrated exactly over each step and clipped to :math:`[W_{min}, W_{max}]` after it.
    ``reward`` (required at every step, scalar or one per sample) is the number of dopamine
    spikes of the step. With :math:`b \ne 0`, :math:`A_+` potentiates only while
    :math:`n > b` (NEST's documentation says so too). The batch: every sample has its own
    traces, :math:`c` and :math:`n`; the weight integrates the sum of their changes.

    Where NEST's documentation and code differ: the documentation does not say how large a
    dopamine spike is; the code adds :math:`1/\tau_n` per spike, as plastix does.

    Measured against NEST 3.10 (``parrot_neuron`` pre and post neurons with random 10-50 Hz
    trains of 300-1000 ms at 1 ms resolution, 20 Hz dopamine spikes of multiplicity 1 or 2
    through a ``volume_transmitter`` with ``deliver_interval`` 1, delays 1 and 3 ms, 3 x 2
    synapses, with and without baseline ``b`` and clipping; the weight after every step):
    within 1.1e-13 of weights up to 64 in float64 (194400 comparisons).
    """

    Params = _DopamineParams

    def build(self, g: px.Graph) -> None:
        p = self.p
        batch, n_post = g.post_shape
        n_pre = g.pre_shape[1]
        _, late = post_events(g, p.delay)
        g.signal("reward", (batch,))
        g.variable_to_backend("c", (batch, n_post, n_pre))
        g.variable_to_backend("n", (batch,))
        self._integrate(g, batch)
        for name, shape, tau in (("k_plus", g.pre_shape, "tau_plus"),
                                 ("k_minus", g.post_shape, "tau_minus"),
                                 ("c", None, "tau_c"), ("n", None, "tau_n")):
            if shape is not None:
                g.variable_to_backend(name, shape)
            g.op_to_backend(name, "mul", [name, decay_factor(g, f"{name}_decay", tau)])
        k_plus = g.op_to_backend("k_plus_row", "reshape", ["k_plus"], shape=(batch, 1, n_pre))
        late_col = g.op_to_backend("late_col", "reshape", [late], shape=(batch, n_post, 1))
        k_minus = g.op_to_backend("k_minus_col", "reshape", ["k_minus"],
                                  shape=(batch, n_post, 1))
        pre_row = g.op_to_backend("pre_row", "reshape", ["pre"], shape=(batch, 1, n_pre))
        ltp = g.op_to_backend("c_ltp", "mul", [late_col, k_plus])
        ltd = g.op_to_backend("c_ltd", "mul", [k_minus, pre_row])
        g.op_to_backend("c", "var_linear", ["A_plus", ltp, "c"])
        g.op_to_backend("c", "var_linear", [g.op_to_backend("c_gain", "neg", ["A_minus"]),
                                            ltd, "c"])
        dopamine = g.op_to_backend("n_jump", "div", ["reward", "tau_n"])
        g.op_to_backend("n", "add", ["n", dopamine])
        g.op_to_backend("k_plus", "add", ["k_plus", "pre"])
        g.op_to_backend("k_minus", "add", ["k_minus", late])

    def _integrate(self, g: px.Graph, batch: int) -> None:
        """The weight over the last step, from ``c`` and ``n`` as the step began (NEST's
        ``update_weight_``), then the clip."""
        p = self.p
        rate = 1 / p.tau_c + 1 / p.tau_n  # NEST's (tau_c + tau_n) / (tau_c tau_n)
        dopamine = g.op_to_backend("dw_n", "div", ["n", rate])
        dopamine = g.op_to_backend("dw_n", "mul", [dopamine, math.expm1(-rate * g.dt)])
        baseline = p.b * p.tau_c * math.expm1(-g.dt / p.tau_c)
        drive = g.op_to_backend("dw_drive", "sub", [dopamine, baseline])
        drive = g.op_to_backend("dw_drive", "reshape", [drive], shape=(batch, 1, 1))
        dw = g.op_to_backend("dw", "mul", ["c", drive])
        dw = g.op_to_backend("dw", "sum", [dw], axis=0)
        add_change(g, g.op_to_backend("dw", "neg", [dw]))
        clamp(g, "weight", "Wmin", "Wmax")


RULES = [NestDopamineSTDP]
