"""plastix in the loops of norse, snnTorch and SpikingJelly (examples/library_loops.py).

Each loop's learned weight must equal a plain NumPy binding fed the spikes the loop saw,
batch by batch with a reset between (the last batch is smaller). SpikingJelly's own STDP
(``functional.stdp_linear_step``) is an independent check of a hook in grad mode: its trace
:math:`x \\leftarrow x (1 - 1/\\tau) + s` is norse's with :math:`\\tau^{-1} = 1000/\\tau` /s
and :math:`a = \\tau`, and its change at the fixed weight is what grad mode accumulates (with
its weight factors ``f_pre``/``f_post`` set to 1: by default they are the weight itself).
Tests of a library that is not installed skip, naming it: CI installs snnTorch (the ``dev``
extra) and norse (``.ci/steps/20-snn-libraries.sh``, without its torchvision requirement);
SpikingJelly 2.0.0 needs ``--no-deps`` and tensorboard, so CI leaves it out.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import plastix as px

torch = pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "library_loops.py"
SKIP_WHY = {
    "norse": "norse is not installed (pip install --no-deps norse==1.1.0 nir nirtorch)",
    "snntorch": "snnTorch is not installed (pip install snntorch==1.0.0)",
    "spikingjelly": "SpikingJelly is not installed (pip install --no-deps spikingjelly==2.0.0 "
                    "loguru tensorboard); CI does not install it",
}


def _needs(library: str) -> ModuleType:
    module = {"norse": "norse.torch", "snntorch": "snntorch",
              "spikingjelly": "spikingjelly.activation_based.neuron"}[library]
    return pytest.importorskip(module, reason=SKIP_WHY[library])


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("plastix_example_library_loops", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _replay(ex: ModuleType, w0: torch.Tensor, seen: list[tuple[Any, Any]]) -> np.ndarray:
    syn = px.Learner(ex.RULE, **ex.HYPER).bind(w0.numpy().copy())
    for pre, post in seen:
        syn.reset()
        syn.run(pre.numpy(), post.numpy(), final=False)
    return np.asarray(syn.weight)


@pytest.mark.parametrize("library", ["norse", "snntorch", "spikingjelly"])
def test_a_library_loop_learns_as_a_plain_binding(library: str) -> None:
    _needs(library)
    ex = _example()
    w0, seen, w = ex.LOOPS[library](ex.data())
    assert [p.shape[1] for p, _ in seen] == [4, 4, 2]  # the smaller last batch went through
    assert sum(float(post.sum()) for _, post in seen) > 0  # the neurons did spike
    np.testing.assert_allclose(w.numpy(), _replay(ex, w0, seen), rtol=1e-5, atol=1e-6)
    assert not torch.allclose(w, w0)


def test_norse_lif_cells_after_a_plastic_conv_layer() -> None:
    norse = _needs("norse")
    from plastix.torch import PlasticConv2d

    torch.manual_seed(2)
    conv = PlasticConv2d(1, 2, 3, padding=1, rule="norse_stdp_conv2d", eta_plus=0.05)
    lif = norse.LIFCell()
    g = torch.Generator().manual_seed(3)
    xs = (torch.rand(15, 2, 1, 6, 6, generator=g) < 0.3).float()
    w0 = conv.weight.detach().numpy().copy()
    ref = px.Learner("norse_stdp_conv2d", padding=1, eta_plus=0.05).bind(
        w0.copy(), pre_shape=(1, 6, 6))
    state = None
    for x in xs:
        z, state = lif(conv(x) * 5.0, state)
        conv.learn(z)
        ref.step(x.numpy(), z.detach().numpy())
    np.testing.assert_allclose(conv.weight.detach().numpy(), ref.weight, rtol=1e-5, atol=1e-6)


def test_snntorch_leaky_with_attach_on_a_plain_linear() -> None:
    snn = _needs("snntorch")
    from plastix.torch import attach

    torch.manual_seed(4)
    fc, lif = torch.nn.Linear(6, 3, bias=False), snn.Leaky(beta=0.8)
    with torch.no_grad():
        fc.weight.uniform_(0.3, 0.9)
    w0 = fc.weight.detach().numpy().copy()
    hook = attach(fc, lif, "norse_stdp", eta_plus=0.05, eta_minus=0.04)
    g = torch.Generator().manual_seed(5)
    xs = (torch.rand(12, 3, 6, generator=g) < 0.5).float()
    mem, posts = lif.init_leaky(), []
    for x in xs:  # the network's own loop, unchanged
        spk, mem = lif(fc(x), mem)
        posts.append(spk.detach())
    assert hook.step() == 12
    ref = px.Learner("norse_stdp", eta_plus=0.05, eta_minus=0.04).bind(w0.copy())
    ref.run(xs.numpy(), torch.stack(posts).numpy(), final=False)
    np.testing.assert_allclose(fc.weight.detach().numpy(), ref.weight, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("tau", [2.0, 5.0])
def test_a_hook_in_grad_mode_equals_spikingjelly_stdp(tau: float) -> None:
    _needs("spikingjelly")
    from spikingjelly.activation_based import functional, layer, neuron
    from spikingjelly.activation_based.learning import STDPLearner

    from plastix.torch import attach

    torch.manual_seed(6)
    net = torch.nn.Sequential(layer.Linear(5, 3, bias=False), neuron.LIFNode(tau=2.0))
    with torch.no_grad():
        net[0].weight.uniform_(0.5, 1.5)
    def additive(w: torch.Tensor) -> torch.Tensor:  # SpikingJelly's default scales by w
        return torch.ones_like(w)

    theirs = STDPLearner("s", net[0], net[1], tau_pre=tau, tau_post=tau, f_pre=additive,
                         f_post=additive)
    ours = attach(net[0], net[1], "norse_stdp", grad_mode=True, tau_pre_inv=1000.0 / tau,
                  tau_post_inv=1000.0 / tau, a_pre=tau, a_post=tau, eta_plus=1.0,
                  eta_minus=1.0, hardbound=False)
    g = torch.Generator().manual_seed(7)
    for x in (torch.rand(8, 2, 5, generator=g) < 0.5).float():
        net(x)
    delta = theirs.step(on_grad=False)  # SpikingJelly's change, summed at the fixed weight
    ours.step()
    assert float(delta.abs().sum()) > 0
    torch.testing.assert_close(net[0].weight.grad, -delta, rtol=1e-5, atol=1e-6)
    functional.reset_net(net)
    ours.detach()
    theirs.close()
