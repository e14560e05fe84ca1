"""A plastic layer in a spiking network loop: STDP picks out correlated inputs.

100 Poisson inputs drive 4 leaky integrate-and-fire neurons through a
:class:`plastix.torch.PlasticLinear` layer learning by ``norse_stdp``. The first 20 inputs
fire together (they share one Poisson source, each copy kept with probability 0.9); the other
80 fire independently at the same rate. Pre-before-post pairs are more frequent among the
correlated inputs, so their weights grow to the bound ``w_max`` while depression (20%
stronger than potentiation) wears the others down: the printed mean weights of the two
groups diverge.

The neurons are norse's ``LIFCell`` when norse is installed, else the same current-based LIF
equations written here in torch (``TorchLIF``). The same loop runs twice: the layer learning
in place (``layer.learn``), and in grad mode, where an ``torch.optim.SGD`` optimiser with a
learning-rate schedule applies the negative change the layer wrote into ``weight.grad``.

    python examples/norse_plastic.py [--steps 3000] [--quick] [--no-norse]

``--quick`` (or ``PLASTIX_QUICK=1``) runs a short simulation for CI.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import torch

from plastix.torch import PlasticLinear

N_IN, N_CORR, N_OUT, BATCH = 100, 20, 4, 1
RATE, DT = 20.0, 1e-3  # Hz, s


class TorchLIF(torch.nn.Module):
    """Current-based LIF neurons, forward-Euler steps of ``dt`` as norse's ``LIFCell``:

    .. math:: i \\leftarrow i + I_{in}, \\quad
              v \\leftarrow v + dt\\,\\tau_{mem}^{-1}(v_{leak} - v + i), \\quad
              i \\leftarrow i - dt\\,\\tau_{syn}^{-1} i

    a spike when :math:`v > v_{th}`, after which :math:`v = v_{reset}` (norse 1.1 takes
    these steps in this order; :math:`v_{leak} = 0` here).
    """

    def __init__(self, tau_syn_inv: float = 200.0, tau_mem_inv: float = 100.0,
                 v_th: float = 1.0, v_reset: float = 0.0, dt: float = DT) -> None:
        super().__init__()
        self.tau_syn_inv, self.tau_mem_inv, self.v_th, self.v_reset, self.dt = \
            tau_syn_inv, tau_mem_inv, v_th, v_reset, dt

    def forward(self, current: torch.Tensor, state: Any = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        v, i = state if state is not None else (torch.zeros_like(current),
                                                torch.zeros_like(current))
        i = i + current
        v = v + self.dt * self.tau_mem_inv * (-v + i)
        i = i - self.dt * self.tau_syn_inv * i
        z = (v > self.v_th).to(current.dtype)
        v = (1 - z) * v + z * self.v_reset
        return z, (v, i)


def make_neurons(use_norse: bool) -> tuple[torch.nn.Module, str]:
    """norse's LIFCell when asked for and installed, else :class:`TorchLIF`."""
    if use_norse:
        try:
            from norse.torch import LIFCell
        except ImportError:
            pass
        else:
            return LIFCell(), "norse.torch.LIFCell"
    return TorchLIF(), "TorchLIF (plain torch)"


def inputs(steps: int, seed: int = 0) -> torch.Tensor:
    """(steps, batch, N_IN) spikes: the first N_CORR copy one source, the rest independent."""
    g = torch.Generator().manual_seed(seed)
    p = RATE * DT
    source = torch.rand(steps, BATCH, 1, generator=g) < p
    keep = torch.rand(steps, BATCH, N_CORR, generator=g) < 0.9
    corr = source & keep
    rest = torch.rand(steps, BATCH, N_IN - N_CORR, generator=g) < p
    return torch.cat([corr, rest], dim=2).float()


def layer(grad_mode: bool) -> PlasticLinear:
    torch.manual_seed(1)
    plastic = PlasticLinear(N_IN, N_OUT, "norse_stdp", batch_size=BATCH, grad_mode=grad_mode,
                            eta_plus=0.2, eta_minus=0.24, w_min=0.0, w_max=0.2)
    with torch.no_grad():  # a start that makes the neurons fire at about 20 Hz
        plastic.weight.uniform_(0.06, 0.1)
    return plastic


def simulate(plastic: PlasticLinear, neurons: torch.nn.Module, spikes: torch.Tensor,
             optimizer: torch.optim.Optimizer | None = None, scheduler: Any = None
             ) -> tuple[float, float, float]:
    """Run the loop; returns the mean weight of the correlated and of the other inputs, and
    the output rate in Hz."""
    state, fired = None, 0.0
    for t, x in enumerate(spikes):
        current = plastic(x)                 # 1. synaptic current from this step's input
        z, state = neurons(current, state)   # 2. the neurons spike (or not)
        plastic.learn(z)                     # 3. STDP on (x, z)
        if optimizer is not None:            # grad mode: the optimiser applies -grad
            optimizer.step()
            optimizer.zero_grad()
            plastic.apply_bounds()
            if scheduler is not None and (t + 1) % 1000 == 0:
                scheduler.step()
        fired += float(z.detach().sum())
    w = plastic.weight.detach()
    rate = fired / (len(spikes) * DT * N_OUT * BATCH)
    return float(w[:, :N_CORR].mean()), float(w[:, N_CORR:].mean()), rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-norse", action="store_true", help="use the plain-torch LIF")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("PLASTIX_QUICK") == "1"
    steps = args.steps or (1500 if quick else 5000)
    spikes = inputs(steps)
    for mode in ("learn", "grad"):
        neurons, label = make_neurons(not args.no_norse)
        plastic = layer(grad_mode=mode == "grad")
        opt = sched = None
        if mode == "grad":
            opt = torch.optim.SGD(plastic.parameters(), lr=1.0)
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.9)
        corr, rest, rate = simulate(plastic, neurons, spikes, opt, sched)
        print(f"{mode:<5} {label}: {steps} steps, output {rate:.1f} Hz; mean weight "
              f"correlated {corr:.3f}, others {rest:.3f}")


if __name__ == "__main__":
    main()
