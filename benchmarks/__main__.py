"""``python -m benchmarks [--quick] [--markdown FILE]``: time compiled steps against the
hand-written rule and the memory-traffic floor (a copy of the weight), in the same run."""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

import plastix as px

from ._handwritten import HANDWRITTEN

#: Rules benchmarked when registered (others' branches add some of them); "+sparse_bounds"
#: runs the rule with ``syn.sparse_bounds = True`` (clamp only the synapses a step changed).
RULES = ["nearest_online_stdp", "full_online_stdp", "full_online_stdp+sparse_bounds",
         "additive", "multiplicative_pow",
         "norse_additive", "norse_multiplicative_pow", "exp_stdp", "ngclearn_exp_stdp",
         "triplet", "triplet_stdp"]
SIZES = [(100, 100), (100, 784), (1000, 1000), (6400, 784), (1000, 10000)]
BATCHES = [1, 32]
PROBS = [0.01, 0.05, 0.2]
POOL = 16  # distinct spike patterns cycled through


def best_per_call(fn: Callable[[], None], calls: int, repeats: int) -> float:
    """The fastest of ``repeats`` timings of ``calls`` calls, per call, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def backends() -> list[str]:
    names = ["numpy"]
    try:
        px.backends  # noqa: B018
        from plastix.backends import get_backend

        get_backend("torch")
        names.append("torch")
    except Exception:
        pass
    return names


class Lib:
    """Array creation and the copy floor for one backend."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "torch":
            import torch

            self.torch = torch

    def array(self, x: np.ndarray) -> Any:
        return x if self.name == "numpy" else self.torch.from_numpy(x)

    def copier(self, w: Any) -> Callable[[], None]:
        if self.name == "numpy":
            dst = np.empty_like(w)
            return lambda: np.copyto(dst, w)
        dst = self.torch.empty_like(w)
        return lambda: dst.copy_(w)


def row(lib: Lib, rule: str, shape: tuple[int, int], batch: int, p: float, budget: float,
        rounds: int = 3) -> dict[str, Any]:
    """One table row. The copy floor, the compiled step and the hand-written step are timed
    in turns, ``rounds`` times, keeping each one's best: load from other processes then
    hits all three alike."""
    rng = np.random.default_rng(0)
    n_post, n_pre = shape
    w0 = rng.uniform(0.0, 0.2, shape).astype(np.float32)
    pre = [lib.array((rng.random((batch, n_pre)) < p).astype(np.float32)) for _ in range(POOL)]
    post = [lib.array((rng.random((batch, n_post)) < p).astype(np.float32))
            for _ in range(POOL)]

    def stepper(step: Callable[[Any, Any], None]) -> Callable[[], None]:
        i = [0]

        def go() -> None:
            k = i[0] % POOL
            step(pre[k], post[k])
            i[0] += 1

        return go

    name, _, option = rule.partition("+")
    syn = px.Learner(name, backend=lib.name).bind(lib.array(w0.copy()), batch_size=batch)
    if option:
        setattr(syn, option, True)
    timed = {"floor": lib.copier(lib.array(w0)), "plastix": stepper(syn.step)}
    make = HANDWRITTEN.get(name)
    if make is not None:
        timed["hand"] = stepper(make(lib.name, lib.array(w0.copy()), batch))
    calls = {}
    for key, fn in timed.items():
        fn()  # warm up: scratch buffers, first-step clamps
        probe = best_per_call(fn, 2, 1)
        calls[key] = max(2, min(200, int(budget / max(probe, 1e-6) / (3 * rounds))))
    best: dict[str, Any] = {"hand": None}
    for _ in range(rounds):
        for key, fn in timed.items():
            t = best_per_call(fn, calls[key], 1)
            best[key] = min(best.get(key) or t, t)
    return {"backend": lib.name, "rule": rule, "shape": shape, "batch": batch, "p": p, **best}


def best_of(repeat: int, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``make()`` run ``repeat`` times, keeping the least of each timing."""
    best = make()
    for _ in range(repeat - 1):
        more = make()
        for key in ("floor", "plastix", "hand"):
            if more[key] is not None:
                best[key] = min(best[key], more[key])
    return best


def overhead(lib: Lib, budget: float) -> dict[str, Any]:
    """Per-step time on a 10x10 weight: Binding.step, the bare compiled step, hand-written."""
    rng = np.random.default_rng(0)
    w0 = rng.uniform(0.0, 0.2, (10, 10)).astype(np.float32)
    pre = [lib.array((rng.random((1, 10)) < 0.2).astype(np.float32)) for _ in range(POOL)]
    post = [lib.array((rng.random((1, 10)) < 0.2).astype(np.float32)) for _ in range(POOL)]
    syn = px.Learner("nearest_online_stdp", backend=lib.name).bind(lib.array(w0.copy()))
    fn = syn._compiled("step").fn
    hand = HANDWRITTEN["nearest_online_stdp"](lib.name, lib.array(w0.copy()), 1)
    out: dict[str, float] = {}
    calls = max(20, int(budget / 50e-6 / 5))
    for _ in range(5):  # in turns, so that load from other processes hits all alike
        for label, call in (("binding", lambda k: syn.step(pre[k], post[k])),
                            ("compiled", lambda k: fn(syn.S, syn.step_state, pre[k], post[k],
                                                      0, 0, {})),
                            ("hand", lambda k: hand(pre[k], post[k]))):
            i = [0]

            def go(call: Callable[[int], None] = call, i: list[int] = i) -> None:
                call(i[0] % POOL)
                i[0] += 1

            t = best_per_call(go, calls, 1)
            out[label] = min(out.get(label, t), t)
    return out


def fmt_time(s: float) -> str:
    return f"{s * 1e6:.0f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="one small size: checks that the "
                    "benchmarks run (CI), the numbers mean little")
    ap.add_argument("--markdown", metavar="FILE", help="also write the table to FILE")
    ap.add_argument("--rules", nargs="*", help="only these rules")
    ap.add_argument("--sizes", nargs="*", help="only these sizes, e.g. 1000x1000")
    ap.add_argument("--repeat", type=int, default=1, help="run each row this many times and "
                    "keep each time's minimum (the machine may be shared)")
    ap.add_argument("--threads", type=int, default=0, help="BLAS/torch threads (0: leave "
                    "as configured); set OPENBLAS_NUM_THREADS before NumPy loads for BLAS")
    args = ap.parse_args(argv)
    if args.threads and "torch" in backends():
        import torch

        torch.set_num_threads(args.threads)
    registered = set(px.rules())
    rules = [r for r in (args.rules or RULES) if r.partition("+")[0] in registered]
    sizes = [(100, 100)] if args.quick else SIZES
    if args.sizes:
        sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes]  # type: ignore[misc]
    batches, probs = ([1], [0.05]) if args.quick else (BATCHES, PROBS)
    budget = 0.02 if args.quick else 0.5
    import os

    lines = [f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
             f"Python {platform.python_version()}, NumPy {np.__version__}, "
             f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}",
             "",
             "| backend | rule | n_post x n_pre | batch | p | plastix step | x hand-written "
             "| x copy floor | hand-written | copy floor |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for name in backends():
        lib = Lib(name)
        for rule in rules:
            for shape in sizes:
                for batch in batches:
                    for p in probs:
                        r = best_of(args.repeat, partial(row, lib, rule, shape,  # type: ignore[arg-type]
                                                         batch, p, budget))
                        hand = r["hand"]
                        line = (f"| {name} | {rule} | {shape[0]}x{shape[1]} | {batch} | {p} | "
                                f"{fmt_time(r['plastix'])} | "
                                f"{hand / r['plastix']:.1f}x faster | " if hand else
                                f"| {name} | {rule} | {shape[0]}x{shape[1]} | {batch} | {p} | "
                                f"{fmt_time(r['plastix'])} | - | ")
                        line += (f"{r['plastix'] / r['floor']:.2f} | "
                                 f"{fmt_time(hand) if hand else '-'} | {fmt_time(r['floor'])} |")
                        lines.append(line)
                        print(line, flush=True)
        o = overhead(lib, budget)
        line = (f"\n{name} 10x10 nearest_online_stdp per step: Binding.step "
                f"{fmt_time(o['binding'])}, compiled step alone {fmt_time(o['compiled'])}, "
                f"hand-written {fmt_time(o['hand'])} "
                f"(Binding.step / hand-written = {o['binding'] / o['hand']:.2f})")
        lines.append(line)
        print(line, flush=True)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
