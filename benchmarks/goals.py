"""The goals of issue 15, as data: what each measurement's ratio must stay under.

On NumPy and on PyTorch (CPU), with default settings:

* every point of the grid: faster than BindsNET's ``PostPre`` and than norse (ratio < 1);
* 1000x1000, p = 0.05, batch 1: at most 0.1x BindsNET and 1x the copy floor;
* 784x6400, p = 0.05 (batch 1, read as the clause before it): at most 0.2x BindsNET and 1x
  the floor;
* p = 0.2 (every size and batch): at most 3x the floor;
* SPAIC's per-step normalising ``nearest_online_stdp`` at 1000x1000, p = 0.05: at most 5x the
  floor;
* a 10x10 step at most 1.5x a hand-written NumPy loop;
* ``plastix demo --backend torch`` within 1.2x of the NumPy demo's wall time.
"""

from __future__ import annotations

from dataclasses import dataclass

from .workload import Point


@dataclass(frozen=True)
class Limit:
    """plastix's time over ``against``'s must be below ``ratio`` (``strict``) or at most it."""

    against: str
    ratio: float
    strict: bool = False

    def text(self) -> str:
        return f"{'<' if self.strict else '<='}{self.ratio:g}x {self.against}"

    def holds(self, ratio: float) -> bool:
        return ratio < self.ratio if self.strict else ratio <= self.ratio


def tightest(limits: list[Limit]) -> list[Limit]:
    """One limit per yardstick, the tightest (the smaller ratio; a strict one on a tie),
    in the order the yardsticks first appear."""
    best: dict[str, Limit] = {}
    for limit in limits:
        old = best.get(limit.against)
        if old is None or (limit.ratio, not limit.strict) < (old.ratio, not old.strict):
            best[limit.against] = limit
    return list(best.values())


def grid_limits(point: Point) -> list[Limit]:
    """The issue's limits for one point of the pair-STDP grid."""
    limits = [Limit("BindsNET", 1.0, strict=True), Limit("norse", 1.0, strict=True)]
    if point.batch == 1 and point.p == 0.05 and point.size == "1000x1000":
        limits += [Limit("BindsNET", 0.1), Limit("floor", 1.0)]
    if point.batch == 1 and point.p == 0.05 and point.size == "784x6400":
        limits += [Limit("BindsNET", 0.2), Limit("floor", 1.0)]
    if point.p == 0.2:
        limits.append(Limit("floor", 3.0))
    return tightest(limits)


SPAIC = [Limit("floor", 5.0)]
OVERHEAD = [Limit("hand-written NumPy", 1.5)]
DEMO = [Limit("NumPy demo", 1.2)]


def judge(limits: list[Limit], ratios: dict[str, float | None]) -> tuple[str, str, bool | None]:
    """``(goal, verdict, holds)``: the goal as text, "yes", "no: ..." naming the limits
    missed, or "?" naming the yardsticks not measured; ``holds`` is None when unknown, and
    ``("-", "-", None)`` where the issue sets no goal."""
    if not limits:
        return "-", "-", None
    goal = ", ".join(limit.text() for limit in limits)
    missed, unknown = [], []
    for limit in limits:
        ratio = ratios.get(limit.against)
        if ratio is None:
            unknown.append(limit.against)
        elif not limit.holds(ratio):
            missed.append(f"{ratio:.2f}x {limit.against}")
    if missed:
        return goal, "no: " + ", ".join(missed), False
    if unknown:
        return goal, "? (no " + ", ".join(unknown) + ")", None
    return goal, "yes", True
