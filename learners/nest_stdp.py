r"""NEST's trace-based STDP synapses, step for step: ``stdp_synapse``,
``stdp_pl_synapse_hom``, ``stdp_triplet_synapse`` and ``vogels_sprekeler_synapse``.

Each keeps exponential traces that NEST keeps: one per pre neuron (NEST stores it in every
synapse, ``Kplus``; it depends only on the pre spikes) and one per post neuron (NEST's
``Kminus`` on the post neuron, here over the post spikes as they reach the synapse, ``d``
steps late). All traces are all-to-all: they decay by :math:`e^{-dt/\tau}` per step and add
1 per spike. In step :math:`t`, with :math:`K^-` the post trace of the post spikes that
reached the synapse before :math:`t` and :math:`K^+` the pre trace of the pre spikes up to
:math:`t`, decayed to :math:`t + 1`:

.. math::

    \text{pre spike at } t:&\quad w \leftarrow \mathrm{depress}(w, K^-) \\
    \text{post spike at } t + 1 - d:&\quad w \leftarrow \mathrm{facilitate}(w, K^+)

in that order, each clipped on its own (timing, order, readout and batches:
:mod:`plastix.learners._nest`). ``tau_minus`` (and ``tau_minus_triplet``) are
hyperparameters here although NEST keeps them on the post neuron (defaults: NEST's neuron
defaults, 20 ms and 110 ms).

**Readout.** After step :math:`t` a synapse's weight is NEST's weight after the delivery of
its pre spike of step :math:`t`, plus the potentiation by a post spike of step
:math:`t + 1 - d`, which NEST applies only at the next pre spike; it equals NEST's readout
("as of the last pre spike") for every synapse with no such potentiation pending.

Reference: NEST 3.10's documentation and source of each model (``models/*.h``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import plastix as px

from ._nest import (
    check_w_max,
    delay_param,
    depressed,
    gutig_depression,
    gutig_facilitation,
    post_events,
    potentiated,
    sign_of,
    tau_minus_param,
)
from ._pieces import Ref, decay_factor


def _decayed(g: px.Graph, name: str, shape: tuple[int, ...], tau: str) -> px.Value:
    """Declare the trace ``name`` and decay it to this step."""
    g.variable_to_backend(name, shape)
    return g.op_to_backend(name, "mul", [name, decay_factor(g, f"{name}_decay", tau)])


def _ahead(g: px.Graph, name: str, tau: str) -> px.Value:
    """The trace ``name`` decayed one step further, to :math:`t + 1` (where the post spikes
    applied in this step reach the synapse)."""
    return g.op_to_backend(f"{name}_ahead", "mul", [name, decay_factor(g, f"{name}_decay",
                                                                       tau)])


def _post_trace(g: px.Graph) -> px.Value:
    """The post trace of the post spikes that reached the synapse before :math:`t` (for the
    depression); the caller depresses, then calls :func:`_jumps`."""
    return _decayed(g, "k_minus", g.post_shape, "tau_minus")


def _jumps(g: px.Graph, late: Ref, tau_plus: str = "tau_plus") -> px.Value:
    """This step's spikes into the pre trace (``k_plus``) and the post trace; returns the
    pre trace at :math:`t + 1`."""
    k_plus = _decayed(g, "k_plus", g.pre_shape, tau_plus)
    g.op_to_backend("k_plus", "add", [k_plus, "pre"])
    g.op_to_backend("k_minus", "add", ["k_minus", late])
    return _ahead(g, "k_plus", tau_plus)


@dataclass(frozen=True)
class _GutigParams:
    tau_plus: float = px.param(20.0, unit="ms", low=0, open_low=True,
                               doc="pre trace time constant (potentiation window)")
    tau_minus: float = tau_minus_param()
    lambda_: float = px.param(0.01, doc="step size lambda (NEST's 'lambda')")
    alpha: float = px.param(1.0, doc="asymmetry: depression steps are alpha * lambda")
    mu_plus: float = px.param(1.0, doc="weight dependence exponent of potentiation")
    mu_minus: float = px.param(1.0, doc="weight dependence exponent of depression")
    Wmax: float = px.param(100.0, unit="weight", doc="maximum weight (weights keep its sign)")
    delay: float = delay_param()


class _Gutig(px.Rule):
    """What the models with ``stdp_synapse``'s weight dependence share (Gütig et al.)."""

    Params = _GutigParams
    param_aliases = {"lambda": ("lambda_",)}

    @classmethod
    def make_params(cls, values: Mapping[str, Any], base: Any = None) -> Any:
        return check_w_max(cls.name, super().make_params(values, base))


@px.rule("nest_stdp", aliases=("stdp_synapse", "nest.stdp_synapse"))
class NestSTDP(_Gutig):
    r"""All-to-all STDP with Gütig's weight dependence, NEST's ``stdp_synapse``.

    .. math::

        \hat w = w / W_{max}, \qquad
        \text{pre:}\quad w &\leftarrow W_{max} \max\big(\hat w - \alpha\lambda\,
            \hat w^{\mu_-} K^-, 0\big) \\
        \text{post:}\quad w &\leftarrow W_{max} \min\big(\hat w + \lambda\,
            (1 - \hat w)^{\mu_+} K^+, 1\big)

    with all-to-all traces (module docstring). For one pair, :math:`\Delta = q + d - p`
    steps: :math:`\lambda W_{max} (1 - \hat w)^{\mu_+} e^{-\Delta\,dt/\tau_+}` for
    :math:`\Delta > 0`, :math:`-\alpha\lambda W_{max} \hat w^{\mu_-}
    e^{\Delta\,dt/\tau_-}` for :math:`\Delta < 0`, nothing for :math:`\Delta = 0`.
    ``mu_plus = mu_minus = 0`` is additive STDP, 1 multiplicative (van Rossum et al.).
    NEST requires weights of the sign of ``Wmax`` and in :math:`[0, W_{max}]` (outside it
    :math:`(1 - \hat w)^{\mu_+}` is not real); plastix does not check them.
    Measured against NEST 3.10 (``parrot_neuron`` pre and post neurons with random 10-50 Hz
    trains of 300-1000 ms at 1 ms resolution, delays 1 and 3 ms, 3 x 2 synapses;
    multiplicative, additive, clipping and negative ``Wmax``; the weight after each pre
    spike's delivery with no potentiation pending): within 6e-15 of weights up to 2 in
    float64 (5720 comparisons).

    Reference: NEST's documentation of ``stdp_synapse``; Gütig, R., Aharonov, R., Rotter, S.
    and Sompolinsky, H. (2003). Learning input correlations through nonlinear temporally
    asymmetric Hebbian plasticity. *J. Neurosci.* 23(9):3697-3714.
    """

    def build(self, g: px.Graph) -> None:
        soon, late = post_events(g, self.p.delay)
        sign = sign_of(self.p.Wmax)
        k_minus = _post_trace(g)
        gutig_depression(g, g.op_to_backend("ltd_pairs", "mat_mult_pre", [k_minus, "pre"]),
                         sign)
        k_plus = _jumps(g, late)
        gutig_facilitation(g, g.op_to_backend("ltp_pairs", "mat_mult_pre", [soon, k_plus]),
                           sign)


@dataclass(frozen=True)
class _PowerLawParams:
    tau_plus: float = px.param(20.0, unit="ms", low=0, open_low=True,
                               doc="pre trace time constant (potentiation window)")
    tau_minus: float = tau_minus_param()
    lambda_: float = px.param(0.1, doc="learning rate lambda (NEST's 'lambda')")
    alpha: float = px.param(1.0, doc="asymmetry: depression is alpha * lambda * w * K-")
    mu: float = px.param(0.4, doc="power-law exponent of potentiation")
    delay: float = delay_param()


@px.rule("nest_stdp_pl", aliases=("stdp_pl_synapse_hom", "nest.stdp_pl_synapse_hom"))
class NestSTDPPowerLaw(px.Rule):
    r"""Power-law STDP (Morrison et al. 2007), NEST's ``stdp_pl_synapse_hom``.

    .. math::

        \text{pre:}\quad w &\leftarrow \max(w - \lambda\alpha\, w\, K^-, 0) \\
        \text{post:}\quad w &\leftarrow w + \lambda\, w^{\mu} K^+

    with all-to-all traces (module docstring). NEST clips only the depression at 0 and has
    no upper bound; the weights must be non-negative (:math:`w^{\mu}`). The parameters are
    common to all synapses of the model in NEST (``_hom``), as they are here.
    Measured against NEST 3.10 (``parrot_neuron`` pre and post neurons with random 10-50 Hz
    trains of 300-1000 ms at 1 ms resolution, delays 1 and 3 ms, 3 x 2 synapses, with and
    without weights clipped at 0; the weight after each pre spike's delivery with no
    potentiation pending): within 4e-15 of weights up to 3.3 in float64 (2860 comparisons).

    Reference: NEST's documentation of ``stdp_pl_synapse_hom``; Morrison, A., Aertsen, A.
    and Diesmann, M. (2007). Spike-timing-dependent plasticity in balanced random networks.
    *Neural Comput.* 19(6):1437-1467.
    """

    Params = _PowerLawParams
    param_aliases = {"lambda": ("lambda_",)}

    def build(self, g: px.Graph) -> None:
        soon, late = post_events(g, self.p.delay)
        k_minus = _post_trace(g)
        pairs = g.op_to_backend("ltd_pairs", "mat_mult_pre", [k_minus, "pre"])
        gain = g.op_to_backend("ltd_gain", "mul", ["lambda_", "alpha"])
        dw = g.op_to_backend("ltd", "mul", [g.op_to_backend("ltd_gain", "neg", [gain]),
                                            "weight"])
        depressed(g, g.op_to_backend("ltd", "mul", [dw, pairs]), 1.0)
        k_plus = _jumps(g, late)
        pairs = g.op_to_backend("ltp_pairs", "mat_mult_pre", [soon, k_plus])
        dw = g.op_to_backend("ltp", "pow", ["weight", "mu"])
        dw = g.op_to_backend("ltp", "mul", ["lambda_", dw])
        dw = g.op_to_backend("ltp", "mul", [dw, pairs])
        g.op_to_backend("weight", "add", ["weight", g.weight_change(dw.name)])


@dataclass(frozen=True)
class _TripletParams:
    tau_plus: float = px.param(16.8, unit="ms", low=0, open_low=True,
                               doc="tau_+: pre trace r1 (pair potentiation)")
    tau_plus_triplet: float = px.param(101.0, unit="ms", low=0, open_low=True,
                                       doc="tau_x: pre trace r2 (triplet depression)")
    tau_minus: float = tau_minus_param()
    tau_minus_triplet: float = px.param(110.0, unit="ms", low=0, open_low=True,
                                        doc="tau_y: post trace o2 (triplet potentiation; "
                                            "NEST: a parameter of the post neuron)")
    Aplus: float = px.param(5e-10, doc="A2+: pair potentiation")
    Aplus_triplet: float = px.param(6.2e-3, doc="A3+: triplet potentiation")
    Aminus: float = px.param(7e-3, doc="A2-: pair depression")
    Aminus_triplet: float = px.param(2.3e-4, doc="A3-: triplet depression")
    Wmax: float = px.param(100.0, unit="weight", doc="maximum |weight| (weights keep its sign)")
    delay: float = delay_param()


@px.rule("nest_stdp_triplet", aliases=("stdp_triplet_synapse", "nest.stdp_triplet_synapse"))
class NestTripletSTDP(px.Rule):
    r"""All-to-all triplet STDP (Pfister and Gerstner 2006), NEST's ``stdp_triplet_synapse``.

    .. math::

        \text{pre:}\quad |w| &\leftarrow \max\big(|w| - o_1 (A_2^- + A_3^- r_2), 0\big) \\
        \text{post:}\quad |w| &\leftarrow \min\big(|w| + r_1 (A_2^+ + A_3^+ o_2),
            |W_{max}|\big)

    (the weight keeps the sign of ``Wmax``, as NEST's ``copysign``), with all-to-all traces
    :math:`r_1, r_2` (pre; ``tau_plus``, ``tau_plus_triplet``) and :math:`o_1, o_2` (post;
    ``tau_minus``, ``tau_minus_triplet``), each read before the spike that triggers the
    update adds to it (the paper's :math:`t - \epsilon`; NEST subtracts 1 from the post
    neuron's ``Kminus_triplet`` for :math:`o_2`). Timing, order and readout as the module
    docstring says. The defaults are NEST's: the synapse's are the visual-cortex all-to-all
    fit of the paper, ``tau_minus`` and ``tau_minus_triplet`` are NEST's neuron defaults
    (20 and 110 ms, not the paper's 33.7 and 125 ms). NEST implements the all-to-all
    interaction only; for the nearest-spike one see ``triplet_stdp``.
    Measured against NEST 3.10 (``parrot_neuron`` pre and post neurons with random 10-50 Hz
    trains of 300-1000 ms at 1 ms resolution, delays 1 and 3 ms, 3 x 2 synapses, with
    clipping and negative ``Wmax``; the weight after each pre spike's delivery with no
    potentiation pending): within 4.1e-15 of weights up to 2 in float64 (4290 comparisons).

    Reference: NEST's documentation of ``stdp_triplet_synapse``; Pfister, J.-P. and
    Gerstner, W. (2006). Triplets of spikes in a model of spike timing-dependent plasticity.
    *J. Neurosci.* 26(38):9673-9682.
    """

    Params = _TripletParams

    def build(self, g: px.Graph) -> None:
        soon, late = post_events(g, self.p.delay)
        sign = sign_of(self.p.Wmax)
        o1 = _decayed(g, "k_minus", g.post_shape, "tau_minus")
        o2 = _decayed(g, "k_minus_triplet", g.post_shape, "tau_minus_triplet")
        r2 = _decayed(g, "k_plus_triplet", g.pre_shape, "tau_plus_triplet")
        gain = g.op_to_backend("ltd_gain", "var_linear", ["Aminus_triplet", r2, "Aminus"])
        gain = g.op_to_backend("ltd_gain", "mul", ["pre", gain])
        dw = g.op_to_backend("ltd", "mat_mult_pre", [o1, gain])
        depressed(g, g.op_to_backend("ltd", "mul", [-sign, dw]), sign)
        g.op_to_backend("k_plus_triplet", "add", [r2, "pre"])
        g.op_to_backend("k_minus_triplet", "add", [o2, late])
        r1 = _jumps(g, late)
        o2_ahead = _ahead(g, "k_minus_triplet", "tau_minus_triplet")
        gain = g.op_to_backend("ltp_gain", "var_linear", ["Aplus_triplet", o2_ahead, "Aplus"])
        gain = g.op_to_backend("ltp_gain", "mul", [soon, gain])
        dw = g.op_to_backend("ltp", "mat_mult_pre", [gain, r1])
        potentiated(g, g.op_to_backend("ltp", "mul", [sign, dw]), "Wmax", sign)


@dataclass(frozen=True)
class _VogelsParams:
    tau: float = px.param(20.0, unit="ms", low=0, open_low=True,
                          doc="pre trace time constant")
    tau_minus: float = tau_minus_param()
    eta: float = px.param(0.001, doc="learning rate")
    alpha: float = px.param(0.12, doc="constant depression per pre spike, in units of eta "
                            "(the paper's 2 * tau * target rate)")
    Wmax: float = px.param(1.0, unit="weight", doc="maximum |weight| (weights keep its sign)")
    delay: float = delay_param()


@px.rule("vogels_sprekeler", aliases=("vogels_sprekeler_synapse",
                                      "nest.vogels_sprekeler_synapse"))
class VogelsSprekeler(px.Rule):
    r"""Symmetric inhibitory STDP with constant depression (Vogels et al. 2011), NEST's
    ``vogels_sprekeler_synapse``.

    .. math::

        \text{pre:}\quad |w| &\leftarrow \min(|w| + \eta K^-, |W_{max}|), \qquad
            |w| \leftarrow \max(|w| - \alpha\eta, 0) \\
        \text{post:}\quad |w| &\leftarrow \min(|w| + \eta K^+, |W_{max}|)

    (three clips in this order; the weight keeps the sign of ``Wmax``). Both orders of a
    pair potentiate: one pair at :math:`\Delta` steps gives
    :math:`\eta e^{-|\Delta|\,dt/\tau}` plus the pre spike's :math:`-\alpha\eta`.

    Where NEST's documentation and code disagree: the documentation calls ``tau`` the time
    constant of the STDP window; the code uses it for the pre trace only, the post trace
    :math:`K^-` decays with the post neuron's ``tau_minus`` (the paper uses one
    :math:`\tau` for both). plastix follows the code: ``tau_minus`` is a hyperparameter
    (default 20 ms, NEST's neuron default, equal to ``tau``'s).

    Measured against NEST 3.10 (``parrot_neuron`` pre and post neurons with random 10-50 Hz
    trains of 300-1000 ms at 1 ms resolution, delays 1 and 3 ms, 3 x 2 synapses, ``tau``
    15 ms and ``tau_minus`` 25 ms, with clipping and negative ``Wmax``; the weight after
    each pre spike's delivery with no potentiation pending): within 1.7e-15 of weights up
    to 2 in float64 (4290 comparisons).

    Reference: NEST's documentation of ``vogels_sprekeler_synapse``; Vogels, T. P.,
    Sprekeler, H., Zenke, F., Clopath, C. and Gerstner, W. (2011). Inhibitory plasticity
    balances excitation and inhibition in sensory pathways and memory networks. *Science*
    334(6062):1569-1573.
    """

    Params = _VogelsParams

    def build(self, g: px.Graph) -> None:
        soon, late = post_events(g, self.p.delay)
        sign = sign_of(self.p.Wmax)
        k_minus = _post_trace(g)
        dw = g.op_to_backend("ltp_pre", "mat_mult_pre", [k_minus, "pre"])
        potentiated(g, g.op_to_backend("ltp_pre", "mul", [sign * self.p.eta, dw]), "Wmax",
                    sign)
        ones = g.op_to_backend("post_ones", "mul", ["post", 0.0])  # ones of the post shape
        ones = g.op_to_backend("post_ones", "add", [ones, 1.0])
        count = g.op_to_backend("ltd", "mat_mult_pre", [ones, "pre"])
        gain = -sign * self.p.alpha * self.p.eta
        depressed(g, g.op_to_backend("ltd", "mul", [gain, count]), sign)
        k_plus = _jumps(g, late, "tau")
        dw = g.op_to_backend("ltp", "mat_mult_pre", [soon, k_plus])
        potentiated(g, g.op_to_backend("ltp", "mul", [sign * self.p.eta, dw]), "Wmax", sign)


RULES = [NestSTDP, NestSTDPPowerLaw, NestTripletSTDP, VogelsSprekeler]
