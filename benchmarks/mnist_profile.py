"""Where a training step of ``plastix demo --dataset mnist`` spends its time.

``python -m benchmarks.mnist_profile [--neurons 100] [--batch 16] [--steps 350]``: one
presentation of a batch of MNIST-like images (19 % of the pixels lit, as in MNIST), timed part
by part: drawing the Poisson trains, the input conductance (``pre @ W.T``), the neurons, and
the rule's step (``nearest_online_stdp`` with its per-step row normalisation). Prints
microseconds per step and the images per second they add up to. No dataset needed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import plastix as px
from plastix.network import ConductanceLIF, poisson_trains


def profile(neurons: int, batch: int, steps: int, rounds: int = 3) -> dict[str, float]:
    rng = np.random.default_rng(0)
    images = rng.random((batch, 784)) * (rng.random((batch, 784)) < 0.19)
    w0 = rng.uniform(0, 0.3, (neurons, 784)).astype(np.float32)
    syn = px.Learner("nearest_online_stdp", Apost=1e-2, Apre=1e-4, w_norm=78.4).bind(
        w0, batch_size=batch)
    layer = ConductanceLIF(neurons, batch_size=batch, tau_theta=3e5)
    best: dict[str, float] = {}
    for r in range(rounds):
        t = {"poisson trains": 0.0, "input conductance": 0.0, "neurons": 0.0, "rule": 0.0}
        t0 = time.perf_counter()
        trains = poisson_trains(images * 63.75, steps, t=r)
        t["poisson trains"] = time.perf_counter() - t0
        for k in range(steps):
            a = time.perf_counter()
            drive = trains[k] @ syn.weight.T
            b = time.perf_counter()
            post = layer.step(drive)
            c = time.perf_counter()
            syn.step(trains[k], post)
            d = time.perf_counter()
            t["input conductance"] += b - a
            t["neurons"] += c - b
            t["rule"] += d - c
        best = {k: min(v, best.get(k, v)) for k, v in t.items()}
    return {k: 1e6 * v / steps for k, v in best.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.mnist_profile",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--neurons", type=int, default=100)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=350)
    args = ap.parse_args(argv)
    parts = profile(args.neurons, args.batch, args.steps)
    total = sum(parts.values())
    for name, us in parts.items():
        print(f"{name:18s} {us:8.1f} us/step  {us / total:5.1%}")
    print(f"{'total':18s} {total:8.1f} us/step  -> {args.batch / (total * args.steps * 1e-6):.0f} "
          f"training images/s (batch {args.batch}, {args.steps} steps)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
