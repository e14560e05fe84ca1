r"""norse's functional STDP (``norse.torch.functional.stdp``), as norse's code computes it.

Traces are forward-Euler low-pass filters of the spikes, updated *before* the weight, so a
step's own spikes already count (:math:`r = dt\,\tau^{-1}`, with :math:`\tau^{-1}` in 1/s):

.. math::

    x_{pre} &\leftarrow x_{pre} + r_{pre}\,(a_{pre}\, s_{pre} - x_{pre}), \qquad
    x_{post} \leftarrow x_{post} + r_{post}\,(a_{post}\, s_{post} - x_{post}) \\
    w &\leftarrow \mathrm{clip}\big(w + \eta_+ f_+(w)\, s_{post}^\top x_{pre}
         - \eta_- f_-(w)\, x_{post}^\top s_{pre},\; w_{min}, w_{max}\big)

summed (not averaged) over the batch, with the weight dependence chosen by
``stdp_algorithm`` and evaluated on the weight before the step:

=====================  =========================  =========================
stdp_algorithm         :math:`f_+(w)`             :math:`f_-(w)`
=====================  =========================  =========================
additive               1                          1
additive_step          :math:`H(w_{max} - w)`     :math:`H(w - w_{min})`
multiplicative_pow     :math:`(w_{max} - w)^\mu`  :math:`(w - w_{min})^\mu`
multiplicative_relu    :math:`[w_{max} - w]_+`    :math:`[w - w_{min}]_+`
=====================  =========================  =========================

where :math:`H(0) = 0`. The clip applies only when ``hardbound`` is true.

Units: norse's ``tau_pre_inv``/``tau_post_inv`` keep norse's names, defaults and unit (1/s);
a binding's ``dt`` is in milliseconds and is divided by 1000 for them, so the defaults
(20 /s, ``dt`` = 1 ms) give norse's own defaults: :math:`r = 0.02`, a per-step decay of 0.98
and a jump of :math:`0.02\,a` per spike (not :math:`a`).

Differences from norse, all on purpose: an unknown ``stdp_algorithm`` fails when the learner
is created, listing the valid ones (norse accepts it and fails later with AttributeError);
norse's clamp keeps the ``w_min``/``w_max`` given to its constructor while its
:math:`f_\pm` read the live attributes, which only differ if a user mutates the parameter
object, and plastix hyperparameters are frozen; norse's ``mu`` is overwritten for every
algorithm but ``multiplicative_pow``, where here it is simply unused. With ``hardbound=False``
and a fractional ``mu``, weights outside the bounds give NaN, as in norse.

Reference: norse, ``norse/torch/functional/stdp.py``; Gütig, R. et al. (2003). Learning input
correlations through nonlinear temporally asymmetric Hebbian plasticity. *J. Neurosci.*
23(9):3697-3714 (the multiplicative family).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plastix as px

from ._pieces import add_change, clamp, conv_pair_dw, euler_trace, pair_dw, weight_dependence

ALGORITHMS = ("additive", "additive_step", "multiplicative_pow", "multiplicative_relu")
_DEPENDENCE = dict(zip(ALGORITHMS, ("additive", "step", "pow", "relu"), strict=True))


@dataclass(frozen=True)
class NorseParams:
    a_pre: float = px.param(1.0, doc="drive of the pre trace by a pre spike (the jump is "
                            "dt * tau_pre_inv * a_pre)")
    a_post: float = px.param(1.0, doc="drive of the post trace by a post spike")
    tau_pre_inv: float = px.param(20.0, unit="1/s", low=0, doc="inverse time constant of the "
                                  "pre trace (20 /s: tau = 50 ms); dt (ms) is divided by 1000")
    tau_post_inv: float = px.param(20.0, unit="1/s", low=0, doc="inverse time constant of the "
                                   "post trace")
    w_min: float = px.param(0.0, unit="weight", doc="lower bound")
    w_max: float = px.param(1.0, unit="weight", doc="upper bound")
    eta_plus: float = px.param(1e-3, doc="potentiation rate")
    eta_minus: float = px.param(1e-3, doc="depression rate")
    stdp_algorithm: str = px.param("additive", choices=ALGORITHMS, doc="weight dependence: "
                                   "additive, additive_step, multiplicative_pow, "
                                   "multiplicative_relu")
    mu: float = px.param(0.0, low=0, doc="exponent of multiplicative_pow (0 <= mu <= 1)")
    hardbound: bool = px.param(True, doc="clip the weight to [w_min, w_max] after each step")


class _NorseRule(px.Rule):
    def build(self, g: px.Graph) -> None:
        p = self.p
        g.variable_to_backend("x_pre", g.pre_shape)
        g.variable_to_backend("x_post", g.post_shape)
        dt_s = g.op_to_backend("dt_s", "div", ["dt", 1000.0])
        for x, s, rate, a in (("x_pre", "pre", "tau_pre_inv", "a_pre"),
                              ("x_post", "post", "tau_post_inv", "a_post")):
            euler_trace(g, x, s, g.op_to_backend(f"r_{x}", "mul", [dt_s, rate]), a)
        f_plus, f_minus = weight_dependence(g, _DEPENDENCE[p.stdp_algorithm], "w_min",
                                            "w_max", "mu")
        a_plus = g.op_to_backend("a_plus", "mul", ["eta_plus", f_plus])
        a_minus = g.op_to_backend("a_minus", "mul", ["eta_minus", f_minus])
        self.pair_term(g, a_plus, a_minus)
        add_change(g, "dw")
        if p.hardbound:
            clamp(g, "weight", "w_min", "w_max")

    def pair_term(self, g: px.Graph, a_plus: Any, a_minus: Any) -> None:
        pair_dw(g, "dw", pre="pre", post="post", x_pre="x_pre", x_post="x_post",
                a_plus=a_plus, a_minus=a_minus)


@px.rule("norse_stdp", aliases=("stdp_step_linear", "norse"))
class NorseSTDP(_NorseRule):
    r"""norse's STDP for a dense weight (``stdp_step_linear``), every ``stdp_algorithm``.

    .. math::

        x &\leftarrow x + \frac{dt}{1000}\,\tau^{-1} (a\, s - x) \\
        w &\leftarrow \mathrm{clip}\big(w + \eta_+ f_+(w)\, s_{post}^\top x_{pre}
             - \eta_- f_-(w)\, x_{post}^\top s_{pre},\; w_{min}, w_{max}\big)

    Weight (n_post, n_pre) as norse's; sums over the batch. ``dt`` is in ms and is divided by
    1000 for ``tau_pre_inv``/``tau_post_inv``, which keep norse's unit (1/s): the defaults
    give a jump of 0.02 a per spike and a decay of 0.98 per 1 ms step. Weight dependence by
    ``stdp_algorithm`` (:math:`u = w_{max} - w`, :math:`v = w - w_{min}`, :math:`H(0) = 0`):
    additive :math:`f_\pm = 1`; additive_step :math:`H(u), H(v)`; multiplicative_pow
    :math:`u^\mu, v^\mu`; multiplicative_relu :math:`[u]_+, [v]_+`; the clip only if
    ``hardbound``. An unknown algorithm fails when the learner is made (norse fails later);
    norse's other quirks are listed in :mod:`plastix.learners.norse_stdp`.

    Reference: norse, ``norse.torch.functional.stdp.stdp_step_linear``.
    """

    Params = NorseParams


@dataclass(frozen=True)
class NorseConvParams(NorseParams):
    stride: int = px.param(1, low=1, doc="convolution stride")
    padding: int = px.param(0, low=0, doc="convolution zero padding")
    dilation: int = px.param(1, low=1, doc="convolution dilation")


@px.rule("norse_stdp_conv2d", aliases=("stdp_step_conv2d",))
class NorseSTDPConv2d(_NorseRule):
    r"""norse's STDP for a 2-d convolution kernel (``stdp_step_conv2d``).

    Weight (C_out, C_in, kh, kw), pre spikes (B, C_in, H, W), post spikes (B, C_out, H', W'),
    bound with ``learner.bind(weight, pre_shape=(C_in, H, W))``. Traces as the dense rule;
    the pair term sums over the batch and every output position :math:`k` of the patches
    :math:`\mathrm{unf}` that the kernel sees (``stride``, ``padding``, ``dilation``):

    .. math::

        \Delta w_{oj} = \eta_+ f_+(w_{oj}) \sum_{b,k} s_{post,bok}\, \mathrm{unf}(x_{pre})_{bkj}
            - \eta_- f_-(w_{oj}) \sum_{b,k} x_{post,bok}\, \mathrm{unf}(s_{pre})_{bkj}

    with :math:`j` running over (C_in, kh, kw). No groups, no bias, as in norse.

    Reference: norse, ``norse.torch.functional.stdp.stdp_step_conv2d``.
    """

    Params = NorseConvParams

    @classmethod
    def spike_shapes(cls, weight_shape: tuple[int, ...], batch_size: int, params: Any,
                     **options: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
        if len(weight_shape) != 4:
            raise ValueError("a kernel of shape (out_channels, in_channels, kh, kw)")
        pre_shape = options.get("pre_shape")
        if pre_shape is None or len(pre_shape) != 3 or pre_shape[0] != weight_shape[1]:
            raise ValueError(f"bind(..., pre_shape=(in_channels={weight_shape[1]}, H, W)), "
                             f"got pre_shape={pre_shape!r}")
        c_in, h, w = pre_shape
        out = [px.conv_output_size(n, k, params.stride, params.padding, params.dilation)
               for n, k in zip((h, w), weight_shape[2:], strict=True)]
        if min(out) < 1:
            raise ValueError(f"a kernel {tuple(weight_shape[2:])} that fits the padded input "
                             f"{(h, w)}")
        return (batch_size, c_in, h, w), (batch_size, weight_shape[0], *out)

    def pair_term(self, g: px.Graph, a_plus: Any, a_minus: Any) -> None:
        conv_pair_dw(g, "dw", pre="pre", post="post", x_pre="x_pre", x_post="x_post",
                     a_plus=a_plus, a_minus=a_minus, stride=self.p.stride,
                     padding=self.p.padding, dilation=self.p.dilation)


RULES = [NorseSTDP, NorseSTDPConv2d]
