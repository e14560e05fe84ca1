"""Checked steps: a step that would write NaN or an infinity is found, located and undone.

The compiled step writes into the binding's buffers in place, so a checked step copies every
buffer first, runs the compiled step, and looks at what it wrote. When something is not
finite (or the step raised), the copies are written back, so weights, state and step counter
are exactly as before the call. To name the culprit, the step is then replayed op by op on
the copies by a small interpreter that renders each op through the backend's own lowering
table; the first op whose output is non-finite while its inputs were finite is reported.

Checking costs a copy of the state and a scan per step, so it is off unless asked for:
``Learner(..., check_finite=True)``, ``learner.bind(..., check_finite=True)``, or debug mode
(``plastix.debug(True)`` or the environment variable ``PLASTIX_DEBUG=1``), which turns it on
for bindings made while it is on. A binding that is not checked runs the compiled step alone.
Rules with user-written function ops or plugin ops, and bindings with seam hooks, are always
run guarded (copy and restore, no scan): unlike plastix's own primitives, such code can raise
in the middle of a step. The step is then undone and a :class:`~plastix.StepError` names the
op that raised (found by replaying the step op by op) with the original error as its cause;
a plastix error (a hook's :class:`~plastix.StepInputError`, a
:class:`~plastix.distributed.DistributedError`) passes through unchanged, and so does an
interrupt (``KeyboardInterrupt``), after the undo.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from plastix._compiler import evaluate
from plastix._errors import NonFiniteError, PlastixError, StepError
from plastix._graph import Const, Value
from plastix.backends import Backend
from plastix.registry import OPS

if TYPE_CHECKING:
    from .binding import Binding

DEBUG_ENV = "PLASTIX_DEBUG"
_debug: bool | None = None  # None: follow the environment variable


def debug(enabled: bool | None = None) -> bool:
    """Turn debug mode on or off (``None`` leaves it); returns whether it is on.

    In debug mode new bindings check every step for non-finite results. ``enabled=None``
    after a call with a bool returns to following ``PLASTIX_DEBUG``; use
    :func:`reset_debug` for that.
    """
    global _debug
    if enabled is not None:
        _debug = bool(enabled)
    return debug_enabled()


def reset_debug() -> None:
    """Follow the ``PLASTIX_DEBUG`` environment variable again."""
    global _debug
    _debug = None


def debug_enabled() -> bool:
    if _debug is not None:
        return _debug
    return os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _errstate(backend: Backend) -> contextlib.AbstractContextManager[Any]:
    # NumPy warns on overflow; a checked step reports the overflow itself.
    # (a PyTorch binding on the CPU computes with NumPy too: see TorchBackend.host_lowering)
    return np.errstate(all="ignore") if backend.name in ("numpy", "torch") \
        else contextlib.nullcontext()


def guarded_step(b: Binding, phase: str, fn: Callable[..., None], pre: Any, post: Any,
                 args: list[Any], signals: Mapping[str, Any], *, check_finite: bool) -> None:
    """Run ``fn`` as one step of ``b`` (``args``: the signals in the step's order); undo it
    when it raises or, when checked, when it wrote non-finite values."""
    be = b.backend
    snapshot = {k: be.copy(v) for k, v in b.arrays.items()}
    try:
        with _errstate(be):
            fn(b.S, b.step_state, pre, post, b.t, b.seed, b._seam_hooks, *args)
    except Exception as exc:
        _restore(b, snapshot)
        if isinstance(exc, PlastixError):
            raise
        op = locate_failure(b, phase, snapshot, pre, post, signals)
        raise StepError(b.rule_name, b.t, op, exc) from exc
    except BaseException as exc:  # an interrupt: undone, and passed on
        _restore(b, snapshot)
        exc.add_note(f"plastix: rule {b.rule_name!r}, step {b.t} was rolled back "
                     "(weights, state and step counter are unchanged)")
        raise
    if not check_finite:
        return
    decls = b.graph.variables
    bad = [k for k, v in b.arrays.items() if _is_float(v) and (k not in decls or decls[k].finite)
           and not be.all_finite(v)]
    if bad:
        _restore(b, snapshot)
        op, variable = locate(b, phase, snapshot, pre, post, signals)
        detail = "" if op is not None or not b._seam_hooks else \
            " (no op did: a seam hook returned them)"
        raise NonFiniteError(b.rule_name, b.t, variable or bad[0], op, detail)


def _is_float(x: Any) -> bool:
    return "float" in str(x.dtype)


def _restore(b: Binding, snapshot: Mapping[str, Any]) -> None:
    for k, v in snapshot.items():
        b.backend.assign(b.S[k], v)


def _replay_inputs(b: Binding, snapshot: Mapping[str, Any], pre: Any, post: Any,
                   signals: Mapping[str, Any]) -> tuple[dict[Value, Any], dict[str, Any]]:
    """The environment a replay starts from (copies of the snapshot, this step's inputs) and
    its namespace (seams without their hooks: a hook may have effects, such as an
    all-reduce)."""
    env: dict[Value, Any] = {Value(k, 0): b.backend.copy(v) for k, v in snapshot.items()}
    env[Value("pre", 0)], env[Value("post", 0)] = pre, post
    env.update((Value(k, 0), v) for k, v in signals.items())
    return env, {"seed": b.seed, "t": b.t, "seam": _Unhooked()}


def locate(b: Binding, phase: str, snapshot: Mapping[str, Any], pre: Any, post: Any,
           signals: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Replay ``phase`` op by op from ``snapshot``; the first op to create non-finite values
    (with finite inputs) and the variable it wrote, or ``(None, None)``. Ops are evaluated
    through the backend's own lowering (:func:`plastix._compiler.render.evaluate`), seams
    without their hooks (a hook may have effects, such as an all-reduce)."""
    be = b.backend
    env, namespace = _replay_inputs(b, snapshot, pre, post, signals)
    with _errstate(be):
        for node in b.graph.nodes_for(phase):
            args = [x.value if isinstance(x, Const) else env[x] for x in node.inputs]
            outs = evaluate(node, be, args, namespace) or tuple(None for _ in node.outputs)
            for value, out in zip(node.outputs, outs, strict=True):
                env[value] = out
                if _is_array(out) and _is_float(out) and not be.all_finite(out) \
                        and all(be.all_finite(a) for a in args if _is_array(a)
                                and _is_float(a)):
                    return node.op_name, value.name
    return None, None


def locate_failure(b: Binding, phase: str, snapshot: Mapping[str, Any], pre: Any, post: Any,
                   signals: Mapping[str, Any]) -> str | None:
    """Replay ``phase`` op by op from ``snapshot`` (as :func:`locate` does); the op that
    raises or returns a shape other than the validated one, described for a message
    (``"function op 'f'"``, ``"op 'x' of plugin 'p'"``), or None when the replay runs
    through (the failure came from outside the ops)."""
    avals = b._avals[phase]
    be = b.backend
    env, namespace = _replay_inputs(b, snapshot, pre, post, signals)
    with _errstate(be):
        for node in b.graph.nodes_for(phase):
            args = [x.value if isinstance(x, Const) else env[x] for x in node.inputs]
            try:
                outs = evaluate(node, be, args, namespace) or \
                    tuple(None for _ in node.outputs)
            except Exception:
                return _describe(node)
            for value, out in zip(node.outputs, outs, strict=True):
                want = avals.get(value)
                if _is_array(out) and want is not None and tuple(out.shape) != want.shape:
                    return f"{_describe(node)} (it returned shape {tuple(out.shape)} for " \
                           f"{value.name!r}, validated as {want.shape})"
                env[value] = out
    return None


def _describe(node: Any) -> str:
    """``"function op 'f'"``, ``"op 'x' of plugin 'p'"`` or ``"op 'add'"``."""
    if callable(node.op):
        return f"function op {node.op_name!r}"
    entry = OPS.get(node.op_name)
    provider = entry.provider if entry is not None else "plastix"
    return f"op {node.op_name!r}" + (f" of plugin {provider!r}" if provider != "plastix"
                                     else "")


class _Unhooked(dict[str, Any]):
    """Seams as they are without hooks: each passes its change through."""

    def __missing__(self, target: str) -> Any:
        return lambda change: change


def _is_array(x: Any) -> bool:
    return hasattr(x, "dtype") and hasattr(x, "shape")


@contextlib.contextmanager
def debugging(enabled: bool = True) -> Iterator[None]:
    """Debug mode inside a ``with`` block (tests, notebooks)."""
    global _debug
    before = _debug
    _debug = enabled
    try:
        yield
    finally:
        _debug = before
