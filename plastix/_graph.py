"""The rule-author API: a small symbolic op graph in single-assignment form.

A rule's :meth:`~plastix.Rule.build` receives a :class:`Graph` and declares, in SPAIC's verbs,

* ``variable_to_backend(name, shape, value)``: state that persists across steps;
* ``op_to_backend(outputs, op, inputs)``: one op, appended to the step.

Ops run once per step in the order declared. An input written as a plain name means the
*latest* value of that name in this step (SPAIC's ``[updated]``); ``g.previous(name)`` means
its value at the start of the step. Internally each write creates a new version of the name,
so the graph is in single-assignment form and every value is a :class:`Value` handle.

Phases replace the step counters SPAIC hides inside rules: ops declared inside
``with g.phase("final"):`` run only on the last step of a run, those inside
``with g.phase("bind"):`` once, when a weight is bound (to initialise state from the weight).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Literal, overload

from ._errors import RuleValidationError
from ._ops import DTYPES, INTERNAL_OPS, SEAM, Aval, OpSpec
from .registry._tables import OPS

Kind = Literal["input", "signal", "learned", "state", "fixed", "temp"]
PHASES = ("step", "final", "bind")


@dataclass(frozen=True)
class Value:
    """A handle on one version of a named value: version 0 is its value at the start of a step."""

    name: str
    version: int = 0

    def __str__(self) -> str:
        return self.name if self.version == 0 else f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Const:
    """A compile-time constant: a hyperparameter, ``dt`` or a literal number."""

    value: float | int | bool
    name: str | None = None

    def __str__(self) -> str:
        return self.name or repr(self.value)


Operand = Value | Const


@dataclass(frozen=True)
class Node:
    """One op of the graph: ``outputs = op(*inputs, **attrs)``, run in ``phase``.

    ``op`` is the op's canonical name (an alias was resolved when the op was appended) or a
    function op; ``spec`` is the op's :class:`~plastix._ops.OpSpec`, None for a function op
    and for a name no op is registered under (the validator reports it).
    """

    index: int
    op: str | Callable[..., Any]
    inputs: tuple[Operand, ...]
    outputs: tuple[Value, ...]
    attrs: tuple[tuple[str, Any], ...] = ()
    phase: str = "step"
    spec: OpSpec | None = None

    @property
    def op_name(self) -> str:
        return self.op if isinstance(self.op, str) else getattr(self.op, "__name__", "function")

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.attrs)


@dataclass(frozen=True)
class VarDecl:
    """A declared variable: where it comes from, its abstract value and its initial value."""

    name: str
    kind: Kind
    aval: Aval
    value: Any = 0.0
    default: Any = None
    keep_scalar: bool = False
    #: False when the initial value is NaN or infinite on purpose (a "not yet" marker, such as
    #: the time since a spike before any spike): checked steps then allow non-finite values.
    finite: bool = True


@dataclass(frozen=True)
class Seam:
    """The value a rule declares as the change of a learned variable (see DESIGN: the seam).

    ``reduction`` says how the change was reduced over the batch (``"sum"`` or ``"mean"``),
    so that data-parallel learning reduces it the same way across processes.
    """

    value: Value
    target: str
    reduction: str = "sum"


class Graph:
    """The graph a rule builds. Shapes are concrete: a graph is built per binding shape.

    Attributes available to :meth:`~plastix.Rule.build`: ``pre_shape`` and ``post_shape``
    (spike shapes including the batch axis), ``weight_shape``, ``batch_size``, ``dtype`` (the
    binding's dtype name), ``dt`` (ms) and ``params`` (the rule's hyperparameters).
    """

    def __init__(
        self,
        rule: str,
        *,
        pre_shape: tuple[int, ...],
        post_shape: tuple[int, ...],
        weight_shape: tuple[int, ...],
        dtype: str,
        dt: float,
        params: dict[str, Any],
        mask: bool = False,
    ) -> None:
        self.rule = rule
        self.pre_shape = tuple(pre_shape)
        self.post_shape = tuple(post_shape)
        self.weight_shape = tuple(weight_shape)
        self.batch_size = self.pre_shape[0]
        self.dtype = dtype
        self.dt = float(dt)
        self.params = dict(params)
        self.variables: dict[str, VarDecl] = {}
        self.nodes: list[Node] = []
        self.seams: list[Seam] = []
        self._version: dict[str, int] = {}
        self._phase = "step"
        self._declare("pre", "input", self.pre_shape, dtype)
        self._declare("post", "input", self.post_shape, dtype)
        self._declare("weight", "learned", self.weight_shape, dtype)
        self.masked = mask
        if mask:  # a fixed 0/1 structure: masked synapses neither change nor hold a value
            self._declare("mask", "fixed", self.weight_shape, dtype, value=1.0)

    # -- declarations -----------------------------------------------------------------------
    def _declare(self, name: str, kind: Kind, shape: Sequence[int], dtype: str,
                 value: Any = 0.0, default: Any = None, keep_scalar: bool = False) -> Value:
        if not isinstance(name, str) or not name.isidentifier():
            raise RuleValidationError(self.rule, "a variable name must be an identifier",
                                      variable=repr(name))
        if name in self.variables or name in self.params or name == "dt":
            raise RuleValidationError(self.rule, "is already defined", variable=name)
        if dtype not in DTYPES:
            raise RuleValidationError(
                self.rule, f"unknown dtype {dtype!r}; expected one of {DTYPES}", variable=name)
        if isinstance(shape, str | bytes):
            raise RuleValidationError(self.rule, f"shape must be a tuple of ints, got {shape!r}",
                                      variable=name)
        try:
            shape = tuple(int(n) for n in shape)
        except (TypeError, ValueError):
            raise RuleValidationError(self.rule, f"shape must be a tuple of ints, got {shape!r}",
                                      variable=name) from None
        if any(n < 0 for n in shape):
            raise RuleValidationError(self.rule, f"negative extent in shape {shape}",
                                      variable=name)
        finite = _check_initial(self.rule, name, kind, shape, value, default) \
            if kind != "input" else True
        self.variables[name] = VarDecl(name, kind, Aval(shape, dtype), value, default,
                                       keep_scalar, finite)
        self._version[name] = 0
        return Value(name, 0)

    def variable_to_backend(self, name: str, shape: Sequence[int] | None = None,
                            value: Any = 0.0, dtype: str | None = None,
                            reset: bool = True) -> Value:
        """Declare state kept across steps, initialised (and reset) to ``value``.

        ``reset=False`` keeps the variable across :meth:`Binding.reset` (it is then usually
        initialised by an op in the ``"bind"`` phase).
        """
        return self._declare(name, "state" if reset else "fixed",
                             self.weight_shape if shape is None else shape,
                             dtype or self.dtype, value)

    def learned(self, name: str, shape: Sequence[int] | None = None, value: Any = 0.0,
                dtype: str | None = None) -> Value:
        """Declare a learned value besides the weight (a delay, a threshold): persistent and
        part of the binding's results, never reset."""
        return self._declare(name, "learned", self.weight_shape if shape is None else shape,
                             dtype or self.dtype, value)

    def signal(self, name: str, shape: Sequence[int] = (), default: Any = None,
               dtype: str | None = None, keep_scalar: bool = False) -> Value:
        """Declare a step input besides the spikes (for example ``reward``).

        A signal broadcasts to ``shape``; with a ``default`` it may be left out of ``step``.
        ``keep_scalar=True``: a scalar reaches the rule as a 0-d array instead of broadcast,
        for a rule whose function ops treat a scalar signal differently (inferno's
        reduce-then-scale); only function ops may then read the signal.
        """
        return self._declare(name, "signal", shape, dtype or self.dtype, default=default,
                             keep_scalar=keep_scalar)

    def previous(self, name: str) -> Value:
        """The value of ``name`` at the start of the step, whatever was written since."""
        if name not in self.variables:
            raise RuleValidationError(self.rule, "previous() of an undeclared name",
                                      variable=name)
        return Value(name, 0)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Declare the enclosed ops for one phase: ``"final"`` or ``"bind"``."""
        if name not in PHASES:
            raise RuleValidationError(self.rule, f"unknown phase {name!r}; expected {PHASES}")
        outer, self._phase = self._phase, name
        versions = dict(self._version)
        try:
            yield
        finally:
            self._phase = outer
            if name == "bind":  # bind-phase results are stored: later ops read the state
                self._version = versions

    # -- ops --------------------------------------------------------------------------------
    def _operand(self, ref: Any, op: str) -> Operand:
        if isinstance(ref, (Value, Const)):
            return ref
        if isinstance(ref, bool | int | float):
            return Const(ref)
        if isinstance(ref, str):
            if ref in self.variables or ref in self._version:
                return Value(ref, self._version[ref])
            if ref in self.params:
                value = self.params[ref]
                if not isinstance(value, bool | int | float):
                    raise RuleValidationError(self.rule, "a hyperparameter used as an op input "
                                              "must be a number", op=op, variable=ref)
                return Const(value, ref)
            if ref == "dt":
                return Const(self.dt, "dt")
            raise RuleValidationError(self.rule, "is not defined before this op", op=op,
                                      variable=ref)
        raise RuleValidationError(self.rule, f"an op input must be a name, a Value or a number, "
                                  f"got {type(ref).__name__}", op=op)

    @overload
    def op_to_backend(self, outputs: str, op: str | Callable[..., Any],
                      inputs: Sequence[Any] = (), **attrs: Any) -> Value: ...

    @overload
    def op_to_backend(self, outputs: list[str] | tuple[str, ...], op: str | Callable[..., Any],
                      inputs: Sequence[Any] = (), **attrs: Any) -> tuple[Value, ...]: ...

    def op_to_backend(self, outputs: str | Sequence[str], op: str | Callable[..., Any],
                      inputs: Sequence[Any] = (), **attrs: Any) -> Value | tuple[Value, ...]:
        """Append ``outputs = op(*inputs, **attrs)`` to the current phase.

        ``op`` is a primitive's name (see ``plastix.ops()``) or a function ``f(*arrays, xp)``
        written against the array namespace ``xp`` it is given, returning one array per output.
        """
        op_label = op if isinstance(op, str) else getattr(op, "__name__", "function")
        if not (isinstance(op, str) or callable(op)):
            raise RuleValidationError(self.rule, f"op must be a name or a function, got {op!r}")
        spec = OPS.resolve(op) if isinstance(op, str) else None
        if isinstance(op, str) and spec is None and op in INTERNAL_OPS:
            raise RuleValidationError(self.rule, "is the compiler's own op; a rule declares "
                                      "its weight change with g.weight_change()", op=op)
        return self._append(spec.name if spec is not None else op, spec, inputs, outputs,
                            attrs, op_label)

    def _append(self, op: str | Callable[..., Any], spec: OpSpec | None, inputs: Any,
                outputs: Any, attrs: dict[str, Any], op_label: str) -> Any:
        if isinstance(inputs, str | bytes) or not isinstance(inputs, Sequence):
            raise RuleValidationError(self.rule, f"inputs must be a list, got {inputs!r}",
                                      op=op_label)
        operands = tuple(self._operand(r, op_label) for r in inputs)
        if not isinstance(outputs, str) and (isinstance(outputs, bytes)
                                             or not isinstance(outputs, Sequence)):
            raise RuleValidationError(self.rule, f"outputs must be a name or a list of names, "
                                      f"got {outputs!r}", op=op_label)
        names = [outputs] if isinstance(outputs, str) else list(outputs)
        if not names:
            raise RuleValidationError(self.rule, "an op needs at least one output", op=op_label)
        new: list[Value] = []
        for name in names:
            if not isinstance(name, str) or not name.isidentifier():
                raise RuleValidationError(self.rule, "an output name must be an identifier",
                                          op=op_label, variable=repr(name))
            decl = self.variables.get(name)
            if decl is not None and decl.kind in ("input", "signal"):
                raise RuleValidationError(self.rule, "is an input and cannot be written",
                                          op=op_label, variable=name)
            if name in self.params or name == "dt":
                raise RuleValidationError(self.rule, "is a hyperparameter and cannot be written",
                                          op=op_label, variable=name)
            self._version[name] = self._version.get(name, 0) + 1
            new.append(Value(name, self._version[name]))
        self.nodes.append(Node(len(self.nodes), op, operands, tuple(new),
                               tuple(sorted(attrs.items())), self._phase, spec))
        return new[0] if len(new) == 1 else tuple(new)

    def weight_change(self, name: str, target: str = "weight",
                      reduction: str = "sum") -> Value:
        """Mark the latest value of ``name`` as the change of ``target`` (the seam).

        Bindings may intercept it there (accumulate, all-reduce, write to ``.grad``) before
        the rule's own ops apply it; the returned handle is what those ops must read.
        ``target`` is a learned value, or a persistent one that ``reset()`` keeps (``fixed``).
        ``reduction`` is how the change was reduced over the batch: ``"sum"`` or ``"mean"``.
        """
        if reduction not in ("sum", "mean"):
            raise RuleValidationError(self.rule, f"weight_change() reduction must be 'sum' or "
                                      f"'mean', got {reduction!r}", variable=target)
        src = self._operand(name, "weight_change")
        if not isinstance(src, Value):
            raise RuleValidationError(self.rule, "the weight change must be a graph value",
                                      variable=name)
        decl = self.variables.get(target)
        if decl is None or decl.kind not in ("learned", "fixed"):
            raise RuleValidationError(self.rule, "weight_change() target must be a learned "
                                      "variable", variable=target)
        if self.masked and target == "weight":
            src = self.op_to_backend(name, "mul", [src, Value("mask", 0)])
        out = self._append(SEAM.name, SEAM, [src], name, {"target": target}, SEAM.name)
        self.seams.append(Seam(out, target, reduction))
        return out

    def finish(self) -> None:
        """Close the graph after the rule's build: masked weights are zeroed once more at the
        end of every step (bounds such as ngclearn's clip must not revive them)."""
        if self.masked and self._version["weight"] > 0:
            self.op_to_backend("weight", "mul", ["weight", Value("mask", 0)])
        elif self.masked:
            raise RuleValidationError(self.rule, "a mask was given but the rule never writes "
                                      "the weight", variable="mask")

    # -- queries ----------------------------------------------------------------------------
    def latest(self, name: str) -> Value:
        return Value(name, self._version[name])

    def nodes_for(self, phase: str) -> list[Node]:
        """The ops that run in ``phase``.

        A final step runs the step ops and the final ones in declaration order. An ordinary
        step drops the final ops; a later read of a value one of them wrote reads instead the
        latest value written before it (the "latest value in this step" rule).
        """
        if phase == "bind":
            return [n for n in self.nodes if n.phase == "bind"]
        if phase == "final":
            return [n for n in self.nodes if n.phase in ("step", "final")]
        redirect: dict[Value, Value] = {}
        current: dict[str, Value] = {}
        kept: list[Node] = []
        for n in self.nodes:
            if n.phase == "final":
                for o in n.outputs:
                    redirect[o] = current.get(o.name, Value(o.name, 0))
            elif n.phase == "step":
                ins = tuple(redirect.get(x, x) if isinstance(x, Value) else x
                            for x in n.inputs)
                kept.append(replace(n, inputs=ins))
                current.update((o.name, o) for o in n.outputs)
        return kept


def _check_initial(rule: str, name: str, kind: str, shape: tuple[int, ...], value: Any,
                   default: Any) -> bool:
    """A declared initial value (or a signal's default) must be real numbers that broadcast
    to the declared shape; a signal's default may be None (then it is required) and must be
    finite. State may start non-finite on purpose (NaN as "no spike yet"): returns whether
    the value is finite."""
    import numpy as np

    what = "default" if kind == "signal" else "value"
    given = default if kind == "signal" else value
    if given is None and kind == "signal":
        return True
    try:
        arr = np.asarray(given)
        ok = arr.dtype.kind in "biuf" and np.broadcast_shapes(arr.shape, shape) == shape
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise RuleValidationError(rule, f"{what} must be a real number or an array that "
                                  f"broadcasts to {shape}, got {given!r}", variable=name)
    finite = arr.dtype.kind != "f" or bool(np.isfinite(arr).all())
    if not finite and kind not in ("state", "fixed"):
        raise RuleValidationError(rule, f"{what} must be finite, got {given!r}", variable=name)
    return finite
