"""What recording costs per step: ``python benchmarks/monitor_cost.py [--quick]``.

One ``norse_stdp`` binding per case, stepped with the same spikes in one process, side by
side: no monitor (NumPy's unchecked fast path), a monitor of the weight and a trace every 10
steps, the same every step, a monitor of the change ``dw`` every 10 steps (the seam open, no
guard), and a seam hook (``syn.intercept``, which makes every step guarded: a copy of every
array before the step). Prints the time per step and its ratio to the unmonitored step, for a
small and a large weight, on NumPy and (when installed) PyTorch on the CPU.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np

import plastix as px

CASES: dict[str, Callable[[px.Binding], object]] = {
    "no monitor": lambda syn: None,
    "weight + x_pre every 10": lambda syn: px.Monitor(syn, ["weight", "x_pre"], every=10),
    "weight + x_pre every step": lambda syn: px.Monitor(syn, ["weight", "x_pre"]),
    "dw every 10 (seam open)": lambda syn: px.Monitor(syn, ["dw"], every=10),
    "a seam hook (guarded)": lambda syn: syn.intercept("weight", lambda dw: dw),
}


def bindings(backend: str, shape: tuple[int, int], batch: int
             ) -> tuple[dict[str, px.Binding], list[tuple[object, object]]]:
    """One binding per case (same weight and spikes), compiled and warmed up."""
    rng = np.random.default_rng(0)
    w0 = rng.uniform(0, 1, shape).astype(np.float32)
    be = px.Learner("norse_stdp", backend=backend).backend
    pool = [(be.asarray((rng.random((batch, shape[1])) < 0.05) * 1.0, "float32"),
             be.asarray((rng.random((batch, shape[0])) < 0.05) * 1.0, "float32"))
            for _ in range(8)]
    if backend == "numpy":
        pool = [(np.asarray(a), np.asarray(b)) for a, b in pool]
    out = {}
    for case, make in CASES.items():
        syn = px.Learner("norse_stdp", backend=backend).bind(w0.copy(), batch_size=batch)
        make(syn)
        for pre, post in pool:
            syn.step(pre, post)
        out[case] = syn
    return out, pool


def per_step(syns: dict[str, px.Binding], pool: list[tuple[object, object]], steps: int,
             rounds: int) -> dict[str, float]:
    """The fastest time per step of each case, the cases interleaved round by round (so
    that load from other processes falls on all of them alike)."""
    best = dict.fromkeys(syns, float("inf"))
    for _ in range(rounds):
        for case, syn in syns.items():
            t0 = time.perf_counter()
            for i in range(steps):
                pre, post = pool[i % len(pool)]
                syn.step(pre, post)
            best[case] = min(best[case], (time.perf_counter() - t0) / steps)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)  # monitors at capacity drop old records
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    steps = 20 if args.quick else 200
    shapes = [(100, 100)] if args.quick else [(100, 100), (1000, 1000)]
    backends = ["numpy"]
    try:
        px.Learner("norse_stdp", backend="torch")
        backends.append("torch")
    except px.BackendUnavailableError:
        pass
    print("| backend | weight | case | us/step | ratio |\n|---|---|---|---|---|")
    for backend in backends:
        for shape in shapes:
            syns, pool = bindings(backend, shape, 1)
            times = per_step(syns, pool, steps, 3 if args.quick else 7)
            base = times["no monitor"]
            for case, t in times.items():
                print(f"| {backend} | {shape} | {case} | {t * 1e6:.1f} | {t / base:.2f} |")

if __name__ == "__main__":
    main()
