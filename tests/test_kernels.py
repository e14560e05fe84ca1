"""Generated per-synapse kernels compute what the array lowering (the reference) computes.

For every registered rule with a dense float weight, on every backend that runs kernels, a
binding with kernels and one without (``PLASTIX_KERNELS=0``) are driven by the same spikes:
float64 weights and state agree within 1e-12 at batch 1 and 2 (outer products summed inside
the kernel) and 8 (one rank-k update by BLAS, then the kernel). Event-driven kernel steps
equal dense ones bit for bit; a weight written from outside is clamped whole on the next
step; the kernel's source is part of ``syn.source``.
"""

from __future__ import annotations

import importlib.util
import shutil
from typing import Any

import numpy as np
import pytest

import plastix as px
from plastix.backends import get_backend
from tests.conftest import to_numpy

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                reason="Numba is not installed (pip install numba)")

SHAPE = (70, 64)  # 4480 synapses: above the kernels' minimum size
#: rules whose weight-sized ops must all fit one kernel (the catalogue's pair-STDP core)
KERNEL_RULES = ("nearest_online_stdp", "full_online_stdp", "meta_nearest_online_stdp",
                "norse_stdp", "song_abbott_stdp", "triplet_stdp", "exp_stdp", "post_pre",
                "nest_stdp", "canns_stdp", "mstdpet", "spikingjelly_stdp")


def _dense_float_rules() -> list[str]:
    out = []
    for name in px.rules():
        cls = px.find_rule(name)
        if "float64" not in cls.dtypes:
            continue
        try:
            cls.spike_shapes(SHAPE, 1, cls.Params())
        except Exception:
            continue  # a convolutional rule
        out.append(name)
    return out


def _signals(syn: px.Binding) -> dict[str, Any]:
    return {n: 0.7 for n, d in syn.graph.variables.items()
            if d.kind == "signal" and d.default is None}


def _drive(rule: str, backend: str, batch: int, kernels: bool, monkeypatch: pytest.MonkeyPatch,
           steps: int = 12, **kw: Any) -> tuple[px.Binding, dict[str, np.ndarray]]:
    monkeypatch.setenv("PLASTIX_KERNELS", "1" if kernels else "0")
    rng = np.random.default_rng(3)
    syn = px.Learner(rule, backend, dtype="float64").bind(
        rng.uniform(0.1, 0.9, SHAPE), batch_size=batch, **kw)
    for _ in range(steps):
        pre = (rng.random((batch, SHAPE[1])) < 0.1).astype(np.float64)
        post = (rng.random((batch, SHAPE[0])) < 0.1).astype(np.float64)
        syn.step(pre, post, **_signals(syn))
    return syn, {k: to_numpy(v) for k, v in syn.arrays.items()}


@pytest.fixture(params=["numpy", "torch"])
def kernel_backend(request: pytest.FixtureRequest) -> str:
    try:
        be = get_backend(request.param)
    except px.BackendUnavailableError as exc:
        pytest.skip(str(exc))
    if be.kernel_target() is None:
        pytest.skip(f"backend {request.param!r} runs no kernels here")
    return str(request.param)


@pytest.mark.parametrize("batch", [1, 2, 8])
@pytest.mark.parametrize("rule", _dense_float_rules())
def test_kernels_equal_the_array_lowering(rule: str, batch: int, kernel_backend: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if batch == 2 and rule not in KERNEL_RULES:
        pytest.skip("batch 2 is checked on the core rules (a kernel per batch size)")
    fast, got = _drive(rule, kernel_backend, batch, True, monkeypatch)
    _, want = _drive(rule, kernel_backend, batch, False, monkeypatch)
    if rule in KERNEL_RULES:
        assert "_synapse_kernel" in fast._compiled("step").source
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("rule", ["norse_stdp", "full_online_stdp", "song_abbott_stdp"])
def test_event_driven_kernel_steps_equal_dense_ones(rule: str, batch: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    results = []
    for mode in (True, False):
        monkeypatch.setenv("PLASTIX_KERNELS", "1")
        rng = np.random.default_rng(5)
        syn = px.Learner(rule, dtype="float64").bind(rng.uniform(-0.2, 1.2, (200, 300)),
                                                      batch_size=batch)
        syn.event_driven, syn.sparse_bounds = mode, True
        for t in range(20):
            p = 0.002 if t % 2 else 0.02
            syn.step((rng.random((batch, 300)) < p).astype(np.float64),
                     (rng.random((batch, 200)) < p).astype(np.float64))
        results.append(np.array(syn.weight))
    np.testing.assert_array_equal(results[0], results[1])


def test_a_weight_written_in_place_is_clamped_whole_on_the_next_step() -> None:
    # torch counts writes: after an in-place write out of the bounds, the event-driven
    # kernel must not trust its in-bounds flag (NumPy cannot tell, and clamps every step)
    torch = pytest.importorskip("torch")
    if get_backend("torch").kernel_target() is None:
        pytest.skip("torch runs no kernels here")
    syn = px.Learner("norse_stdp", "torch").bind(torch.full((200, 300), 0.5))
    quiet = (torch.zeros(1, 300), torch.zeros(1, 200))
    syn.step(*quiet)  # a dense first step: every synapse within [0, 1]
    syn.weight.add_(5.0)  # out of the bounds, behind the binding's back
    syn.step(*quiet)
    assert float(syn.weight.max()) == 1.0


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_numpy_clamps_every_synapse_unless_sparse_bounds_is_promised(
        backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip(backend)
    syn = px.Learner("norse_stdp", backend).bind(np.full((200, 300), 0.5, np.float32))
    quiet = (np.zeros((1, 300), np.float32), np.zeros((1, 200), np.float32))
    syn.step(*quiet)
    if backend == "numpy":
        syn.weight[:] = 3.0  # NumPy has no write counter: the next dense pass clamps it
    else:
        syn.weight.fill_(3.0)
    syn.step(*quiet)
    assert float(to_numpy(syn.weight).max()) == 1.0


def test_set_invalidates_the_bounds_of_an_event_driven_kernel() -> None:
    syn = px.Learner("norse_stdp", eta_plus=0.05).bind(np.full((200, 300), 0.9, np.float32))
    syn.sparse_bounds = True
    rng = np.random.default_rng(2)
    for _ in range(4):
        syn.step((rng.random((1, 300)) < 0.01).astype(np.float32),
                 (rng.random((1, 200)) < 0.01).astype(np.float32))
    syn.set(w_max=0.25)
    syn.step(np.zeros((1, 300), np.float32), np.zeros((1, 200), np.float32))
    assert float(syn.weight.max()) <= 0.25


def test_the_kernel_source_is_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLASTIX_KERNELS", "1")
    syn = px.Learner("norse_stdp").bind(np.full(SHAPE, 0.5, np.float32))
    src = syn.source
    assert "_synapse_kernel(X, weight" in src and "def synapse_norse_stdp(" in src
    assert "o0=weight" in src and "a_plus" in src  # the legend names the graph's values


def test_no_kernel_when_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLASTIX_KERNELS", "0")
    syn = px.Learner("norse_stdp").bind(np.full(SHAPE, 0.5, np.float32))
    assert "_synapse_kernel" not in syn.source and "clip_ufunc(" in syn.source


def test_small_weights_keep_the_array_lowering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLASTIX_KERNELS", "1")
    assert "_synapse_kernel" not in px.Learner("norse_stdp").bind(np.zeros((10, 10))).source


def test_the_row_normalisation_of_a_tiny_row_does_not_overflow(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # c / sum overflows for a sum below ~1e-308: the row is divided first, as the graph does
    for kernels in ("0", "1"):
        monkeypatch.setenv("PLASTIX_KERNELS", kernels)
        syn = px.Learner("full_online_stdp", dtype="float64", w_norm=1.0).bind(
            np.tile([[2e-311, 0.0]], (5000, 1)))
        syn.step(np.zeros((1, 2)), np.zeros((1, 5000)), final=True)
        np.testing.assert_array_equal(syn.weight[:3], [[1.0, 0.0]] * 3)


def test_one_kernel_per_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLASTIX_KERNELS", "1")
    a = px.Learner("norse_stdp").bind(np.full(SHAPE, 0.5, np.float32))
    b = px.Learner("norse_stdp", eta_plus=0.3).bind(np.full(SHAPE, 0.2, np.float32))
    ka, kb = (s._compiled("step").namespace["_synapse_kernel"] for s in (a, b))
    assert ka.source == kb.source  # the constants are arguments, not part of the code


# -- CUDA kernels, checked on the host --------------------------------------------------------
CUDA_RULES = ("norse_stdp", "song_abbott_stdp", "triplet_stdp", "post_pre", "mstdpet",
              "nest_stdp", "exp_stdp", "full_online_stdp")


class _HostKernel:
    """A CUDA kernel's source compiled as host C++ (plastix._compiler.kernel_cuda.
    host_emulation), called as CuPy calls a RawKernel: ``kernel(grid, block, args)``."""

    def __init__(self, source: str, fname: str, folder: Any) -> None:
        import ctypes
        import subprocess

        from plastix._compiler.kernel_cuda import host_emulation

        path = folder / f"{fname}_{abs(hash(source))}.cpp"
        path.write_text(host_emulation(source, fname))
        lib = path.with_suffix(".so")
        subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-o", str(lib), str(path)],
                       check=True, capture_output=True)
        self.fn = getattr(ctypes.CDLL(str(lib)), f"run_{fname}")
        self.ctypes = ctypes

    def __call__(self, grid: Any, block: Any, args: tuple[Any, ...]) -> None:
        c = self.ctypes
        converted = []
        for a in args:
            if isinstance(a, np.ndarray) and a.ndim:
                assert a.flags.c_contiguous
                converted.append(a.ctypes.data_as(c.c_void_p))
            elif isinstance(a, np.int64):
                converted.append(c.c_long(int(a)))
            elif isinstance(a, np.float32):
                converted.append(c.c_float(float(a)))
            else:
                converted.append(c.c_double(float(a)))
        self.fn(*converted)


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++ to compile the CUDA "
                    "kernels' source for the host")
@pytest.mark.parametrize("batch", [1, 2, 8])
@pytest.mark.parametrize("rule", CUDA_RULES)
def test_cuda_kernels_equal_the_array_lowering_on_the_host(
        rule: str, batch: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    # the NumPy backend made to lower its kernels as CUDA C, which g++ runs on the host:
    # the same source, caller and lowering as on a GPU, against the array lowering
    from plastix._compiler import kernel_cuda
    from plastix.backends._numpy import NumpyBackend

    _, want = _drive(rule, "numpy", batch, False, monkeypatch)
    monkeypatch.setattr(NumpyBackend, "kernel_target", lambda self: "cuda")
    monkeypatch.setattr(kernel_cuda, "compile_kernel",
                        lambda source, fname: _HostKernel(source, fname, tmp_path))
    fast, got = _drive(rule, "numpy", batch, True, monkeypatch)
    assert "_synapse_kernel" in fast._compiled("step").source
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.skipif(importlib.util.find_spec("cupy") is None, reason="needs CuPy and a "
                    "CUDA GPU")
@pytest.mark.parametrize("backend", ["cupy", "torch:cuda"])
@pytest.mark.parametrize("rule", CUDA_RULES)
def test_cuda_kernels_equal_the_array_lowering_on_a_gpu(
        rule: str, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        get_backend(backend)
    except px.BackendUnavailableError as exc:
        pytest.skip(str(exc))
    fast, got = _drive(rule, backend, 2, True, monkeypatch)
    _, want = _drive(rule, backend, 2, False, monkeypatch)
    assert "_synapse_kernel" in fast._compiled("step").source
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-12, atol=1e-12, err_msg=name)
