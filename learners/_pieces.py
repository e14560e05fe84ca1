"""Sub-graphs shared by rule families: traces, pair terms, bounds, normalisation.

Each function appends a few ops to a graph and returns the handle of what it computed, so a
rule reads as a short composition of named pieces. Spikes are 0/1 arrays of shape
(batch, n); a trace has the shape of its spikes.

Trace kinds, with decay factor :math:`\\lambda` per step and spikes :math:`s_t`:

* ``cumulative`` (all-to-all): :math:`x_t = \\lambda x_{t-1} + s_t`
* ``nearest`` (a spike resets the trace to 1): :math:`x_t = (1 - s_t) \\lambda x_{t-1} + s_t`

and, for the trace STDP catalogue, norse's forward-Euler trace (:func:`euler_trace`),
ngclearn's ``VarTrace`` (:func:`var_trace`) and the decay-then-jump-or-set trace of BindsNET's
nodes and inferno's reducers (:func:`scaled_trace`). Weight dependence
(:func:`weight_dependence`, :func:`weight_function` for a user's function of the weight)
gives the factors that scale potentiation and depression; :func:`sample_outer` and
:func:`reduced_outer` are the per-sample and batch-reduced pair products,
:func:`conv_pair_dw` the pair term of a convolution kernel, and :func:`decay_and_clamp`
BindsNET's weight decay and clamp after an update.
:func:`delay_line` keeps the spikes of the last few steps (a synaptic delay inside a rule)
and :func:`spike_age` the steps since each neuron's last spike.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import plastix as px

from ._modulation import batch_reduce

Ref = Any  # an op input: a name, a px.Value or a number


def decay_factor(g: px.Graph, name: str, tau: Ref) -> px.Value:
    """The exact per-step decay :math:`e^{-dt/\\tau}` (folded to a constant when compiled)."""
    ratio = g.op_to_backend(name, "div", ["dt", tau])
    return g.op_to_backend(name, "exp", [g.op_to_backend(name, "neg", [ratio])])


def euler_trace(g: px.Graph, name: str, spikes: Ref, rate: Ref, amplitude: Ref) -> px.Value:
    """norse's forward-Euler low-pass trace, :math:`x \\leftarrow x + r\\,(a\\,s - x)`, with
    :math:`r = dt/\\tau` (so a spike adds :math:`r a`, not :math:`a`)."""
    drive = g.op_to_backend(f"{name}_drive", "mul", [amplitude, spikes])
    drive = g.op_to_backend(f"{name}_drive", "sub", [drive, name])
    drive = g.op_to_backend(f"{name}_drive", "mul", [rate, drive])
    return g.op_to_backend(name, "add", [name, drive])


def var_trace(g: px.Graph, name: str, spikes: Ref, decay: Ref, *, cumulative: bool,
              a_delta: Ref, p_scale: Ref, gamma: Ref, n_nearest: float = 0) -> px.Value:
    """ngclearn's ``VarTrace``: decay first, then the spike.

    .. math:: \\tilde x = \\gamma\\, x\\, d, \\qquad
              x \\leftarrow \\begin{cases} \\tilde x + s\\,(a_\\delta - x / k)
              & k > 0 \\text{ (ngclearn 3.2's } n\\_nearest\\_spikes) \\\\
              \\tilde x + a_\\delta\\, s & \\text{cumulative}
              \\\\ \\tilde x\\,(1 - s) + P\\, s & \\text{otherwise (a spike sets } P)
              \\end{cases}

    With :math:`k > 0` the spike's term reads the trace *before* its decay, as ngclearn does.
    """
    kept = g.op_to_backend(f"{name}_kept", "mul", [gamma, name])
    kept = g.op_to_backend(f"{name}_kept", "mul", [kept, decay])
    if n_nearest > 0:
        share = g.op_to_backend(f"{name}_share", "div", [g.previous(name), float(n_nearest)])
        jump = g.op_to_backend(f"{name}_jump", "sub", [a_delta, share])
        jump = g.op_to_backend(f"{name}_jump", "mul", [spikes, jump])
        return g.op_to_backend(name, "add", [kept, jump])
    if cumulative:
        jump = g.op_to_backend(f"{name}_jump", "mul", [spikes, a_delta])
        return g.op_to_backend(name, "add", [kept, jump])
    silent = g.op_to_backend(f"{name}_silent", "sub", [1.0, spikes])
    kept = g.op_to_backend(f"{name}_kept", "mul", [kept, silent])
    jump = g.op_to_backend(f"{name}_jump", "mul", [spikes, p_scale])
    return g.op_to_backend(name, "add", [kept, jump])


def scaled_trace(g: px.Graph, name: str, spikes: Ref, decay: Ref, amplitude: Ref, *,
                 additive: bool) -> px.Value:
    """A trace that decays, then either adds ``amplitude`` per spike or is set to it:

    .. math:: x \\leftarrow \\begin{cases} \\lambda x + A\\, s & \\text{additive} \\\\
              A & s \\ne 0 \\\\ \\lambda x & \\text{otherwise} \\end{cases}

    BindsNET's node traces (``traces_additive``, ``trace_scale``) and inferno's cumulative and
    nearest trace reducers (amplitude :math:`|\\eta|`) are both this.
    """
    decayed = g.op_to_backend(f"{name}_decayed", "mul", [name, decay])
    if additive:
        jump = g.op_to_backend(f"{name}_jump", "mul", [amplitude, spikes])
        return g.op_to_backend(name, "add", [decayed, jump])
    fired = g.op_to_backend(f"{name}_fired", "not_equal", [spikes, 0.0])
    return g.op_to_backend(name, "where", [fired, amplitude, decayed])


def weight_dependence(g: px.Graph, kind: str, w_min: Ref, w_max: Ref, mu: Ref = 1.0,
                      target: str = "weight") -> tuple[Ref, Ref]:
    """The factors :math:`(f_+(w), f_-(w))` that scale potentiation and depression, from the
    distances to the bounds :math:`u = w_{max} - w` and :math:`v = w - w_{min}`:

    ``additive`` (1, 1); ``step`` (H(u), H(v)) with H(0) = 0; ``pow`` (u^mu, v^mu);
    ``relu`` (max(u, 0), max(v, 0)).
    """
    if kind == "additive":
        return 1.0, 1.0
    up = g.op_to_backend("gap_up", "sub", [w_max, target])
    down = g.op_to_backend("gap_down", "sub", [target, w_min])
    if kind == "step":
        op, extra = "heaviside", []
    elif kind == "pow":
        op, extra = "pow", [mu]
    elif kind == "relu":
        op, extra = "relu", []
    else:
        raise ValueError(f"unknown weight dependence {kind!r}")
    return (g.op_to_backend("f_plus", op, [up, *extra]),
            g.op_to_backend("f_minus", op, [down, *extra]))


def trace(g: px.Graph, name: str, spikes: str | px.Value, decay: Any, kind: str = "cumulative",
          amplitude: Any = 1.0) -> px.Value:
    """Update the declared trace ``name`` from ``spikes`` with per-step factor ``decay``.

    ``amplitude`` is SPAIC's ``spike`` constant in the nearest form
    :math:`x_t = (a - s_t) \\lambda x_{t-1} + s_t` (1 for 0/1 spikes).
    """
    decayed = g.op_to_backend(f"{name}_decayed", "mul", [name, decay])
    if kind == "cumulative":
        return g.op_to_backend(name, "add", [spikes, decayed])
    if kind == "nearest":
        keep = g.op_to_backend(f"{name}_keep", "sub", [amplitude, spikes])
        return g.op_to_backend(name, "var_linear", [keep, decayed, spikes])
    raise ValueError(f"unknown trace kind {kind!r}")


def pair_dw(g: px.Graph, name: str, *, pre: Any, post: Any, x_pre: Any, x_post: Any,
            a_plus: Any, a_minus: Any) -> px.Value:
    """The batch-summed pair term, as a weight change named ``name`` (n_post, n_pre):

    .. math:: \\Delta w = A_+\\, s_{post}^\\top x_{pre} - A_-\\, x_{post}^\\top s_{pre}
    """
    ltp = g.op_to_backend(f"{name}_ltp", "mat_mult_pre", [post, x_pre])
    ltd = g.op_to_backend(f"{name}_ltd", "mat_mult_pre", [x_post, pre])
    ltp = g.op_to_backend(f"{name}_ltp", "mul", [a_plus, ltp])
    ltd = g.op_to_backend(f"{name}_ltd", "mul", [a_minus, ltd])
    return g.op_to_backend(name, "sub", [ltp, ltd])


def exp_dependence(g: px.Graph, beta: Ref, w_bound: Ref, target: str = "weight"
                   ) -> tuple[px.Value, px.Value]:
    """ngclearn's exponential weight dependence:
    :math:`(e^{-\\beta w}, e^{-\\beta (w_b - w)})`."""
    low = g.op_to_backend("e_w", "mul", [beta, target])
    gap = g.op_to_backend("e_gap", "sub", [w_bound, target])
    high = g.op_to_backend("e_gap", "mul", [beta, gap])
    return (g.op_to_backend("e_w", "exp", [g.op_to_backend("e_w", "neg", [low])]),
            g.op_to_backend("e_gap", "exp", [g.op_to_backend("e_gap", "neg", [high])]))


def bernoulli_mask(g: px.Graph, name: str, p: Ref, target: str = "weight") -> px.Value:
    """A fixed 0/1 mask of ``target``'s shape, 1 with probability ``p``, drawn once from the
    binding's seed when the weight is bound (which it masks); kept by ``reset()``."""
    mask = g.variable_to_backend(name, g.weight_shape, reset=False)
    with g.phase("bind"):
        u = g.op_to_backend(f"{name}_u", "rand_bits", [], shape=g.weight_shape)
        u = g.op_to_backend(f"{name}_u", "cast", [u], dtype="float64")
        cut = g.op_to_backend(f"{name}_cut", "mul", [p, 2.0 ** 32])
        keep = g.op_to_backend(f"{name}_keep", "less", [u, cut])
        g.op_to_backend(name, "cast", [keep], dtype=g.dtype)
        g.op_to_backend(target, "mul", [target, name])
    return mask


def conv_pair_dw(g: px.Graph, name: str, *, pre: Ref, post: Ref, x_pre: Ref, x_post: Ref,
                 a_plus: Ref, a_minus: Ref, stride: Ref, padding: Ref, dilation: Ref) -> px.Value:
    """The pair term of a convolution kernel ``weight`` (C_out, C_in, kh, kw), summed over the
    batch and over every output position :math:`k` (``unfold`` gives the input patches):

    .. math:: \\Delta w_{oj} = A_+ \\sum_{b,k} s_{post,bok}\\, \\mathrm{unf}(x_{pre})_{bkj}
              - A_- \\sum_{b,k} x_{post,bok}\\, \\mathrm{unf}(s_{pre})_{bkj}
    """
    c_out, *_ = shape = g.weight_shape
    batch, _, h_out, w_out = g.post_shape
    kernel = tuple(shape[2:])
    flat = (batch, c_out, h_out * w_out)
    terms = []
    for part, spikes, patches_of in (("ltp", post, x_pre), ("ltd", x_post, pre)):
        rows = g.op_to_backend(f"{name}_{part}_rows", "reshape", [spikes], shape=flat)
        cols = g.op_to_backend(f"{name}_{part}_cols", "unfold", [patches_of], kernel=kernel,
                               stride=stride, padding=padding, dilation=dilation)
        term = g.op_to_backend(f"{name}_{part}", "mat_mult", [rows, cols])
        term = g.op_to_backend(f"{name}_{part}", "sum", [term], axis=0)
        terms.append(g.op_to_backend(f"{name}_{part}", "reshape", [term], shape=shape))
    ltp = g.op_to_backend(f"{name}_ltp", "mul", [a_plus, terms[0]])
    ltd = g.op_to_backend(f"{name}_ltd", "mul", [a_minus, terms[1]])
    return g.op_to_backend(name, "sub", [ltp, ltd])


def sample_outer(g: px.Graph, name: str, rows: Ref, cols: Ref) -> px.Value:
    """The outer product of each sample, (batch, n_post, n_pre), of ``rows`` (batch, n_post)
    and ``cols`` (batch, n_pre): :math:`o_{bij} = r_{bi}\\, c_{bj}`."""
    batch, n_post = g.post_shape
    n_pre = g.pre_shape[1]
    r = g.op_to_backend(f"{name}_rows", "reshape", [rows], shape=(batch, n_post, 1))
    c = g.op_to_backend(f"{name}_cols", "reshape", [cols], shape=(batch, 1, n_pre))
    return g.op_to_backend(name, "mul", [r, c])


def reduced_outer(g: px.Graph, name: str, rows: Ref, cols: Ref, how: Any) -> px.Value:
    """:math:`\\mathrm{red}_b(r_b^\\top c_b)`, (n_post, n_pre): the batch sum as one matrix
    product, the mean as that sum over the batch size, any other reduction (a name or a
    function, :mod:`._modulation`) over the per-sample products."""
    if how in ("sum", "mean"):
        out = g.op_to_backend(name, "mat_mult_pre", [rows, cols])
        if how == "mean":
            out = g.op_to_backend(name, "div", [out, float(g.batch_size)])
        return out
    return batch_reduce(g, name, sample_outer(g, f"{name}_each", rows, cols), how)


def weight_function(g: px.Graph, name: str, fn: Any, target: str = "weight") -> px.Value:
    """``fn`` applied to ``target`` as a function op: ``fn(w)``, or ``fn(w, xp=xp)`` when it
    takes an ``xp`` keyword (the array namespace of the backend, for functions that need
    more than arithmetic)."""
    try:
        wants_xp = "xp" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin without a signature: call it plainly
        wants_xp = False

    def weight_fn(w: Any, *, xp: Any) -> Any:
        out = fn(w, xp=xp) if wants_xp else fn(w)
        if not hasattr(out, "shape"):
            out = xp.asarray(out, dtype=w.dtype)
        shape, full = tuple(out.shape), tuple(w.shape)
        if len(shape) > len(full) or any(n not in (1, m) for n, m in
                                         zip(shape, full[len(full) - len(shape):], strict=True)):
            raise ValueError(f"must return an array that broadcasts to the weight's shape "
                             f"{tuple(w.shape)}, got shape {tuple(out.shape)}")
        return out

    weight_fn.__name__ = name
    return g.op_to_backend(name, weight_fn, [target])


def decay_and_clamp(g: px.Graph, decay: str, low: str, high: str,
                    target: str = "weight") -> None:
    """BindsNET's ``LearningRule.update`` after a rule's change: the weight decays,
    :math:`w \\leftarrow (1 - \\lambda_w) w` (when the hyperparameter ``decay`` is positive),
    then is clamped to the hyperparameters ``[low, high]`` (when either is finite)."""
    p = g.params
    if p[decay] > 0:
        keep = g.op_to_backend(f"{target}_keep", "sub", [1.0, decay])
        g.op_to_backend(target, "mul", [target, keep])
    if math.isfinite(p[low]) or math.isfinite(p[high]):
        clamp(g, target, low, high)


def add_change(g: px.Graph, dw: str | px.Value, target: str = "weight",
               reduction: str = "sum") -> px.Value:
    """Declare ``dw`` the change of ``target`` (the seam; ``reduction`` says how it was
    reduced over the batch, ``"sum"`` or ``"mean"``) and apply it additively."""
    dw = g.weight_change(dw if isinstance(dw, str) else dw.name, target, reduction)
    return g.op_to_backend(target, "add", [target, dw])


def clamp(g: px.Graph, target: str, low: Any, high: Any) -> px.Value:
    """Hard bounds: :math:`w \\leftarrow \\min(\\max(w, w_{min}), w_{max})`."""
    return g.op_to_backend(target, "clamp", [target, low, high])


def row_normalise(g: px.Graph, target: str, norm: Any) -> px.Value:
    """SPAIC's normalisation of each postsynaptic row to an L1 norm of ``norm``:

    .. math:: w_{ij} \\leftarrow w_{norm}\\, \\big(w_{ij} / \\textstyle\\sum_k |w_{ik}|\\big)

    A row that is all zero stays zero: SPAIC divides 0 by 0 there and writes NaN into the
    weight, which then never recovers (found by the fuzz tests, tests/test_fuzz.py).
    """
    size = g.op_to_backend(f"{target}_l1", "abs", [target])
    size = g.op_to_backend(f"{target}_l1", "sum", [size], axis=1, keepdims=True)
    empty = g.op_to_backend(f"{target}_empty", "equal", [size, 0])
    size = g.op_to_backend(f"{target}_l1", "where", [empty, 1, size])
    scaled = g.op_to_backend(target, "div", [target, size])
    return g.op_to_backend(target, "mul", [norm, scaled])


def delay_line(g: px.Graph, name: str, spikes: Ref, shape: tuple[int, ...], steps: int
               ) -> list[px.Value]:
    """A shift register of the last ``steps`` spike vectors of ``shape``.

    Returns the spikes of 1, 2, ..., ``steps`` steps ago (as they are at the start of this
    step), then shifts this step's ``spikes`` in. Each tap is a state variable
    ``{name}_{k}``, so ``reset()`` empties the line (no spike before the first step) and every
    tap keeps the batch axis of the spikes.
    """
    taps = [g.variable_to_backend(f"{name}_{k}", shape) for k in range(1, steps + 1)]
    for k in range(steps, 1, -1):  # oldest first, each from the value at the step's start
        g.op_to_backend(f"{name}_{k}", "add", [g.previous(f"{name}_{k - 1}"), 0.0])
    g.op_to_backend(f"{name}_1", "add", [spikes, 0.0])
    return taps


def spike_age(g: px.Graph, name: str, spikes: Ref, shape: tuple[int, ...],
              initial: float) -> px.Value:
    """Whole steps since each neuron's most recent spike (0 in the step it fires), kept as
    the state ``name``; ``initial`` is its value before the first step (``inf``: never fired).

    .. math:: a_t = \\begin{cases} 0 & s_t \\ne 0 \\\\ a_{t-1} + 1 & \\text{otherwise}
              \\end{cases}
    """
    g.variable_to_backend(name, shape, value=initial)
    older = g.op_to_backend(f"{name}_older", "add", [name, 1.0])
    fired = g.op_to_backend(f"{name}_fired", "not_equal", [spikes, 0])
    return g.op_to_backend(name, "where", [fired, 0.0, older])
