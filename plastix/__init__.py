"""plastix: a backend-agnostic registry of synaptic plasticity rules.

>>> import plastix as px
>>> "nearest_online_stdp" in px.rules()
True
"""

from __future__ import annotations

from ._binding import Binding
from ._checked import debug
from ._delays import DelayLine
from ._errors import (
    BackendUnavailableError,
    ConversionWarning,
    HyperparameterError,
    NameCollisionError,
    NonFiniteError,
    PlastixError,
    PluginError,
    PluginWarning,
    RegistrationError,
    RuleValidationError,
    StateDictError,
    StepInputError,
    UnknownRuleError,
)
from ._graph import Graph, Value
from ._group import LearnerGroup
from ._io import load
from ._learner import Learner, find_rule
from ._ops import OpSpec
from ._rule import Rule, param, register, rule
from ._trainer import SpikingLayer, STDPTrainer
from .registry.hookspecs import hookimpl

__version__ = "0.1.0"


def rules(with_aliases: bool = False) -> list[str]:
    """The names of every registered rule (and their aliases when asked)."""
    from .registry import RULES, ensure_loaded

    ensure_loaded()
    return RULES.names(with_aliases=with_aliases)


def ops() -> list[str]:
    """The names of every primitive op a rule's graph may use."""
    from ._ops import OPS
    from .registry import ensure_loaded

    ensure_loaded()
    return OPS.names()


def info(name: str) -> str:
    """The description of rule ``name``: equations, hyperparameters, reference."""
    return find_rule(name).describe()


def backend_names() -> list[str]:
    """The names of every registered backend (installed or not)."""
    from .registry import BACKENDS, ensure_loaded

    ensure_loaded()
    return BACKENDS.names()



__all__ = [
    "BackendUnavailableError",
    "Binding",
    "ConversionWarning",
    "DelayLine",
    "Graph",
    "HyperparameterError",
    "Learner",
    "LearnerGroup",
    "NameCollisionError",
    "NonFiniteError",
    "OpSpec",
    "PlastixError",
    "PluginError",
    "PluginWarning",
    "RegistrationError",
    "Rule",
    "RuleValidationError",
    "STDPTrainer",
    "SpikingLayer",
    "StateDictError",
    "StepInputError",
    "UnknownRuleError",
    "Value",
    "backend_names",
    "debug",
    "find_rule",
    "hookimpl",
    "info",
    "load",
    "ops",
    "param",
    "register",
    "rule",
    "rules",
]

from . import distributed  # noqa: E402 - after the names it uses; imports torch only when used

__all__ += ["distributed"]
