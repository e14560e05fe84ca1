r"""Triplet STDP (Pfister and Gerstner 2006), all-to-all and nearest-spike.

Four detectors per synapse, kept per neuron: :math:`r_1, r_2` on the pre side (time
constants :math:`\tau_+, \tau_x`) and :math:`o_1, o_2` on the post side
(:math:`\tau_-, \tau_y`). Between spikes each decays exponentially (exactly, by
:math:`e^{-\Delta t/\tau}` per step). At a post spike at :math:`t` and at a pre spike:

.. math::

    w &\leftarrow w + r_1(t)\,\big[A_2^+ + A_3^+\, o_2(t - \epsilon)\big] \\
    w &\leftarrow w - o_1(t)\,\big[A_2^- + A_3^-\, r_2(t - \epsilon)\big]

then the spiking neuron's two detectors jump: by +1 (all-to-all) or to 1 (nearest-spike, as
NESTML's ``stdp_triplet_nn`` model sets its traces). In a step every weight change reads the
detectors decayed to the step but *before* this step's jumps (the paper's
:math:`t - \epsilon`); simultaneous pre and post spikes, which the paper leaves open,
therefore add no pair term. Changes are summed over the batch. Time constants are in ms;
the :math:`A` are dimensionless (fitted to relative weight change).

Reference: Pfister, J.-P. and Gerstner, W. (2006). Triplets of spikes in a model of spike
timing-dependent plasticity. *J. Neurosci.* 26(38):9673-9682.
doi:10.1523/JNEUROSCI.1425-06.2006
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import plastix as px

from ._modulation import decay
from ._pieces import add_change, clamp

_A2A, _NN = "all_to_all", "nearest"

#: The paper's fitted parameter sets of the full model, by name (tau_+ = 16.8 ms and tau_- =
#: 33.7 ms in all); the sources that confirm them are named in TripletSTDP's docstring.
PRESETS: dict[str, dict[str, Any]] = {
    "visual_cortex_all_to_all": dict(interaction=_A2A, tau_x=101.0, tau_y=125.0,
                                     A2_plus=5e-10, A3_plus=6.2e-3, A2_minus=7e-3,
                                     A3_minus=2.3e-4),
    "visual_cortex_nearest": dict(interaction=_NN, tau_x=714.0, tau_y=40.0, A2_plus=8.8e-11,
                                  A3_plus=5.3e-2, A2_minus=6.6e-3, A3_minus=3.1e-3),
    "hippocampal_all_to_all": dict(interaction=_A2A, tau_x=946.0, tau_y=27.0, A2_plus=6.1e-3,
                                   A3_plus=6.7e-3, A2_minus=1.6e-3, A3_minus=1.4e-3),
    "hippocampal_nearest": dict(interaction=_NN, tau_x=575.0, tau_y=47.0, A2_plus=4.6e-3,
                                A3_plus=9.1e-3, A2_minus=3e-3, A3_minus=7.5e-9),
}
for _preset in PRESETS.values():
    _preset.update(tau_plus=16.8, tau_minus=33.7)


@px.rule("triplet_stdp", aliases=("TripletSTDP", "pfister_triplet", "pfister_gerstner"))
class TripletSTDP(px.Rule):
    r"""Triplet STDP (Pfister and Gerstner 2006), all-to-all or nearest-spike.

    .. math::

        \Delta w = \textstyle\sum_b \big( f_{post}\, r_1 \big[A_2^+ + A_3^+ o_2\big]
                   - o_1\, f_{pre} \big[A_2^- + A_3^- r_2\big] \big)

    with every detector read decayed to this step and before this step's jumps (module
    docstring); ``interaction`` chooses all-to-all (detectors add 1 per spike) or nearest
    (a spike sets them to 1). ``preset`` applies one of the paper's four fitted sets of the
    full model (visual cortex: the data of Sjöström et al. 2001; hippocampal culture: Wang et
    al. 2005), ``tau_plus`` = 16.8 ms and ``tau_minus`` = 33.7 ms in all; values given
    explicitly win over the preset's. The defaults are the visual-cortex all-to-all set.

    ========================  ===========  =====  =====  =======  ======  ======  ======
    preset                    interaction  tau_x  tau_y  A2+      A3+     A2-     A3-
    ========================  ===========  =====  =====  =======  ======  ======  ======
    visual_cortex_all_to_all  all_to_all   101    125    5e-10    6.2e-3  7e-3    2.3e-4
    visual_cortex_nearest     nearest      714    40     8.8e-11  5.3e-2  6.6e-3  3.1e-3
    hippocampal_all_to_all    all_to_all   946    27     6.1e-3   6.7e-3  1.6e-3  1.4e-3
    hippocampal_nearest       nearest      575    47     4.6e-3   9.1e-3  3e-3    7.5e-9
    ========================  ===========  =====  =====  =======  ======  ======  ======

    Sources of the sets: NEST's ``stdp_triplet_synapse``, whose defaults are the
    visual-cortex all-to-all set (its source code credits the paper's data fitting), and
    NESTML's triplet STDP tutorial (``doc/tutorials/triplet_stdp_synapse``), which runs all
    four, citing the paper for them. The paper's minimal models (a pair or a triplet
    amplitude fixed at 0) are not offered: the implementations that list them disagree with
    each other and none could be checked against the paper. The defaults of NESTML's
    ``stdp_triplet_synapse`` model (A2+ = 7.5e-10, A3+ = 9.3e-3) match none of the sets.

    Against NEST: NEST's ``stdp_triplet_synapse`` pairs a pre spike at step :math:`p` with
    a post spike at :math:`q` at :math:`q + d - p` (its delay is dendritic, see
    ``nest_stdp_triplet``); given the post spikes :math:`d` steps earlier, it computes these
    updates (all-to-all), and its weight after each pre spike equals this rule's after that
    step, as long as no bound is reached (NEST clips each update, this rule the step's sum).

    Reference: Pfister and Gerstner (2006), doi:10.1523/JNEUROSCI.1425-06.2006.
    """

    @dataclass(frozen=True)
    class Params:
        tau_plus: float = px.param(16.8, unit="ms", low=0, open_low=True,
                                   doc="tau_+: pre detector r1 (pair LTP)")
        tau_minus: float = px.param(33.7, unit="ms", low=0, open_low=True,
                                    doc="tau_-: post detector o1 (pair LTD)")
        tau_x: float = px.param(101.0, unit="ms", low=0, open_low=True,
                                doc="tau_x: pre detector r2 (triplet LTD)")
        tau_y: float = px.param(125.0, unit="ms", low=0, open_low=True,
                                doc="tau_y: post detector o2 (triplet LTP)")
        A2_plus: float = px.param(5e-10, low=0, doc="pair potentiation amplitude")
        A3_plus: float = px.param(6.2e-3, low=0, doc="triplet potentiation amplitude")
        A2_minus: float = px.param(7e-3, low=0, doc="pair depression amplitude (subtracted)")
        A3_minus: float = px.param(2.3e-4, low=0, doc="triplet depression amplitude (subtracted)")
        interaction: str = px.param(_A2A, choices=(_A2A, _NN),
                                    doc="detector jump: +1 (all_to_all) or to 1 (nearest)")
        preset: str | None = px.param(None, choices=(None, *PRESETS),
                                      doc="a fitted parameter set by name (table above)")
        w_min: float = px.param(-math.inf, unit="weight", doc="lower clamp (-inf: none)")
        w_max: float = px.param(math.inf, unit="weight", doc="upper clamp (inf: none)")

    @classmethod
    def make_params(cls, values: Mapping[str, Any], base: Any = None) -> Any:
        name = values.get("preset")
        if isinstance(name, str) and name in PRESETS:
            preset = PRESETS[name]
            asked = values.get("interaction", preset["interaction"])
            if asked != preset["interaction"]:
                raise px.HyperparameterError(cls.name, "interaction", f"preset {name!r} was "
                                             f"fitted with {preset['interaction']!r}, got "
                                             f"{asked!r}")
            values = {**preset, **values}
        return super().make_params(values, base)

    def build(self, g: px.Graph) -> None:
        p = self.p
        detectors = (("r1", "pre", "tau_plus"), ("r2", "pre", "tau_x"),
                     ("o1", "post", "tau_minus"), ("o2", "post", "tau_y"))
        now = {}
        for x, spikes, tau in detectors:
            g.variable_to_backend(x, g.pre_shape if spikes == "pre" else g.post_shape)
            lam = decay(g, f"{x}_decay", tau)
            now[x] = g.op_to_backend(f"{x}_now", "mul", [x, lam])
        post_gain = g.op_to_backend("post_gain", "var_linear", ["A3_plus", now["o2"], "A2_plus"])
        post_gain = g.op_to_backend("post_gain", "mul", ["post", post_gain])
        pre_gain = g.op_to_backend("pre_gain", "var_linear", ["A3_minus", now["r2"], "A2_minus"])
        pre_gain = g.op_to_backend("pre_gain", "mul", ["pre", pre_gain])
        ltp = g.op_to_backend("ltp", "mat_mult_pre", [post_gain, now["r1"]])
        ltd = g.op_to_backend("ltd", "mat_mult_pre", [now["o1"], pre_gain])
        g.op_to_backend("dw", "sub", [ltp, ltd])
        add_change(g, "dw")
        if math.isfinite(p.w_min) or math.isfinite(p.w_max):
            clamp(g, "weight", "w_min", "w_max")
        fired = {s: g.op_to_backend(f"{s}_fired", "not_equal", [s, 0]) for s in ("pre", "post")}
        for x, spikes, _ in detectors:
            if p.interaction == _A2A:
                g.op_to_backend(x, "add", [now[x], spikes])
            else:
                g.op_to_backend(x, "where", [fired[spikes], 1.0, now[x]])


RULES = [TripletSTDP]
