"""Backend selection, registration, errors, and conversion at a binding's edges."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import plastix as px
import plastix.backends as pb
from plastix._runtime.binding import Binding
from plastix.registry import BACKENDS, ensure_loaded
from tests.conftest import assert_close, needs_torch


@pytest.fixture
def fresh_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget constructed backends, so a test can change what their constructors see."""
    monkeypatch.setattr(pb._select, "_INSTANCES", {})


def _spikes(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return (rng.random(shape) < 0.3).astype(np.float32)


def test_builtin_backends_register_with_aliases_and_packages() -> None:
    ensure_loaded()
    for name, alias, package in (("numpy", "np", "numpy"), ("torch", "pytorch", "torch"),
                                 ("cupy", "cp", "cupy-cuda12x")):
        entry = BACKENDS.get(alias)
        assert entry is not None and entry.name == name
        assert entry.meta["package"] == package


def test_missing_cupy_names_the_pip_package(monkeypatch: pytest.MonkeyPatch,
                                            fresh_backends: None) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail
    with pytest.raises(px.BackendUnavailableError, match="pip install cupy-cuda12x") as info:
        px.Learner("nearest_online_stdp", backend="cupy")
    assert info.value.backend == "cupy"


def test_missing_torch_names_the_pip_package(monkeypatch: pytest.MonkeyPatch,
                                             fresh_backends: None) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(px.BackendUnavailableError, match="pip install torch"):
        pb.get_backend("pytorch")


def test_unknown_backend_suggests_known_names() -> None:
    with pytest.raises(px.BackendUnavailableError, match="did you mean 'torch'"):
        pb.get_backend("troch")


def test_import_and_numpy_learner_never_import_torch_or_cupy() -> None:
    code = (
        "import sys, numpy as np, plastix as px\n"
        "syn = px.Learner('nearest_online_stdp').bind(np.full((3, 4), 0.5, np.float32), 2)\n"
        "syn.step(np.ones((2, 4)), np.ones((2, 3)))\n"
        "print(sorted(m for m in ('torch', 'cupy') if m in sys.modules))\n"
    )
    env = {**os.environ, "PLASTIX_DISABLE_PLUGIN_AUTOLOAD": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_array_library_recognises_arrays_without_importing() -> None:
    assert pb.array_library(np.zeros(2)) == "numpy"
    assert pb.array_library([0.0, 1.0]) is None
    assert pb.array_library(0.5) is None


def test_bind_converts_numpy_once_and_step_takes_native_arrays(backend: str) -> None:
    be = pb.get_backend(backend)
    rng = np.random.default_rng(0)
    syn = px.Learner("full_online_stdp", backend=backend).bind(
        np.full((3, 4), 0.5, np.float32), batch_size=2)
    assert be.is_native(syn.weight) and be.is_native(syn.x_pre)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        syn.step(be.asarray(_spikes(rng, (2, 4)), "float32"),
                 be.asarray(_spikes(rng, (2, 3)), "float32"))
    assert be.is_native(syn.weight)


def test_step_converts_foreign_arrays_and_warns_once_across_devices(backend: str) -> None:
    torch = needs_torch()
    be = pb.get_backend(backend)
    syn = px.Learner("full_online_stdp", backend=backend, Apost=0.1, Apre=0.05,
                     trace_decay=0.5, w_min=-10.0, w_max=10.0).bind(
        np.full((2, 3), 0.5, np.float32))
    # a foreign array of the other library: torch for NumPy, NumPy for torch and CuPy
    foreign: Callable[[Any], Any] = torch.tensor if backend == "numpy" else np.asarray
    pre, post = foreign([[1.0, 0.0, 0.0]]), foreign([[1.0, 0.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        syn.step(pre, post)
        syn.step(foreign([[0.0, 0.0, 0.0]]), foreign([[0.0, 0.0]]))
    conversions = [w for w in caught if issubclass(w.category, px.ConversionWarning)]
    # only a transfer between devices warns (NumPy and torch share memory on the CPU)
    assert len(conversions) == (1 if be.device is not None else 0)
    expected = np.full((2, 3), 0.5)
    expected[0, 0] += 0.1 - 0.05  # both traces are 1 at (0, 0) after the first step
    assert_close(syn.weight, expected, backend, rtol=1e-6)


@pytest.mark.parametrize("target", ["numpy", "torch"])
def test_to_moves_a_binding_with_its_state(backend: str, target: str) -> None:
    pytest.importorskip(target)
    rng = np.random.default_rng(1)
    learner = px.Learner("meta_nearest_online_stdp", backend=backend, dtype="float64")
    syn = learner.bind(rng.uniform(0, 1, (5, 6)), batch_size=3)
    trains = [(_spikes(rng, (3, 6)), _spikes(rng, (3, 5))) for _ in range(8)]
    be = syn.backend
    for pre, post in trains[:4]:
        syn.step(be.asarray(pre, "float64"), be.asarray(post, "float64"))
    moved = syn.to(target)
    assert moved.t == syn.t and moved.seed == syn.seed
    assert_close(moved.weight, syn.backend.to_numpy(syn.weight), target)
    assert_close(moved.w_mean, syn.backend.to_numpy(syn.w_mean), target)
    assert_close(moved.x_post, syn.backend.to_numpy(syn.x_post), target)
    for pre, post in trains[4:]:
        syn.step(be.asarray(pre, "float64"), be.asarray(post, "float64"))
        moved.step(moved.backend.asarray(pre, "float64"), moved.backend.asarray(post, "float64"))
    assert_close(moved.weight, syn.backend.to_numpy(syn.weight), target)
    assert syn.to(backend) is syn


def test_state_dict_loads_across_backends(backend: str) -> None:
    torch = needs_torch()
    rng = np.random.default_rng(2)
    w = rng.integers(0, 110, (4, 5)).astype(np.int32)
    a = px.Learner("postpreintstdp", backend=backend, seed=3).bind(w.copy(), batch_size=2)
    for _ in range(5):
        a.step(a.backend.asarray(rng.integers(0, 2, (2, 5)), "int32"),
               a.backend.asarray(rng.integers(0, 2, (2, 4)), "int32"))
    other = "numpy" if backend != "numpy" else "torch"
    b = px.Learner("postpreintstdp", backend=other).bind(np.zeros((4, 5), np.int32), 2)
    b.load_state_dict(a.state_dict())
    assert b.t == 5 and b.seed == 3
    assert_close(b.weight, a.backend.to_numpy(a.weight), other, rtol=0)
    assert_close(b.x_pre, a.backend.to_numpy(a.x_pre), other, rtol=0)
    assert isinstance(b.weight, np.ndarray if other == "numpy" else torch.Tensor)


def test_signals_accept_scalars_and_arrays(backend: str) -> None:
    be = pb.get_backend(backend)
    w = np.full((3, 4), 100, np.int32)
    syn = px.Learner("postpreintstdp", backend=backend).bind(w, batch_size=1)
    quiet = np.zeros((1, 4), np.int32), np.zeros((1, 3), np.int32)
    syn.step(be.asarray(quiet[0], "int32"), be.asarray(quiet[1], "int32"), post_thresh=0.0)
    # rows whose threshold exceeds max_threshold are halved (100 >> 1 = 50), others kept
    thresh = be.asarray(np.array([0.0, 5000.0, 0.0]), "float64")
    syn.step(be.asarray(quiet[0], "int32"), be.asarray(quiet[1], "int32"), post_thresh=thresh)
    assert_close(syn.weight, np.array([[100] * 4, [50] * 4, [100] * 4]), backend, rtol=0)


def test_binding_is_a_binding_on_every_backend(backend: str) -> None:
    syn = px.Learner("nearest_online_stdp", backend=backend).bind(np.ones((2, 3), np.float32))
    assert isinstance(syn, Binding)
    assert backend.partition(":")[0] in repr(syn)


def test_step_refuses_a_foreign_array_without_data() -> None:
    torch = needs_torch()
    syn = px.Learner("full_online_stdp", backend="numpy").bind(np.full((3, 4), 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error", px.ConversionWarning)  # no transfer warning: it failed
        with pytest.raises(px.StepInputError, match=r"'pre'.*numpy array or host data"):
            syn.step(torch.empty((1, 4), device="meta"), np.zeros((1, 3)))
    assert syn.t == 0
