"""The benchmark harness runs and measures what issue 15 defines (no timings are asserted)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import __main__ as cli
from benchmarks import equality, goals, grid, peers
from benchmarks.workload import Point, initial_weight, poisson_spikes, rule_params


def test_grid_is_the_issues_grid():
    pts = grid.points()
    assert len(pts) == 3 * 2 * 3
    assert {(p.n_pre, p.n_post) for p in pts} == {(100, 100), (1000, 1000), (784, 6400)}
    assert {p.batch for p in pts} == {1, 32}
    assert {p.p for p in pts} == {0.01, 0.05, 0.2}


def test_workload_shapes_and_rates():
    point = Point(784, 6400, 2, 0.05)
    w0 = initial_weight(point)
    assert w0.shape == (6400, 784) and w0.dtype == np.float32  # (n_post, n_pre)
    assert 0.0 <= w0.min() and w0.max() <= 1.0
    spikes = poisson_spikes(point, pool=4)
    assert spikes.pre[0].shape == (2, 784) and spikes.post[0].shape == (2, 6400)
    assert spikes.pre[0].dtype == np.float32
    rate = np.mean([s.mean() for s in spikes.post])
    assert abs(rate - 0.05) < 0.005  # 51200 Bernoulli(0.05) draws: sd about 0.001
    params = rule_params()
    assert (params.stdp_algorithm, params.w_min, params.w_max) == ("additive", 0.0, 1.0)


def _limits(point):
    return {lim.against: (lim.ratio, lim.strict) for lim in goals.grid_limits(point)}


def test_goals_as_the_issue_writes_them():
    everywhere = {"BindsNET": (1.0, True), "norse": (1.0, True)}
    assert _limits(Point(100, 100, 32, 0.01)) == everywhere
    assert _limits(Point(1000, 1000, 1, 0.05)) == {"BindsNET": (0.1, False),
                                                   "norse": (1.0, True), "floor": (1.0, False)}
    assert _limits(Point(1000, 1000, 32, 0.05)) == everywhere
    assert _limits(Point(784, 6400, 1, 0.05))["BindsNET"] == (0.2, False)
    assert _limits(Point(784, 6400, 32, 0.2)) == {**everywhere, "floor": (3.0, False)}


def test_judge():
    limits = goals.grid_limits(Point(1000, 1000, 1, 0.05))
    assert goals.judge(limits, {"BindsNET": 0.1, "norse": 0.99, "floor": 1.0})[1:] == \
        ("yes", True)
    goal, verdict, holds = goals.judge(limits, {"BindsNET": 0.05, "norse": 1.0, "floor": 0.5})
    assert goal == "<=0.1x BindsNET, <1x norse, <=1x floor"
    assert holds is False and verdict == "no: 1.00x norse"  # "faster than" is strict
    assert goals.judge(limits, {"BindsNET": None, "norse": 0.5, "floor": 0.5})[2] is None
    assert goals.judge(limits, {"BindsNET": None, "norse": 2.0, "floor": 0.5})[2] is False
    assert goals.judge([], {})[2] is None


def test_a_tiny_point_is_measured():
    m = grid.measure(Point(12, 10, 1, 0.05), ["numpy"], [], budget=0.002, rounds=2, pool=2)
    assert set(m.times) == {"floor", "plastix numpy"}
    assert all(len(s) == 2 and min(s) > 0 for s in m.samples.values())
    row = grid.verdicts(m, "numpy")
    assert row["holds"] is None and row["ratios"]["floor"] > 0


def test_plastix_backends_compute_the_same_weights():
    backends = cli.backends()
    if "torch" not in backends:
        pytest.skip("torch is not installed: nothing to compare NumPy with")
    records = equality.check(backends, [], steps=30, points=[Point(9, 7, 2, 0.3)])
    assert records and all(r["other"] == "plastix torch" for r in records)
    assert all(r["equal"] and r["moved"] > 0 for r in records)


def test_peers_compute_plastix_weights():
    found = peers.versions()
    missing = [name for name, v in found.items() if v is None]
    if missing:
        pytest.skip(f"peers not installed: {', '.join(missing)} (see benchmarks/peers.py)")
    records = equality.check(["numpy"], list(peers.NAMES), steps=60,
                             points=[Point(9, 7, 1, 0.3), Point(9, 7, 3, 0.3)])
    assert {r["other"] for r in records} == set(peers.NAMES)
    assert all(r["equal"] and r["moved"] > 0 for r in records), records
    assert any(r["at_bounds"] > 0 for r in records)  # the clipping setting clips


def test_missing_peers_say_how_to_install_them():
    text = peers.missing_message({"BindsNET": None, "norse": "1.1.0"})
    assert "BindsNET 0.3.4" in text and "norse 1.1.0" not in text.split(";")[0]
    for command in ('pip install "torch==2.13.0"', 'pip install "bindsnet==0.3.4" --no-deps',
                    'pip install "norse==1.1.0" nir nirtorch --no-deps'):
        assert command in text


def test_quick_run_writes_json(tmp_path, capsys):
    out = tmp_path / "figures.json"
    assert cli.main(["--quick", "--only", "equality", "grid", "--budget", "0.005",
                     "--rounds", "1", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures["machine"]["cores"] >= 1
    (point,) = figures["grid"]
    assert (point["n_pre"], point["n_post"], point["batch"], point["p"]) == (100, 100, 1, 0.05)
    assert point["median_us"]["plastix numpy"] > 0
    assert "| 100x100 | 1 | 0.05 | NumPy |" in capsys.readouterr().out
