"""The exception hierarchy: every error plastix raises on purpose is a :class:`PlastixError`.

Each class carries the offending names as attributes so that callers can react to them
without parsing messages.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names most similar to ``name`` (case-insensitive), best first."""
    by_lower: dict[str, str] = {}
    for k in known:
        by_lower.setdefault(k.lower(), k)
    hits = difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.5)
    return [by_lower[h] for h in hits]


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    near = closest(name, known)
    return f"; did you mean {', '.join(map(repr, near))}?" if near else ""


class PlastixError(Exception):
    """Base class of every error plastix raises on purpose."""


class UnknownRuleError(PlastixError, KeyError):
    """No rule is registered under the requested name."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        self.suggestions = closest(name, self.known)
        super().__init__(f"no plasticity rule named {name!r}{_did_you_mean(name, self.known)}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class HyperparameterError(PlastixError, ValueError):
    """A hyperparameter is unknown, or its value is out of range."""

    def __init__(self, rule: str, param: str, message: str) -> None:
        self.rule = rule
        self.param = param
        super().__init__(f"rule {rule!r}, hyperparameter {param!r}: {message}")


class RuleValidationError(PlastixError, ValueError):
    """A rule's op graph is malformed (undefined name, shape or dtype clash, ...)."""

    def __init__(
        self, rule: str, message: str, *, op: str | None = None, variable: str | None = None
    ) -> None:
        self.rule = rule
        self.op = op
        self.variable = variable
        where = f"rule {rule!r}"
        if op is not None:
            where += f", op {op!r}"
        if variable is not None:
            where += f", variable {variable!r}"
        super().__init__(f"{where}: {message}")


class StepInputError(PlastixError, ValueError):
    """An argument given to a binding (weight, spikes, signals) is not what the rule expects."""

    def __init__(self, rule: str, argument: str, expected: str, got: str) -> None:
        self.rule = rule
        self.argument = argument
        self.expected = expected
        self.got = got
        super().__init__(f"rule {rule!r}, argument {argument!r}: expected {expected}, got {got}")


class BackendUnavailableError(PlastixError, ImportError):
    """The requested array backend is unknown, not installed, or lacks the requested device."""

    def __init__(self, backend: str, message: str) -> None:
        self.backend = backend
        super().__init__(f"backend {backend!r}: {message}")


class RegistrationError(PlastixError, ValueError):
    """A rule, backend or op could not be registered (for example, a name collision)."""


class StateDictError(PlastixError, ValueError):
    """A state dict or saved file does not fit the binding it is loaded into."""


class ConversionWarning(UserWarning):
    """Arrays are converted between libraries or devices at a cost (or a weight's updates
    will not reach the array the caller passed)."""
