"""A rule bound to one weight: its state, its compiled steps, and the input contract.

Every argument is checked before anything is computed, so a call that fails leaves the weight,
the state and the step counter exactly as they were.

A binding may be shared between threads: a lock per binding serialises its steps, runs,
snapshots (``state_dict``, ``save``), loads, ``set``, ``reset`` and ``intercept``, so each of
them sees and leaves the binding between two whole steps (``docs/learners.rst``, "Guarantees
under misuse").
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from plastix._compiler import CompiledStep, StepState, compiled_step, update_constants
from plastix._errors import (
    ConversionWarning,
    HyperparameterError,
    PlastixError,
    RuleValidationError,
    StepInputError,
)
from plastix._graph import Graph
from plastix._validate import validate
from plastix.registry import OPS

from .checked import debug_enabled, guarded_step
from .contract import (
    adopt,
    as_checked,
    binding_dtype,
    check_allocation,
    check_dt,
    check_train_length,
    coerce_weight,
    dtype_name,
    is_train,
    out_of_memory,
    size_text,
)
from .interrupts import StepBoundary
from .layout import (
    Layout,
    batch_of,
    install,
    layout_for,
    locked_error,
    signals_of,
    switch,
)
from .seams import SeamHooks, chain, checked_hook, identity
from .statedict import STATE_FORMAT, check_state_dict

if TYPE_CHECKING:
    from .learner import Learner

#: Runs at least this long show a progress bar (when stderr is a terminal).
PROGRESS_MIN_STEPS = 1000


class Binding:
    """One rule applied to one weight. Made by :meth:`plastix.Learner.bind`."""

    def __init__(self, learner: Learner, weight: Any, *, batch_size: int = 1,
                 mask: Any = None, dt: float = 1.0, seed: int | None = None,
                 params: Any = None, shape_options: Mapping[str, Any] | None = None,
                 check_finite: bool | None = None) -> None:
        self._lock = threading.RLock()
        self.learner = learner
        self.backend = learner.backend
        self.dtype = binding_dtype(learner, weight)
        self.params = params if params is not None else learner.params
        self.rule_name = learner.name
        self.seed = int(learner.seed if seed is None else seed)
        self.dt = check_dt(self.rule_name, dt)
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise StepInputError(self.rule_name, "batch_size", "a positive int",
                                 repr(batch_size))
        self.batch_size = batch_size
        self._warned_conversion = False
        w = self._coerce_weight(weight)
        rule_cls = learner.rule_cls
        self.shape_options = dict(shape_options or {})
        try:
            pre_shape, post_shape = rule_cls.spike_shapes(tuple(w.shape), batch_size,
                                                          self.params, **self.shape_options)
        except (ValueError, TypeError) as exc:
            raise StepInputError(self.rule_name, "weight", str(exc), str(tuple(w.shape))) \
                from None
        self.rule, g, self._avals = self._make_graph(self.params, pre_shape, post_shape,
                                                     tuple(w.shape), mask is not None)
        self.graph = g
        self._seam_hooks: dict[str, Callable[[Any], Any]] = SeamHooks()
        self._user_hooks: dict[str, Callable[[Any], Any]] = {}
        self._observers: dict[str, list[Callable[[Any], None]]] = {}
        self._user_ops = any(_foreign_op(n.op) for n in g.nodes)
        self.check_finite = debug_enabled() if check_finite is None else check_finite
        self.S: dict[str, Any] = {"weight": w}
        self._allocate_state()
        if mask is not None:
            m = as_checked(self.backend, self.rule_name, "mask", mask, tuple(w.shape),
                           self.dtype, binary=False)
            self.S["mask"] = self.backend.asarray(m != 0, self.dtype)
            self.backend.assign(w, w * self.S["mask"])
        self.t = 0
        self._steps: dict[str, CompiledStep] = {}
        #: the compiled steps' private state: scratch buffers, bound flags, event limit
        self.step_state = StepState(math.prod(w.shape))
        self._signals = signals_of(g)
        # the batch size (plastix._runtime.layout): the step counter at the last bind or
        # reset (None: locked, as after loading a sequence's state), the current layout,
        # other batches' layouts, and who is told of a switch (monitors, data-parallel)
        self._fresh_at: int | None = 0
        self._layout = Layout(batch_size, self.rule, g, self._avals, self._signals, self._steps)
        self._layouts: dict[int, Layout] = {}
        self._layout_version = 0
        self._layout_listeners: list[Callable[..., None]] = []
        self._monitors: list[Any] = []
        #: the backend's test for spikes that may skip the input checks (None: check all)
        self._ready: Callable[..., bool] | None = None
        self._ready_dtype = self.backend.dtype(self.dtype)
        self._refresh_fast_path()
        if any(n.phase == "bind" for n in g.nodes):
            self._run_phase("bind", None, None, {})

    # -- construction helpers -------------------------------------------------------------------
    def _coerce_weight(self, weight: Any) -> Any:
        return coerce_weight(self.backend, self.rule_name, weight, self.dtype)

    @property
    def check_finite(self) -> bool:
        """Whether each step is checked for non-finite results (and undone if any)."""
        return self._check_finite

    @check_finite.setter
    def check_finite(self, on: bool) -> None:
        if not isinstance(on, bool):
            raise StepInputError(self.rule_name, "check_finite", "True or False", repr(on))
        self._check_finite = on
        self._guard()

    def _guard(self) -> None:
        # user code (function ops, seam hooks) may raise mid-step: such steps are undoable;
        # plastix's own observers of a seam (monitors) only copy, and need no guard
        self._guarded = self._check_finite or self._user_ops or bool(self._user_hooks)

    def _refresh_fast_path(self) -> None:
        # monitored steps go through _advance, which tells the monitors
        self._ready = self.backend.spikes_ready \
            if self.rule.binary_spikes and not self._signals and not self._monitors else None

    def _make_graph(self, params: Any, pre_shape: tuple[int, ...], post_shape: tuple[int, ...],
                    weight_shape: tuple[int, ...], masked: bool
                    ) -> tuple[Any, Graph, dict[str, Any]]:
        """The rule with ``params``, its graph for these shapes, and the validated graph's
        abstract values; whatever the rule's own code raises is a RuleValidationError."""
        rule = self.learner.rule_cls(params)
        g = Graph(self.rule_name, pre_shape=pre_shape, post_shape=post_shape,
                  weight_shape=weight_shape, dtype=self.dtype, dt=self.dt,
                  params=dataclasses.asdict(params), mask=masked)
        try:
            rule.build(g)
            g.finish()
            return rule, g, validate(g)
        except PlastixError:
            raise
        except Exception as exc:
            raise RuleValidationError(g.rule, f"build() raised {type(exc).__name__}: "
                                      f"{exc}") from exc

    def _allocate_state(self) -> None:
        """The rule's state at its initial values, refused before any of it is allocated
        when it cannot be (more than the host's memory), or when the allocation fails."""
        names = [n for n, d in self.graph.variables.items()
                 if d.kind in ("state", "fixed", "learned") and n != "weight"]
        avals = [self.graph.variables[n].aval for n in names]
        need = sum(math.prod(a.shape) * np.dtype(a.dtype).itemsize for a in avals)
        check_allocation(self.backend, self.rule_name, need, self.batch_size)
        try:
            for name in names:
                self.S[name] = self._initial(name)
        except (MemoryError, RuntimeError) as exc:
            if not out_of_memory(exc):
                raise
            raise StepInputError(self.rule_name, "batch_size", f"a batch whose state fits in "
                                 f"{self.backend.key} memory", f"{self.batch_size}, whose "
                                 f"state needs {size_text(need)}") from None

    def _initial(self, name: str, decl: Any = None) -> Any:
        decl = self.graph.variables[name] if decl is None else decl
        value = decl.value
        if getattr(value, "shape", ()) != ():
            return self.backend.asarray(np.broadcast_to(np.asarray(value), decl.aval.shape)
                                        .copy(), decl.aval.dtype)
        return self.backend.full(decl.aval.shape, value, decl.aval.dtype)

    # -- compiled steps -------------------------------------------------------------------------
    def _compiled(self, phase: str) -> CompiledStep:
        step = self._steps.get(phase)
        if step is None:
            seams = bool(self._seam_hooks) and phase != "bind"
            step = compiled_step(self.graph, self._avals[phase], self.backend, phase,
                                 seams=seams)
            # the backend's wrapper (torch: no_grad) calls this binding's rebound function,
            # whose namespace ``set`` updates
            if not step.host:
                step = dataclasses.replace(step, fn=self.backend.prepare_step(step.fn))
            self._steps[phase] = step
        return step

    @property
    def event_driven(self) -> bool | None:
        """Event-driven weight updates: None (default) chooses every step from the spike
        density, True forces them, False keeps dense updates (see ``syn.source``)."""
        return self.step_state.event_mode

    @event_driven.setter
    def event_driven(self, mode: bool | None) -> None:
        if mode not in (None, True, False):
            raise StepInputError(self.rule_name, "event_driven", "None, True or False",
                                 repr(mode))
        self.step_state.set_event_mode(mode)

    @property
    def sparse_bounds(self) -> bool:
        """Opt-in: an event-driven step clamps only the synapses it changed. Exact when
        nothing but this binding writes the weight (the others were clamped by an earlier
        step); the default (False) clamps every synapse every step."""
        return self.step_state.sparse_bounds

    @sparse_bounds.setter
    def sparse_bounds(self, on: bool) -> None:
        self.step_state.sparse_bounds = bool(on)

    def set(self, **hyperparameters: Any) -> None:
        """Change hyperparameters from the next step on, keeping state and weights.

        A hyperparameter that the step reads as a named constant (most of them: rates,
        decays, bounds) is live: only the step's constants change, nothing is recompiled.
        One that shapes the graph itself (read by the rule's ``build`` in Python) makes the
        step recompile; ``syn.source`` lists the constants.
        """
        rule_cls = self.learner.rule_cls
        params = rule_cls.checked_params(hyperparameters, base=self.params)
        rule_cls.check_params(params, self.dtype)
        with self._lock:
            rule, g, avals = self._graph_for_set(params, sorted(hyperparameters))
            for phase, step in list(self._steps.items()):
                if not update_constants(step, g, avals[phase], self.backend):
                    del self._steps[phase]  # the code changed: recompiled on the next step
                    self.step_state.forget_buffers()
            self.rule, self.params, self.graph, self._avals = rule, params, g, avals
            self._signals = signals_of(g)
            self._layout = Layout(self.batch_size, rule, g, avals, self._signals, self._steps)
            self._layouts.clear()  # other batches' graphs had the old hyperparameters
            self.step_state.invalidate()  # new bounds: the next clamp covers every synapse

    def _graph_for_set(self, params: Any, names: list[str]) -> tuple[Any, Graph, Any]:
        """The graph ``set`` switches to; a HyperparameterError naming the hyperparameters
        when they do not fit this binding (they change its spike shapes, or the rule cannot
        be built for its shapes with them)."""
        old, rule_cls = self.graph, self.learner.rule_cls
        label = ", ".join(names) or "?"
        try:
            shapes = rule_cls.spike_shapes(tuple(old.weight_shape), self.batch_size, params,
                                           **self.shape_options)
        except (ValueError, TypeError) as exc:
            raise HyperparameterError(self.rule_name, label, f"does not fit this binding: "
                                      f"{exc}") from None
        if tuple(map(tuple, shapes)) != (tuple(old.pre_shape), tuple(old.post_shape)):
            raise HyperparameterError(self.rule_name, label, f"would change the spike shapes "
                                      f"from {(old.pre_shape, old.post_shape)} to "
                                      f"{tuple(map(tuple, shapes))}; bind again instead")
        try:
            return self._make_graph(params, old.pre_shape, old.post_shape, old.weight_shape,
                                    old.masked)
        except RuleValidationError as exc:
            raise HyperparameterError(self.rule_name, label, f"does not fit this binding: "
                                      f"{exc}") from exc

    def _has_final(self) -> bool:
        return any(n.phase == "final" for n in self.graph.nodes)

    @property
    def source(self) -> str:
        """The generated source of this binding's step functions (as Brian2 shows its code),
        each followed by the source of the kernels it calls."""
        phases = ["bind"] if any(n.phase == "bind" for n in self.graph.nodes) else []
        phases += ["step", *(["final"] if self._has_final() else [])]
        parts = []
        for phase in phases:
            step = self._compiled(phase)
            parts.append(step.source)
            parts += [f"# kernel {name}, called by the {phase!r} step above\n{source}"
                      for name, source in step.kernel_sources().items()]
        return "\n".join(parts)

    def intercept(self, target: str, hook: Callable[[Any], Any] | None) -> None:
        """Pass the change of ``target`` through ``hook`` before the rule applies it (the
        seam); ``hook=None`` removes it. Used for accumulation, all-reduce and optimisers.

        ``hook(change)`` gets this step's change and returns the change to apply: an array
        of this backend with the same shape (else the step fails with a StepInputError and
        is undone, as it is when the hook raises)."""
        self._check_seam(target)
        if hook is not None and not callable(hook):
            raise StepInputError(self.rule_name, "hook", "a callable taking the change and "
                                 "returning the change to apply, or None", repr(hook))
        with self._lock:
            if hook is None:
                self._user_hooks.pop(target, None)
            else:
                self._user_hooks[target] = checked_hook(self, target, hook)
            self._rebuild_hooks()

    def _check_seam(self, target: str) -> None:
        targets = sorted({s.target for s in self.graph.seams})
        if not isinstance(target, str):
            raise StepInputError(self.rule_name, "target", f"the name of one of the rule's "
                                 f"weight changes {targets}", repr(target))
        if target not in targets:
            raise RuleValidationError(self.rule_name, "the rule declares no weight change for "
                                      f"this target (it declares {targets})", variable=target)

    def _observe(self, target: str, observer: Callable[[Any], None], on: bool = True) -> None:
        """Let ``observer`` see the change of ``target`` each step, before any hook (used by
        :class:`plastix.Monitor`; plastix's own code, so the step needs no guard)."""
        self._check_seam(target)
        chain = self._observers.setdefault(target, [])
        if on:
            chain.append(observer)
        else:
            chain.remove(observer)
            if not chain:
                del self._observers[target]
        self._rebuild_hooks()

    def _rebuild_hooks(self) -> None:
        self._seam_hooks.clear()
        for target in {*self._user_hooks, *self._observers}:
            self._seam_hooks[target] = chain(self._observers.get(target, ()),
                                             self._user_hooks.get(target, identity))
        self._steps.clear()
        self._layouts.clear()  # their steps were compiled for the old seams
        self.step_state.forget_buffers()
        self._guard()

    # -- stepping -------------------------------------------------------------------------------
    def _run_phase(self, phase: str, pre: Any, post: Any, signals: dict[str, Any]) -> None:
        compiled = self._compiled(phase)
        # signals go by position: a signal may be named like one of the step's own arguments
        # ("S", "t", "seed"), which the compiler renames (found by the fuzz tests)
        args = [signals[name] for name in compiled.inputs]
        if self._guarded:
            guarded_step(self, phase, compiled.fn, pre, post, args, signals,
                         check_finite=self._check_finite)
        else:
            compiled.fn(self.S, self.step_state, pre, post, self.t, self.seed,
                        self._seam_hooks, *args)

    def step(self, pre: Any, post: Any, *, final: bool = False, **signals: Any) -> None:
        """Advance one time step of ``dt`` with this step's spikes.

        ``pre``: (batch, \\*pre_shape) and ``post``: (batch, \\*post_shape) spikes of this step;
        ``final=True`` marks the last step of a run (the rule's ``final`` phase runs);
        ``signals``: the rule's extra inputs such as ``reward``.
        """
        with self._lock:  # one step at a time: steps from several threads never mix
            ready = self._ready
            if ready is not None and not signals and not final and not self._guarded \
                    and ready(pre, self._ready_dtype, self.graph.pre_shape) \
                    and ready(post, self._ready_dtype, self.graph.post_shape):
                # fast path: native spikes of the right shape and dtype, all 0 or 1;
                # anything else goes through the checks, which name what is wrong
                self._compiled("step").fn(self.S, self.step_state, pre, post, self.t,
                                          self.seed, self._seam_hooks)
                self.t += 1
                return
            self._advance(*self._prepare(pre, post, signals), final=final)

    def _prepare(self, pre: Any, post: Any, signals: Mapping[str, Any]
                 ) -> tuple[Any, Any, dict[str, Any]]:
        """Check and convert one step's inputs without touching any state."""
        pre, post = self._adopt(pre, "pre"), self._adopt(post, "post")
        signals = {k: self._adopt(v, k) for k, v in signals.items()}
        layout = self._layout
        batch = batch_of(pre, self.graph.pre_shape)
        if batch is not None and batch != self.batch_size:
            if not self.fresh:
                raise locked_error(self, batch, pre)
            layout = layout_for(self, batch)  # built, not yet installed
        g, spiking = layout.graph, self.rule.binary_spikes
        pre = self._coerce(pre, "pre", g.pre_shape, check_binary=spiking)
        post = self._coerce(post, "post", g.post_shape, check_binary=spiking)
        return pre, post, self._coerce_signals(signals, layout.signals)

    def _advance(self, pre: Any, post: Any, values: dict[str, Any], final: bool = False) -> None:
        if pre.shape[0] == self.batch_size and not (self._layout_listeners and self.fresh):
            self._run_phase("final" if final and self._has_final() else "step", pre, post,
                            values)
            self.t += 1
        else:  # the first step of a new batch size (checked by _prepare) or of a sequence
            undo = switch(self, layout_for(self, int(pre.shape[0])))
            try:
                self._run_phase("final" if final and self._has_final() else "step", pre,
                                post, values)
            except BaseException:
                undo()
                raise
            self.t += 1
        for monitor in self._monitors:
            monitor._after_step(self)

    @property
    def fresh(self) -> bool:
        """Whether no step ran since ``bind`` or ``reset``: the next step may bring any batch
        size (see :mod:`plastix._runtime.layout`)."""
        return self._fresh_at == self.t

    def _adopt(self, x: Any, name: str) -> Any:
        """An array of another library or device as this backend's array (see
        :func:`~plastix._contract.adopt`); a transfer between devices warns, once per binding."""
        x, crossed = adopt(self.backend, self.rule_name, name, x)
        if crossed and not self._warned_conversion:
            self._warned_conversion = True
            be = self.backend
            warnings.warn(f"rule {self.rule_name!r}: step() converts arrays of another device "
                          f"to {be.key} arrays on every call, which costs a transfer between "
                          f"devices; pass {be.key} arrays", ConversionWarning, stacklevel=4)
        return x

    def _coerce(self, x: Any, name: str, shape: tuple[int, ...], check_binary: bool) -> Any:
        return as_checked(self.backend, self.rule_name, name, x, shape, self.dtype,
                          binary=check_binary)

    def _coerce_signals(self, signals: Mapping[str, Any],
                        declared: Mapping[str, Any] | None = None) -> dict[str, Any]:
        declared = self._signals if declared is None else declared
        unknown = set(signals) - set(declared)
        if unknown:
            expected = ", ".join(declared) or "none"
            raise StepInputError(self.rule_name, sorted(unknown)[0],
                                 f"one of the rule's signals ({expected})", "an unknown name")
        out = {}
        for name, decl in declared.items():
            value = signals.get(name, decl.default)
            if value is None:
                raise StepInputError(self.rule_name, name, f"a value of shape {decl.aval.shape}"
                                     " (this rule needs it every step)", "nothing")
            shape = () if decl.keep_scalar and np.ndim(value) == 0 else decl.aval.shape
            out[name] = as_checked(self.backend, self.rule_name, name, value, shape,
                                   decl.aval.dtype, binary=False, broadcast=True)
        return out

    def run(self, pre_train: Any, post_train: Any, *, progress: bool | None = None,
            final: bool = True, **signal_trains: Any) -> None:
        """Step through whole trains, time first: ``pre_train[t]`` is step t's pre spikes.

        The last step runs the rule's ``final`` phase unless ``final=False``. A signal is given
        either per step (time first) or once for every step. A progress bar shows on runs of
        at least 1000 steps when stderr is a terminal (``progress`` forces it on or off).
        A run is all or nothing: when a step fails (bad input at step t, a non-finite result
        in a checked binding), the binding is put back as it was before the run. An
        interrupt (Ctrl-C) is held until the step in progress has finished: the
        ``KeyboardInterrupt`` then leaves the binding exactly at the end of the last finished
        step, with the steps already done kept. Other threads' calls wait for the whole run.
        """
        n = check_train_length(self.rule_name, "pre_train", pre_train)
        if check_train_length(self.rule_name, "post_train", post_train) != n:
            raise StepInputError(self.rule_name, "post_train", f"{n} steps like pre_train",
                                 f"{len(post_train)} steps")
        per_step = {k: is_train(v, n, self._signals[k].aval.shape)
                    for k, v in signal_trains.items() if k in self._signals}
        steps: Iterable[int] = range(n)
        if progress or (progress is None and n >= PROGRESS_MIN_STEPS and sys.stderr.isatty()):
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc=self.rule_name, unit="step")
        unknown = set(signal_trains) - set(self._signals)
        if unknown:
            self._coerce_signals(signal_trains)  # raises, naming the unknown signal
        with self._lock, StepBoundary() as boundary:
            snapshot, t0 = {k: self.backend.copy(v) for k, v in self.arrays.items()}, self.t
            layout, arrays = self._layout, dict(self.S)
            try:
                for t in steps:
                    sig = {k: (v[t] if per_step.get(k) else v)
                           for k, v in signal_trains.items()}
                    self.step(pre_train[t], post_train[t], final=final and t == n - 1, **sig)
                    boundary.checkpoint()  # a Ctrl-C during the step is raised here
            except Exception:
                if self._layout is not layout:  # the run started a new batch size: back
                    install(self, layout, arrays)
                for k, v in snapshot.items():  # a run is all or nothing, as a step is
                    self.backend.assign(self.S[k], v)
                self.t = t0
                raise

    def reset(self) -> None:
        """Clear the rule's state (traces) to its initial values; weights and learned values,
        the step counter and the random stream are kept."""
        with self._lock:
            for name, decl in self.graph.variables.items():
                if decl.kind == "state":
                    self.backend.assign(self.S[name], self._initial(name))
            self._fresh_at = self.t  # a new sequence: the next step may bring a new batch

    def to(self, backend: str, device: str | None = None) -> Binding:
        """This binding on another backend or device, with a copy of its whole state.

        Returns a new binding (this one is left as it was), or this binding when it is
        already there. Seam hooks (:meth:`intercept`) are not carried over, since a hook is
        written for one array library.
        """
        from plastix.backends import get_backend

        target = get_backend(backend, device)
        if target is self.backend:
            return self
        learner = copy.copy(self.learner)
        learner.backend = target
        with self._lock:
            host = {k: np.array(self.backend.to_numpy(v)) for k, v in self.arrays.items()}
            new = Binding(learner, host["weight"], batch_size=self.batch_size,
                          mask=host.get("mask"), dt=self.dt, seed=self.seed,
                          params=self.params, shape_options=self.shape_options)
            new.load_state_dict(self.state_dict())
        return new

    # -- views ----------------------------------------------------------------------------------
    @property
    def weight(self) -> Any:
        """The bound weight, updated in place by every step."""
        return self.S["weight"]

    @property
    def arrays(self) -> dict[str, Any]:
        """Every array that makes up this binding (weight, learned values, state) by name (the
        compiled steps' scratch buffers are not among them: they live in ``step_state``)."""
        return dict(self.S)

    @property
    def state(self) -> dict[str, Any]:
        """The rule's state arrays (traces and the like) by name."""
        return {n: self.S[n] for n, d in self.graph.variables.items()
                if d.kind in ("state", "fixed")}

    @property
    def learned(self) -> dict[str, Any]:
        """Every learned array (the weight and, for some rules, delays) by name."""
        return {n: self.S[n] for n, d in self.graph.variables.items() if d.kind == "learned"}

    def __getattr__(self, name: str) -> Any:
        S = self.__dict__.get("S")
        if S is not None and name in S and name in self.__dict__["graph"].variables:
            return S[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return (f"<Binding {self.rule_name} weight={tuple(self.weight.shape)} "
                f"batch={self.batch_size} backend={self.backend.key} t={self.t}>")

    # -- state dicts ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Every array (weight, learned values, state) and the scalars that resume a run:
        the step counter (which also positions the random stream), the seed, ``dt`` and the
        hyperparameters. Arrays stay on the backend; nothing needs pickle."""
        with self._lock:  # a snapshot between two steps, never of half of one
            return {
                "format": STATE_FORMAT,
                "rule": self.rule_name,
                "params": dataclasses.asdict(self.params),
                "t": self.t,
                "seed": self.seed,
                "dt": self.dt,
                "dtype": self.dtype,
                "batch_size": self.batch_size,
                "fresh": self.fresh,
                "arrays": {k: self.backend.copy(v) for k, v in self.arrays.items()},
            }

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (from any backend); all or nothing: every
        entry is checked (rule, hyperparameters, ``dt``, names, shapes, dtypes, finiteness,
        step counter, seed) before the first array is written."""
        with self._lock:
            self._commit(*check_state_dict(self, sd))

    def _commit(self, staged: Mapping[str, Any], t: int, seed: int, batch: int,
                fresh: bool) -> None:
        """Write a checked state dict (what :func:`check_state_dict` returned)."""
        with self._lock:
            if batch != self.batch_size:
                switch(self, layout_for(self, batch))
            self.step_state.invalidate()  # the loaded weight may lie outside the bounds
            for k, host in staged.items():
                self.backend.assign(self.S[k], self.backend.asarray(host,
                                                                    dtype_name(self.S[k].dtype)))
            self.t, self.seed = t, seed
            # a sequence's state fixes the batch until reset(); a state saved right after a
            # reset() does not
            self._fresh_at = t if fresh else None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write this binding to ``path`` (a NumPy ``.npz`` without pickle), atomically;
        :func:`plastix.load` rebuilds it, :meth:`load` restores it into this binding."""
        from .io import save

        with self._lock:
            save(self, path)

    def load(self, path: str | os.PathLike[str]) -> None:
        """Restore this binding from a file written by :meth:`save` (all or nothing)."""
        from .io import read

        self.load_state_dict(read(path))


def _foreign_op(op: Any) -> bool:
    """Whether ``op`` runs code from outside plastix: a function op, or an op (or a
    lowering of one) that a plugin registered. Such an op may raise mid-step."""
    if callable(op):
        return True
    entry = OPS.get(op)
    return entry is not None and entry.provider != "plastix"
