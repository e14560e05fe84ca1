"""The demo's figure: learned receptive fields and the test confusion matrix (matplotlib)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .demo import DemoResult


def save_figure(result: DemoResult, path: str | Path) -> Path:
    """Write the figure to ``path``; raises ImportError when matplotlib is missing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(result.weights)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    # every neuron's 8x8 field, tiled, with a one-pixel gap between fields
    tiles = np.full((rows * 9 - 1, cols * 9 - 1), np.nan)
    for k, w in enumerate(result.weights):
        r, c = divmod(k, cols)
        tiles[r * 9: r * 9 + 8, c * 9: c * 9 + 8] = w.reshape(8, 8)
    fig, (ax_w, ax_c) = plt.subplots(1, 2, figsize=(12, 5.8), layout="constrained",
                                     gridspec_kw={"width_ratios": [1.15, 1]})
    im = ax_w.imshow(tiles, cmap="hot_r", interpolation="nearest")
    ax_w.set_title(f"receptive fields of {n} neurons (weights)")
    ax_w.axis("off")
    fig.colorbar(im, ax=ax_w, fraction=0.046)
    conf = result.confusion
    ax_c.imshow(conf, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if conf[i, j]:
                ax_c.text(j, i, str(conf[i, j]), ha="center", va="center", fontsize=8,
                          color="white" if conf[i, j] > conf.max() / 2 else "black")
    ax_c.set_xticks(range(10))
    ax_c.set_yticks(range(10))
    ax_c.set_xlabel("predicted digit")
    ax_c.set_ylabel("true digit")
    ax_c.set_title(f"test set: {result.accuracy:.1%} of {result.n_test} correct")
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
