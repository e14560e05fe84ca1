"""The exception hierarchy: every error plastix raises on purpose is a :class:`PlastixError`.

Each class carries the offending names as attributes so that callers can react to them
without parsing messages.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping


def name_key(name: str) -> str:
    """How names are compared: case-insensitively, a hyphen or a space counting as an
    underscore (``Nearest-Online-STDP`` is ``nearest_online_stdp``)."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _containing(word: str, keys: Iterable[str]) -> list[str]:
    """The keys that contain ``word``: those with it as a whole ``_``-separated part first,
    then those starting with it, then the rest; shorter before longer within each."""
    def rank(key: str) -> tuple[int, int, str]:
        whole = word in key.split("_") or f"_{word}_" in f"_{key}_"
        return (0 if whole else 1 if key.startswith(word) else 2, len(key), key)

    return sorted((k for k in keys if word and word in k and k != word), key=rank)


def closest(name: str, known: Iterable[str] | Mapping[str, str], n: int = 3) -> list[str]:
    """The known names most like ``name``, best first: names that contain it (see
    :func:`name_key`), then names that are spelled alike. ``known`` may map each spelling
    (an alias) to the name to suggest for it, so that one thing is suggested once."""
    target = dict(known) if isinstance(known, Mapping) else {k: k for k in known}
    by_key: dict[str, str] = {}
    for spelling, canonical in target.items():
        by_key.setdefault(name_key(spelling), canonical)
    word = name_key(name)
    keys = [*_containing(word, by_key),
            *difflib.get_close_matches(word, list(by_key), n=n, cutoff=0.5)]
    return list(dict.fromkeys(by_key[k] for k in keys))[:n]


def matching(word: str, groups: Mapping[str, Iterable[str]]) -> list[str]:
    """Every member of the groups whose name contains ``word`` (a family, a library, part
    of a name), in the groups' order: what a word matches, for an "unknown name" message."""
    key = name_key(word)
    found: dict[str, None] = {}
    for group, members in groups.items():
        if key and key in name_key(group):
            found.update(dict.fromkeys(members))
    return list(found)


def did_you_mean(name: str, known: Iterable[str] | Mapping[str, str], n: int = 3) -> str:
    """``"; did you mean 'a', 'b'?"`` with the closest known names, or ``""`` when none is
    close: the hint every "unknown name" message ends with."""
    return hint(closest(name, known, n))


def hint(suggestions: list[str]) -> str:
    """The "did you mean" hint for names already chosen (see :func:`did_you_mean`)."""
    return f"; did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""


#: The CPU build of PyTorch, pinned to the version plastix is tested with. An unpinned
#: ``pip install torch`` (or ``plastix[torch]``) resolves the newest CUDA build on Linux and
#: its several gigabytes of CUDA wheels.
TORCH_CPU = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
#: How to install each optional array library, by its package name.
INSTALL_HINTS = {
    "torch": f"{TORCH_CPU} (the CPU build; for a CUDA build use the index of your CUDA "
             "version instead, such as https://download.pytorch.org/whl/cu128 for CUDA 12.8, "
             "as https://pytorch.org/get-started/locally/ lists them)",
    "cupy-cuda12x": "pip install cupy-cuda12x (for CUDA 12; cupy-cuda13x for CUDA 13, "
                    "cupy-cuda11x for CUDA 11)",
}


def install_hint(package: str) -> str:
    """The command that installs ``package``, pinned where an unpinned one goes wrong."""
    return INSTALL_HINTS.get(package, f"pip install {package}")


class PlastixError(Exception):
    """Base class of every error plastix raises on purpose."""


class UnknownRuleError(PlastixError, KeyError):
    """No rule is registered under the requested name.

    ``known`` maps every name and alias to the rule's name; ``groups`` maps words a user may
    type for a set of rules (a family, a source library, a word of their summaries) to those
    rules. The message suggests the rules the word matches (all of them), else the names
    spelt most alike."""

    def __init__(self, name: str, known: Iterable[str] | Mapping[str, str],
                 groups: Mapping[str, Iterable[str]] | None = None) -> None:
        target = dict(known) if isinstance(known, Mapping) else {k: k for k in known}
        self.name = name
        self.known = sorted(set(target))
        groups = {**{spelling: [rule] for spelling, rule in target.items()}, **(groups or {})}
        self.matches = matching(name, groups) if isinstance(name, str) else []
        if self.matches:  # the rules the word names, the closest spelt first
            among = {s: r for s, r in target.items() if r in self.matches}
            self.suggestions = list(dict.fromkeys([*closest(name, among, len(among)),
                                                   *self.matches]))
        else:  # canonical names come first in ``known``
            self.suggestions = closest(name, target)
        message = f"no plasticity rule named {name!r}"
        if len(self.suggestions) > 3:
            message += (f"; {name!r} matches {len(self.matches)} rules: "
                        f"{', '.join(self.suggestions)}")
        elif self.suggestions:
            message += hint(self.suggestions)
        else:
            message += (f"; {len(set(target.values()))} rules are registered (px.rules() or "
                        "'plastix list' names them)")
        super().__init__(message)

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
