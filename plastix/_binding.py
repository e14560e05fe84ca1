"""A rule bound to one weight: its state, its compiled steps, and the input contract.

Every argument is checked before anything is computed, so a call that fails leaves the weight,
the state and the step counter exactly as they were.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._compiler import CACHE, CompiledStep, compile_phase
from ._errors import RuleValidationError, StateDictError, StepInputError
from ._graph import Graph
from ._validate import validate

if TYPE_CHECKING:
    from ._learner import Learner

#: Version of the state-dict layout; a newer one is refused when loading.
STATE_FORMAT = 1
#: Runs at least this long show a progress bar (when stderr is a terminal).
PROGRESS_MIN_STEPS = 1000


class Binding:
    """One rule applied to one weight. Made by :meth:`plastix.Learner.bind`."""

    def __init__(self, learner: Learner, weight: Any, *, batch_size: int = 1,
                 mask: Any = None, dt: float = 1.0, seed: int | None = None,
                 params: Any = None, shape_options: Mapping[str, Any] | None = None) -> None:
        self.learner = learner
        self.backend = learner.backend
        self.dtype = learner.dtype
        self.params = params if params is not None else learner.params
        self.rule_name = learner.name
        self.seed = int(learner.seed if seed is None else seed)
        self.dt = _positive_number(self.rule_name, "dt", dt)
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise StepInputError(self.rule_name, "batch_size", "a positive int",
                                 repr(batch_size))
        self.batch_size = batch_size
        w = self._coerce_weight(weight)
        rule_cls = learner.rule_cls
        try:
            pre_shape, post_shape = rule_cls.spike_shapes(tuple(w.shape), batch_size,
                                                          self.params, **(shape_options or {}))
        except ValueError as exc:
            raise StepInputError(self.rule_name, "weight", str(exc), str(tuple(w.shape))) \
                from None
        self.rule = rule_cls(self.params)
        g = Graph(self.rule_name, pre_shape=pre_shape, post_shape=post_shape,
                  weight_shape=tuple(w.shape), dtype=self.dtype, dt=self.dt,
                  params=dataclasses.asdict(self.params), mask=mask is not None)
        self.rule.build(g)
        g.finish()
        self.graph = g
        self._avals = validate(g)
        self._key = (rule_cls, self.params, pre_shape, post_shape, tuple(w.shape), self.dtype,
                     self.dt, mask is not None, self.backend.key)
        self._seam_hooks: dict[str, Callable[[Any], Any]] = {}
        self.S: dict[str, Any] = {"weight": w}
        for name, decl in g.variables.items():
            if decl.kind in ("state", "fixed", "learned") and name != "weight":
                self.S[name] = self._initial(name)
        if mask is not None:
            m = self._coerce(mask, "mask", tuple(w.shape), check_binary=False)
            self.S["mask"] = self.backend.asarray(m != 0, self.dtype)
            self.backend.assign(w, w * self.S["mask"])
        self.t = 0
        self._steps: dict[str, CompiledStep] = {}
        self._signals = {n: d for n, d in g.variables.items() if d.kind == "signal"}
        if any(n.phase == "bind" for n in g.nodes):
            self._run_phase("bind", None, None, {})

    # -- construction helpers -------------------------------------------------------------------
    def _coerce_weight(self, weight: Any) -> Any:
        be = self.backend
        if getattr(weight, "ndim", None) is None and not isinstance(weight, list | tuple):
            raise StepInputError(self.rule_name, "weight", "an array", type(weight).__name__)
        try:
            w = be.asarray(weight, self.dtype)
        except (TypeError, ValueError) as exc:
            raise StepInputError(self.rule_name, "weight", f"an array convertible to "
                                 f"{self.dtype}", f"{be.describe(weight)} ({exc})") from None
        if w.ndim < 2:
            raise StepInputError(self.rule_name, "weight", "at least 2 dimensions",
                                 f"shape {tuple(w.shape)}")
        if not be.all_finite(w):
            raise StepInputError(self.rule_name, "weight", "finite values",
                                 "NaN or infinite entries")
        return w

    def _initial(self, name: str) -> Any:
        decl = self.graph.variables[name]
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
            step = CACHE.get((*self._key, phase, seams),
                             lambda: compile_phase(self.graph, self._avals[phase], self.backend,
                                                   phase, seams=seams))
            self._steps[phase] = step
        return step

    def _has_final(self) -> bool:
        return any(n.phase == "final" for n in self.graph.nodes)

    @property
    def source(self) -> str:
        """The generated source of this binding's step functions (as Brian2 shows its code)."""
        phases = ["bind"] if any(n.phase == "bind" for n in self.graph.nodes) else []
        phases += ["step", *(["final"] if self._has_final() else [])]
        return "\n".join(self._compiled(p).source for p in phases)

    def intercept(self, target: str, hook: Callable[[Any], Any] | None) -> None:
        """Pass the change of ``target`` through ``hook`` before the rule applies it (the
        seam); ``hook=None`` removes it. Used for accumulation, all-reduce and optimisers."""
        if not any(s.target == target for s in self.graph.seams):
            raise RuleValidationError(self.rule_name, "the rule declares no weight change for "
                                      "this target", variable=target)
        if hook is None:
            self._seam_hooks.pop(target, None)
        else:
            self._seam_hooks[target] = hook
        self._steps.clear()

    # -- stepping -------------------------------------------------------------------------------
    def _run_phase(self, phase: str, pre: Any, post: Any, signals: dict[str, Any]) -> None:
        fn = self._compiled(phase).fn
        fn(self.S, pre, post, self.t, self.seed, _Hooks(self._seam_hooks), **signals)

    def step(self, pre: Any, post: Any, *, final: bool = False, **signals: Any) -> None:
        """Advance one time step of ``dt`` with this step's spikes.

        ``pre``: (batch, \\*pre_shape) and ``post``: (batch, \\*post_shape) spikes of this step;
        ``final=True`` marks the last step of a run (the rule's ``final`` phase runs);
        ``signals``: the rule's extra inputs such as ``reward``.
        """
        g = self.graph
        pre = self._coerce(pre, "pre", g.pre_shape, check_binary=self.rule.binary_spikes)
        post = self._coerce(post, "post", g.post_shape, check_binary=self.rule.binary_spikes)
        values = self._coerce_signals(signals)
        self._run_phase("final" if final and self._has_final() else "step", pre, post, values)
        self.t += 1

    def _coerce(self, x: Any, name: str, shape: tuple[int, ...], check_binary: bool) -> Any:
        be = self.backend
        if not be.is_native(x):
            try:
                x = be.asarray(x, self.dtype)
            except (TypeError, ValueError) as exc:
                raise StepInputError(self.rule_name, name, f"an array of shape {shape}",
                                     f"{be.describe(x)} ({exc})") from None
        elif str(x.dtype).rpartition(".")[2] != self.dtype:
            x = be.asarray(x, self.dtype)
        if tuple(x.shape) != shape:
            if tuple(x.shape) == shape[1:] and shape[0] == 1:
                x = x.reshape(shape)
            else:
                raise StepInputError(self.rule_name, name, f"shape {shape} (batch first)",
                                     f"shape {tuple(x.shape)}")
        if check_binary:
            if bool(((x != 0) & (x != 1)).any()):
                raise StepInputError(self.rule_name, name, "spikes of 0 or 1",
                                     "other values (NaN, graded or negative)")
        elif self.dtype.startswith("float") and not be.all_finite(x):
            raise StepInputError(self.rule_name, name, "finite values", "NaN or infinite entries")
        return x

    def _coerce_signals(self, signals: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(signals) - set(self._signals)
        if unknown:
            expected = ", ".join(self._signals) or "none"
            raise StepInputError(self.rule_name, sorted(unknown)[0],
                                 f"one of the rule's signals ({expected})", "an unknown name")
        out = {}
        for name, decl in self._signals.items():
            value = signals.get(name, decl.default)
            if value is None:
                raise StepInputError(self.rule_name, name, f"a value of shape {decl.aval.shape}"
                                     " (this rule needs it every step)", "nothing")
            arr = np.asarray(value) if not self.backend.is_native(value) else value
            try:
                shape = np.broadcast_shapes(tuple(arr.shape), decl.aval.shape)
            except ValueError:
                shape = None
            if shape != decl.aval.shape:
                raise StepInputError(self.rule_name, name, f"a scalar or shape "
                                     f"{decl.aval.shape}", f"shape {tuple(arr.shape)}")
            if not self.backend.is_native(arr):
                arr = self.backend.asarray(np.broadcast_to(arr, decl.aval.shape).copy(),
                                           decl.aval.dtype)
            elif tuple(arr.shape) != decl.aval.shape:
                arr = self.backend.asarray(arr, decl.aval.dtype) + \
                    self.backend.full(decl.aval.shape, 0, decl.aval.dtype)
            if decl.aval.dtype.startswith("float") and not self.backend.all_finite(arr):
                raise StepInputError(self.rule_name, name, "finite values",
                                     "NaN or infinite entries")
            out[name] = arr
        return out

    def run(self, pre_train: Any, post_train: Any, *, progress: bool | None = None,
            final: bool = True, **signal_trains: Any) -> None:
        """Step through whole trains, time first: ``pre_train[t]`` is step t's pre spikes.

        The last step runs the rule's ``final`` phase unless ``final=False``. A signal is given
        either per step (time first) or once for every step. A progress bar shows on runs of
        at least 1000 steps when stderr is a terminal (``progress`` forces it on or off).
        """
        n = len(pre_train)
        if len(post_train) != n:
            raise StepInputError(self.rule_name, "post_train", f"{n} steps like pre_train",
                                 f"{len(post_train)} steps")
        per_step = {k: _is_train(v, n, self._signals[k].aval.shape)
                    for k, v in signal_trains.items() if k in self._signals}
        steps: Iterable[int] = range(n)
        if progress or (progress is None and n >= PROGRESS_MIN_STEPS and sys.stderr.isatty()):
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc=self.rule_name, unit="step")
        for t in steps:
            sig = {k: (v[t] if per_step.get(k) else v) for k, v in signal_trains.items()}
            self.step(pre_train[t], post_train[t], final=final and t == n - 1, **sig)

    def reset(self) -> None:
        """Clear the rule's state (traces) to its initial values; weights and learned values,
        the step counter and the random stream are kept."""
        for name, decl in self.graph.variables.items():
            if decl.kind == "state":
                self.backend.assign(self.S[name], self._initial(name))

    # -- views ----------------------------------------------------------------------------------
    @property
    def weight(self) -> Any:
        """The bound weight, updated in place by every step."""
        return self.S["weight"]

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
        return {
            "format": STATE_FORMAT,
            "rule": self.rule_name,
            "params": dataclasses.asdict(self.params),
            "t": self.t,
            "seed": self.seed,
            "dt": self.dt,
            "arrays": {k: self.backend.copy(v) for k, v in self.S.items()},
        }

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (from any backend); all or nothing."""
        try:
            fmt, rule, arrays = sd["format"], sd["rule"], sd["arrays"]
        except (KeyError, TypeError):
            raise StateDictError(f"rule {self.rule_name!r}: not a plastix state dict "
                                 "(needs 'format', 'rule' and 'arrays')") from None
        if not isinstance(fmt, int) or fmt > STATE_FORMAT:
            raise StateDictError(f"rule {self.rule_name!r}: state format {fmt!r} is newer "
                                 f"than this plastix reads ({STATE_FORMAT})")
        if str(rule).lower() != self.rule_name.lower():
            raise StateDictError(f"rule {self.rule_name!r}: the state dict is of rule {rule!r}")
        if set(arrays) != set(self.S):
            raise StateDictError(f"rule {self.rule_name!r}: arrays {sorted(arrays)} do not "
                                 f"match this binding's {sorted(self.S)}")
        staged = {}
        for k, v in arrays.items():
            host = _host(v)
            if host.shape != tuple(self.S[k].shape):
                raise StateDictError(f"rule {self.rule_name!r}, array {k!r}: shape "
                                     f"{host.shape} does not match {tuple(self.S[k].shape)}")
            staged[k] = host
        params = self.learner.rule_cls.make_params(dict(sd.get("params", {})))
        if params != self.params:
            raise StateDictError(f"rule {self.rule_name!r}: the state dict's hyperparameters "
                                 f"{dataclasses.asdict(params)} differ from this binding's; "
                                 "bind a learner made with them")
        for k, host in staged.items():
            self.backend.assign(self.S[k], self.backend.asarray(host, str(self.S[k].dtype)
                                                                .rpartition(".")[2]))
        self.t = int(sd.get("t", self.t))
        self.seed = int(sd.get("seed", self.seed))


def _host(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    if hasattr(x, "get") and not isinstance(x, np.ndarray | dict):
        return np.asarray(x.get())
    return np.asarray(x)


def _is_train(value: Any, n: int, shape: tuple[int, ...]) -> bool:
    s = tuple(getattr(value, "shape", np.shape(value)))
    return len(s) == len(shape) + 1 and s[0] == n


def _positive_number(rule: str, name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise StepInputError(rule, name, "a positive number (ms)", repr(value)) from None
    if not np.isfinite(v) or v <= 0:
        raise StepInputError(rule, name, "a positive finite number (ms)", repr(value))
    return v


class _Hooks(dict[str, Callable[[Any], Any]]):
    """Seam hooks by target; a target without a hook passes its change through unchanged."""

    def __missing__(self, target: str) -> Callable[[Any], Any]:
        return _identity


def _identity(x: Any) -> Any:
    return x
