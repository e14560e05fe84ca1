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
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from ._errors import HyperparameterError, RegistrationError, did_you_mean
from ._graph import Graph
from ._ops import FLOAT_DTYPES

R = TypeVar("R", bound=type["Rule"])


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
    def make_params(cls, values: Mapping[str, Any], base: Any = None) -> Any:
        """Validated hyperparameters: ``base`` (or the defaults) with ``values`` replaced."""
        known = {f.name: f for f in cls.param_fields()}
        for key in values:
            if key in cls.rejected:
                raise HyperparameterError(cls.name, key, cls.rejected[key])
            if key not in known and key not in cls.param_aliases:
                valid = sorted([*known, *cls.param_aliases])
                hint = did_you_mean(key, valid)
                raise HyperparameterError(cls.name, key, f"unknown hyperparameter; valid ones "
                                          f"are {', '.join(valid)}{hint}")
        resolved: dict[str, Any] = {}
        for key, value in values.items():  # an advertised alias first ...
            for target in cls.param_aliases.get(key, ()):
                resolved[target] = value
        resolved.update((k, v) for k, v in values.items() if k in known)  # ... real names win
        for key, value in resolved.items():
            _check_value(cls.name, known[key], value)
        try:
            return dataclasses.replace(base, **resolved) if base is not None \
                else cls.Params(**resolved)
        except (TypeError, ValueError) as exc:
            raise HyperparameterError(cls.name, "?", str(exc)) from None

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


def _check_value(rule: str, f: dataclasses.Field[Any], value: Any) -> None:
    meta = f.metadata
    choices = meta.get("choices")
    if choices is not None:
        if value not in choices:
            raise HyperparameterError(rule, f.name, f"expected one of {list(choices)}, "
                                      f"got {value!r}")
        return
    default = f.default
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise HyperparameterError(rule, f.name, f"expected True or False, got {value!r}")
        return
    if isinstance(default, int | float) and not callable(value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise HyperparameterError(rule, f.name, f"expected a number, got "
                                          f"{value!r}") from None
        if isinstance(default, int) and not isinstance(default, bool) \
                and isinstance(value, float) and not value.is_integer():
            raise HyperparameterError(rule, f.name, f"expected an integer, got {value!r}")
        if not math.isfinite(value) and (math.isfinite(default) or math.isnan(value)):
            raise HyperparameterError(rule, f.name, f"expected a finite number, got {value!r}")
        low, high = meta.get("low"), meta.get("high")
        if low is not None and (value < low or (meta.get("open_low") and value == low)):
            op = ">" if meta.get("open_low") else ">="
            raise HyperparameterError(rule, f.name, f"expected a value {op} {low}, got "
                                      f"{value!r}")
        if high is not None and value > high:
            raise HyperparameterError(rule, f.name, f"expected a value <= {high}, got {value!r}")


def rule(name: str, aliases: Iterable[str] = ()) -> Callable[[R], R]:
    """Name a rule class (``@plastix.rule("my_rule")``); a plugin's hook then registers it."""

    def mark(cls: R) -> R:
        cls.name = name
        cls.aliases = tuple(aliases)
        return cls

    return mark
