"""The demo's shared pieces (the digits, the read-out, the result) and its first network:
unsupervised learning of the 8x8 digits that ship with scikit-learn, after Diehl and Cook
(2015), with current-based neurons and one winner per step. ``plastix demo`` now runs the
conductance-based network of :mod:`plastix._apps.demo_dc` on both datasets; this one stays
for :func:`run` and as the demo of :class:`plastix.torch.PlasticLinear` (``backend="torch"``).

Each training image is shown for ``steps`` time steps as Poisson spike trains (rate
proportional to pixel intensity) to a layer of adaptive-threshold LIF neurons with lateral
inhibition; ``nearest_online_stdp`` (SPAIC's rule, looked up by name) learns the input weights
and normalises each neuron's row to ``w_norm``, SPAIC's 0.1 per input. Instead of simulating
the rest between images, potentials and traces are reset (what the rest is for). Afterwards
each neuron is labelled with the class it answered most on the training set, and a test image
is classified by the label group with the highest mean spike count.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from plastix.network import AdaptiveLIF, LateralInhibition, PoissonEncoder, resolve_backend


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    """The demo's settings; ``quick()`` gives the shortened version CI runs.

    Tuned on the digits (seed 0, checked on seeds 1 and 2), one value at a time: the input
    gain and the inhibition set how many spikes an image evokes (a few per 100 ms; more and
    every neuron learns every digit), ``theta_plus`` how fast a winning neuron gives way to
    others, ``Apost`` how far one image moves a neuron's weights. Testing integrates longer
    (``eval_steps``) than training because the read-out only counts spikes: more steps, less
    Poisson noise in the counts, nothing learned.
    """

    neurons: int = 100
    epochs: int = 1
    seed: int = 0
    backend: str = "numpy"
    steps: int = 100            # time steps (ms) per training image
    eval_steps: int = 250       # time steps per image when labelling and testing
    max_rate: float = 200.0     # Hz for the brightest pixel
    test_fraction: float = 0.25
    train_limit: int | None = None
    Apost: float = 0.05
    Apre: float = 1e-3
    w_norm: float = 0.1 * 64    # SPAIC's 78.4 is 0.1 per input for 784 MNIST pixels
    tau_m: float = 20.0
    theta_plus: float = 0.02
    inhibition: float = 3.0
    input_gain: float = 0.2     # potential added per input spike, per unit weight
    retries: int = 3            # re-show a silent image at twice the rate (Diehl and Cook)

    def settings(self) -> str:
        return (f"{self.neurons} neurons, {self.steps} ms/image, <= {self.max_rate:g} Hz, "
                f"theta+ {self.theta_plus:g}, inhibition {self.inhibition:g}, seed {self.seed}")

    def quick(self) -> DemoConfig:
        return dataclasses.replace(self, steps=min(self.steps, 50),
                                   eval_steps=min(self.eval_steps, 100), train_limit=300,
                                   neurons=min(self.neurons, 30), epochs=1)


@dataclasses.dataclass
class DemoResult:
    accuracy: float
    confusion: np.ndarray       # (10, 10): rows true class, columns predicted
    weights: np.ndarray         # (neurons, inputs): 64 for the digits, 784 for MNIST
    labels: np.ndarray          # (neurons,) class of each neuron, -1 if it never fired
    n_train: int
    n_test: int
    seconds: float
    settings: str = ""          # for the figure's title
    split: str = "test"         # what the accuracy was measured on ("test", "validation")
    curve: list[tuple[int, float]] = dataclasses.field(default_factory=list)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)


def load_digits(seed: int, test_fraction: float) -> tuple[np.ndarray, ...]:
    """Images as intensities in [0, 1] (n, 64) and labels, split by class so every class
    keeps ``test_fraction`` of its images for testing."""
    try:
        from sklearn.datasets import load_digits as sk_load
    except ImportError:
        raise SystemExit("plastix demo needs scikit-learn: python -m pip install "
                         "'plastix[demo]'") from None
    data = sk_load()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        test[idx[: round(test_fraction * len(idx))]] = True
    train_idx = rng.permutation(np.flatnonzero(~test))
    test_idx = np.flatnonzero(test)
    return x[train_idx], y[train_idx], x[test_idx], y[test_idx]


def _network(cfg: DemoConfig, batch: int) -> tuple[AdaptiveLIF, LateralInhibition]:
    layer = AdaptiveLIF(cfg.neurons, batch_size=batch, backend=cfg.backend, tau_m=cfg.tau_m,
                        theta_plus=cfg.theta_plus)
    return layer, LateralInhibition(cfg.inhibition, winners=1)


def train(cfg: DemoConfig, images: np.ndarray,
          progress: Callable[[Iterable[int]], Iterable[int]] = iter) -> tuple[Any, Any]:
    """Learn the input weights from ``images`` (n, 64); returns (weight, theta) on the
    backend."""
    be = resolve_backend(cfg.backend)
    rng = np.random.default_rng(cfg.seed)
    w0 = rng.uniform(0.0, 0.3, (cfg.neurons, images.shape[1]))
    syn = plastic_synapse(cfg, w0)
    layer, inhibition = _network(cfg, 1)
    encoder = PoissonEncoder(be, seed=cfg.seed)
    order = [i for _ in range(cfg.epochs) for i in rng.permutation(len(images))]
    for k in progress(range(len(order))):
        rate = cfg.max_rate * images[order[k]][None, :]
        for attempt in range(cfg.retries + 1):
            thr = encoder.thresholds(rate)
            fired = be.full((1, cfg.neurons), 0.0, "float32")
            for _ in range(cfg.steps):
                pre = encoder(thresholds=thr)
                post = layer.step(cfg.input_gain * syn.current(pre), inhibition)
                syn.learn(pre, post)
                fired = fired + post
            layer.reset()
            syn.reset()
            if attempt == cfg.retries or float(be.xp.sum(fired)) > 0:
                break
            rate = rate * 2
    return syn.weight, layer.theta


class _BindingSynapse:
    """The input weights as a plastix binding (NumPy, CuPy)."""

    def __init__(self, cfg: DemoConfig, w0: np.ndarray) -> None:
        import plastix as px

        self.syn = px.Learner("nearest_online_stdp", backend=cfg.backend, Apost=cfg.Apost,
                              Apre=cfg.Apre, w_norm=cfg.w_norm).bind(w0)

    @property
    def weight(self) -> Any:
        return self.syn.weight

    def current(self, pre: Any) -> Any:
        return pre @ self.syn.weight.T

    def learn(self, pre: Any, post: Any) -> None:
        self.syn.step(pre, post)

    def reset(self) -> None:
        self.syn.reset()


class _TorchSynapse(_BindingSynapse):
    """The input weights as a :class:`plastix.torch.PlasticLinear` layer (PyTorch): its
    forward gives the current and remembers the input spikes, ``learn`` steps the rule."""

    def __init__(self, cfg: DemoConfig, w0: np.ndarray) -> None:
        import torch

        from plastix.torch import PlasticLinear

        device = resolve_backend(cfg.backend).device
        self.layer = PlasticLinear(w0.shape[1], w0.shape[0], "nearest_online_stdp",
                                   Apost=cfg.Apost, Apre=cfg.Apre, w_norm=cfg.w_norm,
                                   device=device)
        with torch.no_grad():
            self.layer.weight.copy_(torch.as_tensor(w0))

    @property
    def weight(self) -> Any:
        return self.layer.weight.detach()

    def current(self, pre: Any) -> Any:
        return self.layer(pre).detach()

    def learn(self, pre: Any, post: Any) -> None:
        self.layer.learn(post)

    def reset(self) -> None:
        self.layer.reset()


def plastic_synapse(cfg: DemoConfig, w0: np.ndarray) -> _BindingSynapse:
    """The demo's plastic input weights: a PlasticLinear layer on PyTorch, else a binding."""
    torch_backend = resolve_backend(cfg.backend).name == "torch"
    return (_TorchSynapse if torch_backend else _BindingSynapse)(cfg, w0)


def respond(cfg: DemoConfig, weight: Any, theta: Any, images: np.ndarray, seed: int
            ) -> np.ndarray:
    """Spike counts (n, neurons) of the trained network to ``images``, all at once (the
    batch axis), with thresholds frozen; silent images are shown again at twice the rate."""
    be = resolve_backend(cfg.backend)
    counts = np.zeros((len(images), cfg.neurons))
    todo = np.arange(len(images))
    scale = 1.0
    for attempt in range(cfg.retries + 1):
        layer, inhibition = _network(cfg, len(todo))
        layer.theta, layer.adapt = theta, False
        encoder = PoissonEncoder(be, seed=seed, stream=attempt)
        thr = encoder.thresholds(cfg.max_rate * scale * images[todo])
        total = be.full((len(todo), cfg.neurons), 0.0, "float32")
        for _ in range(cfg.eval_steps):
            current = cfg.input_gain * (encoder(thresholds=thr) @ weight.T)
            total = total + layer.step(current, inhibition)
        counts[todo] = be.to_numpy(total)
        todo = todo[counts[todo].sum(axis=1) == 0]
        if len(todo) == 0:
            break
        scale *= 2
    return counts


def assign_labels(counts: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each neuron's class: the one with its highest mean response (-1: it never fired, so
    it has no class and takes no part in the vote)."""
    mean = np.stack([counts[labels == c].mean(axis=0) if (labels == c).any()
                     else np.zeros(counts.shape[1]) for c in range(10)])
    return np.where(mean.max(axis=0) > 0, mean.argmax(axis=0), -1)


def classify(counts: np.ndarray, neuron_labels: np.ndarray) -> np.ndarray:
    """Per image, the class whose neurons fired most on average (classes without neurons
    never win)."""
    scores = np.full((len(counts), 10), -math.inf)
    for c in range(10):
        group = neuron_labels == c
        if group.any():
            scores[:, c] = counts[:, group].mean(axis=1)
    return np.asarray(scores.argmax(axis=1))


def run(cfg: DemoConfig, progress: Callable[[Iterable[int]], Iterable[int]] = iter
        ) -> DemoResult:
    t0 = time.perf_counter()
    x_train, y_train, x_test, y_test = load_digits(cfg.seed, cfg.test_fraction)
    if cfg.train_limit is not None:
        x_train, y_train = x_train[: cfg.train_limit], y_train[: cfg.train_limit]
    weight, theta = train(cfg, x_train, progress)
    be = resolve_backend(cfg.backend)
    neuron_labels = assign_labels(respond(cfg, weight, theta, x_train, cfg.seed + 1), y_train)
    predicted = classify(respond(cfg, weight, theta, x_test, cfg.seed + 2), neuron_labels)
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (y_test, predicted), 1)
    return DemoResult(accuracy=float(np.mean(predicted == y_test)), confusion=confusion,
                      weights=be.to_numpy(weight).astype(np.float64), labels=neuron_labels,
                      n_train=len(x_train), n_test=len(x_test),
                      seconds=time.perf_counter() - t0, settings=cfg.settings())
