"""The peers: the issue's workload through BindsNET 0.3.4's ``PostPre`` and norse 1.1.0's
``stdp_step_linear``, when they are installed (never a dependency of plastix).

Both are configured to compute what plastix's ``norse_stdp`` computes (see
:mod:`benchmarks.workload`), on the same spikes, bounds, dtype and batch:

* **norse**: ``stdp_step_linear(z_pre, z_post, w, STDPState, STDPParameters(...), dt)`` with
  the workload's parameters, ``dt = 1e-3`` s; it returns a new weight each step.
* **BindsNET**: a ``Network(dt=1)`` with an ``Input`` layer (pre) and a ``LIFNodes`` layer
  (post), both recording additive traces (``traces_additive=True``), joined by a
  ``Connection(update_rule=PostPre, nu=(eta_minus, eta_plus), wmin=0, wmax=1)``. BindsNET's
  trace is :math:`x \\leftarrow x\\, e^{-dt/\\tau} + c\\, s`, norse's
  :math:`x \\leftarrow x + r (a s - x)`: alike when :math:`e^{-dt/\\tau} = 1 - r` and
  :math:`c = r a`, so ``tc_trace`` and ``trace_scale`` are set from the workload's ``r`` and
  ``a``. A step does what ``Network.run`` does for these layers with the spikes forced:
  ``Input.forward(pre)`` (sets ``s``, then the trace), the post layer's ``s`` set to the post
  spikes and its trace updated by ``Nodes.forward`` (what ``LIFNodes.forward`` ends with,
  without the membrane it would simulate), then ``connection.update``. BindsNET keeps the
  weight as (n_pre, n_post); ``weight()`` returns its transpose. Spikes are bool, as
  BindsNET's layers hold them.

BindsNET's package ``__init__`` imports torchvision (and its datasets, environments, ...),
which has no CPU wheel for torch 2.13: :func:`bindsnet` loads ``bindsnet.network`` and
``bindsnet.learning`` without running it (a bare package module pointing at the installed
files), which import only torch and NumPy.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
import types
from typing import Any

import numpy as np

from .workload import DT_MS, Spikes, as_float64

NAMES = ("BindsNET", "norse")
VERSIONS = {"BindsNET": "0.3.4", "norse": "1.1.0"}

#: How to install the peers into a scratch virtual environment (never plastix's own): the CPU
#: torch first, then the peers without their dependencies (they pin torchvision, gym, ...).
INSTALL = """\
python3 -m venv /tmp/plastix-peers && . /tmp/plastix-peers/bin/activate
pip install "torch==2.13.0"
pip install numpy h5py pluggy tqdm
pip install "norse==1.1.0" nir nirtorch --no-deps
pip install "bindsnet==0.3.4" --no-deps
pip install -e . --no-deps          # plastix itself, from the repository root
python -m benchmarks                # the grid with the peers"""


class PeerMissing(RuntimeError):
    """A peer is not importable; the message says why."""


def bindsnet() -> tuple[Any, Any, Any]:
    """``(bindsnet.network, bindsnet.network.nodes, bindsnet.learning)``, imported without
    running ``bindsnet/__init__.py``."""
    if "bindsnet" not in sys.modules:
        spec = importlib.util.find_spec("bindsnet")
        if spec is None or not spec.submodule_search_locations:
            raise PeerMissing("BindsNET is not installed")
        package = types.ModuleType("bindsnet")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["bindsnet"] = package
    try:
        network = importlib.import_module("bindsnet.network")
        learning = importlib.import_module("bindsnet.learning")
    except ImportError as exc:
        raise PeerMissing(f"BindsNET does not import: {exc}") from exc
    return network, importlib.import_module("bindsnet.network.nodes"), learning


def norse_stdp() -> Any:
    """``norse.torch.functional.stdp``."""
    try:
        return importlib.import_module("norse.torch.functional.stdp")
    except ImportError as exc:
        raise PeerMissing(f"norse does not import: {exc}") from exc


def versions() -> dict[str, str | None]:
    """Each peer's installed version, or None when it cannot be imported."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name, load in (("BindsNET", bindsnet), ("norse", norse_stdp)):
        try:
            load()
            found[name] = version(name.lower())
        except (PeerMissing, PackageNotFoundError):
            found[name] = None
    return found


def missing_message(found: dict[str, str | None]) -> str:
    absent = [f"{name} {VERSIONS[name]}" for name, v in found.items() if v is None]
    return (f"peers not installed: {', '.join(absent)}; their columns are left out. "
            f"To measure them, install them in a scratch environment:\n{INSTALL}")


def _trace_match(rate: float, drive: float) -> tuple[float, float]:
    """BindsNET's ``(tc_trace, trace_scale)`` for norse's per-step rate ``r`` and drive
    ``a``: :math:`e^{-dt/\\tau} = 1 - r`, :math:`c = r a`."""
    return -DT_MS / math.log1p(-rate), rate * drive


class BindsNETRunner:
    """BindsNET 0.3.4 ``PostPre`` on a ``Connection`` between an ``Input`` and a ``LIFNodes``
    layer, with the spikes forced (see the module docstring)."""

    def __init__(self, w0: np.ndarray, spikes: Spikes, params: Any) -> None:
        import torch

        network, nodes, learning = bindsnet()
        self.nodes_forward = nodes.Nodes.forward
        batch = spikes.pre[0].shape[0]
        n_post, n_pre = w0.shape
        tc_pre, scale_pre = _trace_match(DT_MS / 1000 * params.tau_pre_inv, params.a_pre)
        tc_post, scale_post = _trace_match(DT_MS / 1000 * params.tau_post_inv, params.a_post)
        self.source = nodes.Input(n=n_pre, traces=True, traces_additive=True,
                                  tc_trace=tc_pre, trace_scale=scale_pre)
        self.target = nodes.LIFNodes(n=n_post, traces=True, traces_additive=True,
                                     tc_trace=tc_post, trace_scale=scale_post)
        self.connection = network.topology.Connection(
            self.source, self.target, w=torch.from_numpy(np.ascontiguousarray(w0.T)),
            update_rule=learning.PostPre, nu=(params.eta_minus, params.eta_plus),
            wmin=params.w_min, wmax=params.w_max)
        self.net = network.Network(dt=DT_MS, batch_size=batch)
        self.net.add_layer(self.source, name="pre")
        self.net.add_layer(self.target, name="post")
        self.net.add_connection(self.connection, source="pre", target="post")
        self.pre = [torch.from_numpy(s != 0) for s in spikes.pre]
        self.post = [torch.from_numpy(s != 0) for s in spikes.post]

    def step(self, k: int) -> None:
        self.source.forward(x=self.pre[k])
        self.target.s = self.post[k]
        self.nodes_forward(self.target, self.post[k])
        self.connection.update(mask=None, learning=True)

    def weight(self) -> np.ndarray:
        return as_float64(self.connection.w.T)


class NorseRunner:
    """norse 1.1.0 ``stdp_step_linear`` with the workload's ``STDPParameters``."""

    def __init__(self, w0: np.ndarray, spikes: Spikes, params: Any) -> None:
        import torch

        stdp = norse_stdp()
        self.stdp_step_linear = stdp.stdp_step_linear
        batch = spikes.pre[0].shape[0]
        n_post, n_pre = w0.shape
        self.p = stdp.STDPParameters(
            a_pre=torch.as_tensor(params.a_pre), a_post=torch.as_tensor(params.a_post),
            tau_pre_inv=torch.as_tensor(params.tau_pre_inv),
            tau_post_inv=torch.as_tensor(params.tau_post_inv),
            w_min=params.w_min, w_max=params.w_max, eta_plus=params.eta_plus,
            eta_minus=params.eta_minus, stdp_algorithm=params.stdp_algorithm, mu=params.mu,
            hardbound=params.hardbound)
        self.state = stdp.STDPState(t_pre=torch.zeros(batch, n_pre),
                                    t_post=torch.zeros(batch, n_post))
        self.w = torch.from_numpy(w0.copy())
        self.dt = DT_MS / 1000
        self.pre = [torch.from_numpy(s) for s in spikes.pre]
        self.post = [torch.from_numpy(s) for s in spikes.post]

    def step(self, k: int) -> None:
        self.w, self.state = self.stdp_step_linear(self.pre[k], self.post[k], self.w,
                                                   self.state, self.p, dt=self.dt)

    def weight(self) -> np.ndarray:
        return as_float64(self.w)


RUNNERS = {"BindsNET": BindsNETRunner, "norse": NorseRunner}
