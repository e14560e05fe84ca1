"""The demo's figure: learned receptive fields with each neuron's class, the learning curve
and the confusion matrix (matplotlib)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .demo import DemoResult


def check_output(path: str | Path) -> str | None:
    """Why the figure could not be written to ``path`` (None: it can), checked before any
    training: the folder must exist and be writable, the suffix a format matplotlib knows."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        return f"--out {str(path)!r} is a folder; name a file such as {str(path / 'demo.png')!r}"
    if not folder.is_dir():
        return f"--out {str(path)!r}: the folder {str(folder)!r} does not exist"
    if not os.access(folder, os.W_OK):
        return f"--out {str(path)!r}: the folder {str(folder)!r} is not writable"
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        return None  # no figure will be written; the report says so
    known = FigureCanvasBase.get_supported_filetypes()
    suffix = path.suffix.lstrip(".").lower()
    if suffix not in known:
        what = repr(suffix) if suffix else "a file without a suffix"
        return (f"--out {str(path)!r}: matplotlib cannot write {what}; use one of "
                f"{', '.join(sorted(known))}")
    return None


def tiles(weights: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Every neuron's square field, tiled with a one-pixel gap; (image, columns, side)."""
    n, side = len(weights), math.isqrt(weights.shape[1])
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    out = np.full((rows * (side + 1) - 1, cols * (side + 1) - 1), np.nan)
    for k, w in enumerate(weights):
        r, c = divmod(k, cols)
        out[r * (side + 1): r * (side + 1) + side, c * (side + 1): c * (side + 1) + side] = \
            w.reshape(side, side)
    return out, cols, side


def _fields(fig: Any, ax: Any, result: DemoResult) -> None:
    image, cols, side = tiles(result.weights)
    im = ax.imshow(image, cmap="hot_r", interpolation="nearest")
    size = max(5.0, 9.0 * 10 / cols * min(1.0, side / 10))
    for k, label in enumerate(result.labels):
        r, c = divmod(k, cols)
        x, y = c * (side + 1), r * (side + 1)
        text = "-" if label < 0 else str(int(label))
        ax.text(x, y, text, ha="left", va="top", fontsize=size, fontweight="bold",
                color="tab:blue" if label < 0 else "tab:green",
                bbox={"facecolor": "white", "alpha": 0.8, "pad": 0.3, "linewidth": 0})
        if label < 0:
            ax.plot([x - 0.5, x + side - 0.5], [y - 0.5, y + side - 0.5], color="tab:blue",
                    lw=0.8)
    silent = int((result.labels < 0).sum())
    ax.set_title(f"receptive fields of {len(result.weights)} neurons, each with its class "
                 f"({silent} silent: '-', crossed)", fontsize=9)
    ax.axis("off")
    fig.colorbar(im, ax=ax, fraction=0.046, label="input weight")


def _confusion(ax: Any, result: DemoResult) -> None:
    conf = result.confusion
    ax.imshow(conf, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if conf[i, j]:
                ax.text(j, i, str(conf[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if conf[i, j] > conf.max() / 2 else "black")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(f"{result.split} set: {result.accuracy:.1%} of {result.n_test} correct",
                 fontsize=9)


def _curve(ax: Any, result: DemoResult) -> None:
    seen, acc = zip(*result.curve, strict=True)
    ax.plot(seen, [100 * a for a in acc], marker="o")
    ax.set_xlabel("training images seen")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("learning curve", fontsize=9)
    ax.grid(alpha=0.3)


def write_figure(result: DemoResult, out: Path) -> None:
    """Save the figure and say where, or say that matplotlib is missing."""
    try:
        save_figure(result, out)
        print(f"figure: {out}")
    except ImportError:
        print(f"figure: not written (matplotlib is missing; python -m pip install "
              f"'plastix[plot]' to get receptive fields and a confusion matrix in {out})")


def save_figure(result: DemoResult, path: str | Path) -> Path:
    """Write the figure to ``path``; raises ImportError when matplotlib is missing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(15, 6.5), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1.3, 1])
    _fields(fig, fig.add_subplot(grid[:, 0]), result)
    if result.curve:
        _curve(fig.add_subplot(grid[0, 1]), result)
        _confusion(fig.add_subplot(grid[1, 1]), result)
    else:
        _confusion(fig.add_subplot(grid[:, 1]), result)
    title = f"plastix demo: {result.settings}" if result.settings else "plastix demo"
    fig.suptitle(f"{title}; {result.n_train} training images, {result.seconds:.0f} s",
                 fontsize=10)
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
