"""Data-parallel STDP on Poisson-coded digits: every process learns from its own samples.

    torchrun --standalone --nproc_per_node=2 examples/distributed_digits.py
    torchrun --standalone --nproc_per_node=2 examples/distributed_digits.py --quick   # CI

Ten post neurons learn ten digit classes with nearest-spike STDP (SPAIC's
``nearest_online_stdp``): while a sample is shown, its pixels fire Poisson spikes at a rate
proportional to their intensity, and the post neuron of its label fires as a teacher. Each
process takes its own share of the samples in batches of ``--batch``; ``plastix.distributed``
all-reduces every step's weight change, so all processes hold the same weights, those of one
process with the whole batch. At the end rank 0 classifies held-out samples by the post
neuron whose weights best match each input (the argmax of ``W x``).

The digits are scikit-learn's 8x8 digits when scikit-learn is installed, otherwise ten random
8x8 prototypes with pixel noise. Run with plain ``python`` it learns alone (one process).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import plastix as px


def digits(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (n, 64) with intensities in [0, 1], and their labels."""
    try:
        from sklearn.datasets import load_digits

        data = load_digits()
        idx = rng.permutation(len(data.target))[:n]
        return data.data[idx] / 16.0, data.target[idx]
    except ImportError:
        protos = (np.random.default_rng(0).random((10, 64)) < 0.3).astype(float)
        labels = rng.integers(0, 10, n)
        noisy = np.clip(protos[labels] + rng.normal(0, 0.2, (n, 64)), 0, 1)
        return noisy, labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=1024, help="training samples in total")
    ap.add_argument("--batch", type=int, default=16, help="samples per process per step")
    ap.add_argument("--steps", type=int, default=25, help="time steps a sample is shown")
    ap.add_argument("--quick", action="store_true", help="a short run (CI)")
    args = ap.parse_args()
    if args.quick:
        args.samples, args.steps = 128, 10

    rng = np.random.default_rng(1)  # the same data on every process
    x, y = digits(rng, args.samples + 300)
    x_train, y_train, x_test, y_test = x[:args.samples], y[:args.samples], \
        x[args.samples:], y[args.samples:]

    w0 = np.random.default_rng(2).uniform(0.0, 0.1, (10, 64)).astype(np.float32)
    stdp = px.Learner("nearest_online_stdp", Apost=1e-2, Apre=1e-4, w_norm=6.4)
    syn = stdp.bind(w0, batch_size=args.batch)

    distributed = "WORLD_SIZE" in os.environ
    rank, world = 0, 1
    dp = None
    if distributed:
        dp = px.distributed.data_parallel(syn)  # torchrun's environment: gloo on the CPU
        rank, world = dp.rank, dp.world_size
    per_step = args.batch * world  # every process must take as many steps as the others
    mine = np.arange(args.samples // per_step) * per_step + rank * args.batch

    spikes = np.random.default_rng(100 + rank)  # each process draws its own spikes
    t0 = time.perf_counter()
    for start in mine:
        xs = x_train[start:start + args.batch]
        teacher = np.eye(10, dtype=np.float32)[y_train[start:start + args.batch]]
        for _ in range(args.steps):
            pre = (spikes.random(xs.shape) < 0.2 * xs).astype(np.float32)
            post = (spikes.random(teacher.shape) < 0.2 * teacher).astype(np.float32)
            syn.step(pre, post)
        syn.reset()  # traces do not carry from one batch of samples to the next
    seconds = time.perf_counter() - t0

    if distributed:
        import torch
        import torch.distributed as dist

        sums = [torch.zeros(1, dtype=torch.float64) for _ in range(world)]
        dist.all_gather(sums, torch.tensor([float(np.abs(syn.weight).sum())],
                                           dtype=torch.float64))
        same = all(float(s) == float(sums[0]) for s in sums)
    if rank == 0:
        accuracy = float(np.mean(np.argmax(x_test @ syn.weight.T, axis=1) == y_test))
        steps = len(mine) * args.steps
        print(f"{world} process(es), {len(mine) * args.batch * world} samples, "
              f"{steps} steps of batch {args.batch} per process")
        print(f"test accuracy (argmax of W x): {accuracy:.3f} (chance 0.1)")
        print(f"{1e3 * seconds / max(steps, 1):.3f} ms per step", end="")
        if dp is not None:
            print(f", of which all-reduce {1e3 * dp.reduce_seconds / max(steps, 1):.3f} ms; "
                  f"weights identical on every process: {same}")
        else:
            print()
    if distributed:
        dist.barrier()  # nobody tears the group down while another process still prints
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
