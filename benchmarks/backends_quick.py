"""Steps per second of ``nearest_online_stdp`` (784 pre x 100 post) on NumPy and PyTorch.

Run ``python benchmarks/backends_quick.py`` (``--quick`` for a short run, ``--compile`` to
also time the generated torch step under ``torch.compile``, ``--cuda`` to add ``torch:cuda``
and CuPy when a GPU is there, ``--threads N`` to set torch's CPU threads: on a loaded machine
torch's spinning OpenMP threads can be far slower than one thread). Prints steps/s per
backend and batch size and the ratio to NumPy measured in the same run. Spike trains are drawn
once with 5 % density and converted to each backend's arrays before timing, so only the
learning step is timed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import plastix as px
from plastix.backends import get_backend

N_PRE, N_POST, RULE = 784, 100, "nearest_online_stdp"


def _sync(backend: str) -> Callable[[], None]:
    if backend.startswith("torch:cuda"):
        import torch

        return torch.cuda.synchronize
    if backend.startswith("cupy"):
        import cupy

        return cupy.cuda.Device().synchronize  # type: ignore[no-any-return]
    return lambda: None


def steps_per_second(backend: str, batch: int, steps: int, compiled: bool = False) -> float:
    """Best of three timed runs of ``steps`` steps, after a warm-up."""
    be = get_backend(backend)
    rng = np.random.default_rng(0)
    syn = px.Learner(RULE, backend=backend).bind(
        rng.uniform(0, 0.2, (N_POST, N_PRE)).astype(np.float32), batch_size=batch)
    pre = [be.asarray(rng.random((batch, N_PRE)) < 0.05, "float32") for _ in range(steps)]
    post = [be.asarray(rng.random((batch, N_POST)) < 0.05, "float32") for _ in range(steps)]
    if compiled:
        import torch

        fn = syn._compiled("step").fn  # the no-grad wrapped generated step
        syn._steps["step"] = _replace_fn(syn._steps["step"], torch.compile(fn, dynamic=False))
    sync = _sync(backend)
    for t in range(min(steps, 20)):
        syn.step(pre[t], post[t])
    sync()
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for t in range(steps):
            syn.step(pre[t], post[t])
        sync()
        best = max(best, steps / (time.perf_counter() - start))
    return best


def _replace_fn(step: Any, fn: Callable[..., None]) -> Any:
    import dataclasses

    return dataclasses.replace(step, fn=fn)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps (CI smoke run)")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--cuda", action="store_true", help="also time torch:cuda and cupy")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (default: torch's own choice)")
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    steps = 20 if args.quick else 300
    runs: list[tuple[str, str, bool]] = [("numpy", "numpy", False), ("torch", "torch", False)]
    if args.compile:
        runs.append(("torch+compile", "torch", True))
    if args.cuda:
        runs += [("torch:cuda", "torch:cuda", False), ("cupy", "cupy", False)]
    print(f"{RULE} {N_PRE}x{N_POST}, float32, {steps} steps, best of 3, "
          f"torch {torch.__version__} with {torch.get_num_threads()} CPU thread(s)")
    for batch in (1, 32):
        base = None
        for label, backend, compiled in runs:
            try:
                rate = steps_per_second(backend, batch, steps, compiled)
            except px.BackendUnavailableError as exc:
                print(f"  batch {batch:>2}  {label:<14} skipped: {exc}")
                continue
            base = rate if base is None else base
            print(f"  batch {batch:>2}  {label:<14} {rate:10.0f} steps/s   "
                  f"x{rate / base:.2f} vs numpy")


if __name__ == "__main__":
    main()
