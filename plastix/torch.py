"""PyTorch modules whose weight learns by a plasticity rule: :class:`PlasticLinear`.

``import plastix`` never imports torch; ``import plastix.torch`` does. A layer is used in two
calls per time step, in this order::

    current = layer(pre_spikes)    # forward: pre @ W.T (+ bias), remembers pre_spikes
    post_spikes = neurons(current) # any neuron model: norse, snnTorch, plain torch
    layer.learn(post_spikes)       # the rule's step on (the last forward's pre, post)

The rule's traces are buffers of the module (they follow ``.to``, ``.double``, ``.cuda`` and
appear in ``state_dict``); the step counter, seed and hyperparameters travel as the module's
extra state. With ``grad_mode=True`` the weight is not changed by :meth:`PlasticLinear.learn`:
the rule's negative weight change is added to ``weight.grad`` instead, so that any
``torch.optim`` optimiser (with momentum, weight decay, learning-rate schedules) applies it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
from torch import nn

from ._errors import HyperparameterError, StepInputError
from ._runtime.binding import Binding
from ._runtime.learner import Learner, find_rule
from .backends import dtype_name

__all__ = ["PlasticLinear"]


class PlasticLinear(nn.Module):
    """A linear layer (``y = x W^T + b``) whose weight is learned by a plastix rule.

    ``rule``: a registered rule name or alias operating on a dense ``(out, in)`` weight;
    ``batch_size``: the batch of every forward input ``(batch_size, in_features)`` (a 1-D
    input is taken as a batch of one); ``bias``: add a (not plastic) bias, initialised to 0;
    ``grad_mode``: write :math:`-\\Delta w` into ``weight.grad`` instead of applying
    :math:`\\Delta w` (see the class notes); ``dt``: time step in ms; ``seed``: the rule's
    random seed; ``device``/``dtype``: where the weight lives (default: CPU and the rule's
    first dtype, float32 for most). Every other keyword is a hyperparameter of the rule.

    The weight starts uniform between the rule's bounds (``w_min``/``w_max`` or ``wmax``
    when finite, else between 0 and 1); overwrite ``layer.weight`` in place under
    ``torch.no_grad()`` to start elsewhere.

    **Grad mode.** Each :meth:`learn` accumulates :math:`-\\Delta w` into ``weight.grad``
    (as ``backward`` accumulates), and the rule adds a zero change. The rule's ops after its
    weight change still run on the unchanged weight: a clamp is then a no-op while the weight
    is in bounds, but a normalisation (SPAIC's row norm in ``nearest_online_stdp`` and
    ``full_online_stdp``) renormalises the weight every step. Call :meth:`apply_bounds`
    after ``optimizer.step()`` to clamp the weight to the rule's bounds.
    """

    def __init__(self, in_features: int, out_features: int,
                 rule: str = "nearest_online_stdp", *, batch_size: int = 1, bias: bool = False,
                 grad_mode: bool = False, dt: float = 1.0, seed: int = 0,
                 device: Any = None, dtype: Any = None, **hyperparameters: Any) -> None:
        super().__init__()
        rule_cls = find_rule(rule)
        for name, value in (("in_features", in_features), ("out_features", out_features),
                            ("batch_size", batch_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise StepInputError(rule_cls.name, name, "a positive int", repr(value))
        self.in_features, self.out_features = in_features, out_features
        self.batch_size, self.dt, self.seed = batch_size, dt, seed
        self.rule = rule_cls.name
        self.grad_mode = bool(grad_mode)
        name = dtype_name(dtype) if dtype is not None else rule_cls.dtypes[0]
        learner = Learner(self.rule, backend="torch", dtype=name, seed=seed, **hyperparameters)
        self._hyper = dataclasses.asdict(learner.params)
        torch_dtype = getattr(torch, learner.dtype)
        floating = torch_dtype.is_floating_point
        if self.grad_mode and not floating:
            raise HyperparameterError(self.rule, "grad_mode", f"needs a floating-point "
                                      f"weight, the rule runs in {learner.dtype}")
        low, high = _bounds(self._hyper)
        w = torch.empty(out_features, in_features, dtype=torch.float64, device=device)
        w.uniform_(low, high)
        self.weight = nn.Parameter(w.to(torch_dtype), requires_grad=floating)
        self.bias = nn.Parameter(torch.zeros(out_features, dtype=torch_dtype, device=device)) \
            if bias else None
        self._syn: Binding | None = None
        self._bound_to: tuple[Any, ...] = ()
        self._pending: Any = None
        self._last_pre: Any = None
        self._rebind()

    # -- the binding behind the module ----------------------------------------------------------
    @property
    def binding(self) -> Binding:
        """The :class:`plastix.Binding` that steps the weight (rebuilt when the weight moves
        to another device or dtype, or its storage is replaced)."""
        if self._bound_to != _where(self.weight):
            self._rebind()
        assert self._syn is not None
        return self._syn

    def _rebind(self) -> None:
        w = self.weight
        old = self._syn
        device = None if w.device.type == "cpu" else str(w.device)
        learner = Learner(self.rule, backend="torch", device=device, dtype=dtype_name(w.dtype),
                          seed=self.seed, **self._hyper)
        syn = learner.bind(w, batch_size=self.batch_size, dt=self.dt, seed=self.seed)
        for name, array in syn.arrays.items():
            if name == "weight":
                continue
            buffer = self._buffers.get(name)
            if buffer is not None:  # the state as it was, already moved by ``_apply``
                syn.backend.assign(array, buffer.to(array.dtype))
            elif name in self.__dict__ or name in self._parameters or name in self._modules:
                raise StepInputError(self.rule, "state", "names that are no module attribute",
                                     repr(name))
            self._buffers[name] = array  # the module's buffer is the binding's array
        if old is not None:
            syn.t = old.t
        if self.grad_mode:
            syn.intercept("weight", self._to_grad)
        self._syn, self._bound_to = syn, _where(w)

    def _apply(self, fn: Any, recurse: bool = True) -> PlasticLinear:
        super()._apply(fn, recurse)
        if self._syn is not None and self._bound_to != _where(self.weight):
            self._rebind()
        return self

    def _to_grad(self, dw: Any) -> Any:
        # kept until the step has succeeded: a step that fails is undone, its change dropped;
        # a rule may change the weight through several seams in one step: they add up
        if self._pending is None:
            self._pending = dw.detach().clone()
        else:
            self._pending.add_(dw)
        return torch.zeros_like(dw)

    # -- the two calls of a time step ------------------------------------------------------------
    def forward(self, pre_spikes: torch.Tensor) -> torch.Tensor:
        """The synaptic current ``pre_spikes @ weight.T (+ bias)``; ``pre_spikes`` is kept
        (detached) for the next :meth:`learn`."""
        self._last_pre = pre_spikes.detach()
        return nn.functional.linear(pre_spikes.to(self.weight.dtype), self.weight, self.bias)

    def learn(self, post_spikes: torch.Tensor, pre_spikes: torch.Tensor | None = None,
              **signals: Any) -> None:
        """One step of the rule on the last forward's input (or ``pre_spikes``) and
        ``post_spikes`` (``(batch_size, out_features)``); ``signals`` are the rule's extra
        inputs such as ``reward``. Updates ``weight`` in place, or in grad mode adds
        :math:`-\\Delta w` to ``weight.grad``."""
        pre = self._last_pre if pre_spikes is None else pre_spikes
        if pre is None:
            raise StepInputError(self.rule, "pre_spikes", "a forward() before learn() or "
                                 "pre_spikes given", "neither")
        syn = self.binding
        self._pending = None
        syn.step(_batched(pre, self.in_features), _batched(post_spikes, self.out_features),
                 **signals)
        if self._pending is not None:
            with torch.no_grad():
                if self.weight.grad is None:
                    self.weight.grad = -self._pending
                else:
                    self.weight.grad.sub_(self._pending)
            self._pending = None

    def reset(self) -> None:
        """Clear the rule's traces and the remembered input; weights and gradients stay."""
        self.binding.reset()
        self._last_pre = None

    def set(self, **hyperparameters: Any) -> None:
        """Change hyperparameters from the next step on (see :meth:`plastix.Binding.set`)."""
        self.binding.set(**hyperparameters)
        self._hyper = dataclasses.asdict(self.binding.params)

    def apply_bounds(self) -> None:
        """Clamp the weight to the rule's finite bounds (for grad mode, after an optimiser
        step); a rule without bounds leaves it as it is."""
        low, high = _bounds(self._hyper, default=(-math.inf, math.inf))
        with torch.no_grad():
            self.weight.clamp_(low, high)

    @property
    def hyperparameters(self) -> dict[str, Any]:
        return dict(self._hyper)

    # -- saving ----------------------------------------------------------------------------------
    def get_extra_state(self) -> dict[str, Any]:
        return {"rule": self.rule, "t": self.binding.t, "seed": self.seed,
                "params": dict(self._hyper)}

    def set_extra_state(self, state: Any) -> None:
        if not isinstance(state, dict) or state.get("rule") != self.rule:
            raise StepInputError(self.rule, "state_dict", f"the extra state of a "
                                 f"{self.rule!r} layer", repr(state)[:80])
        if state["params"] != self._hyper:
            self.set(**state["params"])
        if state["seed"] != self.seed:
            self.seed = int(state["seed"])
            self._rebind()
        self.binding.t = int(state["t"])

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"rule={self.rule!r}, batch_size={self.batch_size}, bias={self.bias is not None}"
                f", grad_mode={self.grad_mode}")




def _where(w: torch.Tensor) -> tuple[Any, ...]:
    return (w.device, w.dtype, w.data_ptr())


def _bounds(hyper: dict[str, Any], default: tuple[float, float] = (0.0, 1.0)
            ) -> tuple[float, float]:
    """The rule's finite weight bounds (``w_min``; ``w_max``, ``wmax`` or ``w_bound``),
    ``default`` where it has none."""
    high = next((hyper[k] for k in ("w_max", "wmax", "w_bound") if k in hyper), None)
    return _finite(hyper.get("w_min"), default[0]), _finite(high, default[1])


def _finite(value: Any, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return default


def _batched(x: Any, n: int) -> Any:
    x = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(x)
    return x.reshape(1, n) if x.ndim == 1 else x
