"""The STDP window of every registered pair-based rule, measured through the registry.

For each delay ``delta = t_post - t_pre`` one synapse (a 1x1 weight) is bound afresh, sees one
pre and one post spike, and the weight changes the rule computes are read at the seam
(``Binding.intercept("weight", ...)``), before any bound or normalisation: their sum is the
rule's window at that delay. Rules with stochastic rounding (integer dtypes) see the same pair
in each of 64 batch rows, which draw independently, so their window is the mean change.
Every rule that binds a dense weight with its defaults and needs no extra signal (reward, ...)
is measured; the others are listed as skipped.

The windows are plotted in one figure, each side scaled to its own peak so that the shapes
compare, against the exponential fit to Bi and Poo (1998) (Bi and Poo 2001, Annu. Rev.
Neurosci. 24:139: tau+ = 16.8 ms, tau- = 33.7 ms). The raw peak changes are printed.

    python examples/stdp_window.py [--out stdp_window.png] [--quick]

``--quick`` (or ``PLASTIX_QUICK=1``) measures fewer delays and writes no figure unless
``--out`` is given.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np

import plastix as px

TAU_PLUS, TAU_MINUS = 16.8, 33.7  # ms, Bi and Poo's fit


def window(rule: str, delays: np.ndarray) -> np.ndarray:
    """The summed weight change of one pre/post pair at each delay (ms, dt = 1 ms)."""
    learner = px.Learner(rule)
    integer = learner.dtype.startswith("int")
    batch = 64 if integer else 1
    w0 = np.full((1, 1), 1 if integer else 0.5)  # mid-range; integer rules take integers
    lead = int(np.abs(delays).max()) + 1
    out = np.zeros(len(delays))
    for k, delta in enumerate(delays):
        syn = learner.bind(w0, batch_size=batch)
        seen: list[Any] = []

        def record(dw: Any, seen: list[Any] = seen) -> Any:
            seen.append(float(learner.backend.to_numpy(dw).sum()))
            return dw

        syn.intercept("weight", record)
        t_pre, t_post = lead, lead + int(delta)
        for t in range(max(t_pre, t_post) + 2):
            syn.step(pre=np.full((batch, 1), float(t == t_pre)),
                     post=np.full((batch, 1), float(t == t_post)))
        out[k] = sum(seen) / batch
    return out


def measure(delays: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    windows, skipped = {}, {}
    for name in px.rules():
        try:
            windows[name] = window(name, delays)
        except (px.PlastixError, ValueError, TypeError) as exc:
            skipped[name] = str(exc).splitlines()[0]
    return windows, skipped


def bi_poo(delays: np.ndarray) -> np.ndarray:
    return np.where(delays > 0, np.exp(-delays / TAU_PLUS),
                    np.where(delays < 0, -np.exp(delays / TAU_MINUS), np.nan))


def shape(w: np.ndarray, delays: np.ndarray) -> np.ndarray:
    """Each side scaled to its own peak magnitude (a same-step pair by the causal side's)."""
    out = w.astype(float).copy()
    for side, scaled in ((delays > 0, delays >= 0), (delays < 0, delays < 0)):
        peak = np.abs(w[side]).max() if side.any() else 0.0
        if peak > 0:
            out[scaled] = w[scaled] / peak
    return out


def plot(windows: dict[str, np.ndarray], delays: np.ndarray, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fine = np.linspace(delays.min(), delays.max(), 801)
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.plot(fine, bi_poo(fine), color="0.6", lw=6, alpha=0.5,
            label=f"Bi & Poo (1998) fit: tau+ {TAU_PLUS} ms, tau- {TAU_MINUS} ms")
    markers, dashes = "osD^vx+*<>ph", ["-", "--", ":", "-."]
    for k, (name, w) in enumerate(windows.items()):
        ax.plot(delays, shape(w, delays), marker=markers[k % len(markers)], ms=7 - k % 4,
                ls=dashes[k % 4], lw=1.2, mfc="none", label=name)
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("t_post - t_pre (ms)")
    ax.set_ylabel("weight change (each side / its peak)")
    ax.set_title("STDP windows of the registered rules, one spike pair each")
    # beside the axes, not over them: every rule's curve stays visible
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, np.ndarray]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=None, help="figure path (default stdp_window.png)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("PLASTIX_QUICK", "") not in ("", "0")
    delays = np.arange(-40, 41, 10) if quick else \
        np.union1d(np.arange(-80, 81, 4), np.arange(-4, 5))
    windows, skipped = measure(delays)
    print(f"{'rule':<28} {'peak LTP':>11} {'at':>5} {'peak LTD':>11} {'at':>5}")
    for name, w in windows.items():
        i, j = int(np.argmax(w)), int(np.argmin(w))
        print(f"{name:<28} {w[i]:>11.4g} {delays[i]:>5} {w[j]:>11.4g} {delays[j]:>5}")
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    out = args.out or (None if quick else "stdp_window.png")
    if out:
        try:
            plot(windows, delays, out)
            print(f"figure: {out}")
        except ImportError:
            print("figure: not written (needs matplotlib: pip install 'plastix[plot]')")
    return windows


if __name__ == "__main__":
    main()
