"""The wheel maps the top-level folders into the one ``plastix`` namespace."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What pip says when it cannot fetch the build requirements (no index, no network).
NO_INDEX = (r"No matching distribution found|Could not find a version that satisfies|"
            r"Failed to establish a new connection|Network is unreachable")


def test_wheel_holds_only_the_plastix_namespace(tmp_path: Path) -> None:
    # built as a user builds it: pip makes an isolated build environment with the
    # setuptools that pyproject.toml asks for (the package index must be reachable)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
         str(ROOT)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0 and re.search(NO_INDEX, result.stderr):
        pytest.skip(f"the package index cannot be reached to build a wheel: "
                    f"{result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stderr[-2000:]
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
