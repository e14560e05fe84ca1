r"""Integer-arithmetic STDP with stochastic rounding (SPAIC ``PostPreIntSTDP``).

Traces and weights are integers, as on neuromorphic hardware. A real number
:math:`y = x / 2^{k}` held as the integer :math:`x` is rounded stochastically:

.. math::

    \mathrm{sr}(x) = \lfloor x / 2^k \rfloor + [u < x \bmod 2^k],
    \qquad u \sim \mathcal U\{0, \dots, 2^k - 1\}

so that :math:`\mathbb E[\mathrm{sr}(x)] = x / 2^k`. Draws come from the binding's
counter-based generator (seeded per binding): a run is reproducible and every backend draws
the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plastix as px

from ._pieces import add_change, clamp


def _stochastic_round(g: px.Graph, name: str, x: px.Value | str, shift: int, shape: tuple[int, ...]
                      ) -> px.Value:
    """sr(x) of the integer array ``x`` broadcast to ``shape``, with fresh draws per element."""
    floor = g.op_to_backend(f"{name}_floor", "right_shift", [x, shift])
    frac = g.op_to_backend(f"{name}_frac", "bitwise_and", [x, (1 << shift) - 1])
    u = g.op_to_backend(f"{name}_u", "rand_bits", [], shape=shape)
    u = g.op_to_backend(f"{name}_u", "bitwise_and", [u, (1 << shift) - 1])
    u = g.op_to_backend(f"{name}_u", "cast", [u], dtype=g.dtype)
    up = g.op_to_backend(f"{name}_up", "less", [u, frac])
    up = g.op_to_backend(f"{name}_up", "cast", [up], dtype=g.dtype)
    return g.op_to_backend(name, "add", [floor, up])


@px.rule("postpreintstdp", aliases=("PostPreIntSTDP", "postpreint", "post_pre_int_stdp"))
class PostPreIntSTDP(px.Rule):
    r"""Pre- and post-synaptic STDP in integer arithmetic (SPAIC ``PostPreIntSTDP``).

    With integer traces :math:`x`, decay :math:`\lambda` (``trace_decay``) and shift
    :math:`k_t` (``shift_spike_trace``):

    .. math::

        x &\leftarrow (\lambda\, x) \gg k_t, \qquad x \leftarrow
              \begin{cases} x_{max} & \text{where } s = 1 \end{cases} \\
        w_{ij} &\leftarrow w_{ij} + \textstyle\sum_b s_{pre,bj}\,
               \mathrm{sr}(\nu_0\, x_{post,bi})
               + \textstyle\sum_b s_{post,bi}\, \mathrm{sr}(\nu_1\, x_{pre,bj}) \\
        w_{ij} &\leftarrow w_{ij} \gg [\theta_i > \theta_{max}], \qquad
        w \leftarrow \mathrm{clip}(w, w_{min}, w_{max})

    where :math:`x_{max}` is ``trace_scale`` (1 when :math:`k_t = 0`), :math:`\mathrm{sr}`
    rounds stochastically with :math:`k` = ``shift`` fractional bits (module docstring), and a
    post neuron whose threshold :math:`\theta_i` (the optional step signal ``post_thresh``,
    shape (n_post,); 0 when not given) exceeds ``max_threshold`` has its row halved.

    Where SPAIC and its documentation disagree, plastix follows the code: SPAIC's docstring
    says the pre-synaptic update is negative, but its code *adds* both terms (with
    :math:`\nu_0 = 14 > 0`). SPAIC stores these constants as float32 tensors, so its shifts are
    float shifts, which PyTorch 2 rejects; plastix computes in true integers (int32 by default).
    SPAIC supports only batch size 1; plastix sums the per-sample rounded increments over the
    batch, which is SPAIC's result for batch 1.

    Reference: SPAIC, ``spaic.Learning.STDP_Learner.PostPreIntSTDP``.
    """

    @dataclass(frozen=True)
    class Params:
        trace_decay: int = px.param(31169, low=0, doc="trace decay numerator (31169 / 2**15 = "
                                    "0.951, tau = 20 steps)")
        shift_spike_trace: int = px.param(15, low=0, high=30, doc="trace decay shift k_t")
        trace_scale: int = px.param(127, low=0, doc="trace value set by a spike (x_max)")
        max_threshold: int = px.param(4915, doc="post threshold above which a row is halved")
        shift: int = px.param(14, low=0, high=30, doc="fractional bits k of the stochastic "
                              "rounding")
        nu0: int = px.param(14, doc="pre-synaptic (on a pre spike) learning rate, in 2**-shift")
        nu1: int = px.param(141, doc="post-synaptic (on a post spike) learning rate, in "
                            "2**-shift")
        w_min: int = px.param(0, unit="weight (integer)", doc="lower clamp")
        w_max: int = px.param(109, unit="weight (integer)", doc="upper clamp")

    dtypes = ("int32", "int64")

    @classmethod
    def check_params(cls, params: Any, dtype: str) -> None:
        """The trace must decay, and its products must fit the integer dtype: otherwise the
        trace grows each step until it wraps around (found by the fuzz tests)."""
        p = params
        if p.trace_decay > 1 << p.shift_spike_trace:
            raise px.HyperparameterError(cls.name, "trace_decay", f"expected at most "
                                         f"2**shift_spike_trace = {1 << p.shift_spike_trace} "
                                         f"(a decay factor <= 1), got {p.trace_decay}")
        x_max = p.trace_scale if p.shift_spike_trace > 0 else 1
        limit = 1 << (31 if dtype == "int32" else 63)
        for name in ("trace_decay", "nu0", "nu1"):
            if x_max * abs(getattr(p, name)) >= limit:
                raise px.HyperparameterError(cls.name, name, f"trace_scale * {name} = "
                                             f"{x_max * abs(getattr(p, name))} overflows {dtype}")

    def build(self, g: px.Graph) -> None:
        p = self.p
        batch, n_pre = g.pre_shape
        n_post = g.post_shape[1]
        g.variable_to_backend("x_pre", g.pre_shape)
        g.variable_to_backend("x_post", g.post_shape)
        g.signal("post_thresh", (n_post,), default=0.0, dtype="float64")
        spike_value = p.trace_scale if p.shift_spike_trace > 0 else 1
        for x, s in (("x_pre", "pre"), ("x_post", "post")):
            g.op_to_backend(x, "mul", ["trace_decay", x])
            g.op_to_backend(x, "right_shift", [x, "shift_spike_trace"])
            fired = g.op_to_backend(f"{s}_fired", "not_equal", [s, 0])
            g.op_to_backend(x, "where", [fired, spike_value, x])
        cube = (batch, n_post, n_pre)
        # on a pre spike: the post trace, scaled by nu0, rounded per synapse
        g.op_to_backend("xpost_nu", "mul", ["x_post", "nu0"])
        g.op_to_backend("xpost_nu", "reshape", ["xpost_nu"], shape=(batch, n_post, 1))
        ltd = _stochastic_round(g, "pre_term", "xpost_nu", p.shift, cube)
        g.op_to_backend("pre_col", "reshape", ["pre"], shape=(batch, 1, n_pre))
        g.op_to_backend("pre_term", "mul", [ltd, "pre_col"])
        # on a post spike: the pre trace, scaled by nu1, rounded per synapse
        g.op_to_backend("xpre_nu", "mul", ["x_pre", "nu1"])
        g.op_to_backend("xpre_nu", "reshape", ["xpre_nu"], shape=(batch, 1, n_pre))
        ltp = _stochastic_round(g, "post_term", "xpre_nu", p.shift, cube)
        g.op_to_backend("post_row", "reshape", ["post"], shape=(batch, n_post, 1))
        g.op_to_backend("post_term", "mul", [ltp, "post_row"])
        g.op_to_backend("dw", "add", ["pre_term", "post_term"])
        g.op_to_backend("dw", "sum", ["dw"], axis=0)
        add_change(g, "dw")
        over = g.op_to_backend("over", "greater", ["post_thresh", "max_threshold"])
        over = g.op_to_backend("over", "cast", [over], dtype=g.dtype)
        over = g.op_to_backend("over", "reshape", [over], shape=(n_post, 1))
        g.op_to_backend("weight", "right_shift", ["weight", over])
        clamp(g, "weight", "w_min", "w_max")


RULES = [PostPreIntSTDP]
