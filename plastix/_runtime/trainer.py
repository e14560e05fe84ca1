r"""canns's ``STDPTrainer`` and the ``SpikingLayer`` it trains, on every backend.

The layer is canns's: 1-D state, weight ``W`` of shape (output_size, input_size), and one
call of :meth:`SpikingLayer.forward` is one time step:

.. math::

    x_{pre} &\leftarrow \lambda x_{pre} + s_{in}, \qquad
    v \leftarrow \ell\, v + W s_{in}, \qquad s = [v \ge \vartheta], \qquad
    v \leftarrow v_{reset} \text{ where } s, \qquad x_{post} \leftarrow \lambda x_{post} + s

:meth:`STDPTrainer.train` runs canns's default (compiled) path: every pattern of one call is
one step of the equations above on the running weight, followed by the rule's update
(by default the registered ``canns_stdp``),

.. math::

    W \leftarrow \mathrm{clip}\big(W + \eta\,(A_+\, s\, x_{pre}^\top
        - A_-\, x_{post}\, s_{in}^\top),\; w_{min}, w_{max}\big)

with both traces including this step's spikes. As in canns, ``v`` and the traces start from
zero at every ``train()`` call and carry over between its patterns; at the end the weight, the
traces and ``v`` are written back to the layer. :meth:`STDPTrainer.predict` is one
``forward`` step, which changes the layer's state as canns's does.

Reference: canns, ``canns.trainer.stdp.STDPTrainer`` and
``canns.models.brain_inspired.SpikingLayer``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from plastix._errors import HyperparameterError, StepInputError
from plastix.backends import Backend
from plastix.network import resolve_backend

_LAYER = "SpikingLayer"
#: The rule :class:`STDPTrainer` uses unless told otherwise.
DEFAULT_RULE = "canns_stdp"
#: Used when ``canns_stdp`` is not registered: with no final step it is the same update.
FALLBACK_RULE = "full_online_stdp"


class SpikingLayer:
    """canns's leaky integrate-and-fire layer (defaults as canns: threshold 1, reset 0,
    leak 0.9 per step, trace decay 0.95 per step). ``W`` starts as 0.05 N(0, 1) drawn from
    ``seed`` (canns draws from JAX's global key; the numbers differ, the distribution not)."""

    def __init__(self, input_size: int, output_size: int, *, threshold: float = 1.0,
                 v_reset: float = 0.0, leak: float = 0.9, trace_decay: float = 0.95,
                 backend: str | Backend = "numpy", seed: int = 0,
                 dtype: str = "float32") -> None:
        from .contract import check_seed, parse_dtype

        self.backend = resolve_backend(backend)
        for name, n in (("input_size", input_size), ("output_size", output_size)):
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
                raise StepInputError(_LAYER, name, "a positive int", repr(n))
        self.input_size, self.output_size = int(input_size), int(output_size)
        numbers = {"threshold": threshold, "v_reset": v_reset, "leak": leak,
                   "trace_decay": trace_decay}
        for name, x in numbers.items():
            if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating) \
                    or not np.isfinite(x):
                raise StepInputError(_LAYER, name, "a finite number", repr(x))
        self.threshold, self.v_reset, self.leak = float(threshold), float(v_reset), float(leak)
        self.trace_decay = float(trace_decay)
        self.dtype = parse_dtype(dtype) or ""
        if self.dtype not in ("float32", "float64"):
            raise StepInputError(_LAYER, "dtype", "'float32' or 'float64'", repr(dtype))
        seed = check_seed(_LAYER, seed)
        w = 0.05 * np.random.default_rng(seed).standard_normal((output_size, input_size))
        self.W = self.backend.asarray(w, dtype)
        self.reset_state()

    def reset_state(self) -> None:
        """Zero ``v``, the spikes and both traces (not ``W``)."""
        be = self.backend
        self.v = be.full((self.output_size,), 0.0, self.dtype)
        self.spike = be.full((self.output_size,), 0.0, self.dtype)
        self.trace_pre = be.full((self.input_size,), 0.0, self.dtype)
        self.trace_post = be.full((self.output_size,), 0.0, self.dtype)

    def integrate(self, x: Any, W: Any) -> Any:
        """Steps 2-4 of ``forward`` with weight ``W``: returns the spikes."""
        xp = self.backend.xp
        self.v = self.leak * self.v + W @ x
        spike = self.backend.asarray(self.v >= self.threshold, self.dtype)
        self.v = xp.where(spike > 0, self.v_reset, self.v)
        return spike

    def forward(self, x: Any) -> Any:
        """One time step with input ``x`` (input_size,); returns the 0/1 output spikes."""
        x = self.backend.asarray(x, self.dtype)
        self.trace_pre = self.trace_decay * self.trace_pre + x
        self.spike = self.integrate(x, self.W)
        self.trace_post = self.trace_decay * self.trace_post + self.spike
        return self.spike

    __call__ = forward


class STDPTrainer:
    """Trace STDP on a :class:`SpikingLayer`, as canns's ``STDPTrainer`` (seed 003).

    ``learning_rate``, ``A_plus``, ``A_minus``, ``w_min``, ``w_max``: canns's names and
    defaults; ``weight_attr``: the layer's weight attribute; ``backend``: where the rule runs
    (default: the layer's); ``rule``: the registered rule (default ``canns_stdp``, or
    ``full_online_stdp`` with ``Apost = learning_rate * A_plus`` and
    ``Apre = learning_rate * A_minus`` where ``canns_stdp`` is not installed). canns's
    uncompiled path (``compiled=False``), which runs a call on stale weights, is not offered.
    """

    def __init__(self, model: SpikingLayer, learning_rate: float = 0.01, A_plus: float = 0.005,
                 A_minus: float = 0.00525, weight_attr: str = "W", w_min: float = 0.0,
                 w_max: float = 1.0, compiled: bool = True, *, backend: str | None = None,
                 rule: str | None = None) -> None:
        import plastix as px

        if compiled is not True:
            raise HyperparameterError("STDPTrainer", "compiled", "plastix follows canns's "
                                      "default compiled path only; got compiled="
                                      f"{compiled!r}")
        if not hasattr(model, weight_attr):
            raise HyperparameterError("STDPTrainer", "weight_attr", f"the model has no "
                                      f"attribute {weight_attr!r}")
        self.model, self.weight_attr = model, weight_attr
        self.learning_rate, self.A_plus, self.A_minus = learning_rate, A_plus, A_minus
        self.w_min, self.w_max = w_min, w_max
        name = rule or (DEFAULT_RULE if DEFAULT_RULE in px.rules(with_aliases=True)
                        else FALLBACK_RULE)
        rule_cls = px.find_rule(name)
        canns = dict(learning_rate=learning_rate, A_plus=A_plus, A_minus=A_minus, w_min=w_min,
                     w_max=w_max, trace_decay=model.trace_decay)
        if rule_cls.name == FALLBACK_RULE:
            canns.update(Apost=learning_rate * A_plus, Apre=learning_rate * A_minus)
        fields = {f.name for f in rule_cls.param_fields()} | set(rule_cls.param_aliases)
        hyper: dict[str, Any] = {k: v for k, v in canns.items() if k in fields}
        be = backend if backend is not None else model.backend
        self.learner = px.Learner(rule_cls.name, backend=be if isinstance(be, str) else be.key,
                                  dtype=model.dtype, **hyper)

    def train(self, train_data: Iterable[Any]) -> None:
        """One step per pattern (binary, shape (input_size,)), from zeroed ``v`` and traces."""
        model = self.model
        syn = self.learner.bind(getattr(model, self.weight_attr))
        be = syn.backend
        model.v = be.full((model.output_size,), 0.0, model.dtype)
        for pattern in train_data:
            x = be.asarray(pattern, model.dtype)
            spike = model.integrate(x, syn.weight)
            syn.step(x, spike)
        setattr(model, self.weight_attr, syn.weight)
        traces = syn.state
        for attr, names in (("trace_pre", ("trace_pre", "x_pre")),
                            ("trace_post", ("trace_post", "x_post"))):
            for key in names:
                if key in traces:
                    setattr(model, attr, traces[key].reshape(-1))
                    break

    def predict(self, pattern: Any) -> Any:
        """The layer's output spikes (0/1, shape (output_size,)) to one pattern: one
        ``forward`` step, which changes the layer's state as in canns."""
        return self.model.forward(pattern)

    def predict_batch(self, patterns: Iterable[Any]) -> list[Any]:
        """``predict`` on each pattern in turn (state carries over, as in canns)."""
        return [self.predict(p) for p in patterns]
