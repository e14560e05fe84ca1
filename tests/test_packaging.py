"""The wheel maps the top-level folders into the one ``plastix`` namespace."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_holds_only_the_plastix_namespace(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {result.stderr[-300:]}")
    (wheel,) = tmp_path.glob("plastix-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"plastix", next(t for t in tops if t.endswith(".dist-info"))}
    for sub in ("registry/hookspecs.py", "learners/spaic.py", "backends/_numpy.py", "py.typed"):
        assert f"plastix/{sub}" in names
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "plastix = plastix._apps.cli:main" in entry_points


def test_importing_plastix_loads_no_plugins_and_no_torch() -> None:
    code = ("import sys, plastix; "
            "assert 'torch' not in sys.modules and 'cupy' not in sys.modules; "
            "assert not plastix.registry._plugins._STATE.loaded; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "ok", out.stderr
