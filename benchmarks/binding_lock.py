"""What the per-binding lock costs a step: ``Binding.step`` with its lock against the same
binding with the lock replaced by a no-op context manager, timed side by side in one run.

Run ``python benchmarks/binding_lock.py`` (``--quick`` for a short run). Small weights show
the fixed cost per call (where a lock would matter most), large ones that it vanishes. Prints
the median ns per step of both and the median of the per-round ratios; each round times both,
in alternating order, so that load that changes between rounds cancels in the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import threading
import time
from typing import Any

import numpy as np

import plastix as px

SIZES = [(4, 4), (100, 100), (100, 784)]


def _ns_per_step(syn: Any, pre: list[np.ndarray], post: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for p, q in zip(pre, post, strict=True):
        syn.step(p, q)
    return (time.perf_counter() - start) / len(pre) * 1e9


def measure(n_post: int, n_pre: int, steps: int, rounds: int) -> tuple[float, float, float]:
    """Median ns per step with the lock and without it, and the median of the per-round
    ratios (fast path: NumPy 0/1 float32 spikes). Each round times both, in alternating
    order, so that load which changes between rounds cancels in the ratio."""
    rng = np.random.default_rng(0)
    syn = px.Learner("nearest_online_stdp").bind(
        rng.uniform(0, 0.2, (n_post, n_pre)).astype(np.float32))
    pre = [(rng.random((1, n_pre)) < 0.05).astype(np.float32) for _ in range(steps)]
    post = [(rng.random((1, n_post)) < 0.05).astype(np.float32) for _ in range(steps)]
    lock, nolock = syn._lock, contextlib.nullcontext()
    _ns_per_step(syn, pre, post)  # warm-up: compile, caches
    locked, bare, ratios = [], [], []
    for r in range(rounds):
        timed = {}
        for kind in (("lock", "none") if r % 2 else ("none", "lock")):
            syn._lock = lock if kind == "lock" else nolock
            timed[kind] = _ns_per_step(syn, pre, post)
        locked.append(timed["lock"])
        bare.append(timed["none"])
        ratios.append(timed["lock"] / timed["none"])
    syn._lock = lock
    return statistics.median(locked), statistics.median(bare), statistics.median(ratios)


def raw_lock_ns(calls: int = 200_000, rounds: int = 7) -> float:
    """ns one uncontended ``with threading.RLock():`` adds to an empty loop (best of
    ``rounds``): the whole cost the lock adds to a step."""
    lock = threading.RLock()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            pass
        empty = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(calls):
            with lock:
                pass
        best = min(best, (time.perf_counter() - start - empty) / calls * 1e9)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and rounds")
    args = parser.parse_args()
    steps, rounds = (300, 5) if args.quick else (1000, 21)
    print(f"uncontended RLock acquire+release (over an empty loop): {raw_lock_ns():.0f} ns")
    print(f"{'weight':>12} {'with lock':>12} {'without':>12} {'median ratio':>13}")
    for n_post, n_pre in SIZES:
        locked, bare, ratio = measure(n_post, n_pre, steps, rounds)
        print(f"{f'{n_post}x{n_pre}':>12} {locked:>9.0f} ns {bare:>9.0f} ns "
              f"{ratio:>12.3f} ({(ratio - 1) * 100:+.1f} %)")


if __name__ == "__main__":
    main()
