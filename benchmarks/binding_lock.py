"""What the per-binding lock costs a step: ``Binding.step`` with its lock against the same
binding with the lock replaced by a no-op context manager, timed side by side in one run.

Run ``python benchmarks/binding_lock.py`` (``--quick`` for a short run). Small weights show
the fixed cost per call (where a lock would matter most), large ones that it vanishes. Prints
ns per step for both and the difference; rounds alternate between the two so that a loaded
machine slows both alike.
"""

from __future__ import annotations

import argparse
import contextlib
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


def measure(n_post: int, n_pre: int, steps: int, rounds: int) -> tuple[float, float]:
    """Best ns per step with the lock and without it (fast path: NumPy 0/1 float32)."""
    rng = np.random.default_rng(0)
    syn = px.Learner("nearest_online_stdp").bind(
        rng.uniform(0, 0.2, (n_post, n_pre)).astype(np.float32))
    pre = [(rng.random((1, n_pre)) < 0.05).astype(np.float32) for _ in range(steps)]
    post = [(rng.random((1, n_post)) < 0.05).astype(np.float32) for _ in range(steps)]
    lock, nolock = syn._lock, contextlib.nullcontext()
    _ns_per_step(syn, pre, post)  # warm-up: compile, caches
    best = {"lock": float("inf"), "none": float("inf")}
    for _ in range(rounds):
        for kind, obj in (("lock", lock), ("none", nolock)):
            syn._lock = obj
            best[kind] = min(best[kind], _ns_per_step(syn, pre, post))
    syn._lock = lock
    return best["lock"], best["none"]


def raw_lock_ns(calls: int = 200_000) -> float:
    """ns of one uncontended ``with threading.RLock():``, for reference."""
    lock = threading.RLock()
    start = time.perf_counter()
    for _ in range(calls):
        with lock:
            pass
    return (time.perf_counter() - start) / calls * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and rounds")
    args = parser.parse_args()
    steps, rounds = (500, 3) if args.quick else (3000, 7)
    print(f"uncontended RLock acquire+release: {raw_lock_ns():.0f} ns")
    print(f"{'weight':>12} {'with lock':>12} {'without':>12} {'cost':>10}")
    for n_post, n_pre in SIZES:
        locked, bare = measure(n_post, n_pre, steps, rounds)
        print(f"{f'{n_post}x{n_pre}':>12} {locked:>9.0f} ns {bare:>9.0f} ns "
              f"{locked - bare:>+7.0f} ns ({(locked / bare - 1) * 100:+.1f} %)")


if __name__ == "__main__":
    main()
