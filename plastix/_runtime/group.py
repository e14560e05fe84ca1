"""Several bindings stepped together, as inferno's trainers drive several cells.

inferno registers cells with per-cell hyperparameters (``register_cell(name, cell, **kw)``) and
updates a chosen subset of them per call (``forward(..., cells=[...])``). In plastix a binding
already carries its own hyperparameters (``learner.bind(w, lr_pos=...)``); a
:class:`LearnerGroup` names bindings and steps them together. A binding left out of ``cells``
still observes its spikes (its traces and spike times advance, as inferno's monitors keep
recording) but its learned values stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from plastix._errors import StepInputError

if TYPE_CHECKING:
    from .binding import Binding
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
        learner = learner or self.learner
        if learner is None:
            raise StepInputError(_WHO, "learner", "a Learner (the group has none)", "None")
        self._check_new(name)
        return self.add(name, learner.bind(weight, **kwargs))

    def add(self, name: str, binding: Binding) -> Binding:
        """Add an existing binding as ``name``."""
        self._check_new(name)
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
        them. Every input is checked before any binding moves.
        """
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
        for name, args in prepared.items():
            b = self._bindings[name]
            if name in learning:
                b._advance(*args, final=final)
                continue
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
        """Restore what :meth:`state_dict` returned; the names must match."""
        if set(sd) != set(self._bindings):
            raise StepInputError(_WHO, "state_dict", f"bindings {sorted(self._bindings)}",
                                 f"{sorted(sd)}")
        for name, b in self._bindings.items():
            b.load_state_dict(sd[name])

    def __repr__(self) -> str:
        return f"<LearnerGroup {', '.join(self._bindings) or '(empty)'}>"
