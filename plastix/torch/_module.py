"""What every plastic module shares: its rule, its binding, buffers, moves and state dicts.

A module's weight is an ``nn.Parameter``; the rule's state arrays (traces, a mask) are the
module's buffers and *are* the binding's arrays, so they follow ``.to``, ``.double``,
``.cuda`` and appear in ``state_dict``; the step counter, seed, batch size, hyperparameters
and whether a sequence is under way are the module's extra state. Every call checks what it
is given before it changes anything: a failed ``forward`` keeps the input of the last good
one, a move to a dtype the rule cannot run in (``.half()``) raises before anything moved, and
``load_state_dict`` checks every entry (rule, hyperparameters, shapes, dtypes, finite values,
step counter) before it writes the first.
"""

from __future__ import annotations

import contextvars
import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from plastix._errors import HyperparameterError, PlastixError, StateDictError, StepInputError
from plastix._runtime.binding import Binding
from plastix._runtime.learner import Learner, find_rule
from plastix._runtime.statedict import STATE_FORMAT, check_state_dict

from ._core import PlasticCore, learner_for, where

_EXTRA = "_extra_state"
#: Whether the load under way is strict (torch passes ``strict=True`` to every module).
_STRICT: contextvars.ContextVar[bool] = contextvars.ContextVar("plastix_strict", default=True)


class PlasticModule(nn.Module):
    """Base class of the plastic layers (not used directly)."""

    weight: nn.Parameter
    bias: nn.Parameter | None

    def _setup(self, rule: str, *, batch_size: int, grad_mode: bool, dt: float, seed: int,
               dtype: Any, hyperparameters: Mapping[str, Any]) -> tuple[Learner, Any]:
        """Resolve and check the rule; returns its learner and the weight's torch dtype."""
        rule_cls = find_rule(rule)
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise StepInputError(rule_cls.name, "batch_size", "a positive int",
                                 repr(batch_size))
        self.rule = rule_cls.name
        self.dt, self.seed, self.grad_mode = dt, seed, bool(grad_mode)
        name = dtype if dtype is not None else rule_cls.dtypes[0]
        learner = learner_for(self.rule, hyperparameters, seed, name, None)
        torch_dtype = getattr(torch, learner.dtype)
        if self.grad_mode and not torch_dtype.is_floating_point:
            raise HyperparameterError(self.rule, "grad_mode", f"needs a floating-point "
                                      f"weight, the rule runs in {learner.dtype}")
        self._core = PlasticCore(self.rule, dataclasses.asdict(learner.params), seed=seed,
                                 dt=dt, grad_mode=grad_mode, batch_size=batch_size)
        self._core.on_arrays = self._adopt_arrays
        self._last_pre: Any = None
        return learner, torch_dtype

    def _init_weight(self, shape: tuple[int, ...], torch_dtype: Any, device: Any,
                     bias: int | None) -> None:
        """The weight, uniform between the rule's bounds, and an optional bias of ``bias``
        entries, initialised to 0 (not plastic)."""
        low, high = bounds(self._core.hyper)
        w = torch.empty(shape, dtype=torch.float64, device=device)
        w.uniform_(low, high)
        floating = torch_dtype.is_floating_point
        self.weight = nn.Parameter(w.to(torch_dtype), requires_grad=floating)
        self.bias = nn.Parameter(torch.zeros(bias, dtype=torch_dtype, device=device)) \
            if bias is not None else None

    # -- the binding ----------------------------------------------------------------------------
    def _shape_options(self, pre: Any) -> dict[str, Any]:
        """Bind options that depend on the input (a convolution's input size)."""
        return {}

    @property
    def binding(self) -> Binding:
        """The :class:`plastix.Binding` that steps the weight (rebuilt when the weight moves
        to another device or dtype, or its storage is replaced)."""
        return self._core.binding(self.weight)

    @property
    def batch_size(self) -> int:
        """The batch size of the sequence under way (taken from the first ``learn`` after the
        module was made or reset; until then, the ``batch_size`` it was made with)."""
        return self._core.syn.batch_size if self._core.syn is not None else \
            self._core.batch_hint

    def _adopt_arrays(self, syn: Binding) -> None:
        for name, array in syn.S.items():
            if name == "weight":
                continue
            if name in self.__dict__ or name in self._parameters or name in self._modules:
                raise StepInputError(self.rule, "state", "names that are no module attribute",
                                     repr(name))
            self._buffers[name] = array  # the module's buffer is the binding's array

    def _attach_monitor(self, monitor: Any) -> None:
        self._core.monitors.append(monitor)
        monitor._follow(self.binding)

    def _apply(self, fn: Any, recurse: bool = True) -> PlasticModule:
        w = self.weight
        probe = fn(torch.empty(0, dtype=w.dtype, device=w.device))
        if (probe.dtype, probe.device) != (w.dtype, w.device):
            self._core.check_target(probe.dtype, probe.device)  # before anything moves
        syn = self._core.syn
        super()._apply(fn, recurse)
        if syn is not None and self._core.bound_to != where(self.weight):
            # the buffers moved with the module: carry them as they are now
            carry = {k: v for k, v in self._buffers.items() if v is not None}
            self._core.rebind(self.weight, self._core.shape_options, carry=carry)
        return self

    # -- stepping -------------------------------------------------------------------------------
    def _learn(self, pre: Any, post: Any, signals: Mapping[str, Any]) -> None:
        syn = self._core.binding(self.weight, **self._shape_options(pre))
        self._core.step(syn, self.weight, pre, post, **signals)

    def reset(self) -> None:
        """Clear the rule's traces and the remembered input; weights and gradients stay. The
        next ``learn`` may bring another batch size."""
        self.binding.reset()
        self._last_pre = None

    def set(self, **hyperparameters: Any) -> None:
        """Change hyperparameters from the next step on (see :meth:`plastix.Binding.set`)."""
        self.binding.set(**hyperparameters)
        self._core.hyper = dataclasses.asdict(self.binding.params)

    def apply_bounds(self) -> None:
        """Clamp the weight to the rule's finite bounds (for grad mode, after an optimiser
        step) and zero its masked synapses; a rule without bounds is left as it is."""
        low, high = bounds(self._core.hyper, default=(-math.inf, math.inf))
        with torch.no_grad():
            self.weight.clamp_(low, high)
            mask = self._buffers.get("mask")
            if mask is not None:
                self.weight.mul_(mask)

    @property
    def hyperparameters(self) -> dict[str, Any]:
        return dict(self._core.hyper)

    # -- saving ---------------------------------------------------------------------------------
    def get_extra_state(self) -> dict[str, Any]:
        syn = self.binding
        return {"rule": self.rule, "t": syn.t, "seed": self.seed, "params": self.hyperparameters,
                "batch_size": syn.batch_size, "fresh": syn.fresh,
                "shape_options": dict(self._core.shape_options)}

    def set_extra_state(self, state: Any) -> None:
        raise StateDictError(f"rule {self.rule!r}: a plastic module's extra state is loaded "
                             "with its arrays by load_state_dict")

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> Any:
        """As ``torch.nn.Module.load_state_dict``, all or nothing: every entry (rule,
        hyperparameters, shapes, dtypes, finite values, step counter, batch size) is checked
        before the first is written, and a failed load raises :class:`plastix.StateDictError`
        (or torch's RuntimeError for missing keys) with nothing changed. ``strict=False``
        loads what is given (the weight of a plain ``torch.nn.Linear``, say) and keeps the
        rest. Inside a larger model, torch does not tell a module whether the load is strict:
        a plastic module with missing entries is then left as it was (and listed in
        ``missing_keys``)."""
        token = _STRICT.set(strict)
        try:
            return super().load_state_dict(state_dict, strict=strict, assign=assign)
        finally:
            _STRICT.reset(token)

    def _load_from_state_dict(self, state_dict: Mapping[str, Any], prefix: str,
                              local_metadata: Any, strict: bool, missing_keys: list[str],
                              unexpected_keys: list[str], error_msgs: list[str]) -> None:
        """All or nothing: every entry of this module is checked before the first is written
        (torch's own loader writes entry by entry)."""
        strict = _STRICT.get()  # torch passes True whatever the caller asked for
        syn = self.binding
        names = ["weight", *(["bias"] if self.bias is not None else []),
                 *(k for k in syn.S if k != "weight"), _EXTRA]
        given = {n: state_dict[prefix + n] for n in names if prefix + n in state_dict}
        missing = [prefix + n for n in names if n not in given]
        if strict:
            unexpected_keys.extend(k for k in state_dict if k.startswith(prefix)
                                   and "." not in k[len(prefix):]
                                   and k[len(prefix):] not in names)
        if missing:
            missing_keys.extend(missing)
            if strict:
                return  # torch raises, naming them; nothing is written
        if not given:
            return
        try:
            staged = self._stage(syn, given)
        except PlastixError as exc:
            raise StateDictError(f"{type(self).__name__} ({self.rule!r}) at {prefix!r}: "
                                 f"{exc}") from None
        self._commit(*staged)

    def _stage(self, syn: Binding, given: Mapping[str, Any]) -> tuple[Any, ...]:
        """Check ``given`` (this module's entries) against a copy of the binding; returns
        what :meth:`_commit` writes."""
        extra = given.get(_EXTRA, self.get_extra_state())
        if not isinstance(extra, Mapping) or extra.get("rule") != self.rule:
            raise StateDictError(f"the extra state of a {self.rule!r} layer, got "
                                 f"{repr(extra)[:80]}")
        params, seed = extra.get("params", self.hyperparameters), extra.get("seed", self.seed)
        options = extra.get("shape_options", self._core.shape_options)
        if not isinstance(params, Mapping) or not isinstance(options, Mapping):
            raise StateDictError("malformed params or shape options in the extra state")
        options = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
        arrays = {k: given.get(k, v) for k, v in syn.S.items()}
        sd = {"format": STATE_FORMAT, "rule": self.rule, "params": dict(params),
              "t": extra.get("t", syn.t), "seed": seed, "dt": syn.dt, "dtype": syn.dtype,
              "batch_size": extra.get("batch_size", syn.batch_size),
              "fresh": extra.get("fresh", syn.fresh), "arrays": arrays}
        w = self.weight
        try:
            learner = learner_for(self.rule, params, seed, w.dtype, w.device)
            probe = learner.bind(w.detach().clone(), batch_size=syn.batch_size, dt=syn.dt,
                                 seed=int(seed) if isinstance(seed, int) else 0,
                                 mask=syn.S.get("mask"), **options)
        except (PlastixError, TypeError, ValueError) as exc:
            raise StateDictError(f"its hyperparameters or shape options do not fit: "
                                 f"{exc}") from None
        check_state_dict(probe, sd)
        bias = given.get("bias")
        if bias is not None and self.bias is not None:
            b, want = torch.as_tensor(bias), tuple(self.bias.shape)
            if tuple(b.shape) != want or not torch.isfinite(b).all():
                raise StateDictError(f"bias: finite values of shape {want}, got "
                                     f"{tuple(b.shape)} (or NaN)")
        return sd, dict(params), int(seed), dict(options), bias

    def _commit(self, sd: dict[str, Any], params: dict[str, Any], seed: int,
                options: dict[str, Any], bias: Any) -> None:
        core = self._core
        if params != core.hyper or seed != core.seed or options != core.shape_options:
            core.hyper, core.seed, self.seed = params, seed, seed
            core.rebind(self.weight, options)
        core.syn.load_state_dict(sd)  # type: ignore[union-attr]  # checked: cannot fail now
        core.sync()
        if bias is not None:
            with torch.no_grad():
                self.bias.copy_(torch.as_tensor(bias))  # type: ignore[union-attr]
        self._last_pre = None


def bounds(hyper: Mapping[str, Any], default: tuple[float, float] = (0.0, 1.0)
           ) -> tuple[float, float]:
    """The rule's finite weight bounds (``w_min``; ``w_max``, ``wmax`` or ``w_bound``),
    ``default`` where it has none."""
    high = next((hyper[k] for k in ("w_max", "wmax", "w_bound") if k in hyper), None)
    return _finite(hyper.get("w_min"), default[0]), _finite(high, default[1])


def _finite(value: Any, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return default


def as_spikes(x: Any, rule: str, name: str, features: tuple[int, ...]) -> torch.Tensor:
    """``x`` detached, checked to be ``(batch, *features)`` or ``features`` (a batch of one,
    returned with its batch axis)."""
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(x)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise StepInputError(rule, name, f"a tensor of shape (batch, {_dims(features)})",
                                 f"{type(x).__name__} ({exc})") from None
    x = x.detach()
    shape = tuple(x.shape)
    if shape == features:
        return x.reshape(1, *features)
    if len(shape) != len(features) + 1 or shape[1:] != features or shape[0] < 1:
        raise StepInputError(rule, name, f"shape (batch, {_dims(features)}) or "
                             f"({_dims(features)},)", f"shape {shape}")
    return x


def _dims(features: tuple[int, ...]) -> str:
    return ", ".join(str(n) for n in features)
