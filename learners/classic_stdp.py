r"""Classic all-to-all additive STDP (Song, Miller and Abbott 2000), as Brian2's example runs it.

Each synapse keeps two traces that decay exactly, :math:`e^{-dt/\tau}` per step, and grow by
a fixed amount per spike (all-to-all pairing). In a step, Brian2 runs the pre pathway before
the post pathway, clipping after each:

.. math::

    a_{pre} &\leftarrow a_{pre}\, e^{-dt/\tau_{pre}}, \qquad
    a_{post} \leftarrow a_{post}\, e^{-dt/\tau_{post}} \\
    \text{pre spike:}\quad a_{pre} &\leftarrow a_{pre} + A_{pre}, \qquad
    w \leftarrow \mathrm{clip}(w + a_{post}, 0, w_{max}) \\
    \text{post spike:}\quad a_{post} &\leftarrow a_{post} + A_{post}, \qquad
    w \leftarrow \mathrm{clip}(w + a_{pre}, 0, w_{max})

:math:`A_{post} < 0` makes the post trace depress. For one pair with
:math:`\Delta t = t_{post} - t_{pre}` this gives the window
:math:`A_{pre} e^{-\Delta t/\tau_{pre}}` for :math:`\Delta t \ge 0` and
:math:`A_{post} e^{\Delta t/\tau_{post}}` for :math:`\Delta t < 0`: a pre and a post spike in
the same step count as causal (the pre pathway's trace jump is seen by the post pathway).

Brian2 writes the traces either ``(event-driven)``, decayed per synapse at each of its events
by :math:`e^{-(t - t_{last})/\tau}`, or ``(clock-driven)`` with ``method='exact'``, decayed by
:math:`e^{-dt/\tau}` at every time step before the pathways run. The two are the same
equations; they differ only in rounding. plastix's step decays every trace by
:math:`e^{-dt/\tau}` per step, which is Brian2's clock-driven code operation for operation:
measured against Brian2 2.9.0 (numpy target, 5x3 synapses, 200 steps of random spikes, dt =
1 ms) plastix equals the clock-driven form exactly and differs from the event-driven form by
at most 5e-18 on weights of size 1e-2, which is the difference between Brian2's two forms
themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import plastix as px

from ._pieces import clamp, decay_factor


@px.rule("song_abbott_stdp", aliases=("brian2_stdp", "classic_stdp", "song_miller_abbott_stdp"))
class SongAbbottSTDP(px.Rule):
    r"""All-to-all additive STDP with hard bounds [0, wmax] (Song, Miller and Abbott 2000;
    Brian2's ``examples/synapses/STDP.py``).

    .. math::

        a_{pre} &\leftarrow a_{pre} e^{-dt/\tau_{pre}} + A_{pre}\, s_{pre}, \qquad
        w \leftarrow \mathrm{clip}(w + a_{post}^\top s_{pre}, 0, w_{max}) \\
        a_{post} &\leftarrow a_{post} e^{-dt/\tau_{post}} + A_{post}\, s_{post}, \qquad
        w \leftarrow \mathrm{clip}(w + s_{post}^\top a_{pre}, 0, w_{max})

    in that order within a step (Brian2: pre pathway, then post pathway), where the first
    line's :math:`a_{post}` is decayed but does not yet hold this step's post spikes.
    Defaults are Brian2's example: :math:`\tau = 20` ms, ``wmax`` = ``gmax`` = 0.01,
    ``Apre`` = 0.01 gmax, ``Apost`` = -1.05 ``Apre`` (:math:`\tau_{pre} = \tau_{post}`);
    Song, Miller and Abbott used :math:`A_+ = 0.005\,\bar g_{max}` and the same ratio.

    Brian2 has no batch: here both pathways sum over the batch before clipping (batch 1 is
    Brian2). The change declared at the seam is the sum of both pathways; the two clips
    follow it. Brian2 clips only synapses that received a spike, plastix all of them each
    step: the same whenever the initial weights lie in [0, wmax].

    ``method`` names the form of Brian2's model being ported: ``"event"`` (Brian2's
    ``(event-driven)``, its example's) or ``"clock"`` (``(clock-driven)``, ``method='exact'``).
    Both compute the same per-step decay in plastix, which is Brian2's clock-driven arithmetic
    exactly and its event-driven results to rounding (module docstring); plastix does not
    keep Brian2's per-synapse event times, which would only change that rounding.

    Reference: Song, S., Miller, K. D. and Abbott, L. F. (2000). Competitive Hebbian learning
    through spike-timing-dependent synaptic plasticity. *Nat. Neurosci.* 3:919-926;
    Brian2 ``examples/synapses/STDP.py``.
    """

    @dataclass(frozen=True)
    class Params:
        Apre: float = px.param(1e-4, unit="weight", doc="pre trace increment per pre spike "
                               "(potentiation)")
        Apost: float = px.param(-1.05e-4, unit="weight", doc="post trace increment per post "
                                "spike (negative: depression)")
        taupre: float = px.param(20.0, unit="ms", low=0, open_low=True, doc="pre trace time "
                                 "constant")
        taupost: float = px.param(20.0, unit="ms", low=0, open_low=True, doc="post trace time "
                                  "constant")
        wmax: float = px.param(0.01, unit="weight", low=0, doc="upper bound (Brian2's gmax)")
        method: str = px.param("event", choices=("event", "clock"), doc="the Brian2 form: "
                               "'event' (event-driven traces) or 'clock' (clock-driven, exact); "
                               "the same update to rounding")

    param_aliases = {"gmax": ("wmax",)}

    def build(self, g: px.Graph) -> None:
        g.variable_to_backend("a_pre", g.pre_shape)
        g.variable_to_backend("a_post", g.post_shape)
        g.op_to_backend("a_pre", "mul", ["a_pre", decay_factor(g, "decay_pre", "taupre")])
        g.op_to_backend("a_post", "mul", ["a_post", decay_factor(g, "decay_post", "taupost")])
        # pre pathway: its trace jump, then depression by the post trace of before this step
        g.op_to_backend("a_pre", "add", ["a_pre", g.op_to_backend("jump", "mul", ["Apre", "pre"])])
        ltd = g.op_to_backend("ltd", "mat_mult_pre", ["a_post", "pre"])
        # post pathway: its trace jump, then potentiation by the pre trace, this step's included
        g.op_to_backend("a_post", "add", ["a_post",
                                          g.op_to_backend("jump", "mul", ["Apost", "post"])])
        ltp = g.op_to_backend("ltp", "mat_mult_pre", ["post", "a_pre"])
        # each pathway's change is a seam of its own, applied and clipped in Brian2's order
        for change in (ltd, ltp):
            g.op_to_backend("weight", "add", ["weight", g.weight_change(change.name)])
            clamp(g, "weight", 0.0, "wmax")


RULES = [SongAbbottSTDP]
