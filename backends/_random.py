"""A counter-based random number generator written once against any array namespace.

Every backend must draw the same numbers for the same seed (the agreement tests compare
integer rules with stochastic rounding bit for bit), so plastix does not use the libraries' own
generators. Each draw hashes (seed, step, stream, element index) with the ``lowbias32``
integer hash of C. Wellons (public domain; two multiply-xorshift rounds), computed in int64
arithmetic masked to 32 bits so that NumPy, PyTorch and CuPy give identical bits. The
generator's whole state is the binding's random seed (``seed``) and its step counter, so a
saved binding resumes its random stream exactly.
"""

from __future__ import annotations

import math
from typing import Any

_MASK = 0xFFFFFFFF


def _hash32(x: Any) -> Any:
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & _MASK
    x = x ^ (x >> 15)
    x = (x * 0x846CA68B) & _MASK
    return x ^ (x >> 16)


def _mix(*words: int) -> int:
    """Hash Python ints into one 32-bit key (scalar path of the same hash)."""
    h = 0x9E3779B9
    for w in words:
        h = _hash32((h ^ (w & _MASK)) & _MASK)
        h = _hash32((h + ((w >> 32) & _MASK)) & _MASK)
    return int(h)


def rand_bits(seed: int, t: int, stream: int, shape: tuple[int, ...], *, xp: Any,
              device: Any = None) -> Any:
    """Uniform integers in ``[0, 2**32)`` as int64, a pure function of its arguments."""
    key = _mix(seed, t, stream)
    n = math.prod(shape)
    # a data-parallel binding draws at its samples' places in the global batch
    first = seed.element_offset(stream) if hasattr(seed, "element_offset") else 0
    if device is None:
        idx = xp.arange(first, first + n, dtype=xp.int64)
    else:
        idx = xp.arange(first, first + n, dtype=xp.int64, device=device)
    x = _hash32((idx * 0x9E3779B1 + key) & _MASK)
    return _hash32(x ^ key).reshape(shape)
