"""Every hint that says how to install PyTorch names a pinned, known-good CPU build and how to
choose a CUDA one: an unpinned ``pip install torch`` resolves gigabytes of CUDA wheels."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import plastix as px
import plastix.backends as pb
from plastix._errors import TORCH_CPU, install_hint
from tests.conftest import NO_TORCH

ROOT = Path(__file__).resolve().parents[1]
PINNED_CPU = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
#: An install command for torch (or plastix's torch extra) that leaves the build to pip.
UNPINNED = re.compile(r"pip install (?:-\w+ )*(?:torch(?!==)|['\"]?plastix\[torch\])")


def _says_how_to_install_torch(text: str) -> None:
    assert PINNED_CPU in text
    assert "CUDA" in text and "download.pytorch.org/whl/cu" in text
    assert UNPINNED.search(text) is None, UNPINNED.search(text)


def test_the_hint_is_pinned_and_tells_how_to_choose_a_cuda_build() -> None:
    assert TORCH_CPU == PINNED_CPU
    _says_how_to_install_torch(install_hint("torch"))
    assert "cupy-cuda13x" in install_hint("cupy-cuda12x")
    assert install_hint("imaginary-arrays") == "pip install imaginary-arrays"


def test_a_missing_torch_backend_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pb._select, "_INSTANCES", {})
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` fails
    with pytest.raises(px.BackendUnavailableError) as info:
        px.Learner("nearest_online_stdp", backend="torch")
    _says_how_to_install_torch(str(info.value))


def test_distributed_without_torch_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import plastix.distributed as dist

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError) as info:
        dist._torch()
    _says_how_to_install_torch(str(info.value))


def test_the_test_suite_skips_with_the_hint() -> None:
    _says_how_to_install_torch(NO_TORCH)


@pytest.mark.parametrize("page", ["docs/install.rst", "docs/torch.rst", "README.md"])
def test_the_docs_name_the_pinned_build(page: str) -> None:
    text = " ".join((ROOT / page).read_text().split())
    assert UNPINNED.search(text) is None, UNPINNED.search(text)
    if page != "README.md":
        _says_how_to_install_torch(text.replace("``", ""))
