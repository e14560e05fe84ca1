"""Several bindings stepped together, as inferno's trainers drive several cells.

inferno registers cells with per-cell hyperparameters (``register_cell(name, cell, **kw)``) and
updates a chosen subset of them per call (``forward(..., cells=[...])``). In plastix a binding
already carries its own hyperparameters (``learner.bind(w, lr_pos=...)``); a
:class:`LearnerGroup` names bindings and steps them together. A binding left out of ``cells``
still observes its spikes (its traces and spike times advance, as inferno's monitors keep
recording) but its learned values stay as they were.

A group's :meth:`~LearnerGroup.step` and :meth:`~LearnerGroup.load_state_dict` are all or
nothing: every input is checked before any binding moves, and when a binding fails mid-step
(a checked binding's non-finite result, a raising hook or op) the bindings already stepped
are put back, so no binding of the group is left a step ahead of the others.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from plastix._errors import StepInputError

from .binding import Binding
from .interrupts import StepBoundary
from .statedict import check_state_dict

if TYPE_CHECKING:
    from .learner import Learner

_WHO = "LearnerGroup"


class LearnerGroup:
    """Named bindings stepped together; a step can let only some of them learn.

    >>> import numpy as np, plastix as px
    >>> stdp = px.Learner("triplet_stdp")
    >>> group = px.LearnerGroup(stdp)
    >>> _ = group.bind("fast", np.zeros((2, 3)), A2_plus=1e-2)     # an override
    >>> _ = group.bind("slow", np.zeros((2, 3)))
    >>> group.step({"fast": (np.ones((1, 3)), np.ones((1, 2))),
    ...             "slow": (np.ones((1, 3)), np.ones((1, 2)))}, cells=["fast"])
    >>> group["fast"].t, group["slow"].t
    (1, 1)
    """

    def __init__(self, learner: Learner | None = None) -> None:
        self.learner = learner
        self._bindings: dict[str, Binding] = {}

    # -- membership -----------------------------------------------------------------------------
    def bind(self, name: str, weight: Any, *, learner: Learner | None = None,
             **kwargs: Any) -> Binding:
        """Bind ``weight`` with the group's learner (or ``learner``) and add it as ``name``;
        keywords go to :meth:`Learner.bind` (``batch_size``, ``dt``, hyperparameter
        overrides, ...)."""
        from .learner import Learner

        learner = learner if learner is not None else self.learner
        if not isinstance(learner, Learner):
            what = "a Learner (the group has none)" if learner is None else "a Learner"
            raise StepInputError(_WHO, "learner", what, f"{learner!r}")
        self._check_new(name)
        return self.add(name, learner.bind(weight, **kwargs))

    def add(self, name: str, binding: Binding) -> Binding:
        """Add an existing binding as ``name``."""
        self._check_new(name)
        if not isinstance(binding, Binding):
            raise StepInputError(_WHO, "binding", "a Binding (made by Learner.bind)",
                                 f"{binding!r} ({type(binding).__name__})")
        self._bindings[name] = binding
        return binding

    def _check_new(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise StepInputError(_WHO, "name", "a non-empty string", repr(name))
        if name in self._bindings:
            raise StepInputError(_WHO, "name", "a name not yet in the group", repr(name))

    def __getitem__(self, name: str) -> Binding:
        try:
            return self._bindings[name]
        except KeyError:
            raise StepInputError(_WHO, "name", f"one of {sorted(self._bindings)}",
                                 repr(name)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._bindings

    def __iter__(self) -> Iterator[str]:
        return iter(self._bindings)

    def __len__(self) -> int:
        return len(self._bindings)

    @property
    def names(self) -> list[str]:
        return list(self._bindings)

    # -- stepping -------------------------------------------------------------------------------
    def step(self, spikes: Mapping[str, tuple[Any, Any]], *, cells: Iterable[str] | None = None,
             final: bool = False, **signals: Any) -> None:
        """Advance every binding named in ``spikes`` (``{name: (pre, post)}``) by one step.

        ``cells``: the names whose learned values change (default: all stepped ones); the
        others only observe. ``signals`` (``reward=...``) go to every binding that declares
        them. Every input is checked before any binding moves, and a binding that fails
        mid-step puts every binding back (module docstring).
        """
        if not isinstance(spikes, Mapping):
            raise StepInputError(_WHO, "spikes", "a mapping {name: (pre, post)}",
                                 f"{spikes!r} ({type(spikes).__name__})")
        unknown = [n for n in spikes if n not in self._bindings]
        if unknown:
            raise StepInputError(_WHO, "spikes", f"names among {sorted(self._bindings)}",
                                 repr(unknown[0]))
        learning = set(spikes) if cells is None else set(cells)
        if isinstance(cells, str) or not learning <= set(spikes):
            raise StepInputError(_WHO, "cells", "names of bindings stepped in this call "
                                 f"({sorted(spikes)})", repr(cells))
        declared = {s for n in spikes for s in self._bindings[n]._signals}
        stray = sorted(set(signals) - declared)
        if stray:
            raise StepInputError(_WHO, stray[0], "a signal some stepped binding declares "
                                 f"({sorted(declared) or 'none'})", "an unknown name")
        prepared = {}
        for name, pair in spikes.items():
            b = self._bindings[name]
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise StepInputError(_WHO, f"spikes[{name!r}]", "a (pre, post) pair",
                                     type(pair).__name__)
            mine = {k: v for k, v in signals.items() if k in b._signals}
            prepared[name] = b._prepare(pair[0], pair[1], mine)
        stepped = [self._bindings[name] for name in prepared]
        with _locked(stepped), StepBoundary():
            # only a binding that runs code of a user's (or is checked, or has not compiled
            # its step yet) can fail once its inputs have passed the checks
            fallible = any(b._guarded or "step" not in b._steps for b in stepped[1:])
            undo = _snapshots(stepped[:-1]) if fallible else None
            try:
                for name, args in prepared.items():
                    self._advance(name, args, name in learning, final)
            except Exception:
                for b, (arrays, t) in (undo or {}).items():
                    for k, v in arrays.items():
                        b.backend.assign(b.S[k], v)
                    b.t = t
                raise

    def _advance(self, name: str, args: tuple[Any, Any, dict[str, Any]], learns: bool,
                 final: bool) -> None:
        b = self._bindings[name]
        if learns:
            b._advance(*args, final=final)
            return
        kept = {k: b.backend.copy(v) for k, v in b.learned.items()}
        b._advance(*args, final=final)
        for k, v in kept.items():
            b.backend.assign(b.S[k], v)

    def reset(self) -> None:
        """Reset every binding's state (traces), keeping learned values."""
        for b in self._bindings.values():
            b.reset()

    def state_dict(self) -> dict[str, Any]:
        """Each binding's state dict by name."""
        return {name: b.state_dict() for name, b in self._bindings.items()}

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; the names must match. All or nothing:
        every binding's entry is checked before the first is written."""
        if not isinstance(sd, Mapping) or set(sd) != set(self._bindings):
            got = sorted(sd) if isinstance(sd, Mapping) else type(sd).__name__
            raise StepInputError(_WHO, "state_dict", f"bindings {sorted(self._bindings)}",
                                 f"{got}")
        bindings = list(self._bindings.values())
        with _locked(bindings):
            checked = {name: check_state_dict(b, sd[name])
                       for name, b in self._bindings.items()}
            for name, b in self._bindings.items():
                b._commit(*checked[name])

    def __repr__(self) -> str:
        return f"<LearnerGroup {', '.join(self._bindings) or '(empty)'}>"


def _locked(bindings: Iterable[Binding]) -> contextlib.ExitStack:
    """Every binding's lock, taken in one global order (no two groups can deadlock)."""
    stack = contextlib.ExitStack()
    for b in sorted(set(bindings), key=id):
        stack.enter_context(b._lock)
    return stack


def _snapshots(bindings: Iterable[Binding]) -> dict[Binding, tuple[dict[str, Any], int]]:
    return {b: ({k: b.backend.copy(v) for k, v in b.arrays.items()}, b.t) for b in bindings}
