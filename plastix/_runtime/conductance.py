r"""Diehl and Cook's (2015) excitatory layer: conductance-based input and inhibition, in mV
and ms, and Poisson trains drawn for a whole presentation at once.

Each step of ``dt``, with input conductance jumps :math:`u` (the weighted input spikes):

.. math::

    g_e &\leftarrow g_e\, e^{-dt/\tau_e} + c_e\, u, \qquad
    g_i \leftarrow g_i\, e^{-dt/\tau_i} + c_i\, w_{inh}\, (\textstyle\sum_k s_k - s) \\
    v &\leftarrow v + \tfrac{dt}{\tau_m}\big((v_{rest} - v) + g_e (E_{exc} - v)
        + g_i (E_{inh} - v)\big) \quad\text{(not while refractory)} \\
    s &= [v > v_{th} + \theta], \qquad v \leftarrow v_{reset} \text{ where } s, \qquad
    \theta \leftarrow \theta\, e^{-dt/\tau_\theta} + \theta_+ \textstyle\sum_b s

The input drives the potential towards :math:`E_{exc}` and no further, so a stronger image
cannot push a neuron past a threshold above :math:`E_{exc}`: the adaptive threshold
:math:`\theta` stays bounded. The inhibitory population of the paper (one inhibitory neuron per
excitatory one, which fires on its partner's spike and inhibits every other excitatory neuron
with weight 17) is folded into :math:`g_i`: a spike raises the inhibitory conductance of every
other neuron of its sample by ``inhibition``. :math:`c_e = (1 - e^{-dt/\tau_e})\,\tau_e/dt`
(and :math:`c_i` likewise) makes each jump deliver the same total conductance over time as the
paper's continuous decay at any ``dt``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plastix.backends._base import Backend
from plastix.backends._random import _mix, rand_bits

_TWO32 = float(2**32)


def _resolve(backend: str | Backend) -> Backend:
    from plastix.backends import get_backend

    return backend if isinstance(backend, Backend) else get_backend(backend)


def _draws(rates: Any, steps: int, seed: int, t: int, stream: int, dt: float,
           be: Backend) -> tuple[Any, Any, tuple[int, ...]]:
    """Which active inputs spike in each step (steps, n_active), the active inputs' flat
    indices, and the rates' shape."""
    if steps < 1:
        raise ValueError(f"poisson_trains: steps must be positive, got {steps}")
    xp = be.xp
    p = xp.clip(be.asarray(rates, "float64") * (dt / 1000.0), 0.0, 1.0)
    thr = be.asarray(p * _TWO32, "int64").reshape(-1)
    active = be.asarray(be.to_numpy(thr > 0).nonzero()[0], "int64")
    shape = (steps, int(active.shape[0]))
    if be.name == "numpy" and isinstance(seed, int):
        bits = rand_bits_u32(seed, t, stream, shape)
    else:
        bits = rand_bits(seed, t, stream, shape, xp=xp,
                         device=None if be.name == "numpy" else be.device)
    return bits < thr[active], active, tuple(p.shape)


def _hash32_u32(x: np.ndarray) -> np.ndarray:
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def rand_bits_u32(seed: int, t: int, stream: int, shape: tuple[int, ...]) -> np.ndarray:
    """:func:`plastix.backends._random.rand_bits` on NumPy, bit for bit, in uint32 arithmetic
    (wrapping multiplication is the masking), in place: about three times faster."""
    key = np.uint32(_mix(seed, t, stream))
    x = np.arange(math.prod(shape), dtype=np.uint32)
    x *= np.uint32(0x9E3779B1)
    x += key
    x = _hash32_u32(x)
    x ^= key
    return _hash32_u32(x).reshape(shape)


def poisson_trains(rates: Any, steps: int, *, seed: int = 0, t: int = 0, stream: int = 0,
                   dt: float = 1.0, backend: str | Backend = "numpy",
                   dtype: str = "float32") -> Any:
    """Spike trains ``(steps, *rates.shape)`` for constant ``rates`` (Hz), all steps at once.

    Each input spikes in a step with probability ``rate * dt / 1000`` (``dt`` in ms). Only the
    inputs with a positive rate draw numbers (most MNIST pixels are black), from plastix's
    counter-based generator keyed by (``seed``, ``t``, ``stream``), so the same arguments give
    the same trains on every backend.

    >>> import numpy as np
    >>> from plastix.network import poisson_trains
    >>> poisson_trains(np.array([[0.0, 1000.0]]), 3)[:, 0].tolist()
    [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]
    """
    be = _resolve(backend)
    fired, active, shape = _draws(rates, steps, seed, t, stream, dt, be)
    out = be.full((steps, math.prod(shape)), 0.0, dtype)
    if active.shape[0]:
        out[:, active] = be.asarray(fired, dtype)
    return out.reshape((steps, *shape))


def poisson_events(rates: Any, steps: int, *, seed: int = 0, t: int = 0, stream: int = 0,
                   dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The spikes of :func:`poisson_trains` (same arguments, same spikes) as NumPy index
    arrays: the step of each spike and its input's flat index into ``rates``."""
    fired, active, _ = _draws(rates, steps, seed, t, stream, dt, _resolve("numpy"))
    step, k = np.nonzero(fired)
    return step, active[k]


def _charge(dt: float, tau: float) -> float:
    return (1.0 - math.exp(-dt / tau)) * tau / dt


class ConductanceLIF:
    """Diehl and Cook's excitatory neurons (see the module's equations), ``(batch, n)``.

    Defaults are the paper's: ``tau_m`` 100 ms, ``v_rest`` = ``v_reset`` = -65 mV, ``v_th``
    -52 mV, ``e_exc`` 0 mV, ``e_inh`` -100 mV, ``tau_ge`` 1 ms, ``tau_gi`` 2 ms, ``refractory``
    5 ms, ``theta_plus`` 0.05 mV, ``tau_theta`` 1e7 ms, ``inhibition`` 17 (the weight of the
    inhibitory population onto the excitatory neurons). ``winners=1``: of the neurons above
    threshold in a step, only the one furthest above fires (the inhibition of the first spike
    arriving within the step; needed when many neurons with alike weights would otherwise
    fire together, as on small images). ``theta`` (mV, one per neuron, shared
    by the batch) survives :meth:`reset`; ``adapt = False`` freezes it, as for testing.

    >>> import numpy as np
    >>> from plastix.network import ConductanceLIF
    >>> layer = ConductanceLIF(2)
    >>> layer.step(np.array([[50.0, 0.0]])).tolist()  # -65 + 0.01 * 31.6 * 65 > -52 mV
    [[1.0, 0.0]]
    >>> round(float(layer.theta[0]), 2), round(float(layer.gi[0, 1]), 2)  # 17 * 0.787
    (0.05, 13.38)
    """

    def __init__(self, n: int, *, batch_size: int = 1, backend: str | Backend = "numpy",
                 tau_m: float = 100.0, v_rest: float = -65.0, v_reset: float = -65.0,
                 v_th: float = -52.0, e_exc: float = 0.0, e_inh: float = -100.0,
                 tau_ge: float = 1.0, tau_gi: float = 2.0, refractory: float = 5.0,
                 theta_plus: float = 0.05, tau_theta: float = 1e7, inhibition: float = 17.0,
                 winners: int | None = None, dt: float = 1.0, dtype: str = "float32") -> None:
        if n < 1 or batch_size < 1:
            raise ValueError(f"ConductanceLIF: n and batch_size must be positive, got {n}, "
                             f"{batch_size}")
        if min(tau_m, tau_ge, tau_gi, tau_theta, dt) <= 0:
            raise ValueError("ConductanceLIF: time constants and dt must be positive")
        if inhibition < 0 or theta_plus < 0:
            raise ValueError("ConductanceLIF: inhibition and theta_plus must be >= 0")
        if winners not in (None, 1):
            raise ValueError(f"ConductanceLIF: winners must be 1 or None, got {winners!r}")
        self.winners = winners
        self.backend = _resolve(backend)
        self.n, self.batch_size, self.dtype = n, batch_size, dtype
        self.k_m = dt / tau_m
        self.decay_ge, self.decay_gi = math.exp(-dt / tau_ge), math.exp(-dt / tau_gi)
        self.c_e = _charge(dt, tau_ge)
        self.c_i = _charge(dt, tau_gi) * inhibition
        self.theta_decay = math.exp(-dt / tau_theta)
        self.v_rest, self.v_reset, self.v_th = v_rest, v_reset, v_th
        self.e_exc, self.e_inh = e_exc, e_inh
        self.refractory_steps = float(round(refractory / dt))
        self.theta_plus = theta_plus
        self.adapt = True
        self.theta = self.backend.full((n,), 0.0, dtype)
        self.reset()

    def reset(self) -> None:
        """Potentials to rest, conductances and refractory counters cleared (the rest
        between two images); ``theta`` is kept."""
        be, shape = self.backend, (self.batch_size, self.n)
        self.v = be.full(shape, self.v_rest, self.dtype)
        self.ge = be.full(shape, 0.0, self.dtype)
        self.gi = be.full(shape, 0.0, self.dtype)
        self.refr = be.full(shape, 0.0, self.dtype)

    def step(self, drive: Any) -> Any:
        """One step with input conductance jumps ``drive`` (batch, n); returns the spikes
        (0/1 in the layer's dtype)."""
        xp = self.backend.xp
        self.ge = self.ge * self.decay_ge + self.c_e * drive
        v = self.v
        dv = (self.v_rest - v) + self.ge * (self.e_exc - v) + self.gi * (self.e_inh - v)
        v = xp.where(self.refr <= 0, v + self.k_m * dv, v)
        margin = v - (self.v_th + self.theta)
        fired = margin > 0
        if self.winners == 1:  # the inhibition acts within the step: only the first fires
            fired = fired & (margin >= xp.amax(margin, axis=1, keepdims=True))
        spikes = self.backend.asarray(fired, self.dtype)
        self.v = xp.where(fired, self.v_reset, v)
        self.refr = xp.where(fired, self.refractory_steps, self.refr - 1.0)
        others = xp.sum(spikes, axis=1, keepdims=True) - spikes
        self.gi = self.gi * self.decay_gi + self.c_i * others
        if self.adapt:
            self.theta = self.theta * self.theta_decay + self.theta_plus * xp.sum(spikes, axis=0)
        return spikes
