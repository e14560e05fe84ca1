"""``python -m benchmarks``: the grid of issue 15, plastix beside its peers and the copy floor.

Pair STDP with hard bounds (``norse_stdp``, additive, ``w_min=0``, ``w_max=1``), float32,
forced Poisson spikes, on plastix's NumPy and PyTorch backends and, when installed, BindsNET
0.3.4's ``PostPre`` and norse 1.1.0's ``stdp_step_linear``; every point's contenders are
timed in turns in this one process and compared as ratios. Also: the peers' equality check,
SPAIC's normalising rule against the floor, the per-step overhead, and on request the
per-rule table against hand-written steps (``--rules``) and the demo's wall time (``--demo``).
``--quick`` (CI) runs one small point of each, without the peers unless ``--peers``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

import plastix as px

from . import demo_time, equality, goals, grid, overhead, peers, report, rules_table
from .workload import RULE, Point

SECTIONS = ("equality", "grid", "spaic", "overhead", "rules", "demo")


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="peers (a scratch environment, never plastix's own):\n" + peers.INSTALL)
    ap.add_argument("--quick", action="store_true", help="one small point of each part: "
                    "checks that the benchmarks run (CI); the numbers mean little")
    ap.add_argument("--peers", action=argparse.BooleanOptionalAction, default=None,
                    help="time BindsNET and norse (default: when installed, not with --quick)")
    ap.add_argument("--sizes", nargs="+", metavar="PRExPOST", help="only these sizes, "
                    "n_pre x n_post as the issue writes them, e.g. 1000x1000 784x6400")
    ap.add_argument("--batches", nargs="+", type=int, help="only these batch sizes")
    ap.add_argument("--probs", nargs="+", type=float, help="only these spike probabilities")
    ap.add_argument("--rounds", type=int, help="rounds timed in turns per point (median "
                    "kept; default 5, 3 with --quick)")
    ap.add_argument("--budget", type=float, help="seconds per contender per point, all "
                    "rounds together (default 1, 0.05 with --quick)")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these parts")
    ap.add_argument("--rules", nargs="*", metavar="RULE", help="also the per-rule table "
                    "against hand-written steps (these rules; all when none are named)")
    ap.add_argument("--repeat", type=int, default=1, help="per-rule table: run each row "
                    "this many times, keeping each time's minimum")
    ap.add_argument("--demo", nargs="?", const="full", choices=("full", "quick"),
                    help="also time `plastix demo --backend torch` against numpy (slow)")
    ap.add_argument("--demo-rounds", type=int, default=3, help="demo runs per backend")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as "
                    "configured); set OPENBLAS_NUM_THREADS before the run for NumPy's BLAS")
    ap.add_argument("--markdown", metavar="FILE", help="also write the tables to FILE")
    ap.add_argument("--json", metavar="FILE", help="also write every figure to FILE as JSON")
    return ap.parse_args(argv)


def backends() -> list[str]:
    """NumPy, and PyTorch when it is installed."""
    from plastix.backends import get_backend

    names = ["numpy"]
    try:
        get_backend("torch")
        names.append("torch")
    except px.BackendUnavailableError:
        pass
    return names


def chosen_sections(args: argparse.Namespace) -> list[str]:
    if args.only:
        return [s for s in SECTIONS if s in args.only]
    wanted = ["equality", "grid", "spaic", "overhead"]
    if args.rules is not None or args.quick:
        wanted.append("rules")
    if args.demo:
        wanted.append("demo")
    return wanted


def grid_points(args: argparse.Namespace) -> list[Point]:
    if args.quick and not (args.sizes or args.batches or args.probs):
        return list(grid.QUICK)
    sizes = [parse_size(s) for s in args.sizes] if args.sizes else grid.SIZES
    return grid.points(sizes, args.batches or grid.BATCHES, args.probs or grid.PROBS)


def parse_size(text: str) -> tuple[int, int]:
    """``"784x6400"`` -> ``(784, 6400)``: n_pre x n_post."""
    n_pre, n_post = (int(v) for v in text.lower().split("x"))
    return n_pre, n_post


class Output:
    """Prints as it goes; keeps the lines for ``--markdown`` and the figures for ``--json``."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.figures: dict[str, Any] = {}
        self.outcomes: list[tuple[str, str, bool | None]] = []

    def emit(self, *lines: str) -> None:
        for text in lines:
            print(text, flush=True)
            self.lines.append(text)

    def heading(self, text: str) -> None:
        self.emit("", f"## {text}", "")

    def outcome(self, what: str, verdict: str, holds: bool | None) -> None:
        if verdict != "-":  # "-": no goal here
            self.outcomes.append((what, verdict, holds))


def run_equality(out: Output, backs: list[str], peer_names: list[str]) -> None:
    out.heading("Equality: the timed runners on a short run")
    records = equality.check(backs, peer_names)
    out.emit(*report.equality_lines(records, equality.TOLERANCE))
    out.figures["equality"] = records


def run_grid(out: Output, args: argparse.Namespace, backs: list[str], peer_names: list[str],
             budget: float, rounds: int) -> None:
    out.heading(f"Grid: {RULE} (additive, w in [0, 1]), float32, forced Poisson spikes; "
                f"us per step, median of {rounds} rounds in turns; x = plastix / other, "
                "the median of the per-round ratios")
    out.emit(*report.GRID_HEADER)
    results = []
    for point in grid_points(args):
        m = grid.measure(point, backs, peer_names, budget=budget, rounds=rounds)
        results.append(m)
        out.emit(*report.grid_lines(m, backs))
        for b in backs:
            v = grid.verdicts(m, b)
            out.outcome(f"{point.size} b{point.batch} p{point.p} {b}", v["verdict"],
                        v["holds"])
    out.heading("Grid in the issue's layout (us per step)")
    out.emit(*report.compact_lines(results, backs))
    out.figures["grid"] = [report.measured_json(m, backs) for m in results]


def run_spaic(out: Output, args: argparse.Namespace, backs: list[str], budget: float,
              rounds: int) -> None:
    point = Point(100, 100, 1, 0.05) if args.quick else grid.SPAIC_POINT
    out.heading("SPAIC's per-step normalising rule against the floor")
    m = grid.measure(point, backs, [], rule=grid.SPAIC_RULE, budget=budget, rounds=rounds)
    out.emit(*report.SPAIC_HEADER, *report.spaic_lines(m, backs))
    for b in backs:
        v = grid.verdicts(m, b)
        out.outcome(f"{m.rule} {point.size} {b}", v["verdict"], v["holds"])
    out.figures["spaic"] = report.measured_json(m, backs)


def run_overhead(out: Output, backs: list[str], budget: float, rounds: int) -> None:
    out.heading("Per-step overhead (medians of rounds in turns; x: of per-round ratios)")
    measured = overhead.measure(backs, budget, max(rounds, 9))
    out.emit(*report.overhead_lines(measured))
    for name in measured["times"]:
        _, verdict, holds = report.overhead_verdict(name, measured)
        out.outcome(f"10x10 {name}", verdict, holds)
    out.figures["overhead"] = {
        "median_us": {k: v * 1e6 for k, v in measured["times"].items()},
        "x_hand_written_numpy": measured["ratios"],
        "rounds_us": {k: [x * 1e6 for x in s] for k, s in measured["rounds"].items()}}


def run_rules(out: Output, args: argparse.Namespace, backs: list[str]) -> None:
    out.heading("Every rule against its hand-written step (best of rounds)")
    out.emit(*rules_table.HEADER)
    quick = args.quick
    sizes = [(100, 100)] if quick else rules_table.SIZES
    if args.sizes:
        sizes = [parse_size(s) for s in args.sizes]
    rows = []
    for r in rules_table.run(backs, args.rules or rules_table.RULES, sizes,
                             [1] if quick else args.batches or rules_table.BATCHES,
                             [0.05] if quick else args.probs or rules_table.PROBS,
                             0.02 if quick else 0.5, args.repeat):
        out.emit(rules_table.line(r))
        rows.append(r)
    out.figures["rules"] = rows


def run_demo(out: Output, args: argparse.Namespace) -> None:
    quick = args.demo == "quick"
    out.heading(f"Demo wall time (median of {args.demo_rounds} runs, alternating)")
    samples = demo_time.measure(args.demo_rounds, quick, args.threads)
    summary = demo_time.summary(samples)
    out.emit(*report.demo_lines(summary, quick))
    _, verdict, holds = goals.judge(goals.DEMO, {"NumPy demo": summary["ratio"]})
    out.outcome("demo torch / numpy", verdict, holds)
    out.figures["demo_s"] = {"rounds": samples, **summary, "quick": quick}


def summarise(out: Output) -> None:
    held = sum(1 for *_, h in out.outcomes if h is True)
    missed = [(w, v) for w, v, h in out.outcomes if h is False]
    unknown = sum(1 for *_, h in out.outcomes if h is None)
    out.heading(f"Goals: {held} hold, {len(missed)} missed, {unknown} not measured")
    out.emit(*(f"- {what}: {verdict}" for what, verdict in missed))
    out.figures["goals"] = [{"what": w, "verdict": v, "holds": h} for w, v, h in out.outcomes]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    backs = backends()
    sections = chosen_sections(args)
    uses_peers = bool({"equality", "grid"} & set(sections))
    want_peers = uses_peers and (args.peers if args.peers is not None else not args.quick)
    found = peers.versions() if want_peers else {}
    peer_names = [name for name, v in found.items() if v]
    out = Output()
    info = report.machine(found)
    out.figures["machine"] = info
    out.emit("plastix benchmarks (python -m benchmarks" + (" --quick" if args.quick else "")
             + ")", *report.machine_lines(info))
    if want_peers and len(peer_names) < len(peers.NAMES):
        out.emit("", peers.missing_message(found))
    if report.oversubscribed(info):
        out.emit("", report.OVERSUBSCRIBED)
    budget = args.budget or (0.05 if args.quick else 1.0)
    rounds = args.rounds or (3 if args.quick else 5)
    steps: dict[str, Callable[[], None]] = {
        "equality": lambda: run_equality(out, backs, peer_names),
        "grid": lambda: run_grid(out, args, backs, peer_names, budget, rounds),
        "spaic": lambda: run_spaic(out, args, backs, budget, rounds),
        "overhead": lambda: run_overhead(out, backs, min(budget, 0.5), rounds),
        "rules": lambda: run_rules(out, args, backs),
        "demo": lambda: run_demo(out, args),
    }
    for section in sections:
        steps[section]()
    summarise(out)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write("\n".join(out.lines) + "\n")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out.figures, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
