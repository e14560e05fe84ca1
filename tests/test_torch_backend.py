"""PyTorch specifics: parameters, autograd, dtypes, devices, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

import plastix as px
import plastix.backends as pb
from plastix.backends._random import rand_bits
from tests.conftest import needs_torch

torch = needs_torch()


@pytest.fixture
def fresh_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pb._select, "_INSTANCES", {})


def _one_pair_learner() -> px.Learner:
    # no normalisation inside a step, bounds far away: the update is the pair term alone
    return px.Learner("full_online_stdp", backend="torch", Apost=0.1, Apre=0.05,
                      trace_decay=0.5, w_min=-10.0, w_max=10.0)


def _pair_spikes() -> tuple[object, object]:
    pre = torch.tensor([[1.0, 0.0, 0.0]])
    post = torch.tensor([[1.0, 0.0]])
    return pre, post


def test_update_lands_in_an_nn_parameter_without_a_graph() -> None:
    param = torch.nn.Parameter(torch.full((2, 3), 0.5))
    syn = _one_pair_learner().bind(param)
    syn.step(*_pair_spikes())
    # both traces are 1 at (0, 0): dw = Apost * 1 * 1 - Apre * 1 * 1 = 0.05 there, 0 elsewhere
    expected = np.full((2, 3), 0.5, np.float32)
    expected[0, 0] += 0.1 - 0.05
    np.testing.assert_allclose(param.detach().numpy(), expected, rtol=1e-6)
    assert param.requires_grad and param.grad is None and param.grad_fn is None
    assert syn.weight.grad_fn is None and not syn.weight.requires_grad


def test_spikes_that_require_grad_build_no_graph() -> None:
    syn = _one_pair_learner().bind(torch.full((2, 3), 0.5))
    pre, post = _pair_spikes()
    pre.requires_grad_(True)
    syn.step(pre, post)
    assert syn.weight.grad_fn is None and syn.x_pre.grad_fn is None
    assert pre.grad is None


def test_a_parameter_of_another_dtype_warns_that_updates_stay_in_the_binding() -> None:
    param = torch.nn.Parameter(torch.full((2, 3), 0.5))
    learner = px.Learner("full_online_stdp", backend="torch", dtype="float64")
    with pytest.warns(px.ConversionWarning, match="not in the parameter"):
        syn = learner.bind(param)
    syn.step(*[x.double() for x in _pair_spikes()])
    assert syn.weight.dtype == torch.float64
    assert torch.all(param == 0.5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_dtypes(dtype: str) -> None:
    syn = px.Learner("nearest_online_stdp", backend="torch", dtype=dtype).bind(
        np.full((2, 3), 0.5, dtype=dtype))
    assert syn.weight.dtype == getattr(torch, dtype)
    assert syn.x_pre.dtype == getattr(torch, dtype)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_integer_rule_keeps_integers(dtype: str) -> None:
    syn = px.Learner("postpreintstdp", backend="torch", dtype=dtype).bind(
        torch.full((3, 4), 50, dtype=getattr(torch, dtype)), batch_size=2)
    ones = torch.ones((2, 4), dtype=getattr(torch, dtype)), torch.ones((2, 3),
                                                                      dtype=getattr(torch, dtype))
    syn.step(*ones)
    assert syn.weight.dtype == getattr(torch, dtype)
    # every trace is set to trace_scale = 127 by its spike; per sample a synapse gains
    # sr(127 * 14 / 2**14) + sr(127 * 141 / 2**14), each term its floor or floor + 1
    gain = syn.weight - 50
    floors = (127 * 14 >> 14) + (127 * 141 >> 14)
    low, high = 2 * floors, 2 * (floors + 2)
    assert int(gain.min()) >= low and int(gain.max()) <= high


def test_counter_based_generator_gives_identical_bits_on_torch() -> None:
    for seed, t, stream, shape in ((0, 0, 0, (5,)), (7, 123, 4, (3, 4, 5)), (2**40, 9, 1, (2,))):
        want = rand_bits(seed, t, stream, shape, xp=np)
        got = rand_bits(seed, t, stream, shape, xp=torch, device=torch.device("cpu"))
        assert got.dtype == torch.int64
        np.testing.assert_array_equal(got.numpy(), want)
        assert want.min() >= 0 and want.max() < 2**32


def test_same_seed_same_weights_other_seed_other_weights() -> None:
    rng = np.random.default_rng(5)
    pre = torch.from_numpy(rng.integers(0, 2, (10, 2, 30))).to(torch.int32)
    post = torch.from_numpy(rng.integers(0, 2, (10, 2, 20))).to(torch.int32)

    def run(seed: int) -> object:
        syn = px.Learner("postpreintstdp", backend="torch", seed=seed).bind(
            torch.full((20, 30), 50, dtype=torch.int32), batch_size=2)
        syn.run(pre, post)
        return syn.weight

    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def test_cuda_without_a_gpu_says_so(monkeypatch: pytest.MonkeyPatch,
                                    fresh_backends: None) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(px.BackendUnavailableError, match="CUDA was asked for") as info:
        px.Learner("nearest_online_stdp", backend="torch:cuda")
    assert info.value.backend == "torch:cuda"
    with pytest.raises(px.BackendUnavailableError, match="no CUDA GPU"):
        px.Learner("nearest_online_stdp", backend="torch", device="cuda:0")


def test_unsupported_device_is_refused() -> None:
    with pytest.raises(px.BackendUnavailableError, match="'cpu' and 'cuda'"):
        pb.get_backend("torch", device="meta")
    with pytest.raises(px.BackendUnavailableError, match="unknown device"):
        pb.get_backend("torch:nonsense")


def test_cpu_device_names_are_one_backend() -> None:
    assert pb.get_backend("torch").key == pb.get_backend("torch:cpu").key == "torch"
    assert pb.get_backend("pytorch") is pb.get_backend("torch")


def test_scalar_first_ops_and_mixed_bounds_lower_like_numpy() -> None:
    be = pb.get_backend("torch")
    h = be.helpers()
    x = torch.tensor([-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(h["maximum"](0.0, x).numpy(), [0.0, 0.5, 2.0])
    np.testing.assert_array_equal(h["minimum"](x, 1.0).numpy(), [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(h["clip"](x, torch.tensor([0.0, 0.75, 0.0]), 1.5).numpy(),
                                  [0.0, 0.75, 1.5])
    out = torch.empty(3)
    h["clip"](x, 0.0, torch.tensor([1.0, 0.25, 3.0]), out=out)
    np.testing.assert_array_equal(out.numpy(), [0.0, 0.25, 2.0])
    np.testing.assert_array_equal(h["reduce_mean"](torch.tensor([1, 2]), None, False).item(), 1.5)


def test_numpy_backend_updates_a_cpu_parameter_in_place() -> None:
    param = torch.nn.Parameter(torch.full((2, 3), 0.5))
    syn = px.Learner("full_online_stdp", backend="numpy", Apost=0.1, Apre=0.05,
                     trace_decay=0.5, w_min=-10.0, w_max=10.0).bind(param)
    syn.step(np.array([[1.0, 0.0, 0.0]]), np.array([[1.0, 0.0]]))
    assert isinstance(syn.weight, np.ndarray)
    np.testing.assert_allclose(param.detach().numpy()[0, 0], 0.55, rtol=1e-6)
    assert param.grad is None
