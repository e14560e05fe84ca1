"""Generated per-synapse kernels for CUDA: a kernel plan as CUDA C, one thread per synapse.

On a GPU the weight-sized ops of a step become one CuPy ``RawKernel`` (compiled by NVRTC,
once per source): thread ``idx`` computes synapse ``(i, j) = divmod(idx, n_pre)`` with the
scalar form of each op, in the arrays' dtype, sums the outer products' batch inline, and
writes the new values in place; the rank-k update of a large batch is a matrix product made
first. PyTorch CUDA tensors reach the kernel through DLPack (the same memory). The GPU has no
need of the CPU kernel's row passes, silent-row passes or event-driven path: plans with row
reductions or vector ops keep the array lowering, which is fast on a GPU.

The same source, compiled as host C++ with the thread index run in a loop
(:func:`host_emulation`), is what the tests check against the array lowering when no GPU is
present.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from plastix._graph import Const, Node, Operand, Value
from plastix._ops import ROWNORM

from .synapse import COL, ELEMENT, OUTER, ROW, SCALAR, KernelPlan

CUDA_FORMS = {
    "add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})", "div": "({0} / {1})",
    "var_linear": "({0} * {1} + {2})", "neg": "(-{0})", "abs": "fabs({0})", "exp": "exp({0})",
    "log": "log({0})", "sqrt": "sqrt({0})", "pow": "pow({0}, {1})", "sign": "_sign({0})",
    "relu": "_max({0}, (T)0)", "heaviside": "(({0}) > (T)0 ? (T)1 : (T)0)",
    "maximum": "_max({0}, {1})", "minimum": "_min({0}, {1})", "clamp": "_clip({0}, {1}, {2})",
    "where": "(({0}) ? ({1}) : ({2}))", "greater": "({0} > {1})", "greater_equal": "({0} >= {1})",
    "less": "({0} < {1})", "less_equal": "({0} <= {1})", "equal": "({0} == {1})",
    "not_equal": "({0} != {1})",
}

PRELUDE = """typedef {ctype} T;
__device__ inline T _max(T a, T b) {{ return (a > b || a != a) ? a : b; }}
__device__ inline T _min(T a, T b) {{ return (a < b || a != a) ? a : b; }}
__device__ inline T _clip(T x, T lo, T hi) {{ x = x < lo ? lo : x; return x > hi ? hi : x; }}
__device__ inline T _sign(T x) {{ return x > 0 ? (T)1 : (x < 0 ? (T)-1 : x); }}
"""


def supported(plan: KernelPlan) -> bool:
    """Whether the plan fits one thread per synapse: one pass, no vector ops, no row
    normalisation."""
    return not plan.vector_nodes and max(plan.stage.values(), default=0) == 0 \
        and not any(n.spec is ROWNORM for n in plan.nodes) \
        and all(plan.level.get(v) in (ELEMENT, OUTER) for _, v in plan.targets)


class CudaSource:
    """The CUDA C of one kernel plan (see the module docstring)."""

    def __init__(self, plan: KernelPlan) -> None:
        self.plan = plan
        self.names: dict[Any, str] = {}
        self.params: list[tuple[str, Operand | None]] = []
        for k, (name, _) in enumerate(plan.targets):
            self.names[Value(name, 0)] = f"o{k}"
            self.params.append((f"o{k}", Value(name, 0)))
        for k, x in enumerate(x for x in plan.inputs if x not in self.names):
            self.names[x] = f"a{k}"
            self.params.append((f"a{k}", x))
        for n in plan.nodes:
            self.names[n.outputs[0]] = f"v{n.index}"

    def read(self, x: Operand) -> str:
        level = self.plan.level.get(x, SCALAR)
        name = self.names[x]
        if isinstance(x, Value) and x in self.plan.stage:
            return name
        if level == ELEMENT:
            return f"{name}[idx]"
        if level == ROW:
            return f"{name}[i]"
        if level == COL:
            return f"{name}[j]"
        return f"{name}[0]" if isinstance(x, Value) else name

    def expr(self, node: Node) -> str:
        if node.outputs[0] == self.plan.rank_value:
            return f"{self.names[Value(self.plan.targets[0][0], 0)]}[idx]"
        if self.plan.level[node.outputs[0]] == OUTER:
            a, b = (self.names[x] for x in node.inputs)
            n0, n1 = self.plan.shape
            return "(" + " + ".join(f"{a}[{k * n0} + i] * {b}[{k * n1} + j]"
                                    for k in range(self.plan.batch)) + ")"
        args = [self.read(x) for x in node.inputs]
        if node.op == "cast":
            return f"(T)({args[0]})" if node.kwargs["dtype"] != "bool" else f"(({args[0]}) != 0)"
        return CUDA_FORMS[str(node.op)].format(*args)

    def signature(self, fname: str) -> str:
        params = ["const long n0", "const long n1"]
        for name, x in self.params:
            params.append(f"const T {name}" if isinstance(x, Const) else
                          f"T* {name}" if name.startswith("o") else f"const T* {name}")
        return f'extern "C" __global__ void {fname}({", ".join(params)})'

    def text(self, fname: str) -> str:
        ctype = "float" if self.plan.dtype == "float32" else "double"
        body = ["long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;",
                "if (idx >= n0 * n1) return;", "long i = idx / n1;", "long j = idx - i * n1;"]
        for n in self.plan.nodes:
            v = n.outputs[0]
            kind = "bool" if self.plan.avals[v].dtype == "bool" else "T"
            body.append(f"{kind} {self.names[v]} = {self.expr(n)};")
        for k, (_, v) in enumerate(self.plan.targets):
            body.append(f"o{k}[idx] = {self.names[v]};")
        lines = [PRELUDE.format(ctype=ctype), self.signature(fname) + " {",
                 *(f"    {line}" for line in body), "}", ""]
        return "\n".join(lines)


_CACHE: dict[str, Any] = {}
_LOCK = threading.Lock()


def compile_kernel(source: str, fname: str) -> Any:
    """The CuPy ``RawKernel`` of ``source``, once per source."""
    import cupy

    with _LOCK:
        hit = _CACHE.get(source)
        if hit is None:
            hit = _CACHE[source] = cupy.RawKernel(source, fname)
        return hit


def caller(plan: KernelPlan, src: CudaSource, kernel: Any, view: Callable[[Any], Any] | None,
           rank_update: Callable[..., None] | None) -> Callable[..., tuple[Any, ...]]:
    """The function the step calls: ``call(X, *arrays and constants, *rank operands)``."""
    import numpy as np

    cast = np.float32 if plan.dtype == "float32" else np.float64
    constants = [isinstance(x, Const) for _, x in src.params]
    n_params, n_targets, threads = len(src.params), len(plan.targets), 256
    rank_sizes = [len(t.coefficients) for t in plan.rank]

    def call(X: Any, *args: Any) -> tuple[Any, ...]:
        given, rest = args[:n_params], args[n_params:]
        if rank_update is not None:
            terms: list[tuple[float, Any, Any]] = []
            k = 0
            for size in rank_sizes:
                coef = float(np.prod([float(c) for c in rest[k:k + size]]))
                terms.append((coef * plan.rank[len(terms)].sign, rest[k + size],
                              rest[k + size + 1]))
                k += size + 2
            rank_update(given[0], tuple(terms))
        arrays = [cast(a) if c else (a if view is None else view(a))
                  for a, c in zip(given, constants, strict=True)]
        n0, n1 = plan.shape
        blocks = (n0 * n1 + threads - 1) // threads
        kernel((blocks,), (threads,), (np.int64(n0), np.int64(n1), *arrays))
        X.in_bounds = plan.bounded
        return given[:n_targets]

    return call


def host_emulation(source: str, fname: str) -> str:
    """``source`` as host C++ (the thread index a loop variable) with an ``extern "C"``
    driver ``run_<fname>(total, ...)`` that runs every thread in turn: a compiler check of
    the CUDA kernel's arithmetic on a machine without a GPU."""
    head = ("#include <cmath>\nusing namespace std;\nstruct Index { long x; };\n"
            "static thread_local Index blockIdx, threadIdx, blockDim;\n"
            "#define __global__\n#define __device__\n")
    sig = next(line for line in source.splitlines() if line.startswith('extern "C"'))
    params = sig[sig.index("(") + 1:sig.rindex(")")]
    names = [p.split()[-1].lstrip("*") for p in params.split(", ")]
    driver = (f'extern "C" void run_{fname}({params}) {{\n'
              f"    blockIdx.x = 0; blockDim.x = n0 * n1;\n"
              f"    for (long t = 0; t < n0 * n1; ++t) {{ threadIdx.x = t; "
              f"{fname}({', '.join(names)}); }}\n}}\n")
    return head + source + driver
