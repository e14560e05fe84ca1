"""What ``plastix run`` reports: a record of the run (``--json`` prints it) and its text."""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np


def weight_bounds(params: Any) -> dict[str, float]:
    """The rule's finite weight bounds by hyperparameter name (lower first)."""
    names = [n for n in ("w_min", "w_max", "w_bound", "wmax") if hasattr(params, n)]
    return {n: float(v) for n in names[:2]
            if isinstance(v := getattr(params, n), int | float) and math.isfinite(v)}


def run_report(args: argparse.Namespace, syn: Any, shape: tuple[int, ...],
            signals: dict[str, tuple[Any, str]], before: dict[str, np.ndarray],
            after: dict[str, np.ndarray], elapsed: float) -> dict[str, Any]:
    w0, w = before["weight"], after["weight"]
    return {
        "rule": syn.rule_name, "backend": syn.backend.key, "dtype": syn.dtype,
        "weight_shape": list(shape), "pre_shape": list(syn.graph.pre_shape[1:]),
        "post_shape": list(syn.graph.post_shape[1:]), "batch": args.batch,
        "steps": args.steps, "dt_ms": args.dt, "rate_hz": args.rate, "seed": args.seed,
        "signals": {k: {"value": v, "from": src} for k, (v, src) in signals.items()},
        "weight": {"mean_before": float(w0.mean()), "mean_after": float(w.mean()),
                   "std_before": float(w0.std()), "std_after": float(w.std()),
                   "changed": float(np.mean(w != w0)),
                   "max_abs_change": float(np.abs(w - w0).max())},
        "learned": {k: {"mean_before": float(before[k].mean()),
                        "mean_after": float(v.mean()), "std_after": float(v.std())}
                    for k, v in after.items() if k != "weight"},
        "at_bounds": {name: {"bound": b, "share": float(np.mean(np.isclose(w, b)))}
                      for name, b in weight_bounds(syn.params).items()},
        "steps_per_s": (args.steps - 1) / elapsed,
    }


def report_text(r: dict[str, Any]) -> str:
    shape = "x".join(map(str, r["weight_shape"]))
    w = r["weight"]
    lines = [f"rule {r['rule']} on {r['backend']} ({r['dtype']}): weight {shape}, batch "
             f"{r['batch']}, {r['steps']} steps of {r['dt_ms']:g} ms, Poisson "
             f"{r['rate_hz']:g} Hz"]
    for name, s in r["signals"].items():
        lines.append(f"  {name:<12} {s['value']!r} at every step ({s['from']})")
    lines += [f"  weight mean  {w['mean_before']:.6g} -> {w['mean_after']:.6g}",
              f"  weight std   {w['std_before']:.6g} -> {w['std_after']:.6g}",
              f"  changed      {w['changed']:.1%} of synapses, max |dw| "
              f"{w['max_abs_change']:.3g}"]
    for name, s in r["learned"].items():
        lines.append(f"  {name + ' mean':<12} {s['mean_before']:.6g} -> {s['mean_after']:.6g} "
                     f"(std {s['std_after']:.3g})")
    for label, b in r["at_bounds"].items():
        lines.append(f"  at {label}={b['bound']}  {b['share']:.1%}")
    lines.append(f"  speed        {r['steps_per_s']:,.0f} steps/s "
                 f"({1e3 / r['steps_per_s']:.3f} ms/step)")
    return "\n".join(lines)
