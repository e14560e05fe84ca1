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


def did_you_mean(name: str, known: Iterable[str], n: int = 3) -> str:
    """``"; did you mean 'a', 'b'?"`` with the closest known names, or ``""`` when none is
    close: the hint every "unknown name" message ends with."""
    return hint(closest(name, known, n))


def hint(suggestions: list[str]) -> str:
    """The "did you mean" hint for names already chosen (see :func:`did_you_mean`)."""
    return f"; did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""


class PlastixError(Exception):
    """Base class of every error plastix raises on purpose."""


class UnknownRuleError(PlastixError, KeyError):
    """No rule is registered under the requested name."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        known = list(known)
        self.name = name
        self.known = sorted(known)
        self.suggestions = closest(name, known)  # canonical names come first in ``known``
        super().__init__(f"no plasticity rule named {name!r}{hint(self.suggestions)}")

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


class NameCollisionError(RegistrationError):
    """Two providers claim one name (or alias) and the later one did not say ``override=True``."""

    def __init__(self, kind: str, name: str, existing: str, existing_provider: str,
                 new: str, new_provider: str) -> None:
        self.kind = kind
        self.name = name
        self.providers = (existing_provider, new_provider)
        super().__init__(
            f"{kind} name {name!r} is provided by both {existing_provider!r} ({existing}) and "
            f"{new_provider!r} ({new}); register with override=True to replace it"
        )


class PluginError(RegistrationError):
    """A plugin could not be imported or one of its hooks failed; nothing of it stays registered."""

    def __init__(self, plugin: str, distribution: str, stage: str, cause: BaseException) -> None:
        self.plugin = plugin
        self.distribution = distribution
        self.stage = stage
        self.cause = cause
        detail = " ".join(str(cause).split())
        self.reason = f"{stage} raised {type(cause).__name__}: {detail}"
        super().__init__(f"plugin {plugin!r} ({distribution}): {self.reason}")


class PluginWarning(UserWarning):
    """A plugin was skipped because it failed to load; see ``plastix plugins``."""


class NonFiniteError(PlastixError, FloatingPointError):
    """A step would have written NaN or an infinity; it was not committed."""

    def __init__(self, rule: str, step: int, variable: str, op: str | None,
                 detail: str = "") -> None:
        self.rule = rule
        self.step = step
        self.variable = variable
        self.op = op
        where = f"op {op!r}" if op is not None else "an op that could not be located"
        super().__init__(f"rule {rule!r}, step {step}: {where} produced non-finite values "
                         f"that would reach {variable!r}{detail}; the step was not committed "
                         "(weights, state and step counter are unchanged)")


class StepError(PlastixError, RuntimeError):
    """Code outside plastix's own primitives (a function op, a plugin op's lowering, a seam
    hook) raised during a step; the step was rolled back. The original error is ``cause``
    (and ``__cause__``)."""

    def __init__(self, rule: str, step: int, op: str | None, cause: BaseException) -> None:
        self.rule = rule
        self.step = step
        self.op = op
        self.cause = cause
        where = op if op is not None else "an op that could not be located"
        super().__init__(f"rule {rule!r}, step {step}: {where} raised "
                         f"{type(cause).__name__}: {cause}; the step was rolled back "
                         "(weights, state and step counter are unchanged)")


class ConversionWarning(UserWarning):
    """Arrays are converted between libraries or devices at a cost (or a weight's updates
    will not reach the array the caller passed)."""
