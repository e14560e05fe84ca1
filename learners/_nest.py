r"""What the NEST synapse models share: NEST's spike timing on plastix's step grid, the
delayed post spikes, and NEST's clipping after every single update.

**Timing.** NEST treats a connection's whole delay :math:`d` as dendritic: a pre spike counts
at the synapse when it is sent, a post spike only :math:`d` later, so a pre spike at step
:math:`p` and a post spike at step :math:`q` pair with

.. math:: \Delta = q + d - p \quad\text{(steps)}, \qquad
          \Delta > 0: \text{potentiation}, \quad \Delta < 0: \text{depression},
          \quad \Delta = 0: \text{no pair}

(NEST's ``get_history`` reads post spikes strictly after the previous pre spike and
``get_K_value`` the post trace strictly before this one). With :math:`d = 1` a pre and a
post spike in the same step are causal; a post spike one step before the pre does nothing.

**Order within a step.** Every update is one of NEST's ``facilitate_`` or ``depress_`` calls
and is clipped on its own, never after a sum. In step :math:`t` plastix first depresses the
columns of the pre neurons that spike (each reads the post trace of the post spikes that
reached the synapse before :math:`t`), then the pre traces take this step's spikes, then the
rows of the post spikes that reach the synapse at :math:`t + 1` (those of step
:math:`t + 1 - d`) are potentiated by the pre traces at :math:`t + 1`. This is NEST's order
of operations exactly: NEST, at a pre spike, first applies the potentiation of every post
spike since the previous pre spike, then the depression.

**Readout.** NEST applies a post spike's potentiation only when the next pre spike is
delivered, so a weight read from NEST is "as of the last pre spike". plastix updates eagerly:
a post spike of step :math:`q` is applied in step :math:`q + d - 1`, the first step by which
every pre spike it pairs with is known. The two readouts are equal wherever no potentiation
is pending in NEST; each rule's docstring names the readout it equals.

**Time zero.** plastix's step :math:`k` is NEST's time :math:`(k + 1)\,dt` (NEST stamps a
spike with the end of the step that emits it); NEST starts every synapse's last pre spike
time at 0 ms, one step before plastix's first step.

**Batches.** NEST has none: plastix sums the changes of the samples of a batch, each
computed with the weight as it is before that update, and clips the sum (batch 1 is NEST).
"""

from __future__ import annotations

import math
from typing import Any

import plastix as px

from ._pieces import Ref, delay_line


def delay_param() -> Any:
    """The connection delay, as NEST's ``delay``."""
    return px.param(1.0, unit="ms", low=0, open_low=True,
                    doc="connection delay, all of it dendritic as NEST treats it; rounded "
                        "to whole steps as NEST rounds to its resolution, at least one step")


def tau_minus_param(default: float = 20.0) -> Any:
    """The post trace's time constant, which NEST keeps on the post neuron."""
    return px.param(default, unit="ms", low=0, open_low=True,
                    doc="post trace time constant (NEST: a parameter of the post neuron)")


def delay_steps(g: px.Graph, delay: float) -> int:
    """``delay`` (ms) in whole steps of ``g.dt``, rounded half up as NEST's ``ld_round``."""
    steps = math.floor(delay / g.dt + 0.5)
    if steps < 1:
        raise px.HyperparameterError(g.rule, "delay", f"expected at least one step "
                                     f"(dt = {g.dt} ms), got {delay!r} ms")
    return steps


def post_events(g: px.Graph, delay: float) -> tuple[Ref, Ref]:
    """The post spikes as the synapse sees them in step :math:`t`: ``(soon, late)``, those
    of step :math:`t + 1 - d` (they reach the synapse at :math:`t + 1` and are applied
    eagerly now) and those of step :math:`t - d` (they reach it at :math:`t`, the post
    trace takes them after this step's depression)."""
    steps = delay_steps(g, delay)
    taps = delay_line(g, "post_line", "post", g.post_shape, steps)
    return ("post" if steps == 1 else taps[steps - 2]), taps[steps - 1]


def sign_of(w_max: float) -> float:
    """The sign NEST's weights share with ``Wmax`` (``copysign`` semantics: +0 is +)."""
    return math.copysign(1.0, w_max)


def apply_clipped(g: px.Graph, change: px.Value, clip: str, bound: Ref) -> px.Value:
    """Declare ``change`` a change of the weight (a seam of its own), add it and clip the
    weight on one side with ``clip`` (``"minimum"``: not above ``bound``; ``"maximum"``:
    not below it), as each of NEST's ``facilitate_`` and ``depress_`` clips."""
    g.op_to_backend("weight", "add", ["weight", g.weight_change(change.name)])
    return g.op_to_backend("weight", clip, ["weight", bound])


def potentiated(g: px.Graph, change: px.Value, w_max: Ref, sign: float) -> px.Value:
    """Apply a potentiation, clipped at ``Wmax`` (from below when ``Wmax`` is negative)."""
    return apply_clipped(g, change, "minimum" if sign > 0 else "maximum", w_max)


def depressed(g: px.Graph, change: px.Value, sign: float) -> px.Value:
    """Apply a depression, clipped at 0 (the weight keeps the sign of ``Wmax``)."""
    return apply_clipped(g, change, "maximum" if sign > 0 else "minimum", 0.0)


def gutig_depression(g: px.Graph, pairs: Ref, sign: float) -> px.Value:
    """``stdp_synapse``'s ``depress_``, batch-summed pair terms ``pairs`` (n_post, n_pre):

    .. math:: w \\leftarrow W_{max} \\max\\big(\\hat w - \\alpha \\lambda\\,
              \\hat w^{\\mu_-} K, 0\\big), \\qquad \\hat w = w / W_{max}
    """
    norm = g.op_to_backend("w_norm", "div", ["weight", "Wmax"])
    gain = g.op_to_backend("ltd_gain", "mul", ["alpha", "lambda_"])
    gain = g.op_to_backend("ltd_gain", "mul", [gain, "Wmax"])
    gain = g.op_to_backend("ltd_gain", "neg", [gain])
    dw = g.op_to_backend("ltd", "pow", [norm, "mu_minus"])
    dw = g.op_to_backend("ltd", "mul", [dw, pairs])
    return depressed(g, g.op_to_backend("ltd", "mul", [gain, dw]), sign)


def gutig_facilitation(g: px.Graph, pairs: Ref, sign: float) -> px.Value:
    """``stdp_synapse``'s ``facilitate_``, batch-summed pair terms ``pairs``:

    .. math:: w \\leftarrow W_{max} \\min\\big(\\hat w + \\lambda\\,
              (1 - \\hat w)^{\\mu_+} K, 1\\big)
    """
    norm = g.op_to_backend("w_norm", "div", ["weight", "Wmax"])
    room = g.op_to_backend("w_room", "sub", [1.0, norm])
    gain = g.op_to_backend("ltp_gain", "mul", ["lambda_", "Wmax"])
    dw = g.op_to_backend("ltp", "pow", [room, "mu_plus"])
    dw = g.op_to_backend("ltp", "mul", [dw, pairs])
    return potentiated(g, g.op_to_backend("ltp", "mul", [gain, dw]), "Wmax", sign)


def check_w_max(rule: str, params: Any) -> Any:
    """``Wmax`` divides the weight in ``stdp_synapse``'s updates: it must not be 0."""
    if params.Wmax == 0:
        raise px.HyperparameterError(rule, "Wmax", "expected a non-zero maximum weight "
                                     "(the weight is divided by it), got 0")
    return params
