r"""NEST's nearest-neighbour STDP synapses, step for step: ``stdp_nn_symm_synapse``,
``stdp_nn_pre_centered_synapse`` and ``stdp_nn_restr_synapse`` (the three pairing schemes of
Morrison, Diesmann and Gerstner 2008, Fig. 7).

They share ``stdp_synapse``'s weight dependence (Gütig et al.; ``lambda``, ``alpha``,
``mu_plus``, ``mu_minus``, ``Wmax``) and NEST's timing (:mod:`plastix.learners._nest`: a pre
spike at step :math:`p` and a post spike at :math:`q` are :math:`\Delta = q + d - p` apart,
coincident pairs count for nothing, the pre-triggered depression comes before the
post-triggered potentiation, each clipped on its own). What differs is which pairs count.
Each neuron keeps the whole steps since its most recent spike (the post neuron's as its
spikes reach the synapse), so a nearest-neighbour factor is
:math:`e^{-\Delta\,dt/\tau}` of that neuron's last spike, as NEST computes it:

* ``nest_stdp_nn_symm``: a pre spike depresses with the nearest earlier post spike, a post
  spike potentiates with the nearest earlier pre spike;
* ``nest_stdp_nn_pre_centered``: a pre spike depresses with the nearest earlier post spike;
  a post spike potentiates with every pre spike since the previous post spike (a per-synapse
  pre trace that adds 1 per pre spike and is cleared by each post spike);
* ``nest_stdp_nn_restr``: as the symmetric scheme, but a post spike potentiates only if no
  other post spike came since the nearest pre spike, and a pre spike depresses only if a post
  spike came since the previous pre spike.

"Earlier" is strict: the pre spike that coincides with a post spike at the synapse
(:math:`\Delta = 0`) is skipped and the one before it is used.

**Readout**, as for ``nest_stdp``: after step :math:`t` a synapse's weight is NEST's weight
after the delivery of its pre spike of step :math:`t`, plus the potentiation by a post spike
of step :math:`t + 1 - d`, which NEST applies only at the next pre spike.

**Time zero.** NEST starts each synapse's last pre spike time ``t_lastspike_`` at 0 ms, and
the symmetric and restricted schemes pair with it as if it were a pre spike: a post spike
before the first pre spike is potentiated with :math:`e^{-(q + d + 1)\,dt/\tau_+}`
(plastix's step :math:`k` is NEST's time :math:`(k + 1)\,dt`). plastix does the same (the
pre neurons' ages start at one step before the first step, and ``reset()`` restores that);
the pre-centred scheme multiplies by its pre trace, 0 before any pre spike, and has no such
pair. NEST's documentation does not mention it.

Reference: NEST's documentation of the three models; Morrison, A., Diesmann, M. and
Gerstner, W. (2008). Phenomenological models of synaptic plasticity based on spike timing.
*Biol. Cybern.* 98(6):459-478.
"""

from __future__ import annotations

import math

import plastix as px

from ._nest import gutig_depression, gutig_facilitation, post_events, sign_of
from ._pieces import Ref, decay_factor, spike_age
from .nest_stdp import _Gutig

NEVER = math.inf  # the age of a neuron that has not fired


def _nearest(g: px.Graph, name: str, age: Ref, tau: str, ahead: bool) -> px.Value:
    """:math:`e^{-(a + 1)\\,dt/\\tau}` for age :math:`a`: the factor of the neuron's last
    spike one step later (:math:`t` for an age read at the start of the step, :math:`t + 1`
    for one that has taken this step's spikes); 0 for a neuron that never fired."""
    steps = g.op_to_backend(f"{name}_lag", "add", [age, 1.0]) if ahead else age
    lag = g.op_to_backend(f"{name}_lag", "mul", [steps, "dt"])
    lag = g.op_to_backend(f"{name}_lag", "div", [lag, tau])
    return g.op_to_backend(name, "exp", [g.op_to_backend(f"{name}_lag", "neg", [lag])])


def _column(g: px.Graph, name: str, x: Ref) -> px.Value:
    """Post-side values (batch, n_post) as (batch, n_post, 1)."""
    batch, n_post = g.post_shape
    return g.op_to_backend(f"{name}_col", "reshape", [x], shape=(batch, n_post, 1))


def _row(g: px.Graph, name: str, x: Ref) -> px.Value:
    """Pre-side values (batch, n_pre) as (batch, 1, n_pre)."""
    batch, n_pre = g.pre_shape
    return g.op_to_backend(f"{name}_row", "reshape", [x], shape=(batch, 1, n_pre))


def _ages(g: px.Graph, late: Ref) -> tuple[px.Value, px.Value]:
    """The pre and post neurons' ages, updated with this step's spikes; the pre ages start
    at 0, NEST's pre spike at time 0 (module docstring)."""
    age_pre = spike_age(g, "age_pre", "pre", g.pre_shape, 0.0)
    return age_pre, spike_age(g, "age_post", late, g.post_shape, NEVER)


def _depression_trace(g: px.Graph) -> px.Value:
    """The nearest post spike strictly before :math:`t`: the post ages as the step began."""
    return _nearest(g, "k_minus", g.previous("age_post"), "tau_minus", ahead=True)


@px.rule("nest_stdp_nn_symm", aliases=("stdp_nn_symm_synapse", "nest.stdp_nn_symm_synapse"))
class NestSTDPNearestSymmetric(_Gutig):
    r"""Symmetric nearest-neighbour STDP, NEST's ``stdp_nn_symm_synapse``.

    .. math::

        \text{pre at } p:\quad w &\leftarrow W_{max} \max\big(\hat w - \alpha\lambda\,
            \hat w^{\mu_-} e^{-(p - s^*)\,dt/\tau_-}, 0\big) \\
        \text{post at } s:\quad w &\leftarrow W_{max} \min\big(\hat w + \lambda\,
            (1 - \hat w)^{\mu_+} e^{-(s - p^*)\,dt/\tau_+}, 1\big)

    (:math:`\hat w = w / W_{max}`; synapse times :math:`s = q + d`; :math:`s^*` the nearest
    post spike before :math:`p`, :math:`p^*` the nearest pre spike before :math:`s`). One
    pair gives the window of ``nest_stdp``; with several spikes only nearest neighbours
    pair. Before the first pre spike, a post spike pairs with NEST's pre spike at 0 ms
    (module docstring).

    Measured against NEST 3.10 (``parrot_neuron`` pre and post neurons with random 10-50 Hz
    trains of 300-1000 ms at 1 ms resolution, delays 1 and 3 ms, 3 x 2 synapses;
    multiplicative, additive, clipping and negative ``Wmax``; the weight after each pre
    spike's delivery with no potentiation pending; NEST's pair with its pre spike at 0 ms
    included): within 2.3e-16 of weights up to 2 in float64 (5720 comparisons).
    """

    def build(self, g: px.Graph) -> None:
        soon, late = post_events(g, self.p.delay)
        sign = sign_of(self.p.Wmax)
        age_pre, _ = _ages(g, late)
        k_minus = _depression_trace(g)
        gutig_depression(g, g.op_to_backend("ltd_pairs", "mat_mult_pre", [k_minus, "pre"]),
                         sign)
        k_plus = _nearest(g, "k_plus", age_pre, "tau_plus", ahead=True)
        gutig_facilitation(g, g.op_to_backend("ltp_pairs", "mat_mult_pre", [soon, k_plus]),
                           sign)


@px.rule("nest_stdp_nn_pre_centered", aliases=("stdp_nn_pre_centered_synapse",
                                               "nest.stdp_nn_pre_centered_synapse"))
class NestSTDPNearestPreCentered(_Gutig):
    r"""Presynaptic-centred nearest-neighbour STDP (Izhikevich and Desai 2003), NEST's
    ``stdp_nn_pre_centered_synapse``.

    .. math::

        \text{pre at } p:\quad w &\leftarrow W_{max} \max\big(\hat w - \alpha\lambda\,
            \hat w^{\mu_-} e^{-(p - s^*)\,dt/\tau_-}, 0\big), \qquad x_{ij} \leftarrow
            x_{ij} + 1 \\
        \text{post at } s:\quad w &\leftarrow W_{max} \min\big(\hat w + \lambda\,
            (1 - \hat w)^{\mu_+} x_{ij}(s), 1\big), \qquad x_{ij} \leftarrow 0

    with :math:`x_{ij}` a pre trace per synapse (per sample), decaying with
    :math:`\tau_+`, read before a pre spike that coincides with the post spike at the
    synapse adds to it. The documentation and the code agree.

    Measured against NEST 3.10 (``parrot_neuron`` pre and post neurons with random 10-50 Hz
    trains of 300-1000 ms at 1 ms resolution, delays 1 and 3 ms, 3 x 2 synapses;
    multiplicative, additive, clipping and negative ``Wmax``; the weight after each pre
    spike's delivery with no potentiation pending): within 1.8e-15 of weights up to 2 in
    float64 (5720 comparisons).
    """

    def build(self, g: px.Graph) -> None:
        soon, late = post_events(g, self.p.delay)
        sign = sign_of(self.p.Wmax)
        batch, n_post = g.post_shape
        spike_age(g, "age_post", late, g.post_shape, NEVER)
        k_minus = _depression_trace(g)
        gutig_depression(g, g.op_to_backend("ltd_pairs", "mat_mult_pre", [k_minus, "pre"]),
                         sign)
        g.variable_to_backend("k_plus", (batch, n_post, g.pre_shape[1]))
        lam = decay_factor(g, "k_plus_decay", "tau_plus")
        k_plus = g.op_to_backend("k_plus", "var_linear", ["k_plus", lam, _row(g, "pre", "pre")])
        ahead = g.op_to_backend("k_plus_ahead", "mul", [k_plus, lam])
        post_col = _column(g, "soon", soon)
        pairs = g.op_to_backend("ltp_pairs", "mul", [post_col, ahead])
        pairs = g.op_to_backend("ltp_pairs", "sum", [pairs], axis=0)
        gutig_facilitation(g, pairs, sign)
        cleared = g.op_to_backend("k_plus_cleared", "not_equal", [post_col, 0])
        g.op_to_backend("k_plus", "where", [cleared, 0.0, k_plus])


@px.rule("nest_stdp_nn_restr", aliases=("stdp_nn_restr_synapse", "nest.stdp_nn_restr_synapse"))
class NestSTDPNearestRestricted(_Gutig):
    r"""Restricted symmetric nearest-neighbour STDP, NEST's ``stdp_nn_restr_synapse``.

    .. math::

        \text{pre at } p:\quad w &\leftarrow W_{max} \max\big(\hat w - \alpha\lambda\,
            \hat w^{\mu_-} e^{-(p - s^*)\,dt/\tau_-}, 0\big)
            \quad\text{if some post spike } s \in (p', p] \\
        \text{post at } s:\quad w &\leftarrow W_{max} \min\big(\hat w + \lambda\,
            (1 - \hat w)^{\mu_+} e^{-(s - p^*)\,dt/\tau_+}, 1\big)
            \quad\text{if no post spike in } (p^*, s)

    (:math:`p'` the previous pre spike, others as ``nest_stdp_nn_symm``), so a spike takes
    part in at most one potentiation and one depression pair.

    Where NEST's documentation and code disagree: the documentation depresses "only if [the
    nearest preceding post spike] occurred not earlier than the previous presynaptic one";
    the code depresses whenever some post spike reached the synapse in :math:`(p', p]`, with
    the nearest post spike strictly before :math:`p`, which is earlier than :math:`p'` when
    the only post spike in that interval coincides with :math:`p` (then it potentiates with
    :math:`p'` and the depression pairs with an older post spike). plastix follows the code.
    Before the first pre spike, a post spike pairs with NEST's pre spike at 0 ms (module
    docstring).

    Measured against NEST 3.10 (``parrot_neuron`` pre and post neurons with random 10-50 Hz
    trains of 300-1000 ms at 1 ms resolution, delays 1 and 3 ms, 3 x 2 synapses;
    multiplicative, additive, clipping and negative ``Wmax``; the weight after each pre
    spike's delivery with no potentiation pending; NEST's pair with its pre spike at 0 ms
    included): within 2.3e-16 of weights up to 2 in float64 (5720 comparisons).
    """

    def build(self, g: px.Graph) -> None:
        soon, late = post_events(g, self.p.delay)
        sign = sign_of(self.p.Wmax)
        age_pre, age_post = _ages(g, late)
        # depression: a post spike since the previous pre spike (this step's included)
        since_pre = _row(g, "age_pre_old", g.previous("age_pre"))
        since_post = _column(g, "age_post_old", g.previous("age_post"))
        between = g.op_to_backend("ltd_gate", "less", [since_post, since_pre])
        gate = g.op_to_backend("ltd_gate", "where", [between, 1.0, _column(g, "late", late)])
        k_minus = _column(g, "k_minus", _depression_trace(g))
        pairs = g.op_to_backend("ltd_pairs", "mul", [gate, k_minus])
        pairs = g.op_to_backend("ltd_pairs", "mul", [pairs, _row(g, "pre", "pre")])
        gutig_depression(g, g.op_to_backend("ltd_pairs", "sum", [pairs], axis=0), sign)
        # potentiation: no other post spike since the nearest pre spike
        first = g.op_to_backend("ltp_gate", "greater_equal", [_column(g, "age_post", age_post),
                                                              _row(g, "age_pre", age_pre)])
        k_plus = _row(g, "k_plus", _nearest(g, "k_plus", age_pre, "tau_plus", ahead=True))
        pairs = g.op_to_backend("ltp_pairs", "where", [first, k_plus, 0.0])
        pairs = g.op_to_backend("ltp_pairs", "mul", [pairs, _column(g, "soon", soon)])
        gutig_facilitation(g, g.op_to_backend("ltp_pairs", "sum", [pairs], axis=0), sign)


RULES = [NestSTDPNearestSymmetric, NestSTDPNearestPreCentered, NestSTDPNearestRestricted]
