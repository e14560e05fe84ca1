r"""Synaptic delays in the forward pass: a ring buffer of the last presynaptic spikes.

A delay of :math:`d` ms becomes :math:`k = \mathrm{clip}(\mathrm{round}(d / \Delta t), 0,
k_{max})` whole steps, and the spike a synapse delivers at step :math:`t` is the one its
presynaptic neuron emitted at step :math:`t - k`:

.. math::

    a_{b,i,j}(t) = s_{pre,b,j}(t - k_{ij}), \qquad
    I_{b,i}(t) = \textstyle\sum_j w_{ij}\, a_{b,i,j}(t)

The buffer keeps :math:`k_{max} + 1` steps (delay 0 delivers this step's spike); steps before
the first one count as silent. Written against the backend's array namespace, so it runs on
every backend.

inferno reads its delay buffer differently in two ways: a delay between two samples takes the
older one (``rounding="ceil"`` here), and a delay outside :math:`[0, k_{max}]` silences the
synapse instead of being clamped to the edge.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from plastix._errors import StepInputError
from plastix._ops import DTYPES

from .contract import adopt, as_checked, check_allocation, out_of_memory, parse_dtype, size_text

if TYPE_CHECKING:
    from .binding import Binding

ROUNDINGS = ("round", "ceil", "floor")


class DelayLine:
    """Deliver presynaptic spikes after per-synapse delays (module docstring).

    >>> import numpy as np, plastix as px
    >>> line = px.DelayLine(max_delay=2)
    >>> delay = np.array([[0.0, 2.0]])              # (n_post, n_pre), in ms (dt = 1 ms)
    >>> line.step(np.array([[1.0, 1.0]]), delay)    # (batch, n_post, n_pre)
    array([[[1., 0.]]], dtype=float32)
    >>> _ = line.step(np.zeros((1, 2)), delay)
    >>> line.step(np.zeros((1, 2)), delay)
    array([[[0., 1.]]], dtype=float32)

    ``max_delay``: the longest delay in steps; ``dt``: the step (ms) delays are divided by;
    ``rounding``: ``"round"`` (to nearest, halves to even), ``"ceil"`` or ``"floor"``.
    """

    def __init__(self, max_delay: int, *, backend: str = "numpy", device: str | None = None,
                 dtype: str = "float32", dt: float = 1.0, rounding: str = "round") -> None:
        from plastix.backends import get_backend

        if isinstance(max_delay, bool) or not isinstance(max_delay, int | np.integer) \
                or max_delay < 0:
            raise StepInputError("DelayLine", "max_delay", "an int >= 0 (steps)",
                                 repr(max_delay))
        if rounding not in ROUNDINGS:
            raise StepInputError("DelayLine", "rounding", f"one of {list(ROUNDINGS)}",
                                 repr(rounding))
        try:
            self.dt = float(dt)
        except (TypeError, ValueError):
            self.dt = -1.0
        if not (self.dt > 0 and np.isfinite(self.dt)):
            raise StepInputError("DelayLine", "dt", "a positive finite number (ms)", repr(dt))
        self.max_delay = int(max_delay)
        self.backend = get_backend(backend, device)
        name = parse_dtype(dtype)
        if name not in DTYPES:
            raise StepInputError("DelayLine", "dtype", f"one of {list(DTYPES)}", repr(dtype))
        self.dtype = name
        self.rounding = rounding
        self.binding: Binding | None = None
        self._buffer: Any = None
        self._head = 0

    @classmethod
    def from_binding(cls, binding: Binding, max_delay: int, *, rounding: str = "round"
                     ) -> DelayLine:
        """A line on ``binding``'s backend, dtype and ``dt`` that reads its learned ``delay``
        at every step (so ``step(pre)`` needs no delays)."""
        if "delay" not in binding.learned:
            raise StepInputError(binding.rule_name, "binding", "a rule that learns 'delay'",
                                 f"learned values {sorted(binding.learned)}")
        line = cls(max_delay, backend=binding.backend.name, device=binding.backend.device,
                   dtype=binding.dtype, dt=binding.dt, rounding=rounding)
        line.binding = binding
        return line

    def steps(self, delay: Any) -> Any:
        """Delays (ms) as whole steps, rounded and clamped to ``[0, max_delay]`` (int64)."""
        be = self.backend
        xp = be.xp
        d = self._checked(delay, "delay", "float64") / self.dt
        k = getattr(xp, self.rounding)(d)
        return be.asarray(xp.clip(k, 0, self.max_delay), "int64")

    def step(self, pre: Any, delay: Any = None) -> Any:
        """Push this step's ``pre`` (batch, n_pre) and return what arrives now, of shape
        (batch, \\*delay.shape): delays are (n_post, n_pre) per synapse or (n_pre,) per input."""
        be = self.backend
        if delay is None:
            if self.binding is None:
                raise StepInputError("DelayLine", "delay", "delays (this line is not bound "
                                     "to a binding)", "nothing")
            delay = self.binding.delay
        pre = self._checked(pre, "pre", self.dtype)
        if pre.ndim != 2:
            raise StepInputError("DelayLine", "pre", "shape (batch, n_pre)",
                                 f"shape {tuple(pre.shape)}")
        k = self.steps(delay)
        if k.ndim == 0 or k.shape[-1] != pre.shape[1]:
            raise StepInputError("DelayLine", "delay", f"shape (..., {pre.shape[1]}) to match "
                                 "n_pre", f"shape {tuple(k.shape)}")
        slots = self.max_delay + 1
        if self._buffer is None:
            self._buffer = self._allocate((slots, *pre.shape))
        elif tuple(self._buffer.shape[1:]) != tuple(pre.shape):
            raise StepInputError("DelayLine", "pre", f"shape {tuple(self._buffer.shape[1:])} "
                                 "as on earlier steps (reset() to change it)",
                                 f"shape {tuple(pre.shape)}")
        self._head = (self._head + 1) % slots
        be.assign(self._buffer[self._head], pre)
        batch = be.asarray(np.arange(pre.shape[0]).reshape((-1,) + (1,) * k.ndim), "int64")
        inputs = be.asarray(np.arange(pre.shape[1]), "int64")
        return self._buffer[(self._head - k) % slots, batch, inputs]

    def _checked(self, x: Any, name: str, dtype: str) -> Any:
        """``x`` as this line's array of ``dtype``: real, finite numbers of any shape (the
        shapes are checked by the caller); a StepInputError otherwise."""
        x, _ = adopt(self.backend, "DelayLine", name, x)
        try:
            shape = tuple(x.shape) if hasattr(x, "shape") else np.shape(x)
        except ValueError as exc:  # a ragged nested list
            raise StepInputError("DelayLine", name, "a rectangular array",
                                 f"{type(x).__name__} ({exc})") from None
        return as_checked(self.backend, "DelayLine", name, x, tuple(shape), dtype,
                          binary=False)

    def _allocate(self, shape: tuple[int, ...]) -> Any:
        """The ring buffer, refused before allocating when it cannot fit."""
        need = math.prod(shape) * np.dtype(self.dtype).itemsize
        try:
            check_allocation(self.backend, "DelayLine", need, shape[1])
            return self.backend.full(shape, 0, self.dtype)
        except StepInputError:
            pass
        except (MemoryError, RuntimeError) as exc:
            if not out_of_memory(exc):
                raise
        raise StepInputError("DelayLine", "max_delay", f"a delay whose buffer fits in memory "
                             f"({shape[0]} steps of {shape[1:]} spikes)",
                             f"{self.max_delay}, needing {size_text(need)}")

    def current(self, pre: Any, weight: Any, delay: Any = None) -> Any:
        """Push ``pre`` and return the delayed input current (batch, n_post):
        :math:`I_{b,i} = \\sum_j w_{ij}\\, a_{b,i,j}`."""
        arrived = self.step(pre, delay)
        w = self.backend.asarray(weight, self.dtype)
        return self.backend.xp.sum(arrived * w, axis=-1)

    def reset(self) -> None:
        """Forget every buffered spike."""
        self._buffer = None
        self._head = 0

    def __repr__(self) -> str:
        return (f"<DelayLine max_delay={self.max_delay} dt={self.dt} rounding={self.rounding} "
                f"backend={self.backend.key}>")
