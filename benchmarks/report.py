"""The benchmarks' output: the machine, Markdown tables of the figures, and their JSON form."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from . import goals
from ._timing import fmt_us
from .grid import BACKEND_LABELS, Measured, verdicts
from .peers import VERSIONS

ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                return text.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, text=True,
                             capture_output=True, check=True, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine(peers: dict[str, str | None]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(), "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(), "numpy": np.__version__,
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "plastix_commit": git_commit(), "peers": peers,
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        info["torch"] = None
    return info


def machine_lines(info: dict[str, Any]) -> list[str]:
    peers = ", ".join(f"{name} {v}" if v else f"{name} (not installed)"
                      for name, v in info["peers"].items()) or "not timed"
    torch = (f"torch {info['torch']} ({info['torch_threads']} threads)" if info["torch"]
             else "torch not installed")
    return [f"{info['date']}, {info['cpu']}, {info['cores']} cores, load average "
            f"{' '.join(str(x) for x in info['load_average'])}",
            f"Python {info['python']}, NumPy {info['numpy']} (OPENBLAS_NUM_THREADS="
            f"{info['OPENBLAS_NUM_THREADS'] or 'unset'}), {torch}; peers: {peers}; "
            f"plastix {info['plastix_commit'] or '(commit unknown)'}"]


OVERSUBSCRIBED = ("note: more runnable processes than cores and more than one torch thread: "
                  "torch's (and OpenBLAS's) threads then wait for each other, and times of "
                  "the torch contenders (plastix PyTorch, BindsNET, norse) can grow tenfold; "
                  "OPENBLAS_NUM_THREADS=1 python -m benchmarks --threads 1 is steadier.")


def oversubscribed(info: dict[str, Any]) -> bool:
    return bool(info.get("torch_threads", 1) > 1 and info["load_average"][0] > info["cores"])


GRID_HEADER = ["| n_pre x n_post | batch | p | plastix | plastix us | BindsNET us | norse us "
               "| floor us | x BindsNET | x norse | x floor | goal | holds |",
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]


def _ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}"


def grid_lines(m: Measured, backends: list[str]) -> list[str]:
    """Two rows per point (one per plastix backend), the peers and floor repeated."""
    p, t = m.point, m.times
    lines = []
    for backend in backends:
        v = verdicts(m, backend)
        r = v["ratios"]
        lines.append(f"| {p.size} | {p.batch} | {p.p} | {BACKEND_LABELS[backend]} | "
                     f"{fmt_us(t[f'plastix {backend}'])} | {fmt_us(t.get('BindsNET'))} | "
                     f"{fmt_us(t.get('norse'))} | {fmt_us(t['floor'])} | "
                     f"{_ratio(r['BindsNET'])} | {_ratio(r['norse'])} | {_ratio(r['floor'])} | "
                     f"{v['goal']} | {v['verdict']} |")
    return lines


def compact_lines(results: list[Measured], backends: list[str]) -> list[str]:
    """The issue's layout: one row per point, microseconds per step."""
    cols = [f"plastix {BACKEND_LABELS[b]}" for b in backends]
    cols += [f"BindsNET {VERSIONS['BindsNET']} PostPre", f"norse {VERSIONS['norse']} "
             "stdp_step_linear", "floor"]
    lines = ["| n_pre x n_post, batch, p | " + " | ".join(cols) + " |",
             "|---" * (len(cols) + 1) + "|"]
    for m in results:
        keys = [f"plastix {b}" for b in backends] + ["BindsNET", "norse", "floor"]
        lines.append(f"| {m.point.size}, {m.point.batch}, {m.point.p} | "
                     + " | ".join(fmt_us(m.times.get(k)) for k in keys) + " |")
    return lines


SPAIC_HEADER = ["| rule | n_pre x n_post | batch | p | plastix | plastix us | floor us "
                "| x floor | goal | holds |", "|---|---|---|---|---|---|---|---|---|---|"]


def spaic_lines(m: Measured, backends: list[str]) -> list[str]:
    lines = []
    for backend in backends:
        v = verdicts(m, backend)
        lines.append(f"| {m.rule} | {m.point.size} | {m.point.batch} | {m.point.p} | "
                     f"{BACKEND_LABELS[backend]} | {fmt_us(m.times[f'plastix {backend}'])} | "
                     f"{fmt_us(m.times['floor'])} | {_ratio(v['ratios']['floor'])} | "
                     f"{v['goal']} | {v['verdict']} |")
    return lines


def overhead_verdict(name: str, measured: dict[str, Any]) -> tuple[str, str, bool | None]:
    """The goal for ``Binding.step`` on either backend; none for the other contenders."""
    if not name.startswith("Binding.step"):
        return "-", "-", None
    return goals.judge(goals.OVERHEAD, {"hand-written NumPy": measured["ratios"][name]})


def overhead_lines(measured: dict[str, Any]) -> list[str]:
    lines = ["| 10x10 nearest_online_stdp, batch 1 | us per step | x hand-written NumPy "
             "| goal | holds |", "|---|---|---|---|---|"]
    for name, t in measured["times"].items():
        goal, verdict, _ = overhead_verdict(name, measured)
        lines.append(f"| {name} | {fmt_us(t)} | {measured['ratios'][name]:.2f} | {goal} | "
                     f"{verdict} |")
    return lines


def equality_lines(records: list[dict[str, Any]], tolerance: float) -> list[str]:
    lines = ["| setting | n_pre x n_post | batch | p | steps | plastix | against "
             "| largest abs difference | weights moved up to | at a bound "
             f"| equal (<= {tolerance:g}) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r['setting']} | {r['size']} | {r['batch']} | {r['p']} | "
                     f"{r['steps']} | {r['plastix']} | {r['other']} | {r['max_abs_diff']:.2e} | "
                     f"{r['moved']:.3f} | {r['at_bounds']:.1%} | "
                     f"{'yes' if r['equal'] else 'NO'} |")
    return lines


def demo_lines(summary: dict[str, float], quick: bool) -> list[str]:
    goal, verdict, _ = goals.judge(goals.DEMO, {"NumPy demo": summary["ratio"]})
    kind = "plastix demo --quick" if quick else "plastix demo"
    return ["| command | NumPy s | PyTorch s | PyTorch / NumPy | goal | holds |",
            "|---|---|---|---|---|---|",
            f"| {kind} | {summary['numpy']:.1f} | {summary['torch']:.1f} | "
            f"{summary['ratio']:.2f} | {goal} | {verdict} |"]


def measured_json(m: Measured, backends: list[str]) -> dict[str, Any]:
    return {"rule": m.rule, "n_pre": m.point.n_pre, "n_post": m.point.n_post,
            "batch": m.point.batch, "p": m.point.p,
            "median_us": {k: v * 1e6 for k, v in m.times.items()},
            "rounds_us": {k: [x * 1e6 for x in s] for k, s in m.samples.items()},
            "plastix": [verdicts(m, b) for b in backends]}
