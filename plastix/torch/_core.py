"""The binding behind a plastic torch weight: rebuilt when the weight moves, carried over.

:class:`PlasticCore` holds one rule (name, hyperparameters, seed, ``dt``, grad mode) and the
:class:`plastix.Binding` that steps it on a torch weight tensor owned by someone else (a
:mod:`plastix.torch` module's parameter, or the weight of another library's layer). When the
weight moves to another device or dtype, or its storage is replaced (``layer.weight.data =
...``), the next use rebinds, carrying the state (traces), the step counter, the batch size
and whether a sequence is under way. In grad mode a seam hook keeps the rule's change, and
:meth:`PlasticCore.step` adds its negative to ``weight.grad`` once the step has succeeded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from plastix._errors import HyperparameterError, StepInputError
from plastix._runtime.binding import Binding
from plastix._runtime.learner import Learner
from plastix.backends import dtype_name


def where(w: torch.Tensor) -> tuple[Any, ...]:
    """What a binding is bound to: the weight's device, dtype and storage."""
    return (w.device, w.dtype, w.data_ptr())


def learner_for(rule: str, hyper: Mapping[str, Any], seed: int, dtype: Any,
                device: Any) -> Learner:
    """A torch learner of ``rule`` on ``device`` in ``dtype`` (a torch dtype or name)."""
    dev = None if device is None or torch.device(device).type == "cpu" else str(device)
    return Learner(rule, backend="torch", device=dev, dtype=dtype_name(dtype), seed=seed,
                   **hyper)


class PlasticCore:
    """One rule on one torch weight (see the module docstring). ``mask``: a fixed 0/1
    structure of the weight's shape (masked synapses stay 0), or None."""

    def __init__(self, rule: str, hyper: Mapping[str, Any], *, seed: int, dt: float,
                 grad_mode: bool, batch_size: int = 1, mask: torch.Tensor | None = None
                 ) -> None:
        self.rule, self.hyper, self.seed, self.dt = rule, dict(hyper), int(seed), float(dt)
        self.grad_mode = bool(grad_mode)
        self.batch_hint = batch_size
        self.mask = mask
        self.syn: Binding | None = None
        self.bound_to: tuple[Any, ...] = ()
        self.shape_options: dict[str, Any] = {}
        self.monitors: list[Any] = []
        #: called with the binding whenever its arrays are other objects than before
        self.on_arrays: Callable[[Binding], None] = lambda syn: None
        self._version = -1
        self._pending: Any = None

    def check_target(self, dtype: Any, device: Any) -> None:
        """Raise (changing nothing) unless the rule can run in ``dtype`` on ``device``."""
        learner = learner_for(self.rule, self.hyper, self.seed, dtype, device)
        if self.grad_mode and not getattr(torch, learner.dtype).is_floating_point:
            raise HyperparameterError(self.rule, "grad_mode", f"needs a floating-point "
                                      f"weight, the rule runs in {learner.dtype}")

    def binding(self, weight: torch.Tensor, **shape_options: Any) -> Binding:
        """The binding on ``weight``, rebuilt when the weight moved or its storage was
        replaced (state carried over), or when ``shape_options`` (a convolution's input size)
        differ from the binding's (a new sequence: only the counters are carried)."""
        syn = self.syn
        other = bool(shape_options) and shape_options != self.shape_options
        if other and syn is not None and not syn.fresh:
            raise StepInputError(self.rule, "pre_spikes", f"input size "
                                 f"{self.shape_options.get('pre_shape')}, the size since the "
                                 "last reset() (call reset() before inputs of another size)",
                                 f"input size {shape_options.get('pre_shape')}")
        if syn is None or other or self.bound_to != where(weight):
            syn = self.rebind(weight, shape_options or self.shape_options)
        return syn

    def rebind(self, weight: torch.Tensor, shape_options: Mapping[str, Any],
               carry: Mapping[str, torch.Tensor] | None = None) -> Binding:
        """A new binding on ``weight``; ``carry``: the state arrays to keep, by name (default:
        the old binding's, converted to the weight's device and dtype)."""
        old = self.syn
        shape_options = dict(shape_options)
        if carry is None and old is not None:
            carry = old.S
        learner = learner_for(self.rule, self.hyper, self.seed, weight.dtype, weight.device)
        mask = None if self.mask is None else self.mask.detach().to(weight.device, weight.dtype)
        same_layout = old is not None and shape_options == self.shape_options
        batch = old.batch_size if old is not None and same_layout else self.batch_hint
        syn = learner.bind(weight, batch_size=batch, dt=self.dt, seed=self.seed, mask=mask,
                           **shape_options)
        if old is not None:
            syn.t = old.t
            syn._fresh_at = old.t if old.fresh or not same_layout else None
        if same_layout:
            for name, array in syn.S.items():
                kept = (carry or {}).get(name)
                if name not in ("weight", "mask") and kept is not None and \
                        tuple(kept.shape) == tuple(array.shape):
                    syn.backend.assign(array, kept.detach().to(array.device, array.dtype))
        if self.grad_mode:
            syn.intercept("weight", self._to_grad)
        for monitor in self.monitors:
            monitor._follow(syn)
        self.syn, self.bound_to, self.shape_options = syn, where(weight), shape_options
        self._version = -1
        self.sync()
        return syn

    def sync(self) -> None:
        """Tell ``on_arrays`` when the binding's arrays were replaced (a new batch size)."""
        syn = self.syn
        if syn is not None and syn._layout_version != self._version:
            self._version = syn._layout_version
            self.on_arrays(syn)

    def _to_grad(self, dw: Any) -> Any:
        # kept until the step has succeeded: a step that fails is undone, its change dropped;
        # a rule may change the weight through several seams in one step: they add up
        if self._pending is None:
            self._pending = dw.detach().clone()
        else:
            self._pending.add_(dw)
        return torch.zeros_like(dw)

    def step(self, syn: Binding, weight: torch.Tensor, pre: Any, post: Any,
             **signals: Any) -> None:
        """One step of the rule; in grad mode, :math:`-\\Delta w` is added to
        ``weight.grad`` after the step succeeded."""
        self._pending = None
        try:
            syn.step(pre, post, **signals)
        finally:
            self.sync()
        self.pending_to_grad(weight)

    def pending_to_grad(self, weight: torch.Tensor) -> None:
        """Subtract the change the last step (or run) collected in grad mode from
        ``weight.grad``; nothing when it collected none."""
        if self._pending is not None:
            with torch.no_grad():
                if weight.grad is None:
                    weight.grad = -self._pending
                else:
                    weight.grad.sub_(self._pending)
            self._pending = None

    def set(self, **hyperparameters: Any) -> None:
        if self.syn is None:
            raise RuntimeError("no binding yet")
        self.syn.set(**hyperparameters)
        self.hyper = _asdict(self.syn.params)


def _asdict(params: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(params)
