"""The private state of a binding's compiled steps, declared in one place.

A compiled step reads and writes the binding's arrays (``S``: weight, learned values, state)
and, besides them, a little state of its own that is never saved, loaded or moved with the
binding: the scratch buffers its weight-sized temporaries are written into, whether every
synapse is known to lie within the clamp bounds (so that an event-driven step may clamp only
what it changed), and the density below which it takes the event-driven branch. A
:class:`StepState` holds all of it, one per binding; the generated code reads it as ``X``.

Whenever the weight may have been written from outside the steps (new hyperparameters,
a loaded state dict, a reset of the binding), the binding calls :meth:`StepState.invalidate`:
the next clamping step clamps every synapse again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The event-driven branch runs when the rows and columns it touches are at most this
#: fraction of the synapses (indexed updates cost a few times a dense pass per element).
EVENT_FRACTION = 0.25


class StepState:
    """The compiled steps' own state for one binding of a weight of ``area`` synapses."""

    __slots__ = ("_area", "_event_mode", "_scratch", "event_limit", "in_bounds",
                 "sparse_bounds", "version")

    def __init__(self, area: int) -> None:
        self._area = area
        self._scratch: dict[Callable[[], tuple[Any, ...]], tuple[Any, ...]] = {}
        #: every synapse is within the clamp bounds, as the last full clamp left it
        self.in_bounds = False
        #: opt-in: an event-driven step clamps only what it changed (``Binding.sparse_bounds``)
        self.sparse_bounds = False
        #: an event-driven step runs when it touches at most this many synapses
        self.event_limit = 0
        #: the weight's write count after the last step (backends that count writes)
        self.version: object = None
        self._event_mode: bool | None = None
        self.set_event_mode(None)

    def buffers(self, alloc: Callable[[], tuple[Any, ...]]) -> tuple[Any, ...]:
        """The scratch buffers that ``alloc`` makes, allocated on the first call (``alloc`` is
        the compiled step's own, so a recompiled step gets buffers of its own layout)."""
        got = self._scratch.get(alloc)
        if got is None:
            got = self._scratch[alloc] = alloc()
        return got

    @property
    def scratch_arrays(self) -> tuple[Any, ...]:
        """Every scratch buffer allocated so far (never part of the binding's state)."""
        return tuple(buf for bufs in self._scratch.values() for buf in bufs)

    @property
    def event_mode(self) -> bool | None:
        return self._event_mode

    def set_event_mode(self, mode: bool | None) -> None:
        """Event-driven updates always (True), never (False) or by spike density (None)."""
        self._event_mode = mode
        self.event_limit = (int(EVENT_FRACTION * self._area) if mode is None
                            else 2 * self._area if mode else -1)

    def invalidate(self) -> None:
        """The weight may have been written from outside the steps: clamp all of it next."""
        self.in_bounds = False

    def forget_buffers(self) -> None:
        """Drop the scratch buffers (the steps were recompiled); invalidate the bounds."""
        self._scratch.clear()
        self.invalidate()
