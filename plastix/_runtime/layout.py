"""A binding's batch size: taken from the first step after ``bind`` or ``reset``.

A rule's graph is built for concrete shapes, batch axis included, and its traces are kept per
sample. So the batch size is part of a binding's *layout*: the graph for that batch, its
abstract values, its signals and its compiled steps. ``bind(batch_size=...)`` only chooses the
first layout; the first step after ``bind`` or ``reset`` may bring any batch size, and a
binding then switches to that batch's layout (built once, kept in a small cache; the compile
cache keyed by the graph's fingerprint compiles each batch's step once per process).

A new batch is new samples: the arrays with a batch axis (traces) are made anew at their
initial values, exactly what ``reset`` leaves. Between two resets the batch is fixed: a step
with another batch size is a :class:`~plastix.StepInputError` naming both sizes, before
anything changes. All of this runs on the checked path of ``step`` only: the fast path
compares the spikes' shapes with the current graph's, so a step whose batch is the current one
costs nothing more.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from plastix._errors import StepInputError

if TYPE_CHECKING:
    from plastix._compiler import CompiledStep
    from plastix._graph import Graph

    from .binding import Binding

#: Layouts of other batch sizes kept per binding (a loop over a data set needs two: the
#: full batch and the last, smaller one).
KEPT_LAYOUTS = 4
PERSISTENT = ("state", "fixed", "learned")


@dataclasses.dataclass
class Layout:
    """Everything of a binding that depends on its batch size (the arrays aside)."""

    batch_size: int
    rule: Any
    graph: Graph
    avals: dict[str, Any]
    signals: dict[str, Any]
    steps: dict[str, CompiledStep]


def batch_of(x: Any, shape: tuple[int, ...]) -> int | None:
    """The batch size of spikes ``x`` for spikes of ``shape`` (batch first): its leading
    extent, 1 for an unbatched input (``shape`` without its batch axis), None when its
    shape fits neither (the shape check then names the problem)."""
    try:
        got = tuple(getattr(x, "shape", None) or np.shape(x))
    except (ValueError, TypeError, RuntimeError):  # RuntimeError: a nested torch tensor
        return None
    if len(got) == len(shape) and got[1:] == shape[1:] and got[0] >= 1:
        return int(got[0])
    if len(got) == len(shape) - 1 and got == shape[1:]:
        return 1
    return None


def locked_error(b: Binding, batch: int, x: Any) -> StepInputError:
    shape = tuple(getattr(x, "shape", None) or np.shape(x))
    return StepInputError(b.rule_name, "pre", f"batch size {b.batch_size}, the batch of the "
                          "steps since the last reset() (traces are per sample: call "
                          "reset() before a batch of another size)",
                          f"batch size {batch} (shape {shape})")


def layout_for(b: Binding, batch: int) -> Layout:
    """The layout of ``b`` for ``batch`` samples (the current one, a kept one or a new one)."""
    if batch == b.batch_size:
        return b._layout
    kept = b._layouts.get(batch)
    if kept is not None:
        return kept
    g = b.graph
    rule_cls = b.learner.rule_cls
    try:
        pre, post = rule_cls.spike_shapes(g.weight_shape, batch, b.params, **b.shape_options)
    except (ValueError, TypeError) as exc:
        raise StepInputError(b.rule_name, "batch_size", str(exc), repr(batch)) from None
    rule, graph, avals = b._make_graph(b.params, pre, post, g.weight_shape, g.masked)
    for name, decl in graph.variables.items():
        if decl.kind in ("fixed", "learned") and decl.aval.shape != \
                g.variables[name].aval.shape:
            raise StepInputError(b.rule_name, "batch_size", f"{b.batch_size}: the rule keeps "
                                 f"{name!r} per sample across reset(), so its batch size is "
                                 "the one it was bound with", repr(batch))
    layout = Layout(batch, rule, graph, avals, signals_of(graph), {})
    if len(b._layouts) >= KEPT_LAYOUTS:
        b._layouts.clear()
    b._layouts[batch] = layout
    return layout


def signals_of(g: Graph) -> dict[str, Any]:
    return {n: d for n, d in g.variables.items() if d.kind == "signal"}


def array_specs(b: Binding, batch: int) -> dict[str, tuple[tuple[int, ...], str, bool]]:
    """Name -> (shape, dtype, finite) of every array ``b`` holds at ``batch`` samples."""
    from plastix.backends import dtype_name

    g = layout_for(b, batch).graph
    specs = {}
    for name, arr in b.S.items():
        decl = g.variables.get(name)
        shape = tuple(arr.shape) if decl is None else tuple(decl.aval.shape)
        specs[name] = (shape, dtype_name(arr.dtype), decl is None or decl.finite)
    return specs


def switch(b: Binding, layout: Layout) -> Callable[[], None]:
    """Put ``b`` on ``layout`` for the first step of a sequence: arrays with a batch axis made
    anew at their initial values, every layout listener told first, even when the layout
    stays (a listener may refuse by raising: nothing has changed then). Returns the function
    that puts ``b`` back as it was (listeners are not told)."""
    for listener in list(b._layout_listeners) if layout is b._layout else ():
        listener(b, layout, b.S)  # the first step of a sequence, in the same layout
    if layout is b._layout:
        return _nothing
    before = (b._layout, dict(b.S))
    arrays = dict(b.S)
    for name, decl in layout.graph.variables.items():
        if decl.kind == "state" and tuple(arrays[name].shape) != decl.aval.shape:
            arrays[name] = b._initial(name, decl)
    for listener in list(b._layout_listeners):
        listener(b, layout, arrays)
    install(b, layout, arrays)

    def undo() -> None:
        install(b, *before)

    return undo


def _nothing() -> None:
    pass


def install(b: Binding, layout: Layout, arrays: dict[str, Any]) -> None:
    """Make ``layout`` and ``arrays`` (name -> array, every one of ``b``) current."""
    b.S.clear()
    b.S.update(arrays)
    b._layout = layout
    b.rule, b.graph, b._avals, b._signals = layout.rule, layout.graph, layout.avals, \
        layout.signals
    b._steps = layout.steps
    b.batch_size = layout.batch_size
    b.step_state.forget_buffers()
    b._layout_version += 1
