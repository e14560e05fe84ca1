"""The event-driven path of a generated kernel (see :mod:`plastix._compiler.synapse`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .kernel_text import Writer

if TYPE_CHECKING:
    from .kernel_source import Source


def event_block(src: Source, w: Writer) -> None:
    """The event-driven path: count the rows and columns of neurons that spiked; when they
    are few enough (the cost of their rows and of the cache lines of their columns), visit
    only them, with the dense pass's expressions."""
    plan = src.plan
    assert plan.event is not None
    line = 64 // (4 if plan.dtype == "float32" else 8)
    w("if ok:")
    w.indent()
    for role, n in (("rows", "n0"), ("cols", "n1")):
        on = getattr(plan.event, role)
        s = src.names[plan.spikes[role]]
        w(f"{role} = np.empty({n}, np.intp)")
        w(f"n_{role} = 0")
        if on:
            w(f"for k in range({n}):")
            w.indent()
            cond = " or ".join(f"{s}[{b}, k] != 0" for b in range(plan.batch))
            w(f"if {cond}:")
            w.indent()
            w(f"{role}[n_{role}] = k")
            w(f"n_{role} += 1")
            w.dedent()
            w.dedent()
    w(f"cost = n_rows * n1 + (n0 - n_rows) * min(n_cols * {line}, n1)")
    w("if cost <= limit:")
    w.indent()
    w("is_row = np.zeros(n0, np.bool_)")
    w("for r in range(n_rows):")
    w.indent()
    w("i = rows[r]")
    w("is_row[i] = True")
    src.row_hoists(w)
    src.loops(w)
    w.dedent()
    w("if n_cols:")
    w.indent()
    w("for i in range(n0):")
    w.indent()
    w("if is_row[i]:")
    w("    continue")
    src.row_hoists(w)
    src.loops(w, "cols[:n_cols]")
    w.dedent()
    w.dedent()
    w("done = True")
    w.dedent()
    w.dedent()
