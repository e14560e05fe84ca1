"""Generated per-synapse kernels: compiled once per source (and, with a cache folder, once
per machine) and called from the step through a small generated caller.

The caller passes the step's arrays as the kernel reads them (a CPU tensor through its NumPy
view when a backend computes on tensors directly), makes the rank-k update of a large batch
first, lets the kernel take its event-driven path only while the binding's in-bounds flag can
be trusted, and keeps that flag. The kernel's source comes from :mod:`.kernel_source`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plastix._graph import Const, Operand, Value

from .kernel_source import Source
from .synapse import KernelPlan

_CACHE: dict[str, Callable[..., bool]] = {}
_LOCK = threading.Lock()
CACHE_ENV = "PLASTIX_KERNEL_CACHE"


def cache_folder() -> Path | None:
    """Where compiled kernels are kept between processes (Numba's cache beside a copy of
    each kernel's source): ``$PLASTIX_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/plastix`` or
    ``~/.cache/plastix``; None when ``PLASTIX_KERNEL_CACHE=0`` turns it off."""
    chosen = os.environ.get(CACHE_ENV, "").strip()
    if chosen.lower() in ("0", "false", "no", "off"):
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "plastix" / "kernels"


def _source_file(source: str) -> str | None:
    """A file holding ``source`` for Numba's cache to key on (it checks the file and keeps
    the machine code beside it); None when no cache folder can be written."""
    folder = cache_folder()
    if folder is None:
        return None
    path = folder / f"kernel_{hashlib.sha256(source.encode()).hexdigest()[:20]}.py"
    try:
        if not path.exists() or path.read_text() != source:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(source)
            os.replace(tmp, path)
    except OSError:
        return None
    return str(path)


def compile_kernel(source: str, fname: str) -> Callable[..., bool]:
    """The Numba function defined by ``source``, once per source. The code run is always
    ``source`` itself; with a cache folder, Numba keeps its machine code there, so a kernel
    is compiled once per machine rather than once per process."""
    with _LOCK:
        hit = _CACHE.get(source)
        if hit is None:
            filename = _source_file(source)
            # Numba rebuilds a cached kernel's environment from an importable module's name
            namespace: dict[str, Any] = {"CACHE": filename is not None, "__name__": __name__}
            exec(compile(source, filename or f"<plastix kernel {fname}>", "exec"), namespace)
            hit = _CACHE[source] = namespace[fname]
        return hit


@dataclass
class Kernel:
    """A generated kernel and how a step calls it: ``kernel(X, *arrays and constants)``,
    returning the arrays of the variables it updated in place. ``source`` is the kernel's
    source; ``call`` the function the step calls (it passes the backend's arrays as the
    kernel reads them, and keeps ``X``'s bound flags)."""

    source: str
    call: Callable[..., tuple[Any, ...]]
    is_kernel = True

    def __call__(self, X: Any, *args: Any) -> tuple[Any, ...]:
        return self.call(X, *args)


_CALL = """def call(X, {params}{rank_params}):
    {rank}ok = {ok}
    fn(ok, X.event_limit, {args})
    X.in_bounds = {bounded}
    return {targets},
"""


def _caller(plan: KernelPlan, fn: Callable[..., bool], operands: list[Operand],
            view: Callable[[Any], Any] | None, tracks_writes: bool,
            rank_update: Callable[..., None] | None) -> Callable[..., tuple[Any, ...]]:
    """The Python function the step calls: arrays through ``view`` (None: as they are), and
    the event-driven path allowed only while the bound flags can be trusted (the step checks
    the weight's write count on backends that count writes, see ``emit``; elsewhere the user
    promises it with ``sparse_bounds``)."""
    params = [f"p{k}" for k in range(len(operands))]
    args = [p if isinstance(x, Const) or view is None else f"view({p})"
            for p, x in zip(params, operands, strict=True)]
    trusted = "X.in_bounds" + ("" if tracks_writes else " and X.sparse_bounds")
    rank_params, terms, k = [], [], 0
    for term in plan.rank:  # its coefficients, then a and b (see rank_operands)
        names = [f"r{k + m}" for m in range(len(term.coefficients) + 2)]
        k += len(names)
        rank_params += names
        coef = " * ".join([str(term.sign), *names[:-2]])
        terms.append(f"({coef}, {names[-2]}, {names[-1]})")
    text = _CALL.format(
        params=", ".join(params), args=", ".join(args),
        rank_params="".join(f", {p}" for p in rank_params),
        rank=f"rank_update(p0, ({', '.join(terms)},))\n    " if plan.rank else "",
        ok=trusted if plan.needs_invariant else "True", bounded=plan.bounded,
        targets=", ".join(params[:len(plan.targets)]))
    namespace: dict[str, Any] = {"fn": fn, "view": view, "rank_update": rank_update}
    exec(compile(text, "<plastix kernel call>", "exec"), namespace)
    return namespace["call"]


def build(plan: KernelPlan, view: Callable[[Any], Any] | None, tracks_writes: bool,
          rank_update: Callable[..., None] | None, fname: str = "synapse") -> Kernel:
    """The kernel of ``plan`` for a backend whose arrays the kernel reads through ``view``
    (None: as they are); ``tracks_writes``: the step notices a weight written from outside;
    ``rank_update(w, terms)`` adds ``sum c a^T b`` to ``w`` in place."""
    source = Source(plan).text(fname)
    fn = compile_kernel(source, fname)
    return Kernel(source, _caller(plan, fn, call_operands(plan), view, tracks_writes,
                                  rank_update))


def call_operands(plan: KernelPlan, src: Source | None = None) -> list[Operand]:
    """What the step passes to the kernel, after ``X``: the targets' arrays (their values at
    the start of the step), the inputs, the spike arrays of an event-driven kernel (then
    :func:`rank_operands`)."""
    targets = [Value(name, 0) for name, _ in plan.targets]
    rest = [x for x in plan.inputs if x not in targets]
    spikes = [v for v in plan.spikes.values() if v not in targets and v not in rest]
    return [*targets, *rest, *dict.fromkeys(spikes)]


def rank_operands(plan: KernelPlan) -> list[Operand]:
    """What the step passes for the rank-k update, after :func:`call_operands`: per term its
    coefficients, then its two vectors."""
    out: list[Operand] = []
    for t in plan.rank:
        out += [*t.coefficients, t.a, t.b]
    return out
