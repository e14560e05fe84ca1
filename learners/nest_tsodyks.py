r"""Short-term facilitation and depression (Tsodyks and Markram 1997; Fuhrmann et al. 2002),
NEST's ``tsodyks2_synapse``: the weight does not change, a spike transmits
:math:`w\,u\,x`.

Each synapse keeps a release probability :math:`u` and a fraction of available resources
:math:`x`. At a pre spike :math:`h` ms after the previous one:

.. math::

    x &\leftarrow 1 + (x - x\,u - 1)\, e^{-h/\tau_{rec}} \\
    u &\leftarrow U + u\,(1 - U)\, e^{-h/\tau_{fac}}

(both with the :math:`u` from before the spike; ``tau_fac = 0`` turns facilitation off,
:math:`u = U`), and the spike transmits :math:`w\,u\,x` with the new values. The first spike
through a synapse changes neither (NEST keeps them until a second spike gives an interval
:math:`h`).

**The efficacy.** After every step the state ``efficacy`` (batch, n_post, n_pre) holds
:math:`w\,u\,x` of each synapse as of its latest pre spike, so a forward pass of this step
reads the current a spike transmits as

.. code-block:: python

    syn.step(pre, post)                  # pre: this step's spikes (post is not used)
    current = (syn.efficacy * pre[:, None, :]).sum(-1)    # (batch, n_post), NumPy

``syn.u`` and ``syn.x`` are the per-synapse states (batch, n_post, n_pre), one set per
batch sample; ``reset()`` restores ``u0`` and ``x0`` and forgets the last spike.

Where NEST's documentation and code disagree: the documentation gives ``u`` the default
``U``; the code starts ``u`` at 0.5 whatever ``U`` is (``u`` is set from ``U``'s default
before any parameter is given), so a NEST user who sets ``U`` alone starts from
:math:`u = 0.5`. plastix follows the code: ``u0`` defaults to 0.5 and is independent of
``U`` (set both, as NEST's documentation advises).

Reference: NEST's documentation of ``tsodyks2_synapse``; Tsodyks, M. V. and Markram, H.
(1997). The neural code between neocortical pyramidal neurons depends on neurotransmitter
release probability. *PNAS* 94(2):719-723; Fuhrmann, G., Segev, I., Markram, H. and Tsodyks,
M. (2002). Coding of temporal information by activity-dependent synapses. *J. Neurophysiol.*
87(1):140-148.
"""

from __future__ import annotations

from dataclasses import dataclass

import plastix as px

from ._pieces import spike_age

NEVER = float("inf")


@dataclass(frozen=True)
class _TsodyksParams:
    U: float = px.param(0.5, low=0, high=1, doc="increase of u with each spike (U1)")
    u0: float = px.param(0.5, low=0, high=1, doc="initial release probability u (NEST's "
                         "'u'; 0.5 whatever U is, as in NEST's code)")
    x0: float = px.param(1.0, doc="initial fraction of available resources x (NEST's 'x')")
    tau_rec: float = px.param(800.0, unit="ms", low=0, open_low=True,
                              doc="recovery time constant (depression)")
    tau_fac: float = px.param(0.0, unit="ms", low=0, doc="facilitation time constant; 0 "
                              "turns facilitation off")


@px.rule("tsodyks2", aliases=("tsodyks2_synapse", "nest.tsodyks2_synapse"))
class Tsodyks2(px.Rule):
    r"""Short-term plasticity, NEST's ``tsodyks2_synapse`` (module docstring).

    .. math::

        x \leftarrow 1 + (x - x u - 1)\, e^{-h/\tau_{rec}}, \qquad
        u \leftarrow U + u (1 - U)\, e^{-h/\tau_{fac}}, \qquad
        \mathrm{efficacy} = w\, u\, x

    at each pre spike but a synapse's first, :math:`h` the time since its previous pre
    spike. The weight is never changed (the rule has no weight change for a binding to
    intercept); the post spikes are not used. ``efficacy``, ``u`` and ``x`` are states
    (batch, n_post, n_pre); see the module docstring for a forward pass.

    Measured against NEST 3.10 (``parrot_neuron`` pre neurons with random 10-50 Hz trains of
    300-1000 ms at 1 ms resolution, 3 x 2 synapses, depressing, facilitating and default
    parameters; ``u`` and ``x`` after every step, the weight each spike transmits from a
    ``weight_recorder``): ``u`` and ``x`` equal to the last bit, ``efficacy`` within 2.3e-16
    of the transmitted weights (up to 3) in float64 (129600 and 2744 comparisons).
    """

    Params = _TsodyksParams

    def build(self, g: px.Graph) -> None:
        p = self.p
        batch, n_pre = g.pre_shape
        synapses = (batch, g.post_shape[1], n_pre)
        for name, value in (("u", p.u0), ("x", p.x0), ("efficacy", 0.0)):
            g.variable_to_backend(name, synapses, value=value)
        spike_age(g, "age_pre", "pre", g.pre_shape, NEVER)
        since = g.op_to_backend("h", "add", [g.previous("age_pre"), 1.0])
        since = g.op_to_backend("h", "mul", [since, "dt"])  # ms since the previous spike
        fired = g.op_to_backend("update", "not_equal", ["pre", 0])
        seen = g.op_to_backend("seen", "less", [g.previous("age_pre"), NEVER])
        update = g.op_to_backend("update", "where", [fired, seen, False])
        update = g.op_to_backend("update", "reshape", [update], shape=(batch, 1, n_pre))
        recovery = self._decay(g, "x_decay", since, "tau_rec")
        kept = g.op_to_backend("x_new", "mul", ["x", "u"])
        x_new = g.op_to_backend("x_new", "sub", ["x", kept])
        x_new = g.op_to_backend("x_new", "sub", [x_new, 1.0])
        x_new = g.op_to_backend("x_new", "var_linear", [x_new, recovery, 1.0])
        u_new = g.op_to_backend("u_new", "sub", [1.0, "U"])
        u_new = g.op_to_backend("u_new", "mul", ["u", u_new])
        if p.tau_fac > 0:
            u_new = g.op_to_backend("u_new", "mul", [u_new, self._decay(g, "u_decay", since,
                                                                          "tau_fac")])
        else:  # NEST: tau_fac == 0 disables facilitation (u_decay = 0)
            u_new = g.op_to_backend("u_new", "mul", [u_new, 0.0])
        u_new = g.op_to_backend("u_new", "add", ["U", u_new])
        g.op_to_backend("x", "where", [update, x_new, "x"])
        g.op_to_backend("u", "where", [update, u_new, "u"])
        efficacy = g.op_to_backend("efficacy", "mul", ["weight", "u"])
        g.op_to_backend("efficacy", "mul", [efficacy, "x"])

    @staticmethod
    def _decay(g: px.Graph, name: str, since: px.Value, tau: str) -> px.Value:
        """:math:`e^{-h/\\tau}` per pre neuron, as (batch, 1, n_pre)."""
        batch, n_pre = g.pre_shape
        ratio = g.op_to_backend(name, "div", [g.op_to_backend(name, "neg", [since]), tau])
        return g.op_to_backend(name, "reshape", [g.op_to_backend(name, "exp", [ratio])],
                               shape=(batch, 1, n_pre))


RULES = [Tsodyks2]
