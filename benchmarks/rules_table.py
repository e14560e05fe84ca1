"""Every benchmarked rule against its hand-written step and the copy floor (``--rules``).

For each rule, backend, size, batch and spike probability: the compiled step
(``syn.step``), the hand-written step of the same rule in the same library
(``benchmarks/_handwritten.py``, where there is one) and a copy of the weight, timed in turns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np

import plastix as px

from ._handwritten import HANDWRITTEN
from ._timing import fmt_us, in_turns

#: Rules benchmarked when registered; "+sparse_bounds" runs the rule with
#: ``syn.sparse_bounds = True`` (clamp only the synapses a step changed).
RULES = ["nearest_online_stdp", "full_online_stdp", "full_online_stdp+sparse_bounds",
         "additive", "multiplicative_pow",
         "norse_additive", "norse_multiplicative_pow", "exp_stdp", "ngclearn_exp_stdp",
         "triplet", "triplet_stdp"]
SIZES = [(100, 100), (784, 100), (1000, 1000), (784, 6400), (10000, 1000)]  # n_pre x n_post
BATCHES = [1, 32]
PROBS = [0.01, 0.05, 0.2]
POOL = 16  # distinct spike patterns cycled through
HEADER = ["| backend | rule | n_pre x n_post | batch | p | plastix us | x hand-written "
          "| x copy floor | hand-written us | copy floor us |",
          "|---|---|---|---|---|---|---|---|---|---|"]


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


def row(lib: Lib, rule: str, n_pre: int, n_post: int, batch: int, p: float, budget: float,
        rounds: int = 3) -> dict[str, Any]:
    """One table row: the copy floor, the compiled step and the hand-written step timed in
    turns ``rounds`` times, keeping each one's best."""
    rng = np.random.default_rng(0)
    w0 = rng.uniform(0.0, 0.2, (n_post, n_pre)).astype(np.float32)
    pre = [lib.array((rng.random((batch, n_pre)) < p).astype(np.float32)) for _ in range(POOL)]
    post = [lib.array((rng.random((batch, n_post)) < p).astype(np.float32))
            for _ in range(POOL)]
    name, _, option = rule.partition("+")
    syn = px.Learner(name, backend=lib.name).bind(lib.array(w0.copy()), batch_size=batch)
    if option:
        setattr(syn, option, True)
    copy = lib.copier(lib.array(w0))
    steps = {"floor": lambda k: copy(), "plastix": lambda k: syn.step(pre[k], post[k])}
    make = HANDWRITTEN.get(name)
    if make is not None:
        hand = make(lib.name, lib.array(w0.copy()), batch)
        steps["hand"] = lambda k: hand(pre[k], post[k])
    samples = in_turns(steps, POOL, budget, rounds)
    best = {key: min(s) for key, s in samples.items()}
    return {"backend": lib.name, "rule": rule, "size": f"{n_pre}x{n_post}", "batch": batch,
            "p": p, "plastix": best["plastix"], "floor": best["floor"],
            "hand": best.get("hand")}


def best_of(repeat: int, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``make()`` run ``repeat`` times, keeping the least of each timing."""
    best = make()
    for _ in range(repeat - 1):
        more = make()
        for key in ("floor", "plastix", "hand"):
            if more[key] is not None:
                best[key] = min(best[key], more[key])
    return best


def line(r: dict[str, Any]) -> str:
    hand = r["hand"]
    faster = f"{hand / r['plastix']:.1f}x faster" if hand else "-"
    return (f"| {r['backend']} | {r['rule']} | {r['size']} | {r['batch']} | {r['p']} | "
            f"{fmt_us(r['plastix'])} | {faster} | {r['plastix'] / r['floor']:.2f} | "
            f"{fmt_us(hand)} | {fmt_us(r['floor'])} |")


def run(backends: list[str], rules: list[str], sizes: list[tuple[int, int]],
        batches: list[int], probs: list[float], budget: float,
        repeat: int = 1) -> Iterator[dict[str, Any]]:
    """The rows, one at a time (rules not registered here are skipped)."""
    registered = set(px.rules())
    for backend in backends:
        lib = Lib(backend)
        for rule in rules:
            if rule.partition("+")[0] not in registered:
                continue
            for n_pre, n_post in sizes:
                for batch in batches:
                    for p in probs:
                        yield best_of(repeat, partial(row, lib, rule, n_pre, n_post,
                                                      batch, p, budget))
