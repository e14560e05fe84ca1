"""One process of the data-parallel tests (tests/test_distributed.py starts two of them).

Run as ``python tests/_dp_worker.py MODE OUT_DIR`` with torchrun's environment variables set
(``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) and the backend in ``DP_BACKEND``
(default numpy); writes ``rank<r>.json`` to OUT_DIR.

* ``main``: for every registered rule, 2 ranks with batch 4 each against one process with the
  batch of 8 (which each rank also computes); batches of 3 and 5; accumulation over steps
  with a purely additive rule registered here; a rule, hyperparameter and shape mismatch;
  a new batch size after ``reset()`` (bound with the hint 1, then 8, then a last batch of 6).
* ``die``: rank 1 exits after the start-up check; rank 0 must get DistributedError, not hang.
* ``stall``: rank 1 stops stepping (sleeps); rank 0 must get DistributedError after the
  group's timeout (2 s).
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import time
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

import plastix as px
from plastix.distributed import DistributedError, data_parallel

N_PRE, N_POST, BATCH, STEPS = 6, 5, 8, 6
TIMEOUT = datetime.timedelta(seconds=20)


@dataclass(frozen=True)
class _AdditiveParams:
    Apost: float = px.param(0.02)
    Apre: float = px.param(0.01)


class AdditiveSTDP(px.Rule):
    """Pair STDP applied as ``w + dw`` with nothing after it (may accumulate over steps)."""

    Params = _AdditiveParams

    def build(self, g: px.Graph) -> None:
        from plastix.learners._pieces import add_change, pair_dw, trace

        g.variable_to_backend("x_pre", g.pre_shape)
        g.variable_to_backend("x_post", g.post_shape)
        trace(g, "x_pre", "pre", 0.9)
        trace(g, "x_post", "post", 0.9)
        pair_dw(g, "dw", pre="pre", post="post", x_pre="x_pre", x_post="x_post",
                a_plus="Apost", a_minus="Apre")
        add_change(g, "dw")


#: Weight shapes and bind options tried in turn: dense, then a convolution kernel.
SHAPES: list[tuple[tuple[int, ...], dict[str, Any]]] = [
    ((N_POST, N_PRE), {}), ((3, 2, 3, 3), {"pre_shape": (2, 6, 6)})]


def _bind(learner: px.Learner, w: np.ndarray, batch: int, options: dict[str, Any]
          ) -> px.Binding:
    return learner.bind(w.copy(), batch_size=batch, **options)


class TwoPathwaySTDP(AdditiveSTDP):
    """Depression and potentiation as two changes of the weight, each clipped (as Brian2's
    two pathways): the weight has two seams in one step."""

    def build(self, g: px.Graph) -> None:
        g.variable_to_backend("x_pre", g.pre_shape)
        g.variable_to_backend("x_post", g.post_shape)
        for x, s in (("x_pre", "pre"), ("x_post", "post")):
            g.op_to_backend(x, "add", [g.op_to_backend(f"{x}_d", "mul", [x, 0.9]), s])
        for name, a, b, amp in (("ltd", "x_post", "pre", "Apre"), ("ltp", "post", "x_pre",
                                                                    "Apost")):
            g.op_to_backend(name, "mat_mult_pre", [a, b])
            g.op_to_backend(name, "mul", [name, -1.0 if name == "ltd" else 1.0])
            g.op_to_backend(name, "mul", [name, amp])
            g.op_to_backend("weight", "add", ["weight", g.weight_change(name)])
            g.op_to_backend("weight", "clamp", ["weight", 0.0, 0.75])


def _data(name: str, learner: px.Learner) -> dict[str, Any]:
    """A weight, its bind options, and spikes for the whole batch, all seeded by the name."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for shape, options in SHAPES:
        try:
            probe = _bind(learner, np.zeros(shape, learner.dtype), BATCH, options)
            break
        except px.StepInputError:
            continue
    else:
        raise ValueError(f"no weight shape the worker knows fits {name}")
    if learner.dtype.startswith("float"):
        w = rng.uniform(0.2, 0.8, shape).astype(learner.dtype)
    else:
        w = rng.integers(20, 80, shape).astype(learner.dtype)
    g = probe.graph
    return {"w": w, "rng": rng, "options": options,
            "pre": (rng.random((STEPS, *g.pre_shape)) < 0.3).astype(learner.dtype),
            "post": (rng.random((STEPS, *g.post_shape)) < 0.3).astype(learner.dtype)}


def _signals(syn: px.Binding, rng: np.random.Generator) -> dict[str, np.ndarray]:
    out = {}
    for n, d in syn.graph.variables.items():
        if d.kind == "signal":
            out[n] = rng.uniform(0.0, 1.0, (STEPS, *d.aval.shape))
    return out


def _run(syn: px.Binding, data: dict[str, Any], sig: dict[str, np.ndarray], lo: int,
         hi: int) -> None:
    for t in range(STEPS):
        s = {k: _slice(v[t], lo, hi, BATCH) for k, v in sig.items()}
        pre, post = data["pre"][t, lo:hi], data["post"][t, lo:hi]
        if syn.backend.name != "numpy":
            pre, post = (syn.backend.asarray(x, syn.dtype) for x in (pre, post))
        syn.step(pre, post, final=t == STEPS - 1, **s)


def _slice(x: np.ndarray, lo: int, hi: int, full: int) -> np.ndarray:
    return x[lo:hi] if x.ndim and x.shape[0] == full else x


def _learner(name: str, **kw: Any) -> px.Learner:
    cls = px.find_rule(name)
    dtype = "float64" if "float64" in cls.dtypes else None
    fields = {f.name for f in cls.param_fields()}
    if "w_norm" in fields:  # SPAIC's 78.4 is for 784 inputs; keep the test away from the clamp
        kw.setdefault("w_norm", 0.5 * N_PRE)
    return px.Learner(name, backend=os.environ.get("DP_BACKEND", "numpy"), dtype=dtype, **kw)


def equivalence(name: str, rank: int, every: int = 1, cut: int = BATCH // 2,
                **kw: Any) -> dict[str, Any]:
    """Rank 0 steps samples [0, cut), rank 1 [cut, BATCH); one process steps all of them."""
    learner = _learner(name, **kw)
    data = _data(name, learner)
    ref = _bind(learner, data["w"], BATCH, data["options"])
    sig = _signals(ref, data["rng"])
    _run(ref, data, sig, 0, BATCH)
    lo, hi = (0, cut) if rank == 0 else (cut, BATCH)
    syn = _bind(learner, data["w"], hi - lo, data["options"])
    try:
        dp = data_parallel(syn, every=every)
    except DistributedError as exc:
        return {"unsupported": str(exc)}
    _run(syn, data, sig, lo, hi)
    pending = dp.pending
    dp.close()
    diffs = {}  # every array: learned values whole, per-sample state against this rank's slice
    for k, v in syn.arrays.items():
        theirs = np.asarray(ref.S[k], dtype=np.float64)
        if theirs.shape != v.shape:  # per-sample state: this rank's samples along the batch axis
            axis = [a != b for a, b in zip(theirs.shape, v.shape, strict=True)].index(True)
            theirs = np.take(theirs, range(lo, hi), axis=axis)
        diffs[k] = _diff(np.asarray(v, dtype=np.float64), theirs)
    start = _bind(learner, data["w"], BATCH, data["options"])  # how far the reference moved
    moved = max(_diff(np.asarray(start.S[k], dtype=np.float64),
                      np.asarray(v, dtype=np.float64)) for k, v in ref.arrays.items())
    scale = float(np.max(np.abs(np.asarray(ref.weight, dtype=np.float64))))
    return {"diffs": diffs, "moved": moved, "scale": scale, "pending": pending,
            "reduce_seconds": dp.reduce_seconds, "reductions": dp.reductions,
            "seams": len(syn.graph.seams)}


def rebatch(name: str, rank: int, cuts: tuple[int, int] = (4, 2)) -> dict[str, Any]:
    """Bound with the batch-size hint 1: batch 8 split at ``cuts[0]``, reset(), then a last
    batch of 6 split at ``cuts[1]``; one process steps the whole batches."""
    learner = _learner(name)
    data = _data(name, learner)
    phases = ((BATCH, cuts[0]), (6, cuts[1]))

    def run(syn: px.Binding, part: int | None) -> None:
        for full, cut in phases:
            lo, hi = (0, full) if part is None else ((0, cut) if part == 0 else (cut, full))
            for t in range(STEPS):
                syn.step(data["pre"][t, lo:hi], data["post"][t, lo:hi])
            syn.reset()

    ref = _bind(learner, data["w"], 1, data["options"])
    run(ref, None)
    syn = _bind(learner, data["w"], 1, data["options"])
    dp = data_parallel(syn)
    run(syn, rank)
    dp.close()
    scale = float(np.max(np.abs(np.asarray(ref.weight, dtype=np.float64))))
    return {"diff": _diff(np.asarray(syn.weight, np.float64), np.asarray(ref.weight, np.float64)),
            "moved": _diff(np.asarray(ref.weight, np.float64), data["w"].astype(np.float64)),
            "scale": scale, "batch": syn.batch_size}


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    """The largest difference; NaN in both at one place (a spike never seen) counts as equal,
    as does the same infinity (an age of "never")."""
    both = (np.isnan(a) & np.isnan(b)) | (a == b)
    with np.errstate(invalid="ignore"):
        d = np.where(both, 0.0, np.abs(a - b))
    return float(np.max(np.where(np.isnan(d), np.inf, d), initial=0.0))


def _guarded(fn: Any, *args: Any) -> dict[str, Any]:
    """``fn(*args)``, or the error it raised (symmetric on both ranks, so nobody waits)."""
    try:
        return fn(*args)  # type: ignore[no-any-return]
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def mismatches(rank: int) -> dict[str, str]:
    out = {}
    w = np.full((N_POST, N_PRE), 0.5)
    cases = {
        "params": (px.Learner("nearest_online_stdp", Apost=0.01 * (1 + rank)), w),
        "shape": (px.Learner("nearest_online_stdp"), np.full((N_POST + rank, N_PRE), 0.5)),
        "rule": (px.Learner("full_online_stdp" if rank else "nearest_online_stdp"), w),
    }
    for case, (learner, weight) in cases.items():
        try:
            data_parallel(learner.bind(weight, batch_size=2))
            out[case] = "no error"
        except DistributedError as exc:
            out[case] = str(exc)
    return out


def main() -> None:
    mode, out_dir = sys.argv[1], sys.argv[2]
    rank = int(os.environ["RANK"])
    import torch.distributed as dist

    result: dict[str, Any] = {}
    if mode == "main":
        dist.init_process_group("gloo", timeout=TIMEOUT)  # an existing group, as users make
        result["rules"] = {name: _guarded(equivalence, name, rank) for name in px.rules()}
        px.register("dp_test_additive_stdp")(AdditiveSTDP)
        px.register("dp_test_two_pathway_stdp")(TwoPathwaySTDP)
        result["two_seams"] = _guarded(equivalence, "dp_test_two_pathway_stdp", rank)
        result["every"] = {str(k): equivalence("dp_test_additive_stdp", rank, every=k)
                           for k in (2, 4)}
        result["unequal"] = {n: equivalence(n, rank, cut=3)
                             for n in ("nearest_online_stdp", "postpreintstdp")}
        result["unequal_mean"] = equivalence("meta_nearest_online_stdp", rank, cut=3)
        result["every_refused"] = equivalence("nearest_online_stdp", rank, every=2)
        result["mismatch"] = mismatches(rank)
        result["rebatch"] = {n: _guarded(rebatch, n, rank) for n in
                             ("nearest_online_stdp", "postpreintstdp")}
        result["rebatch_mean_unequal"] = _guarded(rebatch, "meta_nearest_online_stdp", rank,
                                                  (4, 2))
        result["rebatch_mean_equal"] = _guarded(rebatch, "meta_nearest_online_stdp", rank,
                                                (4, 3))
    elif mode in ("die", "stall"):  # plastix initialises the group from the environment here
        syn = px.Learner("nearest_online_stdp").bind(np.full((N_POST, N_PRE), 0.5),
                                                     batch_size=2)
        data_parallel(syn, timeout=2 if mode == "stall" else 10)
        if rank == 1:
            if mode == "stall":  # alive but no longer stepping
                time.sleep(4)
            os._exit(3)
        t0 = time.perf_counter()
        try:
            for _ in range(50):
                syn.step(np.ones((2, N_PRE)), np.ones((2, N_POST)))
            result["error"] = "no error"
        except DistributedError as exc:
            result["error"] = str(exc)
        result["seconds"] = time.perf_counter() - t0
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(result, f)
    os._exit(0)  # skip the process group's teardown, which waits on a dead peer


if __name__ == "__main__":
    main()
