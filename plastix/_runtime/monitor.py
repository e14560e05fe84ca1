r"""Recording what a binding's arrays do over time: :class:`Monitor`.

As Brian2's ``StateMonitor(source, variables, record=indices, dt=...)`` and BindsNET's
``Monitor(obj, state_vars, time=...)``, a monitor copies chosen arrays of one binding (the
weight, traces, learned values such as delays, and *changes*) every ``every`` steps, over
chosen indices, while the binding steps: through ``syn.step``, ``syn.run``, a
:class:`~plastix.LearnerGroup` or a :mod:`plastix.torch` module's ``learn``. Records are kept
in the order taken, each with its step number, and read back as one array per variable, time
first (BindsNET's layout; Brian2 puts time last).

Step numbers: a record taken after the step that brings the counter to :math:`t` (``syn.t``)
is numbered :math:`t`; records are taken when :math:`t` is a multiple of ``every``. It holds
the arrays after that step and, for a change, what that step changed.

A *change* is named ``"dw"`` for the weight and ``"d<name>"`` for another learned value
(``"ddelay"``): the rule's change at its weight-change seam (:meth:`plastix.Binding.intercept`),
before bounds, normalisation and masks are applied, summed when the rule changes the value at
several seams in one step; the value a seam hook (grad mode, data-parallel all-reduce) gets.
The monitor only copies, so its steps need no guard; they are compiled with the seam open.

Memory is bounded: at most ``capacity`` records are kept (by default as many as fit in
``max_bytes``, 64 MiB); when full, the oldest records are dropped (``dropped`` counts them,
and a warning says so once). One record costs the bytes of the selected entries
(:attr:`Monitor.bytes_per_record`) plus about 100 bytes of bookkeeping per variable, on the
binding's device. Cost per step: a monitored NumPy binding takes the checked path of ``step``
(the one every other backend takes) instead of its unchecked fast path, and recording a
change opens the seam; steps that are not recorded copy nothing.
"""

from __future__ import annotations

import collections
import math
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from plastix._errors import StepInputError

if TYPE_CHECKING:
    from .binding import Binding

_WHO = "Monitor"
#: Default memory bound of one monitor's records.
DEFAULT_MAX_BYTES = 64 * 2**20
#: Bookkeeping per variable and record (the array object, the deque slot), roughly.
OVERHEAD_BYTES = 100


class Monitor:
    """Record ``variables`` of ``target`` every ``every`` steps (see the module docstring).

    >>> import numpy as np, plastix as px
    >>> syn = px.Learner("norse_stdp").bind(np.full((2, 3), 0.5, np.float32))
    >>> mon = px.Monitor(syn, ["weight", "x_pre", "dw"], every=2, indices={"weight": (0, 1)})
    >>> syn.run(np.ones((4, 1, 3)), np.ones((4, 1, 2)))
    >>> mon.steps
    array([2, 4])
    >>> mon["weight"].shape, mon["x_pre"].shape, mon["dw"].shape
    ((2,), (2, 1, 3), (2, 2, 3))

    ``target``: a :class:`~plastix.Binding` or a :mod:`plastix.torch` module or hook (the
    monitor follows it when it rebuilds its binding, as on ``.to(device)``); ``variables``:
    array names of the binding (``syn.arrays``) and changes (``"dw"``, ``"d<name>"``);
    ``indices``: per variable, an index applied to the array as ``array[index]`` (a tuple of
    ints, slices or index lists; default: all of it); ``capacity``: the most records kept;
    ``max_bytes``: the memory bound from which ``capacity`` is derived when not given.
    """

    def __init__(self, target: Any, variables: Iterable[str], *, every: int = 1,
                 indices: Mapping[str, Any] | None = None, capacity: int | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if isinstance(variables, str):
            variables = [variables]
        self.variables = list(dict.fromkeys(variables))
        if not self.variables or not all(isinstance(v, str) for v in self.variables):
            raise StepInputError(_WHO, "variables", "a non-empty list of array names",
                                 repr(variables))
        self.every = _positive(every, "every")
        self.indices = dict(indices or {})
        stray = sorted(set(self.indices) - set(self.variables))
        if stray:
            raise StepInputError(_WHO, "indices", f"indices of recorded variables "
                                 f"({self.variables})", repr(stray[0]))
        self._capacity = None if capacity is None else _positive(capacity, "capacity")
        self.max_bytes = _positive(max_bytes, "max_bytes")
        self.binding: Binding | None = None
        self.dropped = 0
        self._warned = False
        self._steps: collections.deque[int] = collections.deque()
        self._records: dict[str, collections.deque[Any]] = {}
        self._shapes: dict[str, tuple[int, ...]] = {}
        self._seen: dict[str, Any] = {}  # changes seen in the step under way
        self._observers: dict[str, Any] = {}
        self.dt = 1.0
        attach = getattr(target, "_attach_monitor", None)
        if callable(attach):
            attach(self)  # a plastix.torch module or hook: it calls _follow with its binding
        else:
            from .binding import Binding

            if not isinstance(target, Binding):
                raise StepInputError(_WHO, "target", "a Binding or a plastix.torch module",
                                     type(target).__name__)
            self._follow(target)

    # -- following a binding ------------------------------------------------------------------
    def _follow(self, b: Binding) -> None:
        """Record ``b`` from now on (and no longer the binding recorded so far)."""
        changes: dict[str, str] = {}
        for v in self.variables:
            if v in b.S:
                continue
            target = _change_target(v)
            changes[v] = target or ""
            if target is None or target not in b.learned or \
                    not any(s.target == target for s in b.graph.seams):
                known = sorted(b.S) + sorted("dw" if t == "weight" else f"d{t}"
                                             for t in {s.target for s in b.graph.seams})
                raise StepInputError(b.rule_name, "variables", f"names among {known}",
                                     repr(v))
        shapes = {v: self._selected_shape(b, v, b.S) for v in self.variables}
        if self.binding is not None:
            self._unfollow()
        self._check_shapes(shapes, b.batch_size)
        self.binding, self.dt = b, b.dt
        for v, target in changes.items():
            observer = self._observer(v)
            self._observers[v] = (target, observer)
            b._observe(target, observer)
        b._monitors.append(self)
        b._layout_listeners.append(self._on_layout)
        b._refresh_fast_path()
        if self._capacity is None:
            self._capacity = max(1, self.max_bytes // max(1, self.bytes_per_record))
        for v in self.variables:
            self._records.setdefault(v, collections.deque())

    def _unfollow(self) -> None:
        b = self.binding
        if b is None:
            return
        for target, observer in self._observers.values():
            b._observe(target, observer, on=False)
        self._observers.clear()
        if self in b._monitors:
            b._monitors.remove(self)
        if self._on_layout in b._layout_listeners:
            b._layout_listeners.remove(self._on_layout)
        b._refresh_fast_path()
        self.binding = None

    def close(self) -> None:
        """Stop recording (the records stay readable)."""
        self._unfollow()

    def _selected_shape(self, b: Binding, v: str, arrays: Mapping[str, Any]) -> tuple[int, ...]:
        array = arrays[v if v in arrays else _change_target(v) or v]
        try:
            return tuple(self._select(v, array).shape)
        except (IndexError, TypeError, ValueError) as exc:
            raise StepInputError(b.rule_name, f"indices[{v!r}]", f"an index of an array of "
                                 f"shape {tuple(array.shape)}",
                                 f"{self.indices[v]!r} ({exc})") from None

    def _select(self, v: str, array: Any) -> Any:
        index = self.indices.get(v)
        return array if index is None else array[index]

    def _check_shapes(self, shapes: dict[str, tuple[int, ...]], batch: int) -> None:
        for v, shape in shapes.items():
            old = self._shapes.get(v)
            if old is not None and old != shape and self._records.get(v):
                raise StepInputError(_WHO, v, f"records of shape {old} (clear() the monitor, or "
                                     "select indices that do not depend on the batch size)",
                                     f"shape {shape} at batch size {batch}")
        self._shapes.update(shapes)

    def _on_layout(self, b: Binding, layout: Any, arrays: Mapping[str, Any]) -> None:
        self._check_shapes({v: self._selected_shape(b, v, arrays) for v in self.variables},
                           layout.batch_size)

    # -- recording ----------------------------------------------------------------------------
    def _observer(self, v: str) -> Any:
        def observe(change: Any) -> None:
            b = self.binding
            if b is None or (b.t + 1) % self.every:
                return
            picked = self._select(v, change)
            seen = self._seen.get(v)
            # a second seam of the same value in this step adds; one from a step that failed
            # (and was undone) is replaced
            self._seen[v] = (b.t, seen[1] + picked if seen is not None and seen[0] == b.t
                             else b.backend.copy(picked))

        return observe

    def _after_step(self, b: Binding) -> None:
        if b.t % self.every:
            return
        if len(self._steps) >= self._capacity:  # type: ignore[operator]
            self._drop_oldest()
        self._steps.append(b.t)
        for v in self.variables:
            if v in self._observers:
                seen = self._seen.pop(v, None)
                value = seen[1] if seen is not None and seen[0] == b.t - 1 else \
                    b.backend.full(self._shapes[v], 0, _dtype(b, v))  # no seam reached
            else:
                value = b.backend.copy(self._select(v, b.S[v]))
            self._records[v].append(value)

    def _drop_oldest(self) -> None:
        self._steps.popleft()
        for records in self._records.values():
            records.popleft()
        self.dropped += 1
        if not self._warned:
            self._warned = True
            warnings.warn(f"Monitor of {self.variables}: {self._capacity} records (capacity) "
                          "are kept; older ones are being dropped", RuntimeWarning,
                          stacklevel=5)

    # -- reading ------------------------------------------------------------------------------
    @property
    def capacity(self) -> int:
        return int(self._capacity or 0)

    @property
    def bytes_per_record(self) -> int:
        """Bytes of one record: the selected entries of every variable (bookkeeping aside)."""
        b = self.binding
        itemsize = {v: np.dtype(_dtype(b, v)).itemsize if b is not None else 8
                    for v in self.variables}
        return sum(math.prod(self._shapes.get(v, ())) * itemsize[v] for v in self.variables)

    @property
    def steps(self) -> np.ndarray:
        """The step number of each record (int64), oldest first."""
        return np.asarray(self._steps, dtype=np.int64)

    @property
    def times(self) -> np.ndarray:
        """The time of each record in ms (step number times ``dt``), as Brian2's ``mon.t``."""
        return self.steps * self.dt

    def __getitem__(self, v: str) -> Any:
        """The records of ``v``, time first: an array of shape (records, \\*selected shape)
        on the binding's backend."""
        if v not in self._records:
            raise StepInputError(_WHO, "variable", f"one of {self.variables}", repr(v))
        records = self._records[v]
        b = self.binding
        if not records:
            import numpy

            return numpy.zeros((0, *self._shapes.get(v, ())))
        xp = b.backend.xp if b is not None else _namespace(records[0])
        return xp.stack(list(records))

    def numpy(self) -> dict[str, np.ndarray]:
        """Every variable's records as NumPy arrays, and ``"step"``: the step numbers."""
        from .contract import host_array

        out = {v: host_array(self[v]) for v in self.variables}
        out["step"] = self.steps
        return out

    def clear(self) -> None:
        """Forget every record (a new batch size may then change the recorded shapes)."""
        self._steps.clear()
        for records in self._records.values():
            records.clear()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._steps)

    def __repr__(self) -> str:
        return (f"<Monitor {self.variables} every={self.every} records={len(self)}"
                f"/{self.capacity}>")


def _change_target(v: str) -> str | None:
    if v == "dw":
        return "weight"
    return v[1:] if v.startswith("d") and len(v) > 1 else None


def _dtype(b: Any, v: str) -> str:
    from plastix.backends import dtype_name

    target = v if v in b.S else _change_target(v)
    return dtype_name(b.S[target].dtype)


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise StepInputError(_WHO, name, "a positive int", repr(value))
    return int(value)


def _namespace(x: Any) -> Any:
    if hasattr(x, "detach"):
        import torch

        return torch
    return np
