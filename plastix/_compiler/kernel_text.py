"""The fixed text of generated kernels: the scalar form of each op, the prelude of helper
functions every kernel module starts with, and an indenting line writer."""

from __future__ import annotations

SCALAR_FORMS = {
    "add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})", "div": "({0} / {1})",
    "var_linear": "({0} * {1} + {2})", "neg": "(-{0})", "abs": "abs({0})",
    "exp": "np.exp({0})", "log": "np.log({0})", "sqrt": "np.sqrt({0})", "pow": "({0} ** {1})",
    "sign": "np.sign({0})", "relu": "_maximum({0}, _ZERO)",
    "heaviside": "(_ONE if {0} > _ZERO else _ZERO)", "maximum": "_maximum({0}, {1})",
    "minimum": "_minimum({0}, {1})", "clamp": "_clip({0}, {1}, {2})",
    "where": "({1} if {0} else {2})", "greater": "({0} > {1})", "greater_equal": "({0} >= {1})",
    "less": "({0} < {1})", "less_equal": "({0} <= {1})", "equal": "({0} == {1})",
    "not_equal": "({0} != {1})",
}

_PRELUDE = '''import numpy as np
from numba import njit

_T = np.{dtype}
_ZERO = _T(0.0)
_ONE = _T(1.0)


@njit(inline="always")
def _maximum(a, b):
    return a if (a > b or a != a) else b


@njit(inline="always")
def _minimum(a, b):
    return a if (a < b or a != a) else b


@njit(inline="always")
def _clip(x, lo, hi):
    x = lo if x < lo else x
    return hi if x > hi else x


@njit(inline="always")
def _sum(x):
    n = x.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    k = 0
    while k + 8 <= n:
        s0 += x[k]
        s1 += x[k + 1]
        s2 += x[k + 2]
        s3 += x[k + 3]
        s4 += x[k + 4]
        s5 += x[k + 5]
        s6 += x[k + 6]
        s7 += x[k + 7]
        k += 8
    total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while k < n:
        total += x[k]
        k += 1
    return total


@njit(inline="always")
def _amax(x):
    m = x[0]
    for k in range(1, x.shape[0]):
        m = _maximum(m, x[k])
    return m
'''


class Writer:
    """Source lines with indentation."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def indent(self) -> Writer:
        self.depth += 1
        return self

    def dedent(self) -> None:
        self.depth -= 1
