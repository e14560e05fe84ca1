"""Diehl and Cook's (2015) network for ``plastix demo``: conductance-based LIF neurons with
adaptive thresholds and an inhibitory population (:class:`plastix.network.ConductanceLIF`),
Poisson input up to 63.75 Hz for 350 ms per image, ``nearest_online_stdp`` looked up by name
with each neuron's weights normalised to 78.4 (0.1 per input), and images with fewer than five
output spikes shown again with 31.875 Hz more at the brightest pixel.

``batch`` images are presented side by side: that many independent network states share one
weight matrix, and the rule's batched step adds up their updates, so a batch of 16 learns
about as one image after another does, at a fraction of the per-step overhead. Potentials,
conductances and traces are reset between images instead of simulating the paper's 150 ms
of rest (which exists to let them decay).
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from typing import Any

import numpy as np

from plastix.network import ConductanceLIF, poisson_events, poisson_trains, resolve_backend


@dataclasses.dataclass(frozen=True)
class DCConfig:
    """Settings of the Diehl and Cook network; ``quick()`` is the shortened run CI makes.

    Time constants in ms, potentials in mV, rates in Hz; the paper's values except
    ``tau_theta`` (1e7 ms in the paper, for training over several epochs; one epoch learns
    better with thresholds that forget faster, found on the validation split).
    """

    dataset: str = "mnist"
    neurons: int = 100
    epochs: int = 1
    seed: int = 0
    backend: str = "numpy"
    steps: int = 350
    max_rate: float = 63.75
    retry_rate: float = 31.875
    min_spikes: int = 5
    retries: int = 4
    batch: int = 16
    eval_batch: int = 64
    Apost: float = 1e-2
    Apre: float = 1e-4
    w_norm: float = 78.4
    w_init: float = 0.3
    theta_plus: float = 0.05
    tau_theta: float = 3e5
    inhibition: float = 17.0
    winners: int | None = None
    train_limit: int | None = None
    label_images: int = 10000
    validation: int = 10000     # the last training images, held out by ``validate``
    validate: bool = False
    test_limit: int | None = None
    curve_every: int = 10000
    curve_images: int = 1000

    @classmethod
    def digits(cls, neurons: int = 100, **settings: Any) -> DCConfig:
        """The settings for scikit-learn's 8x8 digits (chosen on a validation split of 300
        training images, seeds 0-2): 64 inputs instead of 784 need brighter input (255 Hz)
        and a larger share of weight per input (``w_norm`` 20, 0.31 per input) for the drive
        of an MNIST image; with only 1,348 training images, one spike per step and sample
        (``winners=1``), faster learning (``Apost`` 0.03) and thresholds that rise 0.125 mV
        per spike per 100 neurons, since each neuron wins about one image in ``neurons``."""
        return cls(dataset="digits", neurons=neurons, steps=250, max_rate=255.0,
                   retry_rate=127.5, w_norm=20.0, Apost=0.03,
                   theta_plus=0.125 * neurons / 100, winners=1,
                   label_images=10**9, validation=300, curve_every=400, curve_images=100,
                   **settings)

    def quick(self) -> DCConfig:
        if self.dataset == "digits":  # 300 images, 30 neurons, as before
            return dataclasses.replace(self, neurons=min(self.neurons, 30), train_limit=300,
                                       steps=min(self.steps, 100), epochs=1, curve_every=150,
                                       curve_images=50)
        return dataclasses.replace(self, neurons=min(self.neurons, 30), train_limit=600,
                                   label_images=300, test_limit=300, curve_every=300,
                                   curve_images=150, steps=min(self.steps, 150), epochs=1)

    def settings(self) -> str:
        return (f"{self.neurons} neurons, {self.steps} ms/image, <= {self.max_rate:g} Hz, "
                f"theta+ {self.theta_plus:g} mV, tau_theta {self.tau_theta:g} ms, "
                f"inhibition {self.inhibition:g}, batch {self.batch}, seed {self.seed}")


class Timer:
    """Seconds spent per named part of the run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._t = time.perf_counter()

    def lap(self, part: str) -> None:
        now = time.perf_counter()
        self.seconds[part] += now - self._t
        self._t = now


def layer_for(cfg: DCConfig, batch: int, theta: Any = None) -> ConductanceLIF:
    layer = ConductanceLIF(cfg.neurons, batch_size=batch, backend=cfg.backend,
                           theta_plus=cfg.theta_plus, tau_theta=cfg.tau_theta,
                           inhibition=cfg.inhibition, winners=cfg.winners)
    if theta is not None:
        layer.theta, layer.adapt = theta, False
    return layer


def new_synapse(cfg: DCConfig, n_inputs: int) -> Any:
    """The plastic input weights: ``nearest_online_stdp`` by name, bound at ``batch``."""
    import plastix as px

    w0 = np.random.default_rng(cfg.seed).uniform(0.0, cfg.w_init, (cfg.neurons, n_inputs))
    learner = px.Learner("nearest_online_stdp", backend=cfg.backend, Apost=cfg.Apost,
                         Apre=cfg.Apre, w_norm=cfg.w_norm)
    return learner.bind(w0.astype(np.float32), batch_size=cfg.batch)


def rates_of(cfg: DCConfig, images: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Poisson rates (Hz): intensity times the maximum rate, raised by ``retry_rate`` for
    each earlier silent showing (``levels``)."""
    return images * (cfg.max_rate + cfg.retry_rate * levels)[:, None]


def present(cfg: DCConfig, syn: Any, layer: ConductanceLIF, rates: np.ndarray, key: int,
            timer: Timer) -> np.ndarray:
    """Show one batch of images while the rule learns; spike counts (batch, neurons)."""
    be = syn.backend
    trains = poisson_trains(rates, cfg.steps, seed=cfg.seed, t=key, backend=be)
    layer.reset()
    syn.reset()
    counts = be.full((len(rates), cfg.neurons), 0.0, "float32")
    timer.lap("poisson")
    for k in range(cfg.steps):
        pre = trains[k]
        post = layer.step(pre @ syn.weight.T)
        syn.step(pre, post)
        counts = counts + post
    timer.lap("network and rule")
    return be.to_numpy(counts)


def input_drive(cfg: DCConfig, rates: np.ndarray, w_t: Any, key: int, stream: int) -> Any:
    """The input conductance jumps (steps, batch, neurons) of Poisson trains of ``rates``
    through the fixed weights ``w_t`` (inputs, neurons); on NumPy a sparse product over the
    spikes (a few percent of the entries), with SciPy when it is installed."""
    be = resolve_backend(cfg.backend)
    batch, n_in = rates.shape
    try:
        from scipy import sparse
    except ImportError:
        sparse = None
    if be.name != "numpy" or sparse is None:
        trains = poisson_trains(rates, cfg.steps, seed=cfg.seed, t=key, stream=stream,
                                backend=be)
        return (trains.reshape(-1, n_in) @ w_t).reshape(cfg.steps, batch, cfg.neurons)
    step, flat = poisson_events(rates, cfg.steps, seed=cfg.seed, t=key, stream=stream)
    rows = step * batch + flat // n_in
    spikes = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, flat % n_in)),
                               shape=(cfg.steps * batch, n_in))
    return np.asarray(spikes @ w_t).reshape(cfg.steps, batch, cfg.neurons)


def respond(cfg: DCConfig, weight: Any, theta: Any, images: np.ndarray, stream: int,
            timer: Timer) -> np.ndarray:
    """Spike counts (n, neurons) of the frozen network (no learning, thresholds fixed);
    images with fewer than ``min_spikes`` are shown again with more input."""
    be = resolve_backend(cfg.backend)
    counts = np.zeros((len(images), cfg.neurons))
    todo = np.arange(len(images))
    w_t = be.asarray(be.to_numpy(weight).T.copy(), "float32")
    for level in range(cfg.retries + 1):
        for start in range(0, len(todo), cfg.eval_batch):
            idx = todo[start: start + cfg.eval_batch]
            rates = rates_of(cfg, images[idx], np.full(len(idx), float(level)))
            drive = input_drive(cfg, rates, w_t, start, stream + level)
            timer.lap("evaluation: input")
            layer = layer_for(cfg, len(idx), theta)
            total = be.full((len(idx), cfg.neurons), 0.0, "float32")
            for k in range(cfg.steps):
                total = total + layer.step(drive[k])
            counts[idx] = be.to_numpy(total)
            timer.lap("evaluation: network")
        todo = todo[counts[todo].sum(axis=1) < cfg.min_spikes]
        if len(todo) == 0:
            break
    return counts
