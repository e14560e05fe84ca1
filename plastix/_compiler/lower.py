"""Lowering: a validated graph's phase becomes the source of one Python step function.

``rule -> graph -> validate -> passes -> plans -> emit -> step source``, each a named function:

1. :func:`~.passes.fold_constants`: ops on constants are evaluated once (with NumPy), seams
   that no hook intercepts are forwarded to their input;
2. :func:`~.passes.final_values` and :func:`~.passes.prune`: what each state variable holds
   at the end of the step, and only the ops that contribute to it;
3. rewrites, on backends that lower them: the L1 row normalisation fused into one op
   (:mod:`.rownorm`), and an event-driven branch for weight changes that are zero outside the
   rows and columns of neurons that spiked (:mod:`.events`);
4. :func:`~.buffers.plan_buffers` and :func:`~.buffers.plan_scratch`: which op writes into
   which buffer (in place where it can), and the scratch buffers of large temporaries;
5. :class:`~.emit.Emitter`: each op rendered through the backend's template table
   (:mod:`.render`) into one line of source (``syn.source`` shows it).

Hyperparameters are *live*: a hyperparameter an op reads by name is a global of the step
function, and each binding runs the cached code with its own copy of those globals, so
``Binding.set`` changes them (and the constants folded from them) without recompiling
(:func:`update_constants`). A hyperparameter that the rule's ``build`` reads in Python shapes
the code itself; changing it recompiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plastix._graph import Graph, Node, Value
from plastix._ops import ROWNORM, SYNAPSE, Aval
from plastix.backends import Backend, get_backend

from . import events as ev
from . import kernel_cuda
from .buffers import BufferPlan, plan_buffers, plan_scratch
from .emit import RESERVED, Emitter, Names, Program
from .kernels import Kernel, build, call_operands, rank_operands
from .passes import final_values, fold_constants, prune
from .rownorm import fuse_rownorm
from .steps import CACHE, CompiledStep, fingerprint
from .synapse import find_kernel

PERSISTENT = ("state", "fixed", "learned")


@dataclass(frozen=True)
class Lowered:
    """A lowered phase before it is compiled: its source, the namespace it runs in, the
    signals it takes (in order), its named constants, and whether it has an event branch."""

    source: str
    namespace: dict[str, Any]
    signals: tuple[str, ...]
    constants: dict[str, Any]
    event_driven: bool
    host: bool = False


def _plan_kernel(p: Program) -> bool:
    """Replace the step's weight-sized ops by one generated kernel (:mod:`.synapse`) on
    backends that run kernels; whether one was made."""
    target = p.backend.kernel_target()
    if target is None:
        return False
    g = p.g
    cpu = target == "numba"
    event = ev.find_event_add(p.live, p.avals, p.finals, g.pre_shape, g.post_shape) \
        if cpu and len(g.pre_shape) == 2 and len(g.post_shape) == 2 else None
    plan = find_kernel(p.live, p.avals, p.finals, g.weight_shape, g.batch_size, g.dtype,
                       {n: d.aval for n, d in g.variables.items()}, event, vectors=cpu)
    if plan is None or (not cpu and not kernel_cuda.supported(plan)):
        return False
    rank = p.backend.rank_update() if plan.rank else None
    fname = f"synapse_{g.rule}".replace(".", "_")
    if cpu:
        kernel = build(plan, p.backend.kernel_view(), p.backend.write_count() is not None,
                       rank, fname=fname)
    else:
        src = kernel_cuda.CudaSource(plan)
        text = src.text(fname)
        kernel = Kernel(text, kernel_cuda.caller(plan, src, kernel_cuda.compile_kernel(
            text, fname), p.backend.kernel_view(), rank))
    cone = {n.index for n in [*plan.vector_nodes, *plan.nodes]} | plan.dropped
    node = Node(plan.nodes[-1].index, SYNAPSE.name,
                (*call_operands(plan), *rank_operands(plan)),
                tuple(v for _, v in plan.targets), (), p.phase, SYNAPSE)
    p.live = [n for n in p.live if n.index not in cone] + [node]
    p.kernels[node.index] = kernel
    return True


def _plan_events(p: Program) -> None:
    """Find the event-driven update of ``p`` (backends that support it) and move its ops
    together; it is kept only if the update is done in place (checked after buffers)."""
    if not p.backend.event_driven:
        return
    p.event = ev.find_event_add(p.live, p.avals, p.finals, p.g.pre_shape, p.g.post_shape)
    if p.event is not None:
        p.live = ev.reorder(p.live, p.event)


def _keep_event_if_in_place(p: Program) -> None:
    event = p.event
    if event is None:
        return
    i_add = p.live.index(event.add)
    wanted = (event.add.inputs.index(event.target), ("state", event.target.name))
    if p.buffers.into.get(i_add) != wanted:
        p.event = None  # the update is not in place: no event-driven branch


def plan(g: Graph, avals: dict[Value, Aval], backend: Backend, phase: str, *,
         seams: bool = False) -> Program:
    """Run the passes and plans of the module docstring on ``phase`` of ``g``."""
    host = backend.host_lowering()
    if host is not None and not seams and all(
            n.spec is not None and (n.spec.internal or host.template(n.spec.name) is not None)
            for n in g.nodes):
        backend = host  # NumPy on the tensors' memory (see Backend.host_lowering)
    backend = backend.specialise(g.batch_size, g.dtype)
    persistent = {n for n, d in g.variables.items() if d.kind in PERSISTENT}
    signals = tuple(n for n, d in g.variables.items() if d.kind == "signal")
    kept, subst = fold_constants(g.nodes_for(phase), get_backend("numpy"), seams=seams,
                                 variables=set(g.variables))
    finals = final_values(kept, subst, persistent)
    live = prune(kept, finals)
    names = Names(set(RESERVED) | set(backend.helpers()))
    p = Program(g, phase, backend, avals, live, finals, persistent, signals, BufferPlan(), [],
                {}, names)
    if not _plan_kernel(p):
        if backend.template(ROWNORM.name) is not None:
            p.live = fuse_rownorm(p.live, avals, finals)
        _plan_events(p)
    p.buffers = plan_buffers(g, p.live, avals, finals, persistent, backend)
    _keep_event_if_in_place(p)
    p.scratch, p.work = plan_scratch(p.live, avals, p.buffers, backend, seams=seams,
                                     name=lambda stem: names.get(("scratch", stem), stem))
    return p


def lower_phase(g: Graph, avals: dict[Value, Aval], backend: Backend, phase: str, *,
                seams: bool = False) -> Lowered:
    """The step source of ``phase`` and what it runs with; nothing is compiled."""
    p = plan(g, avals, backend, phase, seams=seams)
    source = Emitter(p).source()
    return Lowered(source, p.namespace, p.signals, p.constants, p.event is not None,
                   host=p.backend is not backend and bool(getattr(p.backend, "tensor_views",
                                                                  False)))


def compile_phase(g: Graph, avals: dict[Value, Aval], backend: Backend, phase: str, *,
                  seams: bool = False) -> CompiledStep:
    """Lower ``phase`` of ``g`` onto ``backend`` and build its step function."""
    low = lower_phase(g, avals, backend, phase, seams=seams)
    code = compile(low.source, f"<plastix step {g.rule}:{phase}>", "exec")
    exec(code, low.namespace)
    return CompiledStep(phase, low.source, low.namespace["step"], low.signals, low.namespace,
                        seams=seams, event_driven=low.event_driven, host=low.host)


def compiled_step(g: Graph, avals: dict[Value, Aval], backend: Backend, phase: str, *,
                  seams: bool = False) -> CompiledStep:
    """The step of ``phase`` of ``g`` for one binding: the cached code (compiled on a miss)
    with its own copy of the constants (:meth:`CompiledStep.rebound`)."""
    key = fingerprint(g, backend, phase, seams)
    return CACHE.get(key, lambda: compile_phase(g, avals, backend, phase, seams=seams)) \
        .rebound()


def update_constants(step: CompiledStep, g: Graph, avals: dict[Value, Aval],
                     backend: Backend) -> bool:
    """Give ``step`` (a binding's rebound copy) the constants of graph ``g``, whose
    hyperparameters differ from the ones ``step`` was compiled with. Returns False, changing
    nothing, when ``g`` lowers to other code (a hyperparameter that shapes the graph)."""
    low = lower_phase(g, avals, backend, step.phase, seams=step.seams)
    if _code(low.source) != _code(step.source):
        return False
    step.namespace.update(low.constants)
    object.__setattr__(step, "source", low.source)
    return True


def _code(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not line.startswith("#"))
