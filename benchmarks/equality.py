"""Do the contenders compute the same weights? A short run of the very runners that are timed.

Each check starts every contender from one weight and feeds it the same spikes (a new pattern
each step) for ``steps`` steps, then reports the largest absolute difference of the final
weights from plastix's, with how far the weights moved (a check of weights that never changed
would prove nothing) and the share of weights sitting at a bound. Two settings: the workload
itself, and large, unequal learning rates so that the hard bounds clip a good share of the
weights within the run and a swap of the two rates would show.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .peers import RUNNERS
from .workload import PlastixRunner, Point, Runner, initial_weight, poisson_spikes, rule_params

POINTS = [Point(30, 20, 1, 0.2), Point(30, 20, 4, 0.2)]
SETTINGS: dict[str, dict[str, float]] = {
    "workload": {},
    "clipping (eta+ 0.2, eta- 0.25)": {"eta_plus": 0.2, "eta_minus": 0.25},
}
#: float32 weights in [0, 1] after a few hundred steps summed in different orders
TOLERANCE = 1e-5


def final_weight(runner: Runner, steps: int) -> np.ndarray:
    for k in range(steps):
        runner.step(k)
    return runner.weight()


def check(backends: list[str], peers: list[str], steps: int = 200,
          points: list[Point] = POINTS) -> list[dict[str, Any]]:
    """One record per setting, point and pair compared: plastix on each backend against
    each peer, and plastix's backends against each other."""
    records = []
    for setting, overrides in SETTINGS.items():
        params = rule_params(**overrides)
        for point in points:
            spikes = poisson_spikes(point, pool=steps, seed=2)
            w0 = initial_weight(point, seed=3)
            ours = {b: final_weight(PlastixRunner(b, w0, spikes, **overrides), steps)
                    for b in backends}
            theirs = {peer: final_weight(RUNNERS[peer](w0, spikes, params), steps)
                      for peer in peers}
            pairs = [(b, peer, w) for b in backends for peer, w in theirs.items()]
            pairs += [(backends[0], f"plastix {b}", ours[b]) for b in backends[1:]]
            for backend, other, w in pairs:
                mine = ours[backend]
                diff = float(np.max(np.abs(mine - w)))
                records.append({
                    "setting": setting, "size": point.size, "batch": point.batch,
                    "p": point.p, "steps": steps, "plastix": backend, "other": other,
                    "max_abs_diff": diff, "equal": diff <= TOLERANCE,
                    "moved": float(np.max(np.abs(mine - w0))),
                    "at_bounds": float(np.mean((mine <= params.w_min) | (mine >= params.w_max))),
                })
    return records
