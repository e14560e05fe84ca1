"""Wall time of ``plastix demo --backend torch`` against ``--backend numpy`` (``--demo``).

Each run is the command a user types, in a fresh interpreter (start-up and imports count, as
they do for the user), writing its figure to a temporary folder; the two backends alternate
``rounds`` times and each keeps its median.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._timing import median

BACKENDS = ("numpy", "torch")


def command(backend: str, out: Path, quick: bool) -> list[str]:
    script = Path(sys.executable).with_name("plastix")
    head = [str(script)] if script.exists() else [
        sys.executable, "-c", "import sys; from plastix._apps.cli import main; sys.exit(main())"]
    return [*head, "demo", "--backend", backend, "--no-progress", "--out", str(out),
            *(["--quick"] if quick else [])]


def wall_time(backend: str, quick: bool, threads: int = 0) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        argv = command(backend, Path(tmp) / "demo.png", quick)
        env = {**os.environ, "PLASTIX_QUICK": "1" if quick else ""}
        if threads:  # what --threads sets in this process, for the child's torch
            env["OMP_NUM_THREADS"] = str(threads)
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0


def measure(rounds: int = 3, quick: bool = False, threads: int = 0) -> dict[str, list[float]]:
    """Seconds of each backend's demo, every round."""
    samples: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for _ in range(rounds):
        for backend in BACKENDS:
            samples[backend].append(wall_time(backend, quick, threads))
    return samples


def summary(samples: dict[str, list[float]]) -> dict[str, float]:
    times = {b: median(s) for b, s in samples.items()}
    return {**times, "ratio": times["torch"] / times["numpy"]}
