"""The compiler: a rule's validated graph becomes the source of one Python step function.

Owns: the passes over a graph (:mod:`.passes`, :mod:`.rownorm`, :mod:`.events`), the fused
per-synapse kernels (:mod:`.synapse`: which ops a kernel computes; :mod:`.rank`: the rank-k
update of large batches; :mod:`.kernel_source` with :mod:`.kernel_text`,
:mod:`.kernel_vectors`, :mod:`.kernel_zero`, :mod:`.kernel_event`: the kernel's Numba source;
:mod:`.kernel_cuda`: its CUDA C for GPUs; :mod:`.kernels`: compiling, caching and calling
it), buffer and scratch planning
(:mod:`.buffers`), rendering an op through a backend's template (:mod:`.render`, the one
evaluator that folding, lowering and checked steps share), emitting the source
(:mod:`.emit`), the pipeline (:mod:`.lower`), compiled steps and their cache keyed by the
graph's fingerprint (:mod:`.steps`), the steps' private per-binding state
(:mod:`.stepstate`), and the data-parallel analysis of a graph (:mod:`.sharding`).

May import: the rule-author layer (``plastix._graph``, ``_ops``, ``_validate``,
``_errors``), the backends' package interface (``plastix.backends``), Numba and CuPy
(optional). Never the registry's loader, the runtime or the applications: a binding asks
:func:`compiled_step` for a step; it does not build cache keys.
"""

from __future__ import annotations

from .lower import compile_phase, compiled_step, lower_phase, update_constants
from .render import evaluate
from .steps import CACHE, CompiledStep, fingerprint
from .stepstate import StepState

__all__ = ["CACHE", "CompiledStep", "StepState", "compile_phase", "compiled_step",
           "evaluate", "fingerprint", "lower_phase", "update_constants"]
