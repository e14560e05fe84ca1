"""Seam hooks: what a binding does with a rule's weight change before applying it.

A rule marks its change with ``g.weight_change()`` (the seam). ``Binding.intercept`` puts a
caller's hook there (accumulation, all-reduce, optimisers), checked as the step calls it;
``Binding._observe`` lets observers (:class:`plastix.Monitor`) see the change first. The step
calls one function per target: the observers, then the hook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from plastix._errors import PlastixError, StepError, StepInputError

from .contract import dtype_kind

if TYPE_CHECKING:
    from .binding import Binding


def checked_hook(b: Binding, target: str, hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``hook`` as the step calls it: what it returns is checked before the rule applies
    it (a wrong shape would broadcast over the weight), what it raises is a StepError."""
    be, rule = b.backend, b.rule_name

    def seam_hook(change: Any) -> Any:
        try:
            out = hook(change)
        except PlastixError:
            raise
        except Exception as exc:
            raise StepError(rule, b.t, f"the seam hook of {target!r}", exc) from exc
        if not be.is_native(out) or tuple(out.shape) != tuple(change.shape) or \
                dtype_kind(out.dtype) == "other":
            got = be.describe(out) if not be.is_native(out) else \
                f"{out.dtype} of shape {tuple(out.shape)}"
            raise StepInputError(rule, f"the seam hook of {target!r}", f"a {be.key} array "
                                 f"of shape {tuple(change.shape)} (the change it was "
                                 "given, changed)", got)
        return out

    seam_hook.__wrapped__ = hook  # type: ignore[attr-defined]
    return seam_hook


class SeamHooks(dict[str, Callable[[Any], Any]]):
    """Seam hooks by target; a target without a hook passes its change through unchanged
    (a rule may declare several seams and a caller hook only some of them)."""

    def __missing__(self, target: str) -> Callable[[Any], Any]:
        return identity


def identity(x: Any) -> Any:
    return x


def chain(observers: Iterable[Callable[[Any], None]], hook: Callable[[Any], Any]
          ) -> Callable[[Any], Any]:
    """The seam function: each observer sees the rule's change, then the hook transforms it."""
    seen = tuple(observers)
    if not seen:
        return hook

    def seam(change: Any) -> Any:
        for observer in seen:
            observer(change)
        return hook(change)

    return seam
