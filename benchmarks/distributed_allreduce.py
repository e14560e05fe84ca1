"""What data-parallel learning costs per step: the all-reduce against the step itself.

    torchrun --standalone --nproc_per_node=2 benchmarks/distributed_allreduce.py
    torchrun --standalone --nproc_per_node=2 benchmarks/distributed_allreduce.py --quick

Each process binds ``--rule`` to a (``--post``, ``--pre``) weight with ``--batch`` samples and
steps it with Poisson spikes (drawn before timing), first alone (no hooks: the step itself,
while the other process does the same), then under ``plastix.distributed.data_parallel``
(the step including its all-reduce; the all-reduce alone is timed inside the hook). A bare
``torch.distributed.all_reduce`` of a weight-sized tensor is timed too, and one process
stepping the whole global batch (rank 0, while the others wait). Rank 0 prints the
medians over ``--repeats`` blocks of ``--steps`` steps, in milliseconds per step.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.distributed as dist

import plastix as px


def per_step(fn: object, steps: int, repeats: int) -> float:
    """Median over ``repeats`` blocks of the milliseconds per call of ``fn(i)``."""
    times = []
    for _ in range(repeats):
        dist.barrier()
        t0 = time.perf_counter()
        for i in range(steps):
            fn(i)  # type: ignore[operator]
        times.append((time.perf_counter() - t0) / steps)
    return 1e3 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rule", default="nearest_online_stdp")
    ap.add_argument("--pre", type=int, default=784)
    ap.add_argument("--post", type=int, default=400)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.steps, args.repeats = 5, 2
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()

    rng = np.random.default_rng(rank)
    pre = (rng.random((args.steps, args.batch, args.pre)) < 0.05).astype(np.float32)
    post = (rng.random((args.steps, args.batch, args.post)) < 0.05).astype(np.float32)
    w = np.random.default_rng(0).uniform(0, 0.2, (args.post, args.pre)).astype(np.float32)
    learner = px.Learner(args.rule)

    alone = learner.bind(w.copy(), batch_size=args.batch)
    alone.step(pre[0], post[0])  # compile outside the timing
    t_alone = per_step(lambda i: alone.step(pre[i], post[i]), args.steps, args.repeats)

    syn = learner.bind(w.copy(), batch_size=args.batch)
    dp = px.distributed.data_parallel(syn)
    syn.step(pre[0], post[0])
    dp.reduce_seconds, dp.reductions = 0.0, 0
    t_dp = per_step(lambda i: syn.step(pre[i], post[i]), args.steps, args.repeats)
    t_reduce = 1e3 * dp.reduce_seconds / max(dp.reductions, 1)

    t_global = float("nan")  # one process with the whole batch, for comparison
    whole = learner.bind(w.copy(), batch_size=args.batch * world)
    big_pre, big_post = np.concatenate([pre] * world, 1), np.concatenate([post] * world, 1)
    whole.step(big_pre[0], big_post[0])
    dist.barrier()
    if rank == 0:
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for i in range(args.steps):
                whole.step(big_pre[i], big_post[i])
            times.append((time.perf_counter() - t0) / args.steps)
        t_global = 1e3 * statistics.median(times)
    dist.barrier()

    buf = torch.zeros(args.post, args.pre)
    t_bare = per_step(lambda i: dist.all_reduce(buf), args.steps, args.repeats)

    if rank == 0:
        mb = buf.numel() * buf.element_size() / 2**20
        print(f"rule {args.rule}, weight {args.post}x{args.pre} float32 ({mb:.2f} MiB), "
              f"batch {args.batch} per process, {world} processes (gloo), "
              f"torch {torch.__version__}, {torch.get_num_threads()} thread(s) per process")
        print(f"step alone (no hooks)        {t_alone:8.3f} ms")
        print(f"step with data_parallel      {t_dp:8.3f} ms")
        print(f"  of which the all-reduce    {t_reduce:8.3f} ms (mean, timed in the hook)")
        print(f"bare all_reduce of the weight {t_bare:7.3f} ms")
        print(f"one process, batch {args.batch * world} (alone)  {t_global:8.3f} ms")
        print(f"overhead: {t_dp / t_alone:.2f}x the step alone; the global batch is "
              f"{args.batch * world}")
    dist.barrier()  # nobody tears down while another still prints
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
