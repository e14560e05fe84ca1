"""plastix.torch beyond the basics: any batch size, convolution, recurrent connections, hooks
on someone else's layer, monitors, all-or-nothing loads and moves.

Expected values are worked by hand (norse's traces: a spike adds dt * tau_inv * a = 0.02) or
are those of a plain binding fed the same spikes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import plastix as px

torch = pytest.importorskip("torch")
from plastix.torch import (  # noqa: E402
    Monitor,
    PlasticConv2d,
    PlasticLinear,
    PlasticRecurrent,
    attach,
)

HYPER = {"eta_plus": 0.02, "eta_minus": 0.013, "w_min": -10.0, "w_max": 10.0}
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _spikes(steps: int, *shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(steps, *shape, generator=g) < 0.4).float()


def _binding(w0: np.ndarray, rule: str = "norse_stdp", **kw: Any) -> px.Binding:
    return px.Learner(rule, **{**HYPER, **kw.pop("hyper", {})}).bind(w0.copy(), **kw)


# -- any batch size ---------------------------------------------------------------------------
def test_a_data_set_with_a_smaller_last_batch_just_works() -> None:
    torch.manual_seed(0)
    layer = PlasticLinear(5, 3, "norse_stdp", batch_size=4, **HYPER)
    w0 = layer.weight.detach().numpy().copy()
    data_pre, data_post = _spikes(6, 10, 5, seed=1), _spikes(6, 10, 3, seed=2)
    expected = w0
    for lo in (0, 4, 8):  # batches of 4, 4, 2
        hi = min(lo + 4, 10)
        layer.reset()
        ref = _binding(expected, batch_size=hi - lo)
        for t in range(6):
            layer(data_pre[t, lo:hi])
            layer.learn(data_post[t, lo:hi])
            ref.step(data_pre[t, lo:hi].numpy(), data_post[t, lo:hi].numpy())
        expected = np.asarray(ref.weight).copy()
        np.testing.assert_allclose(layer.weight.detach().numpy(), expected, rtol=1e-6,
                                   atol=1e-7)
    assert layer.batch_size == 2 and tuple(layer.x_pre.shape) == (2, 5)
    assert layer.binding.S["x_pre"] is layer.x_pre  # the buffer is the binding's array


def test_a_batch_change_without_reset_names_both_sizes_and_changes_nothing() -> None:
    layer = PlasticLinear(4, 3, "norse_stdp", **HYPER)
    layer(torch.ones(5, 4))
    layer.learn(torch.ones(5, 3))
    w, x_pre, t = layer.weight.detach().clone(), layer.x_pre.clone(), layer.binding.t
    layer(torch.ones(2, 4))
    with pytest.raises(px.StepInputError, match=r"batch size 5.*reset\(\).*batch size 2"):
        layer.learn(torch.ones(2, 3))
    assert torch.equal(layer.weight, w) and torch.equal(layer.x_pre, x_pre)
    assert layer.binding.t == t


def test_a_state_dict_of_another_batch_size_loads() -> None:
    a = PlasticLinear(4, 3, "norse_stdp", **HYPER)
    pre, post = _spikes(4, 6, 4, seed=3), _spikes(4, 6, 3, seed=4)
    for t in range(2):
        a(pre[t])
        a.learn(post[t])
    b = PlasticLinear(4, 3, "norse_stdp", **HYPER)
    b.load_state_dict(a.state_dict())
    assert b.batch_size == 6 and tuple(b.x_pre.shape) == (6, 4)
    for t in range(2, 4):
        for layer in (a, b):
            layer(pre[t])
            layer.learn(post[t])
    torch.testing.assert_close(a.weight, b.weight, rtol=0, atol=0)


# -- all-or-nothing (issue 19) ----------------------------------------------------------------
def _trained() -> PlasticLinear:
    layer = PlasticLinear(4, 3, "norse_stdp", batch_size=2, bias=True, **HYPER)
    for x, y in zip(_spikes(3, 2, 4, seed=5), _spikes(3, 2, 3, seed=6), strict=True):
        layer(x)
        layer.learn(y)
    return layer


def _everything(layer: PlasticLinear) -> dict[str, Any]:
    return {**{k: v.detach().clone() for k, v in layer.state_dict().items()
               if isinstance(v, torch.Tensor)}, "t": layer.binding.t,
            "hyper": layer.hyperparameters}


def _assert_unchanged(layer: PlasticLinear, before: dict[str, Any]) -> None:
    now = _everything(layer)
    assert now.keys() == before.keys()
    for k, v in before.items():
        if isinstance(v, torch.Tensor):
            torch.testing.assert_close(now[k], v, rtol=0, atol=0, msg=k)
        else:
            assert now[k] == v, k


def _bad_state_dicts(sd: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    extra = sd["_extra_state"]
    nan_w = sd["weight"].clone()
    nan_w[0, 0] = float("nan")
    nan_trace = sd["x_pre"].clone()
    nan_trace[0, 0] = float("nan")
    return [
        ("NaN weight", {**sd, "weight": nan_w}, "NaN"),
        ("NaN trace", {**sd, "x_pre": nan_trace}, "NaN"),
        ("negative step", {**sd, "_extra_state": {**extra, "t": -1}}, "'t' must be an int"),
        ("wrong trace shape", {**sd, "x_post": torch.zeros(2, 5)}, "x_post"),
        ("wrong weight shape", {**sd, "weight": torch.zeros(3, 5)}, "weight"),
        ("other rule", {**sd, "_extra_state": {**extra, "rule": "stdp"}}, "extra state"),
        ("bad hyperparameter", {**sd, "_extra_state": {**extra, "params": {"eta_plus": "x"}}},
         "hyperparameters"),
        ("not a dict", {**sd, "_extra_state": 5}, "extra state"),
        ("NaN bias", {**sd, "bias": torch.full((3,), float("nan"))}, "bias"),
    ]


@pytest.mark.parametrize("case", range(9))
def test_load_state_dict_is_all_or_nothing(case: int) -> None:
    layer = _trained()
    other = _trained()
    with torch.no_grad():
        other.weight.add_(1.0)  # a valid state dict would change the weight
    _what, bad, fragment = _bad_state_dicts(other.state_dict())[case]
    before = _everything(layer)
    with pytest.raises(px.StateDictError, match=fragment):
        layer.load_state_dict(bad)
    _assert_unchanged(layer, before)
    layer(torch.ones(2, 4))  # and it still works
    layer.learn(torch.ones(2, 3))


def test_load_state_dict_with_a_missing_key_writes_nothing() -> None:
    layer = _trained()
    sd = {k: v for k, v in _trained().state_dict().items() if k != "x_post"}
    before = _everything(layer)
    with pytest.raises(RuntimeError, match="x_post"):
        layer.load_state_dict(sd)
    _assert_unchanged(layer, before)


def test_load_state_dict_of_a_plain_linear_with_strict_false_loads_the_weight() -> None:
    linear = torch.nn.Linear(4, 3, bias=False)
    layer = PlasticLinear(4, 3, "norse_stdp", **HYPER)
    result = layer.load_state_dict(linear.state_dict(), strict=False)
    assert "x_pre" in " ".join(result.missing_keys)
    torch.testing.assert_close(layer.weight, linear.weight, rtol=0, atol=0)


def test_a_failed_forward_keeps_the_last_good_input() -> None:
    layer = PlasticLinear(4, 3, "norse_stdp", **HYPER)
    with torch.no_grad():
        layer.weight.fill_(0.5)
    layer(torch.ones(1, 4))
    with pytest.raises(px.StepInputError, match="pre_spikes"):
        layer(torch.ones(1, 5))
    layer.learn(torch.ones(1, 3))  # learns on the good input
    torch.testing.assert_close(layer.weight.detach(), torch.full((3, 4), 0.5 + 0.007 * 0.02))


def test_half_raises_and_leaves_everything_as_it_was() -> None:
    layer = _trained()
    before = _everything(layer)
    with pytest.raises(px.HyperparameterError, match="float16"):
        layer.half()
    assert layer.weight.dtype == torch.float32 and layer.x_pre.dtype == torch.float32
    assert layer.bias.dtype == torch.float32
    _assert_unchanged(layer, before)
    layer(torch.ones(2, 4))
    layer.learn(torch.ones(2, 3))


# -- convolution ------------------------------------------------------------------------------
@pytest.mark.parametrize(("stride", "padding", "dilation"), [(1, 0, 1), (2, 1, 1), (1, 1, 2)])
def test_conv_forward_is_the_convolution_and_learn_equals_the_binding(
        stride: int, padding: int, dilation: int) -> None:
    torch.manual_seed(1)
    layer = PlasticConv2d(2, 3, 3, stride, padding, dilation, rule="norse_stdp_conv2d",
                          **HYPER)
    w0 = layer.weight.detach().numpy().copy()
    pre = _spikes(4, 2, 2, 7, 7, seed=7)
    out_size = px.conv_output_size(7, 3, stride, padding, dilation)
    post = _spikes(4, 2, 3, out_size, out_size, seed=8)
    ref = _binding(w0, "norse_stdp_conv2d", batch_size=2, pre_shape=(2, 7, 7),
                   hyper={"stride": stride, "padding": padding, "dilation": dilation})
    for x, y in zip(pre, post, strict=True):
        expected = torch.nn.functional.conv2d(x, layer.weight.detach(), None, stride, padding,
                                              dilation)
        torch.testing.assert_close(layer(x).detach(), expected)
        layer.learn(y)
        ref.step(x.numpy(), y.numpy())
    np.testing.assert_allclose(layer.weight.detach().numpy(), ref.weight, rtol=1e-6, atol=1e-7)
    assert not np.allclose(ref.weight, w0)


def test_conv_first_step_is_worked_by_hand() -> None:
    # every input and output spikes once: x_pre = x_post = 0.02 everywhere; each kernel
    # entry sees the pair term once per output position (a 3x3 input, 2x2 kernel: 4) and
    # per sample (2): dw = 2 * 4 * 0.02 * (eta_plus - eta_minus)
    layer = PlasticConv2d(1, 1, 2, rule="norse_stdp_conv2d", **HYPER)
    with torch.no_grad():
        layer.weight.fill_(0.5)
    assert layer(torch.ones(2, 1, 3, 3)).shape == (2, 1, 2, 2)
    layer.learn(torch.ones(2, 1, 2, 2))
    torch.testing.assert_close(layer.weight.detach(),
                               torch.full((1, 1, 2, 2), 0.5 + 8 * 0.02 * 0.007))


def test_conv_takes_a_new_input_size_after_reset_only() -> None:
    layer = PlasticConv2d(1, 2, 3, rule="norse_stdp_conv2d", **HYPER)
    layer(torch.ones(1, 1, 5, 5))
    layer.learn(torch.zeros(1, 2, 3, 3))
    layer(torch.ones(1, 1, 6, 6))
    with pytest.raises(px.StepInputError, match=r"input size \(1, 5, 5\).*\(1, 6, 6\)"):
        layer.learn(torch.zeros(1, 2, 4, 4))
    layer.reset()
    layer(torch.ones(3, 1, 6, 6))
    layer.learn(torch.zeros(3, 2, 4, 4))
    assert layer.binding.graph.pre_shape == (3, 1, 6, 6) and layer.binding.t == 2


def test_conv_grad_mode_with_sgd_equals_plain_learning() -> None:
    torch.manual_seed(2)
    plain = PlasticConv2d(1, 2, 3, rule="norse_stdp_conv2d", **HYPER)
    graded = PlasticConv2d(1, 2, 3, rule="norse_stdp_conv2d", grad_mode=True, **HYPER)
    with torch.no_grad():
        graded.weight.copy_(plain.weight)
    opt = torch.optim.SGD(graded.parameters(), lr=1.0)
    for x, y in zip(_spikes(3, 2, 1, 5, 5, seed=9), _spikes(3, 2, 2, 3, 3, seed=10),
                    strict=True):
        for layer in (plain, graded):
            layer(x)
            layer.learn(y)
        opt.step()
        opt.zero_grad()
    torch.testing.assert_close(graded.weight, plain.weight)


def test_conv_refuses_a_rule_without_a_convolution_layout() -> None:
    with pytest.raises(px.HyperparameterError, match="stride"):
        PlasticConv2d(1, 2, 3, stride=2, rule="norse_stdp")
    with pytest.raises(px.HyperparameterError, match="convolution layout"):
        PlasticConv2d(1, 2, 3, rule="norse_stdp")
    with pytest.raises(px.HyperparameterError, match="pair of equal"):
        PlasticConv2d(1, 2, 3, stride=(1, 2))


# -- recurrent and lateral connections ---------------------------------------------------------
ETA_P, ETA_M = 0.02, 0.013


def _recurrent(timing: str, **kw: Any) -> PlasticRecurrent:
    rec = PlasticRecurrent(2, "norse_stdp", timing=timing, **HYPER, **kw)
    with torch.no_grad():
        rec.weight.fill_(0.5)
        rec.apply_bounds()  # zero the masked diagonal
    return rec


def test_recurrent_delayed_timing_by_hand() -> None:
    """Neuron 0 spikes at step 1, neuron 1 at step 2. Delayed: step 1 learns (pre 0, post
    [1, 0]): x_post = [0.02, 0], no pair; step 2 learns (pre [1, 0], post [0, 1]): x_pre =
    [0.02, 0], x_post = [0.0196, 0.02]: dW_10 = eta+ * 0.02 - eta- * 0.02 (pre-before-post
    0 -> 1 and the simultaneous depression term); dW_00 is masked."""
    rec = _recurrent("delayed")
    z0, z1, z2 = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    torch.testing.assert_close(rec(z0), torch.zeros(1, 2))
    rec.learn(z1)
    torch.testing.assert_close(rec.weight.detach(), torch.tensor([[0.0, 0.5], [0.5, 0.0]]))
    torch.testing.assert_close(rec(z1), torch.tensor([[0.0, 0.5]]))  # W z(t-1)
    rec.learn(z2)
    expected = torch.tensor([[0.0, 0.5], [0.5 + 0.02 * (ETA_P - ETA_M), 0.0]])
    torch.testing.assert_close(rec.weight.detach(), expected)


def test_recurrent_simultaneous_timing_by_hand() -> None:
    """The same spikes with pre = post = z(t): step 1 only touches the masked diagonal;
    step 2: x = [0.0196, 0.02] for both traces, dW_10 = eta+ * 0.0196 (post 1, pre trace 0)
    and dW_01 = -eta- * 0.0196 (post trace 0, pre spike 1)."""
    rec = _recurrent("simultaneous")
    for z_prev, z in ((torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])),
                      (torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]))):
        rec(z_prev)
        rec.learn(z)
    expected = torch.tensor([[0.0, 0.5 - 0.0196 * ETA_M], [0.5 + 0.0196 * ETA_P, 0.0]])
    torch.testing.assert_close(rec.weight.detach(), expected)


def test_recurrent_masks_and_self_connections() -> None:
    rec = PlasticRecurrent(3, "norse_stdp", **HYPER)
    assert torch.equal(rec.mask, 1 - torch.eye(3)) and torch.all(rec.weight.diagonal() == 0)
    allowed = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
    rec = PlasticRecurrent(3, "norse_stdp", self_connections=True, mask=allowed, **HYPER)
    for _ in range(3):
        rec(torch.ones(2, 3))
        rec.learn(torch.ones(2, 3))
    assert torch.all(rec.weight[allowed == 0] == 0) and torch.all(rec.weight.diagonal() != 0)
    with pytest.raises(px.StepInputError, match="mask"):
        PlasticRecurrent(3, "norse_stdp", mask=torch.ones(2, 2))


def test_recurrent_delayed_needs_the_previous_spikes() -> None:
    rec = PlasticRecurrent(2, "norse_stdp")
    with pytest.raises(px.StepInputError, match="previous step's spikes"):
        rec.learn(torch.ones(1, 2))


# -- hooks on someone else's layer -------------------------------------------------------------
class _Spiking(torch.nn.Module):
    """A stand-in spiking neuron: a spike where the input exceeds 0.5 (returns a tuple, as
    norse's and snnTorch's neurons do)."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return (x > 0.5).float(), None


def test_attach_equals_a_plastic_linear_fed_the_same_spikes() -> None:
    torch.manual_seed(3)
    fc, neurons = torch.nn.Linear(5, 3, bias=False), _Spiking()
    w0 = fc.weight.detach().numpy().copy()
    hook = attach(fc, neurons, "norse_stdp", **HYPER)
    ref = _binding(w0, batch_size=2)
    for x in _spikes(8, 2, 5, seed=11):
        z, _ = neurons(fc(x))
        assert hook.pending == 1
        assert hook.step() == 1
        ref.step(x.numpy(), z.numpy())
    np.testing.assert_allclose(fc.weight.detach().numpy(), ref.weight, rtol=1e-6, atol=1e-7)
    assert not np.allclose(ref.weight, w0)


def test_attach_steps_several_records_in_order_and_detaches() -> None:
    torch.manual_seed(4)
    fc, neurons = torch.nn.Linear(4, 3, bias=False), _Spiking()
    w0 = fc.weight.detach().numpy().copy()
    hook = attach(fc, neurons, "norse_stdp", **HYPER)
    ref = _binding(w0, batch_size=1)
    xs = _spikes(5, 1, 4, seed=12)
    for x in xs:
        z, _ = neurons(fc(x))
        ref.step(x.numpy(), z.numpy())
    assert hook.step() == 5 and hook.pending == 0
    np.testing.assert_allclose(fc.weight.detach().numpy(), ref.weight, rtol=1e-6, atol=1e-7)
    hook.detach()
    neurons(fc(xs[0]))
    assert hook.pending == 0 and hook.step() == 0
    assert not fc._forward_hooks and not neurons._forward_hooks


def test_attach_in_grad_mode_adds_the_negative_change_at_the_fixed_weight() -> None:
    torch.manual_seed(5)
    fc, neurons = torch.nn.Linear(4, 3, bias=False), _Spiking()
    w0 = fc.weight.detach().clone()
    hook = attach(fc, neurons, "norse_stdp", grad_mode=True, **HYPER)
    plain = _binding(w0.numpy(), batch_size=2)
    for x in _spikes(4, 2, 4, seed=13):
        z, _ = neurons(fc(x))
        plain.step(x.numpy(), z.numpy())  # additive dw does not depend on the weight
    hook.step()
    torch.testing.assert_close(fc.weight.detach(), w0, rtol=0, atol=0)
    torch.testing.assert_close(fc.weight.grad, -(torch.from_numpy(plain.weight) - w0),
                               rtol=1e-5, atol=1e-7)


def test_attach_to_a_conv_layer_equals_the_conv_binding() -> None:
    torch.manual_seed(6)
    conv = torch.nn.Conv2d(1, 2, 3, stride=2, padding=1, bias=False)
    neurons = _Spiking()
    w0 = conv.weight.detach().numpy().copy()
    hook = attach(conv, neurons, eta_plus=0.02, eta_minus=0.013, w_min=-10.0, w_max=10.0)
    assert hook.rule == "norse_stdp_conv2d"
    ref = _binding(w0, "norse_stdp_conv2d", batch_size=2, pre_shape=(1, 6, 6),
                   hyper={"stride": 2, "padding": 1})
    for x in _spikes(4, 2, 1, 6, 6, seed=14):
        z, _ = neurons(conv(x))
        ref.step(x.numpy(), z.numpy())
    assert hook.step() == 4
    np.testing.assert_allclose(conv.weight.detach().numpy(), ref.weight, rtol=1e-6, atol=1e-7)


def test_attach_multi_step_records_split_along_time() -> None:
    fc, neurons = torch.nn.Linear(4, 3, bias=False), _Spiking()
    w0 = fc.weight.detach().numpy().copy()
    hook = attach(fc, neurons, "norse_stdp", step_mode="m", **HYPER)
    xs = _spikes(6, 2, 4, seed=15)  # one forward call with the whole sequence
    zs, _ = neurons(fc(xs))
    ref = _binding(w0, batch_size=2)
    ref.run(xs.numpy(), zs.numpy(), final=False)
    assert hook.step() == 6
    np.testing.assert_allclose(fc.weight.detach().numpy(), ref.weight, rtol=1e-6, atol=1e-7)


def test_attach_a_failed_step_keeps_weight_state_and_records() -> None:
    fc, neurons = torch.nn.Linear(4, 3, bias=False), _Spiking()
    hook = attach(fc, neurons, "norse_stdp", **HYPER)
    w = fc.weight.detach().clone()
    fc(torch.ones(1, 4))
    neurons(torch.full((1, 3), 0.7))
    fc(torch.ones(1, 4))
    hook._post.append(torch.full((1, 3), 0.5))  # a graded "spike" at the second step
    hook._pre.append(torch.ones(1, 4))
    hook._pre.pop()
    with pytest.raises(px.StepInputError, match="spikes of 0 or 1"):
        hook.step()
    torch.testing.assert_close(fc.weight.detach(), w, rtol=0, atol=0)
    assert hook.binding.t == 0 and hook.pending == 2


def test_attach_refuses_what_it_cannot_learn() -> None:
    with pytest.raises(px.StepInputError, match="synapse"):
        attach(torch.nn.ReLU(), _Spiking())
    with pytest.raises(px.HyperparameterError, match="groups=1"):
        attach(torch.nn.Conv2d(2, 2, 3, groups=2), _Spiking())
    fc = torch.nn.Linear(2, 2)
    hook = attach(fc, _Spiking())
    fc(torch.ones(1, 2))
    with pytest.raises(px.StepInputError, match="as many neuron outputs"):
        hook.step()


# -- monitors --------------------------------------------------------------------------------
def test_a_monitor_records_a_module_every_k_steps() -> None:
    layer = PlasticLinear(3, 2, "norse_stdp", **HYPER)
    with torch.no_grad():
        layer.weight.fill_(0.5)
    mon = Monitor(layer, ["weight", "x_pre", "dw"], every=2, indices={"weight": (1, 2)})
    for _ in range(5):
        layer(torch.ones(1, 3))
        layer.learn(torch.ones(1, 2))
    assert mon.steps.tolist() == [2, 4]
    # all-ones spikes: x after k steps is 0.02 * (1 - 0.98^k) / 0.02 = 1 - 0.98^k ... times
    # 0.02 per jump: x_k = 0.02 * sum_{i<k} 0.98^i; dw_k = (eta+ - eta-) * x_k
    x = [0.02 * sum(0.98**i for i in range(k)) for k in (2, 4)]
    torch.testing.assert_close(mon["x_pre"], torch.tensor(x).reshape(2, 1, 1).expand(2, 1, 3))
    torch.testing.assert_close(mon["dw"], (0.007 * torch.tensor(x)).reshape(2, 1, 1)
                               .expand(2, 2, 3))
    w2 = 0.5 + 0.007 * sum(0.02 * sum(0.98**i for i in range(k)) for k in (1, 2))
    assert float(mon["weight"][0]) == pytest.approx(w2, rel=1e-6)
    assert mon["weight"].shape == (2,)


def test_a_monitor_follows_a_module_to_another_dtype() -> None:
    layer = PlasticLinear(3, 2, "norse_stdp", **HYPER)
    mon = Monitor(layer, ["x_post"])
    layer(torch.ones(1, 3))
    layer.learn(torch.ones(1, 2))
    layer.double()
    layer(torch.ones(1, 3))
    layer.learn(torch.ones(1, 2))
    assert mon.steps.tolist() == [1, 2] and len(mon) == 2
    mon.close()
    layer(torch.ones(1, 3))
    layer.learn(torch.ones(1, 2))
    assert len(mon) == 2


def test_a_monitor_on_a_hook() -> None:
    fc, neurons = torch.nn.Linear(2, 2, bias=False), _Spiking()
    hook = attach(fc, neurons, "norse_stdp", **HYPER)
    mon = Monitor(hook, ["weight"])
    for _ in range(3):
        neurons(fc(torch.ones(1, 2)))
    hook.step()
    assert mon.steps.tolist() == [1, 2, 3]
    torch.testing.assert_close(mon["weight"][-1], fc.weight.detach())


# -- devices ----------------------------------------------------------------------------------
@needs_cuda
def test_modules_and_hooks_move_to_cuda_and_back() -> None:  # pragma: no cover - GPU only
    layer = PlasticLinear(4, 3, "norse_stdp", **HYPER)
    layer(torch.ones(2, 4))
    layer.learn(torch.ones(2, 3))
    cpu = PlasticLinear(4, 3, "norse_stdp", **HYPER)
    cpu.load_state_dict(layer.state_dict())
    layer.cuda()
    assert layer.x_pre.is_cuda and layer.binding.backend.device is not None
    for m, dev in ((layer, "cuda"), (cpu, "cpu")):
        m(torch.ones(2, 4, device=dev))
        m.learn(torch.ones(2, 3, device=dev))
    torch.testing.assert_close(layer.weight.cpu(), cpu.weight)
    conv = PlasticConv2d(1, 2, 3, **HYPER).cuda()
    conv(torch.ones(1, 1, 5, 5, device="cuda"))
    conv.learn(torch.zeros(1, 2, 3, 3, device="cuda"))
    fc = torch.nn.Linear(2, 2).cuda()
    hook = attach(fc, _Spiking())
    _Spiking()(fc(torch.ones(1, 2, device="cuda")))
    hook.neuron(fc(torch.ones(1, 2, device="cuda")))
    hook.step()
    assert hook.binding.weight.is_cuda


def test_a_hook_follows_its_layer_to_another_dtype() -> None:
    fc, neurons = torch.nn.Linear(3, 2, bias=False), _Spiking()
    hook = attach(fc, neurons, "norse_stdp", **HYPER)
    neurons(fc(torch.ones(1, 3)))
    hook.step()
    x_pre = hook.binding.x_pre.clone()
    fc.double()
    neurons(fc(torch.ones(1, 3, dtype=torch.float64)))
    hook.step()
    assert hook.binding.dtype == "float64" and hook.binding.t == 2
    torch.testing.assert_close(hook.binding.x_pre, 0.98 * x_pre.double() + 0.02)


def test_forward_takes_host_data_and_keeps_the_batch_axis_as_given() -> None:
    layer = PlasticLinear(3, 2, "norse_stdp", **HYPER)
    assert layer([1.0, 0.0, 1.0]).shape == (2,)
    assert layer([[1.0, 0.0, 1.0]]).shape == (1, 2)
    layer.learn([[1.0, 0.0]])
    assert layer.binding.t == 1
