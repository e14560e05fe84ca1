"""plastix.torch.PlasticLinear: forward current, in-place learning, devices and dtypes, grad
mode with torch optimisers, saving."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest

import plastix as px
from tests.conftest import needs_torch

torch = needs_torch()
from plastix.torch import PlasticLinear  # noqa: E402

# bounds far away: the clamp after the weight change never bites
HYPER = {"eta_plus": 0.02, "eta_minus": 0.013, "w_min": -10.0, "w_max": 10.0}


def _spikes(steps: int, batch: int, n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(steps, batch, n, generator=g) < 0.4).float()


def _reference(w0: np.ndarray, pre: torch.Tensor, post: torch.Tensor, dtype: str,
               **hyper: float) -> np.ndarray:
    """The same run by a plain NumPy binding: what the layer must match."""
    syn = px.Learner("norse_stdp", dtype=dtype, **{**HYPER, **hyper}).bind(
        w0.astype(dtype), batch_size=pre.shape[1])
    for x, y in zip(pre.numpy(), post.numpy(), strict=True):
        syn.step(x.astype(dtype), y.astype(dtype))
    return np.asarray(syn.weight)


def test_forward_is_the_synaptic_current() -> None:
    layer = PlasticLinear(3, 2, "norse_stdp", batch_size=2, bias=True)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]))
        layer.bias.copy_(torch.tensor([0.25, -0.5]))
    x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    # row 0: 1 + 3 + 0.25 and -1 + 0 - 0.5; row 1: 2 + 0.25 and 0.5 - 0.5
    expected = torch.tensor([[4.25, -1.5], [2.25, 0.0]])
    torch.testing.assert_close(layer(x), expected)


def test_learn_updates_the_parameter_in_place_like_a_binding() -> None:
    torch.manual_seed(1)
    layer = PlasticLinear(5, 4, "norse_stdp", batch_size=3, **HYPER)
    param, w0 = layer.weight, layer.weight.detach().numpy().copy()
    pre, post = _spikes(6, 3, 5, seed=2), _spikes(6, 3, 4, seed=3)
    for x, y in zip(pre, post, strict=True):
        layer(x)
        layer.learn(y)
    assert layer.weight is param
    assert not np.allclose(param.detach().numpy(), w0)
    np.testing.assert_allclose(param.detach().numpy(),
                               _reference(w0, pre, post, "float32"), rtol=1e-6, atol=1e-7)


def test_learning_builds_no_autograd_graph() -> None:
    layer = PlasticLinear(4, 3, "norse_stdp", batch_size=2, **HYPER)
    x = _spikes(1, 2, 4, seed=0)[0].requires_grad_()  # surrogate-gradient spikes
    layer(x)
    layer.learn(_spikes(1, 2, 3, seed=1)[0].requires_grad_())
    assert layer.weight.requires_grad and layer.weight.grad_fn is None
    assert layer.weight.grad is None
    assert all(not b.requires_grad and b.grad_fn is None for b in layer.buffers())


def test_learn_needs_a_forward_first() -> None:
    layer = PlasticLinear(4, 3, "norse_stdp")
    with pytest.raises(px.StepInputError, match="pre_spikes"):
        layer.learn(torch.zeros(1, 3))


def test_unbatched_input_is_a_batch_of_one() -> None:
    a = PlasticLinear(4, 3, "norse_stdp", **HYPER)
    b = PlasticLinear(4, 3, "norse_stdp", **HYPER)
    b.load_state_dict(a.state_dict())
    x, y = _spikes(1, 1, 4, seed=4)[0], _spikes(1, 1, 3, seed=5)[0]
    assert a(x[0]).shape == (3,)
    a.learn(y[0])
    b(x)
    b.learn(y)
    torch.testing.assert_close(a.weight, b.weight, rtol=0, atol=0)


@pytest.mark.parametrize("move", ["double", "to"])
def test_dtype_change_moves_the_binding_and_continues(move: str) -> None:
    torch.manual_seed(2)
    layer = PlasticLinear(5, 4, "norse_stdp", batch_size=2, **HYPER)
    w0 = layer.weight.detach().numpy().astype(np.float64)
    pre, post = _spikes(7, 2, 5, seed=6), _spikes(7, 2, 4, seed=7)
    for t in range(7):
        if t == 3:
            layer.double() if move == "double" else layer.to(torch.float64)
            assert layer.binding.dtype == "float64" and layer.x_pre.dtype == torch.float64
            # the module's buffers are the binding's arrays: no stale copy
            assert layer.binding.S["x_pre"] is layer.x_pre
            assert layer.binding.t == 3
        layer(pre[t])
        layer.learn(post[t])
    assert layer.weight.dtype == torch.float64
    # float32 for three steps, float64 after: within float32 rounding of a float64 run
    np.testing.assert_allclose(layer.weight.detach().numpy(),
                               _reference(w0, pre, post, "float64"), rtol=1e-5, atol=1e-6)


def test_replaced_weight_storage_is_rebound() -> None:
    layer = PlasticLinear(3, 2, "norse_stdp", **HYPER)
    layer.weight.data = torch.full((2, 3), 0.5)
    layer(torch.ones(1, 3))
    layer.learn(torch.ones(1, 2))
    # both traces reach a * tau_inv * dt = 20/s * 1 ms = 0.02 at once:
    # dw = (eta_plus - eta_minus) * 0.02 everywhere
    expected = torch.full((2, 3), 0.5 + (0.02 - 0.013) * 0.02)
    torch.testing.assert_close(layer.weight.detach(), expected)


def test_grad_mode_with_sgd_equals_plain_learning() -> None:
    torch.manual_seed(3)
    plain = PlasticLinear(5, 4, "norse_stdp", batch_size=2, **HYPER)
    graded = PlasticLinear(5, 4, "norse_stdp", batch_size=2, grad_mode=True, **HYPER)
    graded.load_state_dict(plain.state_dict())
    opt = torch.optim.SGD(graded.parameters(), lr=1.0, momentum=0.0)
    pre, post = _spikes(8, 2, 5, seed=8), _spikes(8, 2, 4, seed=9)
    for x, y in zip(pre, post, strict=True):
        before = graded.weight.detach().clone()
        plain(x)
        plain.learn(y)
        graded(x)
        graded.learn(y)
        torch.testing.assert_close(graded.weight.detach(), before, rtol=0, atol=0)
        opt.step()
        opt.zero_grad()
        torch.testing.assert_close(graded.weight, plain.weight, rtol=0, atol=0)
    assert not torch.equal(plain.weight, torch.zeros_like(plain.weight))


def test_grad_mode_accumulates_the_negative_change() -> None:
    torch.manual_seed(4)
    plain = PlasticLinear(4, 3, "norse_stdp", batch_size=2, **HYPER)
    graded = PlasticLinear(4, 3, "norse_stdp", batch_size=2, grad_mode=True, **HYPER)
    graded.load_state_dict(plain.state_dict())
    w0 = plain.weight.detach().clone()
    pre, post = _spikes(2, 2, 4, seed=10), _spikes(2, 2, 3, seed=11)
    plain(pre[0])
    plain.learn(post[0])
    graded(pre[0])
    graded.learn(post[0])
    graded(pre[1])
    graded.learn(post[1])  # the weight is unchanged, so this dw is at w0 too
    # norse's additive dw does not depend on the weight: plain's second step adds the same
    plain(pre[1])
    plain.learn(post[1])
    torch.testing.assert_close(graded.weight.grad, -(plain.weight.detach() - w0))


def test_optimiser_with_weight_decay_and_schedule() -> None:
    torch.manual_seed(5)
    plain = PlasticLinear(4, 3, "norse_stdp", batch_size=2, **HYPER)
    graded = PlasticLinear(4, 3, "norse_stdp", batch_size=2, grad_mode=True, **HYPER)
    graded.load_state_dict(plain.state_dict())
    w0 = plain.weight.detach().clone()
    opt = torch.optim.SGD(graded.parameters(), lr=0.5, weight_decay=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x, y = _spikes(1, 2, 4, seed=12)[0], _spikes(1, 2, 3, seed=13)[0]
    plain(x)
    plain.learn(y)
    dw = plain.weight.detach() - w0
    graded(x)
    graded.learn(y)
    opt.step()
    sched.step()
    # SGD with weight decay: w <- w - lr (g + wd w), g = -dw
    torch.testing.assert_close(graded.weight.detach(), w0 - 0.5 * (-dw + 0.1 * w0))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.25)
    for _ in range(3):
        opt.zero_grad()
        graded(x)
        graded.learn(y)
        opt.step()
        sched.step()
    assert torch.isfinite(graded.weight).all()


def test_grad_mode_keeps_a_normalising_rule_runnable_and_apply_bounds_clamps() -> None:
    layer = PlasticLinear(4, 2, "nearest_online_stdp", batch_size=1, grad_mode=True,
                          w_norm=2.0)
    opt = torch.optim.SGD(layer.parameters(), lr=100.0)
    for x, y in zip(_spikes(5, 1, 4, seed=14), _spikes(5, 1, 2, seed=15), strict=True):
        layer(x)
        layer.learn(y)
        opt.step()
        opt.zero_grad()
        layer.apply_bounds()
        assert layer.weight.min() >= 0.0 and layer.weight.max() <= 1.0


def test_grad_mode_needs_a_floating_weight() -> None:
    with pytest.raises(px.HyperparameterError, match="grad_mode"):
        PlasticLinear(4, 3, "postpreintstdp", grad_mode=True)


def test_state_round_trip_through_torch_save() -> None:
    torch.manual_seed(6)
    a = PlasticLinear(5, 4, "norse_stdp", batch_size=2, **HYPER)
    pre, post = _spikes(6, 2, 5, seed=16), _spikes(6, 2, 4, seed=17)
    for t in range(3):
        a(pre[t])
        a.learn(post[t])
    sd = a.state_dict()
    assert {"weight", "x_pre", "x_post", "_extra_state"} <= set(sd)
    buf = io.BytesIO()
    torch.save(sd, buf)
    buf.seek(0)
    b = PlasticLinear(5, 4, "norse_stdp", batch_size=2)  # other hyperparameters: restored
    b.load_state_dict(torch.load(buf, weights_only=False))
    assert b.binding.t == 3 and b.hyperparameters == a.hyperparameters
    for t in range(3, 6):
        for layer in (a, b):
            layer(pre[t])
            layer.learn(post[t])
    torch.testing.assert_close(a.weight, b.weight, rtol=0, atol=0)
    torch.testing.assert_close(a.x_post, b.x_post, rtol=0, atol=0)


def test_reset_clears_traces_and_keeps_the_weight() -> None:
    layer = PlasticLinear(3, 2, "norse_stdp", **HYPER)
    layer(torch.ones(1, 3))
    layer.learn(torch.ones(1, 2))
    w = layer.weight.detach().clone()
    layer.reset()
    assert torch.count_nonzero(layer.x_pre) == 0 and torch.count_nonzero(layer.x_post) == 0
    torch.testing.assert_close(layer.weight.detach(), w, rtol=0, atol=0)
    with pytest.raises(px.StepInputError):
        layer.learn(torch.ones(1, 2))  # the remembered input went too


def test_set_changes_a_rate_and_survives_a_move() -> None:
    layer = PlasticLinear(3, 2, "norse_stdp", **HYPER)
    layer.set(eta_plus=0.05)
    layer.double()
    assert layer.binding.params.eta_plus == 0.05
    with torch.no_grad():
        layer.weight.fill_(0.5)
    layer(torch.ones(1, 3))
    layer.learn(torch.ones(1, 2))
    expected = torch.full((2, 3), 0.5 + (0.05 - 0.013) * 0.02, dtype=torch.float64)
    torch.testing.assert_close(layer.weight.detach(), expected)


def test_importing_plastix_does_not_import_the_torch_module() -> None:
    code = "import sys, plastix; assert 'plastix.torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_grad_mode_sums_a_rule_that_changes_the_weight_twice_per_step() -> None:
    from dataclasses import dataclass

    from plastix.registry import RULES

    @px.register("two_seam_torch_test", provider="torch-module-tests")
    class TwoSeams(px.Rule):
        """Potentiates by the pair count, then depresses by half of it, in two seams."""

        @dataclass(frozen=True)
        class Params:
            eta: float = px.param(0.1)

        def build(self, g: px.Graph) -> None:
            g.op_to_backend("up", "mat_mult_pre", ["post", "pre"])
            g.op_to_backend("up", "mul", ["up", "eta"])
            g.op_to_backend("down", "mul", ["up", -0.5])
            g.op_to_backend("weight", "add", ["weight", g.weight_change("up")])
            g.op_to_backend("weight", "add", ["weight", g.weight_change("down")])

    try:
        layer = PlasticLinear(2, 2, "two_seam_torch_test", grad_mode=True)
        layer(torch.tensor([[1.0, 0.0]]))
        layer.learn(torch.tensor([[1.0, 1.0]]))
        # up = 0.1 on column 0, down = -0.05 there: dw = 0.05, the grad is -0.05
        expected = torch.tensor([[-0.05, 0.0], [-0.05, 0.0]])
        torch.testing.assert_close(layer.weight.grad, expected)
    finally:
        RULES.remove_provider("torch-module-tests")


def test_signals_such_as_reward_reach_the_rule() -> None:
    torch.manual_seed(7)
    layer = PlasticLinear(4, 3, "mstdp", batch_size=2)
    w0 = layer.weight.detach().numpy().copy()
    syn = px.Learner("mstdp").bind(w0.copy(), batch_size=2)
    pre, post = _spikes(5, 2, 4, seed=18), _spikes(5, 2, 3, seed=19)
    rewards = [0.0, 1.0, -0.5, 2.0, 1.0]
    for x, y, r in zip(pre, post, rewards, strict=True):
        layer(x)
        layer.learn(y, reward=torch.full((2,), r))
        syn.step(x.numpy(), y.numpy(), reward=np.full(2, r, np.float32))
    np.testing.assert_allclose(layer.weight.detach().numpy(), syn.weight, rtol=1e-6,
                               atol=1e-7)
    assert not np.allclose(syn.weight, w0)  # the rewards moved the weight
    with pytest.raises(px.StepInputError, match="reward"):
        layer(pre[0])
        layer.learn(post[0])  # mstdp needs its reward every step
