"""The base class of plasticity rules and their hyperparameters.

A rule is a class with a frozen dataclass ``Params`` (its source library's names and defaults,
declared with :func:`param`, which records unit, meaning and range) and a ``build(g)`` method
that declares the rule's graph. :func:`rule` names a rule; ``plastix.register`` (in
:mod:`plastix.registry`) names it and registers it in-process.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from ._errors import HyperparameterError, RegistrationError, did_you_mean
from ._graph import Graph
from ._ops import FLOAT_DTYPES

R = TypeVar("R", bound=type["Rule"])

#: The one place where pairs of hyperparameters that bound something from below and above
#: are declared: every rule that has both of a pair must have ``low <= high`` (a rule adds its
#: own pairs in ``Rule.ordered_params``). ``(w_min, w_max)`` bounds the weight in canns's,
#: inferno's, norse's, SPAIC's and BindsNET's rules; Brian2 and NEST spell it without the
#: underscore.
ORDERED_PAIRS: tuple[tuple[str, str], ...] = (("w_min", "w_max"), ("wmin", "wmax"),
                                              ("Wmin", "Wmax"))
#: The largest magnitude an integer hyperparameter may have (it must fit int64).
INT_LIMIT = 2**63


def param(default: Any, *, unit: str = "", doc: str = "", low: float | None = None,
          high: float | None = None, open_low: bool = False,
          choices: Iterable[Any] | None = None) -> Any:
    """Declare a hyperparameter: its default, unit, meaning and admissible range.

    ``low``/``high`` bound it (``open_low=True`` excludes ``low`` itself, as for a time
    constant that must be positive); ``choices`` lists admissible values for a string option.
    """
    meta = {"unit": unit, "doc": doc, "low": low, "high": high, "open_low": open_low,
            "choices": tuple(choices) if choices is not None else None}
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class NoParams:
    """A rule without hyperparameters."""


class Rule:
    """Base class of plasticity rules.

    Class attributes a rule may set: ``name`` and ``aliases`` (set by :func:`rule`),
    ``Params`` (a frozen dataclass of hyperparameters), ``param_aliases`` (an advertised name
    that sets one or more real ones), ``rejected`` (names a source library accepts but
    ignores, with the reason), ``dtypes`` (the dtypes the rule runs in; the first is the
    default), ``binary_spikes`` (whether spikes must be 0/1), ``reference``.
    """

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    Params: ClassVar[type] = NoParams
    param_aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    rejected: ClassVar[Mapping[str, str]] = {}
    dtypes: ClassVar[tuple[str, ...]] = FLOAT_DTYPES
    binary_spikes: ClassVar[bool] = True
    ordered_params: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, params: Any) -> None:
        self.p = params

    def build(self, g: Graph) -> None:
        """Declare the rule's variables and ops on ``g``."""
        raise NotImplementedError(f"rule {type(self).__name__} does not define build()")

    @classmethod
    def spike_shapes(cls, weight_shape: tuple[int, ...], batch_size: int, params: Any,
                     **options: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The shapes of pre and post spikes (batch axis first) for a weight shape.

        The default is a dense weight ``(n_post, n_pre)``; convolutional rules override it.
        """
        if len(weight_shape) != 2:
            raise ValueError(f"a dense weight of shape (n_post, n_pre), got {weight_shape}")
        return (batch_size, weight_shape[1]), (batch_size, weight_shape[0])

    # -- hyperparameters --------------------------------------------------------------------
    @classmethod
    def param_fields(cls) -> tuple[dataclasses.Field[Any], ...]:
        return dataclasses.fields(cls.Params)

    @classmethod
    def check_values(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` checked by name, type and range, one by one, and normalised: a NumPy
        or torch scalar (or 0-d array) becomes the Python number it holds, an integral
        float for an integer hyperparameter becomes an int. HyperparameterError naming the
        hyperparameter and what was expected; nothing else is raised."""
        known = {f.name: f for f in cls.param_fields()}
        out: dict[str, Any] = {}
        for key, value in values.items():
            if not isinstance(key, str):
                raise HyperparameterError(cls.name, repr(key), "a hyperparameter is named "
                                          "by a string")
            if key in cls.rejected:
                raise HyperparameterError(cls.name, key, cls.rejected[key])
            targets = (key,) if key in known else tuple(cls.param_aliases.get(key, ()))
            if not targets or any(t not in known for t in targets):
                valid = sorted([*known, *cls.param_aliases])
                hint = did_you_mean(key, valid)
                raise HyperparameterError(cls.name, key, f"unknown hyperparameter; valid ones "
                                          f"are {', '.join(valid)}{hint}")
            for target in targets:
                value = _check_value(cls.name, known[target], value, label=key)
            out[key] = value
        return out

    @classmethod
    def checked_params(cls, values: Mapping[str, Any], base: Any = None) -> Any:
        """What ``Learner``, ``bind`` and ``set`` call: every value checked and normalised by
        :meth:`check_values` first, so that a rule's own :meth:`make_params` sees plain
        Python values of the right kinds, then :meth:`make_params`. Where the generic checks
        refuse something, the rule's own ``make_params`` has the last word on the values as
        given: it may translate a name of its own (BindsNET's ``nu`` pair) or give a reason
        of its own (a mode a source library documents but never implements); only when its
        code fails on the raw value is the generic reason raised."""
        try:
            checked = cls.check_values(values)
        except HyperparameterError as generic:
            try:
                return cls.make_params(values, base)  # its base checks every value too
            except HyperparameterError:
                raise
            except Exception:
                raise generic from None
        return cls.make_params(checked, base)

    @classmethod
    def make_params(cls, values: Mapping[str, Any], base: Any = None) -> Any:
        """Validated hyperparameters: ``base`` (or the defaults) with ``values`` replaced.

        Each value is checked by :meth:`check_values`; then bounds that come in pairs
        (:attr:`ordered_params`) must not be inverted."""
        values = cls.check_values(values)
        known = {f.name for f in cls.param_fields()}
        resolved: dict[str, Any] = {}
        for key, value in values.items():  # an advertised alias first ...
            for target in cls.param_aliases.get(key, ()):
                resolved[target] = value
        resolved.update((k, v) for k, v in values.items() if k in known)  # ... real names win
        try:
            params = dataclasses.replace(base, **resolved) if base is not None \
                else cls.Params(**resolved)
        except (TypeError, ValueError) as exc:
            raise HyperparameterError(cls.name, "?", str(exc)) from None
        _check_order(cls, params, set(resolved))
        return params

    @classmethod
    def check_params(cls, params: Any, dtype: str) -> None:
        """Raise HyperparameterError when hyperparameters that are each in range do not fit
        together or do not fit ``dtype`` (for example an integer trace that would overflow).
        Called when a learner is made and when a binding is made; the default accepts all."""

    @classmethod
    def check_definition(cls) -> None:
        """Raise RegistrationError when the class cannot work as a rule."""
        if not dataclasses.is_dataclass(cls.Params):
            raise RegistrationError(f"rule {cls.__name__}: Params must be a dataclass")
        if cls.build is Rule.build:
            raise RegistrationError(f"rule {cls.__name__}: build(g) is not defined")
        try:
            cls.Params()
        except TypeError as exc:
            raise RegistrationError(f"rule {cls.__name__}: every hyperparameter needs a "
                                    f"default ({exc})") from None

    @classmethod
    def check_graph(cls) -> None:
        """Raise RegistrationError when the rule's graph does not build and validate on a
        small dense probe (weight (3, 5), batch 2: no two extents equal, so a shape mix-up
        cannot broadcast by accident; default hyperparameters, first dtype). Rules that need
        other shapes (``spike_shapes`` refuses the probe) are not probed."""
        from ._graph import Graph
        from ._validate import validate

        label = cls.name or cls.__name__
        try:
            params = cls.Params()
            pre, post = cls.spike_shapes((3, 5), 2, params)
        except Exception:
            return
        g = Graph(label, pre_shape=pre, post_shape=post, weight_shape=(3, 5),
                  dtype=cls.dtypes[0], dt=1.0, params=dataclasses.asdict(params))
        try:
            cls(params).build(g)
            g.finish()
            validate(g)
        except Exception as exc:
            raise RegistrationError(f"rule {label!r}: its graph does not build on a (3, 5) "
                                    f"weight: {type(exc).__name__}: {exc}") from exc

    # -- description --------------------------------------------------------------------------
    @classmethod
    def summary(cls) -> str:
        doc = (inspect.getdoc(cls) or "").strip()
        return " ".join(doc.split("\n\n")[0].split())

    @classmethod
    def describe(cls) -> str:
        """The rule's docstring followed by its parameter table, for ``plastix info``."""
        doc = inspect.getdoc(cls) or "(no description)"
        rows = [("name", "default", "unit", "meaning")]
        for f in cls.param_fields():
            rows.append((f.name, repr(f.default), f.metadata.get("unit", "") or "-",
                         f.metadata.get("doc", "")))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        table = "\n".join(f"  {r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  "
                          f"{r[3]}" for r in rows)
        parts = [doc, "", "Hyperparameters:", table]
        if cls.param_aliases:
            parts += ["", "Aliases: " + "; ".join(f"{k} sets {', '.join(v)}"
                                                  for k, v in cls.param_aliases.items())]
        if cls.rejected:
            parts += ["", "Rejected: " + "; ".join(f"{k}: {v}" for k, v in cls.rejected.items())]
        return "\n".join(parts)


def _check_value(rule: str, f: dataclasses.Field[Any], value: Any, *,
                 label: str | None = None) -> Any:
    """``value`` for hyperparameter ``f``, checked by type and range and normalised (see
    :meth:`Rule.check_values`); ``label`` is the name the caller used (an alias)."""
    name = label or f.name
    meta = f.metadata
    choices = meta.get("choices")
    if choices is not None:
        return _check_choice(rule, name, choices, value)
    default = f.default
    if isinstance(default, bool):
        value = _plain_scalar(value)
        if not isinstance(value, bool):
            raise HyperparameterError(rule, name, f"expected True or False, got {value!r}")
        return value
    if not isinstance(default, int | float):
        return value  # a rule-specific kind (a name or a function): the rule checks it
    value = _number(rule, name, value, integer=isinstance(default, int))
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value) or value != default:
            none = f" or {default!r} (none)" if not math.isfinite(default) else ""
            raise HyperparameterError(rule, name, f"expected a finite number{none}, got "
                                      f"{value!r}")
        return value
    low, high = meta.get("low"), meta.get("high")
    if low is not None and (value < low or (meta.get("open_low") and value == low)):
        op = ">" if meta.get("open_low") else ">="
        raise HyperparameterError(rule, name, f"expected a value {op} {low}, got {value!r}")
    if high is not None and value > high:
        raise HyperparameterError(rule, name, f"expected a value <= {high}, got {value!r}")
    return value


def _check_choice(rule: str, name: str, choices: tuple[Any, ...], value: Any) -> Any:
    value = _plain_scalar(value)
    try:
        ok = any(_same_kind(value, c) and value == c for c in choices)
    except Exception:  # an object whose == does not give a bool (an array)
        ok = False
    if not ok:
        raise HyperparameterError(rule, name, f"expected one of {list(choices)}, got "
                                  f"{_show(value)}")
    return value


def _same_kind(a: Any, b: Any) -> bool:
    """Whether ``a`` may equal choice ``b``: the same type, or two numbers neither a bool
    (``True == 1`` in Python, but True is not the choice 1)."""
    if type(a) is type(b):
        return True
    numbers = (int, float)
    return isinstance(a, numbers) and isinstance(b, numbers) and \
        not isinstance(a, bool) and not isinstance(b, bool)


def _plain_scalar(value: Any) -> Any:
    """A NumPy, torch or CuPy scalar (or 0-d array) as the Python scalar it holds; any other
    value unchanged."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if getattr(value, "shape", None) == () and callable(getattr(value, "item", None)):
        try:
            return value.item()
        except Exception:
            return value
    return value


def _number(rule: str, name: str, value: Any, *, integer: bool) -> int | float:
    """``value`` as a Python int (``integer``) or float; HyperparameterError for anything
    that is not a real number (a bool, a string, a function, a complex number)."""
    what = "an integer" if integer else "a number"
    value = _plain_scalar(value)
    if isinstance(value, bool):
        raise HyperparameterError(rule, name, f"expected {what}, got {value!r} (a bool)")
    if isinstance(value, str | bytes):
        raise HyperparameterError(rule, name, f"expected {what}, got the string {value!r} "
                                  "(write the number without quotes)")
    if not isinstance(value, int | float):
        raise HyperparameterError(rule, name, f"expected {what}, got {_show(value)}")
    if integer:
        if isinstance(value, float):
            if not value.is_integer():
                raise HyperparameterError(rule, name, f"expected an integer, got {value!r}")
            value = int(value)
        if abs(value) >= INT_LIMIT:
            raise HyperparameterError(rule, name, f"expected an integer of magnitude below "
                                      f"2**63, got {_show(value)}")
        return value
    try:
        return float(value)
    except OverflowError:
        raise HyperparameterError(rule, name, f"expected a finite number (at most "
                                  f"{sys.float_info.max:.3g}), got {_show(value)}") from None


def _show(value: Any) -> str:
    """A short description of a value for a message (a huge int is not printed whole)."""
    if isinstance(value, int) and abs(value) > 10**30:
        return f"an int of {len(str(abs(value)))} digits"
    if callable(value) and not isinstance(value, type):
        return f"the function {getattr(value, '__name__', repr(value))!r}"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})"


def _check_order(cls: type[Rule], params: Any, given: set[str]) -> None:
    """Bounds that come in pairs (:data:`ORDERED_PAIRS`, ``cls.ordered_params``) in order."""
    fields = {f.name for f in dataclasses.fields(params)}
    for low, high in (*ORDERED_PAIRS, *cls.ordered_params):
        if low not in fields or high not in fields:
            continue
        lo, hi = getattr(params, low), getattr(params, high)
        if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
            named = high if high in given and low not in given else low
            raise HyperparameterError(cls.name, named, f"expected {low} <= {high}, got "
                                      f"{low} = {lo!r} above {high} = {hi!r} (inverted "
                                      "bounds)")


def rule(name: str, aliases: Iterable[str] = ()) -> Callable[[R], R]:
    """Name a rule class (``@plastix.rule("my_rule")``); a plugin's hook then registers it."""

    def mark(cls: R) -> R:
        cls.name = name
        cls.aliases = tuple(aliases)
        return cls

    return mark
