"""plastix: a backend-agnostic registry of synaptic plasticity rules.

>>> import plastix as px
>>> "nearest_online_stdp" in px.rules()
True

The public names are re-exported here from the layers that define them (see
``docs/architecture.rst``): the rule-author layer (``_errors``, ``_ops``, ``_graph``,
``_validate``, ``_rule``), the registry (``plastix.registry``), the runtime
(``plastix._runtime``: learners, bindings, I/O) and, through the runtime, the compiler.
"""

from __future__ import annotations

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
    StepError,
    StepInputError,
    UnknownRuleError,
)
from ._graph import Graph, Value
from ._ops import OpSpec, conv_output_size
from ._rule import Rule, param, rule
from ._runtime.binding import Binding
from ._runtime.checked import debug
from ._runtime.delays import DelayLine
from ._runtime.group import LearnerGroup
from ._runtime.learner import Learner, find_rule, load
from ._runtime.monitor import Monitor
from ._runtime.trainer import SpikingLayer, STDPTrainer
from ._version import __version__
from .registry import BACKENDS, OPS, RULES, hookimpl, register


def rules(with_aliases: bool = False) -> list[str]:
    """The names of every registered rule (and their aliases when asked)."""
    return RULES.names(with_aliases=with_aliases)


def ops() -> list[str]:
    """The names (and aliases) of every primitive op a rule's graph may use."""
    return OPS.names(with_aliases=True)


def info(name: str) -> str:
    """The description of rule ``name``: equations, hyperparameters, reference."""
    return find_rule(name).describe()


def backend_names() -> list[str]:
    """The names of every registered backend (installed or not)."""
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
    "Monitor",
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
    "StepError",
    "StepInputError",
    "UnknownRuleError",
    "Value",
    "__version__",
    "backend_names",
    "conv_output_size",
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
