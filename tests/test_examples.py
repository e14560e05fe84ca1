"""The examples and the demo, in their shortened CI mode (PLASTIX_QUICK=1 / --quick)."""

from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"plastix_example_{name}",
                                                  EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stdp_window_of_nearest_online_stdp_is_the_closed_form() -> None:
    window = _load("stdp_window").window
    delays = np.array([-30, -5, -1, 0, 1, 5, 30])
    lam = math.exp(-1 / 20)  # the rule's default trace decay per 1 ms step
    a_post, a_pre = 1e-2, 1e-4  # its defaults
    # one pair: the earlier spike's trace has decayed |delta| steps when the later one comes;
    # a same-step pair sees both traces at 1
    expected = [a_post * lam**d if d > 0 else -a_pre * lam**-d if d < 0 else a_post - a_pre
                for d in delays]
    np.testing.assert_allclose(window("nearest_online_stdp", delays), expected, rtol=1e-5)


def test_stdp_window_script_runs_quick(tmp_path: Path) -> None:
    out = tmp_path / "window.png"
    proc = subprocess.run([sys.executable, str(EXAMPLES / "stdp_window.py"), "--quick",
                           "--out", str(out)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PLASTIX_QUICK": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "nearest_online_stdp" in proc.stdout
    assert out.exists() or "not written" in proc.stdout


def test_song_abbott_additive_bimodal_multiplicative_unimodal(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(EXAMPLES / "song_abbott_2000.py"), "--quick",
                           "--out", str(tmp_path / "hist.png")], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PLASTIX_QUICK": "1"})
    assert proc.returncode == 0, proc.stderr
    fifths = dict(re.findall(r"^(additive|multiplicative)\s.*outer fifths ([0-9.]+)",
                             proc.stdout, flags=re.M))
    assert set(fifths) == {"additive", "multiplicative"}, proc.stdout
    assert float(fifths["additive"]) > 0.8, proc.stdout
    assert float(fifths["multiplicative"]) < 0.3, proc.stdout


def test_demo_runs_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sklearn", reason="the demo's digits come from scikit-learn")
    from plastix._apps.cli import main

    out = tmp_path / "demo.png"
    assert main(["demo", "--quick", "--no-progress", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    found = re.search(r"test accuracy: ([0-9.]+)%", text)
    assert found, text
    assert float(found.group(1)) > 25.0  # chance is 10 %; the quick run is short
    assert out.exists() or "matplotlib is missing" in text
