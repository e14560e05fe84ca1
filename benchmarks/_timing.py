"""Timing in turns: every contender of one measurement runs once per round, all in the same
round, so that load from other processes hits them alike; each keeps its median over rounds.

A contender is a callable ``step(k)`` that runs one step on the ``k``-th spike pattern of a
pool; every contender cycles through the same pool in the same order, a whole number of times
per round, so all of them see the same mix of patterns.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

Step = Callable[[int], None]


def per_call(step: Step, calls: int, start: int = 0, pool: int = 1) -> float:
    """Seconds per call of ``calls`` calls of ``step`` on patterns ``start, start+1, ...``
    (modulo ``pool``)."""
    t0 = time.perf_counter()
    for i in range(start, start + calls):
        step(i % pool)
    return (time.perf_counter() - t0) / calls


def calls_for(step: Step, seconds: float, pool: int, most: int = 100_000) -> int:
    """How many calls of ``step`` (a multiple of ``pool``, at least one pool) take about
    ``seconds``, judged from one pass over the pool."""
    probe = per_call(step, pool, pool=pool)
    passes = max(1, round(seconds / max(probe * pool, 1e-9)))
    return min(passes * pool, max(pool, most - most % pool))


def in_turns(steps: dict[str, Step], pool: int, budget: float,
             rounds: int = 5) -> dict[str, list[float]]:
    """Time every contender ``rounds`` times in turns; about ``budget`` seconds each in all.

    Each is warmed up first (one pass over the pool: scratch buffers, first-step clamps,
    lazy imports), then called a fixed number of times per round. Returns each contender's
    seconds per step in every round.
    """
    calls = {}
    for name, step in steps.items():
        per_call(step, pool, pool=pool)  # warm-up
        calls[name] = calls_for(step, budget / rounds, pool)
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            samples[name].append(per_call(step, calls[name], pool=pool))
    return samples


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def ratio(mine: list[float], other: list[float]) -> float:
    """The median over rounds of the per-round ratio ``mine / other``: load that changes
    from one round to the next cancels, as both were timed in the same round."""
    return median([a / b for a, b in zip(mine, other, strict=True)])


def fmt_us(seconds: float | None) -> str:
    """Microseconds, with the digits that mean something on a shared machine."""
    if seconds is None:
        return "-"
    us = seconds * 1e6
    return f"{us:,.1f}" if us < 10 else f"{us:,.0f}"
