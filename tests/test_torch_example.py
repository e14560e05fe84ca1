"""examples/norse_plastic.py: a PlasticLinear layer in a spiking loop, with norse's LIF cells
when norse is installed and the plain-torch LIF otherwise."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import needs_torch

torch = needs_torch()

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "norse_plastic.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("plastix_example_norse_plastic", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("grad_mode", [False, True])
def test_correlated_inputs_win_with_the_plain_torch_lif(grad_mode: bool) -> None:
    ex = _example()
    plastic = ex.layer(grad_mode=grad_mode)
    opt = torch.optim.SGD(plastic.parameters(), lr=1.0) if grad_mode else None
    corr, rest, rate = ex.simulate(plastic, ex.TorchLIF(), ex.inputs(1500), opt)
    start = 0.08  # the mean of the uniform start in [0.06, 0.1]
    assert corr > start + 0.05 and rest < start - 0.01, (corr, rest)
    assert 5.0 < rate < 100.0


def test_torch_lif_steps_like_norse() -> None:
    norse = pytest.importorskip("norse.torch", reason="norse is not installed")
    ex = _example()
    g = torch.Generator().manual_seed(0)
    currents = torch.rand(200, 2, 5, generator=g) * 0.6
    ours, theirs = ex.TorchLIF(), norse.LIFCell()
    s_ours = s_theirs = None
    spikes = 0.0
    for x in currents:
        z_ours, s_ours = ours(x, s_ours)
        z_theirs, s_theirs = theirs(x, s_theirs)
        torch.testing.assert_close(z_ours, z_theirs.detach())
        torch.testing.assert_close(s_ours[0], s_theirs.v.detach())
        spikes += float(z_ours.sum())
    assert spikes > 0  # the comparison covered spikes and resets


def test_script_runs_quick_with_norse() -> None:
    pytest.importorskip("norse.torch", reason="norse is not installed")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PLASTIX_QUICK": "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("norse.torch.LIFCell") == 2, proc.stdout
