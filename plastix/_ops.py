"""The closed set of primitive ops a rule's graph may use, with their properties as data.

An op is described by an :class:`OpSpec`: how many inputs it takes, how its output shape and
dtype follow from its inputs (abstract evaluation, used by the validator and the compiler), and
whether it is elementwise (so that it may write into a dead input buffer). How an op is
*computed* is not here: each backend lowers it through its own table (``plastix.backends``),
and the NumPy table is the reference semantics.

SPAIC's basic op names (``minus``, ``var_mult``, ``var_linear``, ``mat_mult_pre``, ...) are
aliases with SPAIC's meaning, so a SPAIC learner's ``build()`` ports line by line. An alias is
resolved to its op's canonical name when the op is appended to a graph: a node knows its op by
one identity, its :class:`OpSpec`. The registry of ops is
``plastix.registry.OPS``; the compiler's own ops (:data:`INTERNAL_OPS`) are not in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .registry.hookspecs import hookimpl

#: Dtype names a graph may use. ``"weak"`` marks Python scalars, which adopt the array's dtype.
DTYPES = ("bool", "int32", "int64", "float32", "float64")
FLOAT_DTYPES = ("float32", "float64")
INT_DTYPES = ("int32", "int64")
WEAK = "weak"


@dataclass(frozen=True)
class Aval:
    """The abstract value of a graph value: its shape and dtype name."""

    shape: tuple[int, ...]
    dtype: str

    def __str__(self) -> str:
        return f"{self.dtype}{list(self.shape)}"


class OpTypeError(Exception):
    """Raised by an op's inference when its inputs do not fit; the validator adds context."""


def _common_dtype(avals: tuple[Aval, ...], positions: range | None = None) -> str:
    picked = [a.dtype for i, a in enumerate(avals) if positions is None or i in positions]
    strong = {d for d in picked if d != WEAK}
    if len(strong) > 1:
        raise OpTypeError(f"dtypes {sorted(strong)} do not match; add an explicit 'cast'")
    return strong.pop() if strong else WEAK


def _broadcast(avals: tuple[Aval, ...]) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*(a.shape for a in avals)))
    except ValueError:
        shapes = ", ".join(str(list(a.shape)) for a in avals)
        raise OpTypeError(f"shapes {shapes} do not broadcast") from None


def _elementwise(dtype_rule: str) -> Callable[..., Aval]:
    def infer(*avals: Aval, **_: Any) -> Aval:
        shape = _broadcast(avals)
        dtype = _common_dtype(avals)
        if dtype_rule == "float":
            if dtype in INT_DTYPES or dtype == "bool":
                raise OpTypeError(f"needs a float input, got {dtype}")
        elif dtype_rule == "int":
            if dtype in FLOAT_DTYPES:
                raise OpTypeError(f"needs integer inputs, got {dtype}")
        elif dtype_rule == "bool":
            return Aval(shape, "bool")
        return Aval(shape, dtype)

    return infer


def _where(cond: Aval, a: Aval, b: Aval, **_: Any) -> Aval:
    return Aval(_broadcast((cond, a, b)), _common_dtype((a, b)))


def _cast(x: Aval, *, dtype: str, **_: Any) -> Aval:
    if dtype not in DTYPES:
        raise OpTypeError(f"unknown dtype {dtype!r}; expected one of {DTYPES}")
    return Aval(x.shape, dtype)


def _reduce(x: Aval, *, axis: int | tuple[int, ...] | None = None, keepdims: bool = False,
            **_: Any) -> Aval:
    nd = len(x.shape)
    axes = range(nd) if axis is None else (axis,) if isinstance(axis, int) else axis
    norm = set()
    for ax in axes:
        if not -nd <= ax < nd:
            raise OpTypeError(f"axis {ax} out of range for shape {list(x.shape)}")
        norm.add(ax % nd)
    shape = tuple(1 if i in norm else n for i, n in enumerate(x.shape) if keepdims or i not in norm)
    return Aval(shape, x.dtype)


def _mat_mult_pre(a: Aval, b: Aval, **_: Any) -> Aval:
    if len(a.shape) != 2 or len(b.shape) != 2 or a.shape[0] != b.shape[0]:
        raise OpTypeError(f"needs (B, m) and (B, n), got {list(a.shape)} and {list(b.shape)}")
    return Aval((a.shape[1], b.shape[1]), _common_dtype((a, b)))


def _mat_mult(a: Aval, b: Aval, **_: Any) -> Aval:
    if len(a.shape) not in (2, 3) or len(b.shape) != len(a.shape) \
            or a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2]:
        raise OpTypeError(f"needs (m, k) and (k, n), or (B, m, k) and (B, k, n), got "
                          f"{list(a.shape)} and {list(b.shape)}")
    return Aval((*a.shape[:-1], b.shape[-1]), _common_dtype((a, b)))


def pair(v: int | tuple[int, ...] | list[int], what: str = "value") -> tuple[int, int]:
    """An int or a pair of ints (a kernel, stride, padding or dilation) as a pair."""
    vals = (v, v) if isinstance(v, int) else tuple(v)
    if len(vals) != 2 or not all(isinstance(n, int) and not isinstance(n, bool) for n in vals):
        raise OpTypeError(f"{what} must be an int or a pair of ints, got {v!r}")
    return vals[0], vals[1]


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """The output extent of a convolution along one axis (as ``torch.nn.Conv2d``)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _unfold(x: Aval, *, kernel: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
            **_: Any) -> Aval:
    if len(x.shape) != 4:
        raise OpTypeError(f"needs (B, C, H, W), got {list(x.shape)}")
    (kh, kw), (sh, sw) = pair(kernel, "kernel"), pair(stride, "stride")
    (ph, pw), (dh, dw) = pair(padding, "padding"), pair(dilation, "dilation")
    if min(kh, kw, sh, sw, dh, dw) < 1 or min(ph, pw) < 0:
        raise OpTypeError("kernel, stride and dilation must be >= 1 and padding >= 0")
    b, c, h, w = x.shape
    ho = conv_output_size(h, kh, sh, ph, dh)
    wo = conv_output_size(w, kw, sw, pw, dw)
    if ho < 1 or wo < 1:
        raise OpTypeError(f"kernel {(kh, kw)} does not fit the padded input {[h, w]}")
    return Aval((b, ho * wo, c * kh * kw), x.dtype)


def _transpose(x: Aval, **_: Any) -> Aval:
    return Aval(tuple(reversed(x.shape)), x.dtype)


def _reshape(x: Aval, *, shape: tuple[int, ...], **_: Any) -> Aval:
    shape = tuple(shape)
    if int(np.prod(shape)) != int(np.prod(x.shape)):
        raise OpTypeError(f"cannot reshape {list(x.shape)} to {list(shape)}")
    return Aval(shape, x.dtype)


def _rand_bits(*, shape: tuple[int, ...], **_: Any) -> Aval:
    return Aval(tuple(shape), "int64")


@dataclass(frozen=True)
class OpSpec:
    """One op: its name, arity, abstract evaluation and properties.

    The properties are data that the validator and the compiler's passes ask, so that no pass
    compares op names:

    * ``elementwise``: the op may write its result into the buffer of a dead input of the same
      shape and dtype (a one-pass kernel reads each element before it writes it);
    * ``view``: the result may be a view of the first input;
    * ``attrs``: the static keyword attributes the op accepts;
    * ``foldable``: evaluated once at compile time when every input is a constant;
    * ``random``: draws from the binding's counter-based random stream (each node of the op is
      a stream of its own, numbered by its position in the graph);
    * ``internal``: the compiler's own op (the weight-change seam, fused kernels): no rule
      names it in ``op_to_backend`` and no plugin registers an op of its name;
    * ``scratch``: how many arrays of the result's shape its lowering needs as work space
      (passed to its template as ``{scratch0}``, ``{scratch1}``, ...).
    """

    name: str
    arity: int
    infer: Callable[..., Aval]
    elementwise: bool = False
    view: bool = False
    attrs: tuple[str, ...] = ()
    doc: str = ""
    foldable: bool = True
    random: bool = False
    internal: bool = False
    scratch: int = 0


def _spec(name: str, arity: int, infer: Callable[..., Aval], doc: str, **kw: Any) -> OpSpec:
    return OpSpec(name=name, arity=arity, infer=infer, doc=doc, **kw)


#: The built-in primitives and their aliases (SPAIC's names among them).
BUILTIN_OPS: Mapping[str, tuple[OpSpec, tuple[str, ...]]] = {
    s.name: (s, al)
    for s, al in [
        (_spec("add", 2, _elementwise("same"), "a + b", elementwise=True), ()),
        (_spec("sub", 2, _elementwise("same"), "a - b", elementwise=True), ("minus",)),
        (_spec("mul", 2, _elementwise("same"), "a * b", elementwise=True), ("var_mult",)),
        (_spec("div", 2, _elementwise("float"), "a / b", elementwise=True), ()),
        (_spec("var_linear", 3, _elementwise("same"), "a * x + b (SPAIC)", elementwise=True),
         ("fma",)),
        (_spec("neg", 1, _elementwise("same"), "-x", elementwise=True), ()),
        (_spec("abs", 1, _elementwise("same"), "|x|", elementwise=True), ()),
        (_spec("exp", 1, _elementwise("float"), "e^x", elementwise=True), ()),
        (_spec("log", 1, _elementwise("float"), "ln x", elementwise=True), ()),
        (_spec("sqrt", 1, _elementwise("float"), "sqrt(x)", elementwise=True), ()),
        (_spec("pow", 2, _elementwise("float"), "a ** b", elementwise=True), ()),
        (_spec("sign", 1, _elementwise("same"), "sign(x)", elementwise=True), ()),
        (_spec("relu", 1, _elementwise("same"), "max(x, 0)", elementwise=True), ()),
        (_spec("heaviside", 1, _elementwise("same"), "1 where x > 0 else 0", elementwise=True),
         ()),
        (_spec("maximum", 2, _elementwise("same"), "elementwise max", elementwise=True), ()),
        (_spec("minimum", 2, _elementwise("same"), "elementwise min", elementwise=True), ()),
        (_spec("clamp", 3, _elementwise("same"), "min(max(x, lo), hi)", elementwise=True),
         ("clip",)),
        (_spec("where", 3, _where, "a where cond else b", elementwise=True), ()),
        (_spec("greater", 2, _elementwise("bool"), "a > b"), ("gt",)),
        (_spec("greater_equal", 2, _elementwise("bool"), "a >= b"), ("ge",)),
        (_spec("less", 2, _elementwise("bool"), "a < b"), ("lt",)),
        (_spec("less_equal", 2, _elementwise("bool"), "a <= b"), ("le",)),
        (_spec("equal", 2, _elementwise("bool"), "a == b"), ("eq",)),
        (_spec("not_equal", 2, _elementwise("bool"), "a != b"), ("ne",)),
        (_spec("right_shift", 2, _elementwise("int"), "a >> b", elementwise=True), ()),
        (_spec("left_shift", 2, _elementwise("int"), "a << b", elementwise=True), ()),
        (_spec("bitwise_and", 2, _elementwise("int"), "a & b", elementwise=True), ()),
        (_spec("cast", 1, _cast, "x as dtype", attrs=("dtype",)), ()),
        (_spec("sum", 1, _reduce, "sum over axis", attrs=("axis", "keepdims")),
         ("reduce_sum",)),
        (_spec("mean", 1, _reduce, "mean over axis", attrs=("axis", "keepdims")), ()),
        (_spec("amax", 1, _reduce, "max over axis", attrs=("axis", "keepdims")), ()),
        (_spec("mat_mult_pre", 2, _mat_mult_pre,
               "a^T @ b: batch-summed outer product of (B, m) and (B, n) -> (m, n) (SPAIC)"),
         ("outer",)),
        (_spec("mat_mult", 2, _mat_mult, "a @ b (2-d, or batched over a leading axis)"),
         ("matmul",)),
        (_spec("unfold", 1, _unfold,
               "patches of (B, C, H, W) as (B, L, C*kh*kw): L = H'*W' output positions, "
               "columns C-major then kh, kw (torch's unfold, last two axes swapped)",
               attrs=("kernel", "stride", "padding", "dilation")), ("im2col",)),
        (_spec("transpose", 1, _transpose, "reversed axes", view=True), ()),
        (_spec("reshape", 1, _reshape, "x reshaped", view=True, attrs=("shape",)), ()),
        (_spec("rand_bits", 0, _rand_bits,
               "uniform integers in [0, 2**32) from the binding's counter-based generator",
               attrs=("shape",), foldable=False, random=True), ()),
    ]
}

def _same(x: Aval, *_: Aval, **__: Any) -> Aval:
    return x


#: The weight-change seam (see ``Graph.weight_change``): the change of ``target`` as a hook
#: returns it; without a hook it is its input, and the compiler forwards it.
SEAM = OpSpec("seam", 1, _same, attrs=("target",), foldable=False, internal=True,
              doc="the change of a learned value, as a seam hook returns it")
#: Row normalisation to an L1 norm of ``c``, fused by the compiler from abs/sum/div/mul on
#: backends that lower it (``w * c / sum(|w|, axis=1)``; an all-zero row stays zero).
ROWNORM = OpSpec("rownorm_l1", 2, _same, elementwise=True, foldable=False, internal=True,
                 scratch=1, doc="w * c / sum(|w|, axis=1), fused")
#: The weight-sized part of a step fused into one kernel that the compiler generates per graph
#: (``plastix._compiler.synapse``): its inputs are arrays and constants, its outputs the new
#: values of weight-sized variables, written in place.
SYNAPSE = OpSpec("synapse_kernel", 0, _same, foldable=False, internal=True,
                 doc="the per-synapse work of a step, fused into one generated kernel")
INTERNAL_OPS: Mapping[str, OpSpec] = {s.name: s for s in (SEAM, ROWNORM, SYNAPSE)}


@hookimpl
def register_ops(register: Callable[..., None]) -> None:
    """The built-in primitives register through the same hook as plugins' ops."""
    for spec, aliases in BUILTIN_OPS.values():
        register(spec, aliases=aliases)
