r"""Small spiking-network pieces that run on every backend: a seeded Poisson encoder, a
leaky integrate-and-fire layer with adaptive thresholds, and lateral inhibition.

They are the network around a plasticity rule in ``plastix demo`` and in
:class:`plastix.STDPTrainer`, and are meant for users' own experiments. Arrays are batch first,
``(batch, n)``, on the backend chosen by name; everything is written against the backend's
array namespace, and random numbers come from plastix's counter-based generator, so the same
seed gives the same spikes on NumPy, PyTorch and CuPy.

The layer is dimensionless and current based (``v_rest`` = 0, threshold 1 by default), with
each time step of ``dt``:

.. math::

    v &\leftarrow v_{rest} + (v - v_{rest})\, e^{-dt/\tau_m} + I
        \quad\text{(not while refractory)} \\
    s &= [v \ge v_{th} + \theta] \\
    v &\leftarrow v_{reset} \text{ where } s, \qquad
    \theta \leftarrow \theta\, e^{-dt/\tau_\theta} + \theta_+ \textstyle\sum_b s

:math:`\theta` is Diehl and Cook's (2015) adaptive threshold: each spike raises its neuron's
threshold, so no neuron wins every input. :class:`LateralInhibition` stands for their
inhibitory population: a spike lowers every other neuron's potential by ``strength``, and with
``winners=1`` at most one neuron (the one furthest above threshold) fires per step.

:class:`ConductanceLIF` and :func:`poisson_trains` are the paper's network as it was
published (conductance-based input and inhibition in mV and ms, whole presentations drawn at
once), used by ``plastix demo --dataset mnist``.

Reference: Diehl, P. U. and Cook, M. (2015). Unsupervised learning of digit recognition using
spike-timing-dependent plasticity. *Front. Comput. Neurosci.* 9:99.
"""

from __future__ import annotations

import math
from typing import Any

from plastix.backends import get_backend
from plastix.backends._base import Backend
from plastix.backends._random import rand_bits

_TWO32 = float(2**32)


def resolve_backend(backend: str | Backend) -> Backend:
    """A backend object from a name such as ``"numpy"`` or ``"torch:cuda"`` (or itself)."""
    return backend if isinstance(backend, Backend) else get_backend(backend)


class PoissonEncoder:
    """Rate coding: each input spikes in a step with probability ``rate * dt``.

    ``rates`` are in Hz and ``dt`` in ms. Draws are a pure function of (seed, step, stream),
    counted by the encoder, so two encoders with one seed give the same trains on any backend.

    >>> import numpy as np
    >>> from plastix.network import PoissonEncoder
    >>> enc = PoissonEncoder(seed=1)
    >>> s = enc(np.full((2, 5), 1000.0))   # 1 kHz with dt = 1 ms: always spikes
    >>> s.tolist()
    [[1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0]]
    """

    def __init__(self, backend: str | Backend = "numpy", *, seed: int = 0, dt: float = 1.0,
                 dtype: str = "float32", stream: int = 0) -> None:
        self.backend = resolve_backend(backend)
        self.seed, self.dt, self.dtype, self.stream = int(seed), float(dt), dtype, int(stream)
        self.t = 0

    def thresholds(self, rates: Any) -> Any:
        """Integer thresholds on the 32-bit draws for ``rates`` (Hz): reuse them when the
        rates stay the same over many steps."""
        be = self.backend
        p = be.asarray(rates, "float64") * (self.dt / 1000.0)
        p = be.xp.clip(p, 0.0, 1.0)
        return be.asarray(p * _TWO32, "int64")

    def __call__(self, rates: Any = None, *, thresholds: Any = None) -> Any:
        """One step of spikes (0/1 in ``dtype``) for ``rates`` in Hz (or ready thresholds)."""
        be = self.backend
        thr = self.thresholds(rates) if thresholds is None else thresholds
        bits = rand_bits(self.seed, self.t, self.stream, tuple(thr.shape), xp=be.xp,
                         device=None if be.name == "numpy" else be.device)
        self.t += 1
        return be.asarray(bits < thr, self.dtype)


class AdaptiveLIF:
    """A layer of ``n`` leaky integrate-and-fire neurons with adaptive thresholds.

    ``tau_m`` (ms): membrane time constant; ``v_rest``, ``v_reset``, ``v_th``: potentials in
    threshold units; ``refractory`` (ms): time after a spike during which input is ignored;
    ``theta_plus``: threshold increase per spike; ``tau_theta`` (ms): decay of the threshold
    increase (Diehl and Cook: 1e7 ms, effectively none); ``adapt``: whether spikes raise
    :math:`\\theta` (switch it off to test a trained network). ``theta`` has one value per
    neuron, shared by the batch, and is kept by :meth:`reset`.
    """

    def __init__(self, n: int, *, batch_size: int = 1, backend: str | Backend = "numpy",
                 tau_m: float = 100.0, v_rest: float = 0.0, v_reset: float = 0.0,
                 v_th: float = 1.0, refractory: float = 5.0, theta_plus: float = 0.05,
                 tau_theta: float = 1e7, dt: float = 1.0, dtype: str = "float32") -> None:
        if n < 1 or batch_size < 1:
            raise ValueError(f"AdaptiveLIF: n and batch_size must be positive, got {n}, "
                             f"{batch_size}")
        if tau_m <= 0 or tau_theta <= 0 or dt <= 0:
            raise ValueError("AdaptiveLIF: tau_m, tau_theta and dt must be positive")
        self.backend = resolve_backend(backend)
        self.n, self.batch_size, self.dtype = n, batch_size, dtype
        self.decay = math.exp(-dt / tau_m)
        self.theta_decay = math.exp(-dt / tau_theta)
        self.v_rest, self.v_reset, self.v_th = v_rest, v_reset, v_th
        self.refractory_steps = round(refractory / dt)
        self.theta_plus = theta_plus
        self.adapt = True
        self.theta = self.backend.full((n,), 0.0, dtype)
        self.reset()

    def reset(self) -> None:
        """Potentials to rest, refractory counters cleared; thresholds are kept."""
        be = self.backend
        self.v = be.full((self.batch_size, self.n), self.v_rest, self.dtype)
        self.refr = be.full((self.batch_size, self.n), 0.0, self.dtype)

    def integrate(self, current: Any) -> Any:
        """Leak and add ``current`` (batch, n); returns how far each neuron is above its
        threshold (>= 0 means it may fire)."""
        if not self.backend.is_native(current):  # host data: converted once, here
            current = self.backend.asarray(current, self.dtype)
        open_ = self.refr <= 0
        leaked = self.v_rest + (self.v - self.v_rest) * self.decay
        self.v = self.backend.xp.where(open_, leaked + current, self.v)
        return self.v - (self.theta + self.v_th)

    def fire(self, spikes: Any) -> None:
        """Reset the neurons in ``spikes`` (0/1, batch x n) and adapt their thresholds."""
        xp = self.backend.xp
        fired = spikes > 0
        self.v = xp.where(fired, self.v_reset, self.v)
        self.refr = xp.where(fired, float(self.refractory_steps), self.refr - 1.0)
        if self.adapt:
            self.theta = self.theta * self.theta_decay + self.theta_plus * xp.sum(spikes, axis=0)

    def step(self, current: Any, inhibition: LateralInhibition | None = None) -> Any:
        """One time step: integrate, choose the spikes (through ``inhibition`` if given),
        reset and adapt. Returns the spikes (batch, n) as 0/1 in the layer's dtype."""
        margin = self.integrate(current)
        if inhibition is not None:
            spikes = inhibition.select(margin, self)
        else:
            spikes = self.backend.asarray(margin >= 0, self.dtype)
        self.fire(spikes)
        return spikes


class LateralInhibition:
    """Inhibition among the neurons of one layer (Diehl and Cook's inhibitory population).

    Of the neurons above threshold, at most ``winners`` per sample fire (the furthest above;
    ``winners=None``: all of them); each spike then lowers the potential of every other neuron
    of its sample by ``strength`` (threshold units), never below ``floor``.
    """

    def __init__(self, strength: float = 1.0, *, winners: int | None = 1,
                 floor: float | None = None) -> None:
        if strength < 0:
            raise ValueError(f"LateralInhibition: strength must be >= 0, got {strength}")
        if winners is not None and winners != 1:
            raise ValueError("LateralInhibition: winners must be 1 or None")
        self.strength, self.winners, self.floor = strength, winners, floor

    def select(self, margin: Any, layer: AdaptiveLIF) -> Any:
        be = layer.backend
        xp = be.xp
        above = margin >= 0
        if self.winners == 1:
            masked = xp.where(above, margin, -math.inf)
            top = xp.amax(masked, axis=1, keepdims=True)
            above = above & (masked >= top)
        spikes = be.asarray(above, layer.dtype)
        if self.strength > 0:
            others = xp.sum(spikes, axis=1, keepdims=True) - spikes
            v = layer.v - self.strength * others
            if self.floor is not None:
                v = xp.clip(v, self.floor, None)  # torch.maximum takes no Python float
            layer.v = v
        return spikes


from plastix._runtime.conductance import (  # noqa: E402
    ConductanceLIF,
    poisson_events,
    poisson_trains,
)

__all__ = ["AdaptiveLIF", "ConductanceLIF", "LateralInhibition", "PoissonEncoder",
           "poisson_events", "poisson_trains", "resolve_backend"]
