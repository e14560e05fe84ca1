"""plastix inside the training loops of norse, snnTorch and SpikingJelly.

The same small job in each library's own idiom: 10 samples of Poisson input spikes (20 inputs,
20 time steps each) go through a data set loop in batches of 4 (so the last batch holds 2),
a plastic layer learns by STDP, and each library's LIF neurons spike. Between batches the
neurons are reset as each library does it (a fresh norse state, ``snntorch``'s
``init_leaky``, SpikingJelly's ``functional.reset_net``) and so is the layer (``reset()``: a
new batch is new samples, so its traces start again).

* ``norse_loop``: :class:`plastix.torch.PlasticLinear` then ``norse.torch.LIFCell``;
* ``snntorch_loop``: :class:`plastix.torch.PlasticLinear` then ``snntorch.Leaky``;
* ``spikingjelly_loop``: SpikingJelly's own ``layer.Linear`` and ``neuron.LIFNode``, made
  plastic from outside with :func:`plastix.torch.attach` (no change to the network).

Each returns the learned weight and the spikes it saw, so that the tests can replay them
through a plain binding and find the same weight.

    python examples/library_loops.py [--library norse|snntorch|spikingjelly]
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

from plastix.torch import PlasticLinear, attach

N_IN, N_OUT, SAMPLES, BATCH, STEPS = 20, 4, 10, 4, 20
RULE = "norse_stdp"
HYPER = {"eta_plus": 0.05, "eta_minus": 0.06, "w_min": 0.0, "w_max": 1.0}


def data(seed: int = 0) -> torch.Tensor:
    """(SAMPLES, STEPS, N_IN) Poisson spikes at 200 Hz (dt = 1 ms)."""
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(SAMPLES, STEPS, N_IN, generator=g) < 0.2).float()


def batches(x: torch.Tensor) -> list[torch.Tensor]:
    """Time-first batches (STEPS, batch, N_IN) of 4, 4 and 2 samples."""
    return [x[i:i + BATCH].transpose(0, 1) for i in range(0, len(x), BATCH)]


def _layer() -> PlasticLinear:
    torch.manual_seed(1)
    layer = PlasticLinear(N_IN, N_OUT, RULE, **HYPER)
    with torch.no_grad():
        layer.weight.uniform_(0.2, 0.6)
    return layer


def norse_loop(x: torch.Tensor) -> tuple[torch.Tensor, list[tuple[Any, Any]], torch.Tensor]:
    """Returns the initial weight, the (pre, post) spikes of each batch, the learned weight."""
    from norse.torch import LIFCell

    layer, lif = _layer(), LIFCell()
    w0, seen = layer.weight.detach().clone(), []
    for batch in batches(x):
        layer.reset()
        state, posts = None, []
        for s in batch:
            z, state = lif(layer(s), state)
            layer.learn(z)
            posts.append(z.detach())
        seen.append((batch, torch.stack(posts)))
    return w0, seen, layer.weight.detach()


def snntorch_loop(x: torch.Tensor) -> tuple[torch.Tensor, list[tuple[Any, Any]], torch.Tensor]:
    import snntorch as snn

    layer, lif = _layer(), snn.Leaky(beta=0.9, threshold=1.0)
    w0, seen = layer.weight.detach().clone(), []
    for batch in batches(x):
        layer.reset()
        mem, posts = lif.init_leaky(), []
        for s in batch:
            spk, mem = lif(layer(s), mem)
            layer.learn(spk)
            posts.append(spk.detach())
        seen.append((batch, torch.stack(posts)))
    return w0, seen, layer.weight.detach()


def spikingjelly_loop(x: torch.Tensor
                      ) -> tuple[torch.Tensor, list[tuple[Any, Any]], torch.Tensor]:
    from spikingjelly.activation_based import functional, layer, neuron

    torch.manual_seed(1)
    net = torch.nn.Sequential(layer.Linear(N_IN, N_OUT, bias=False),
                              neuron.LIFNode(tau=2.0))
    with torch.no_grad():
        net[0].weight.uniform_(0.2, 0.6)
    hook = attach(net[0], net[1], RULE, **HYPER)  # the network's code stays as it is
    w0, seen = net[0].weight.detach().clone(), []
    for batch in batches(x):
        functional.reset_net(net)
        hook.reset()
        posts = []
        for s in batch:
            posts.append(net(s).detach())
            hook.step()                          # learn from this step's spikes
        seen.append((batch, torch.stack(posts)))
    hook.detach()
    return w0, seen, net[0].weight.detach()


LOOPS = {"norse": norse_loop, "snntorch": snntorch_loop, "spikingjelly": spikingjelly_loop}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", choices=sorted(LOOPS), action="append")
    args = parser.parse_args()
    for name in args.library or sorted(LOOPS):
        try:
            w0, seen, w = LOOPS[name](data())
        except ImportError as exc:
            print(f"{name}: not installed ({exc})")
            continue
        spikes = sum(float(post.sum()) for _, post in seen)
        print(f"{name}: {len(seen)} batches ({', '.join(str(p.shape[1]) for p, _ in seen)} "
              f"samples), {spikes:.0f} output spikes, mean weight {float(w0.mean()):.3f} -> "
              f"{float(w.mean()):.3f}")


if __name__ == "__main__":
    main()
