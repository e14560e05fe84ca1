"""Interrupts held to a step boundary: Ctrl-C during a run never stops a step half done.

A compiled step writes the binding's arrays in place, op after op; a ``KeyboardInterrupt``
raised between two of them would leave the traces one step ahead of the step counter, or a
weight half written. While :class:`StepBoundary` is active (``Binding.run`` and
``LearnerGroup.step`` use it), SIGINT is only recorded; :meth:`StepBoundary.checkpoint`,
called between steps, and leaving the block deliver it, so the ``KeyboardInterrupt`` is
raised with the binding exactly at the end of the last finished step.

Signals reach only the main thread, so only there is anything to hold: elsewhere, and where
SIGINT is ignored or left to the system's default, the block changes nothing. A handler of
the caller's own is kept and called at the boundary instead of raising.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any


class StepBoundary:
    """Hold SIGINT until the next :meth:`checkpoint` (or the end of the ``with`` block)."""

    def __init__(self) -> None:
        self._previous: Any = None
        self._pending: tuple[int, FrameType | None] | None = None
        self._active = False

    def __enter__(self) -> StepBoundary:
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = signal.getsignal(signal.SIGINT)
        if not callable(previous) or isinstance(getattr(previous, "__self__", None),
                                                StepBoundary):
            return self  # ignored, the default, or already held by an outer block
        try:
            signal.signal(signal.SIGINT, self._record)
        except ValueError:  # not the main interpreter
            return self
        self._previous, self._active = previous, True
        return self

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self._pending = (signum, frame)

    def checkpoint(self) -> None:
        """Deliver an interrupt that arrived since the last boundary (raises it)."""
        if self._pending is not None:
            signum, frame = self._pending
            self._pending = None
            self._previous(signum, frame)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._active:
            return
        signal.signal(signal.SIGINT, self._previous)
        self._active = False
        if kind is None:
            self.checkpoint()
