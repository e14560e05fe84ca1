"""The grid of issue 15: the pair-STDP workload at every size, batch and spike probability,
plastix (NumPy and PyTorch) beside its peers and the copy floor, timed in turns in one process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import goals
from ._timing import in_turns, median, ratio
from .peers import RUNNERS
from .workload import (
    RULE,
    CopyFloor,
    PlastixRunner,
    Point,
    Runner,
    initial_weight,
    poisson_spikes,
    rule_params,
)

SIZES = [(100, 100), (1000, 1000), (784, 6400)]  # n_pre x n_post
BATCHES = [1, 32]
PROBS = [0.01, 0.05, 0.2]
QUICK = [Point(100, 100, 1, 0.05)]
#: SPAIC's per-step normalising rule, against the floor only
SPAIC_RULE = "nearest_online_stdp"
SPAIC_POINT = Point(1000, 1000, 1, 0.05)
BACKEND_LABELS = {"numpy": "NumPy", "torch": "PyTorch"}


def points(sizes: list[tuple[int, int]] = SIZES, batches: list[int] = BATCHES,
           probs: list[float] = PROBS) -> list[Point]:
    return [Point(n_pre, n_post, batch, p) for n_pre, n_post in sizes for batch in batches
            for p in probs]


@dataclass
class Measured:
    """One point's figures: each contender's median seconds per step, and every round's."""

    point: Point
    rule: str
    times: dict[str, float]
    samples: dict[str, list[float]] = field(repr=False)

    def ratios(self, backend: str) -> dict[str, float | None]:
        """plastix's time on ``backend`` over each yardstick's, per round, the median over
        rounds (None: not measured)."""
        mine = self.samples[f"plastix {backend}"]
        return {other: (ratio(mine, self.samples[other]) if other in self.samples else None)
                for other in ("BindsNET", "norse", "floor")}


def contenders(point: Point, backends: list[str], peers: list[str], rule: str = RULE,
               pool: int = 16) -> dict[str, Runner]:
    """The floor, plastix on each backend, and each peer (pair STDP only), all on the same
    initial weight and spike pool."""
    spikes = poisson_spikes(point, pool)
    w0 = initial_weight(point)
    runners: dict[str, Runner] = {"floor": CopyFloor(w0)}
    for backend in backends:
        runners[f"plastix {backend}"] = PlastixRunner(backend, w0, spikes, rule=rule)
    if rule == RULE:
        params = rule_params()
        for peer in peers:
            runners[peer] = RUNNERS[peer](w0, spikes, params)
    return runners


def measure(point: Point, backends: list[str], peers: list[str], rule: str = RULE,
            budget: float = 1.0, rounds: int = 5, pool: int = 16) -> Measured:
    runners = contenders(point, backends, peers, rule, pool)
    samples = in_turns({name: r.step for name, r in runners.items()}, pool, budget, rounds)
    return Measured(point, rule, {name: median(s) for name, s in samples.items()}, samples)


def verdicts(m: Measured, backend: str) -> dict[str, Any]:
    """The table row of ``backend`` at one point: ratios, the goal and whether it holds."""
    ratios = m.ratios(backend)
    if m.rule == RULE:
        limits = goals.grid_limits(m.point)
    else:  # the issue sets SPAIC's goal at one point only
        limits = goals.SPAIC if m.point == SPAIC_POINT else []
        ratios = {"floor": ratios["floor"]}
    goal, verdict, holds = goals.judge(limits, ratios)
    return {"backend": backend, "ratios": ratios, "goal": goal, "verdict": verdict,
            "holds": holds}
