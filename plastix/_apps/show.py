"""What ``plastix list``, ``plastix info NAME`` and ``plastix plugins`` print: text wrapped to
the terminal (see :mod:`.terminal`) or, with ``--json``, strict JSON records."""

from __future__ import annotations

import dataclasses
import inspect
import json
from typing import Any

import numpy as np

from .terminal import columns, fill, inline, render, terminal_width


def rule_record(name: str) -> dict[str, Any]:
    """What ``plastix info NAME --json`` prints: the rule's names, provider, summary,
    dtypes, hyperparameters (default, unit, meaning, range, choices) and docstring."""
    from plastix._runtime.learner import find_rule
    from plastix.registry import RULES

    cls = find_rule(name)
    entry = RULES.get(cls.name)
    hyper = [{"name": f.name, "default": f.default,
              **{k: f.metadata.get(k) for k in ("unit", "doc", "low", "high", "open_low",
                                                "choices")}}
             for f in cls.param_fields()]
    return {"name": cls.name, "aliases": list(entry.aliases if entry else cls.aliases),
            "provider": entry.provider if entry else None, "summary": cls.summary(),
            "dtypes": list(cls.dtypes), "hyperparameters": hyper,
            "param_aliases": {k: list(v) for k, v in cls.param_aliases.items()},
            "rejected": dict(cls.rejected), "docstring": inspect.getdoc(cls) or ""}


def plugin_record(p: Any) -> dict[str, Any]:
    """One plugin as ``plastix plugins --json`` prints it."""
    return {f.name: getattr(p, f.name) for f in dataclasses.fields(p)
            if f.name != "exception"}


def to_json(value: Any) -> str:
    """Strict JSON: infinite and NaN numbers become the strings "inf", "-inf", "nan"."""

    def plain(v: Any) -> Any:
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        if isinstance(v, float) and not np.isfinite(v):
            return str(v)
        if isinstance(v, bool | int | float | str) or v is None:
            return v
        return repr(v)

    return json.dumps(plain(value), indent=2, allow_nan=False)


def rule_list(width: int | None = None) -> str:
    """Every rule: its name, provider and aliases, then its summary, indented."""
    from plastix.registry import RULES

    width = terminal_width(width)
    entries = list(RULES)
    rows = [("rule", "provider", "aliases"),
            *((e.name, e.provider, ", ".join(e.aliases) or "-") for e in entries)]
    lines = columns(rows, width, indent="")
    starts = [i for i, line in enumerate(lines) if line and not line.startswith(" ")]
    out = lines[:starts[1]]
    for e, a, b in zip(entries, starts[1:], [*starts[2:], len(lines)], strict=True):
        out += [*lines[a:b], *fill(inline(e.obj.summary()), width, "    ")]
    providers = sorted({e.provider for e in entries})
    out += ["", *fill(f"{len(entries)} rules from {', '.join(providers)}; 'plastix info "
                      "NAME' describes one", width)]
    return "\n".join(out)


def _range(meta: dict[str, Any]) -> str:
    low, high = meta.get("low"), meta.get("high")
    if meta.get("choices") is not None or (low is None and high is None):
        return "-"
    lo = "-∞" if low is None else f"{low:g}"
    hi = "∞" if high is None else f"{high:g}"
    return f"{'(' if meta.get('open_low') or low is None else '['}{lo}, {hi}" \
        f"{')' if high is None else ']'}"


def rule_info(name: str, width: int | None = None) -> str:
    """``plastix info NAME``: the rule's docstring for the terminal, then its
    hyperparameters (default, unit, range, meaning), advertised aliases and refused names."""
    from plastix._runtime.learner import find_rule
    from plastix.registry import RULES

    width = terminal_width(width)
    cls = find_rule(name)
    entry = RULES.get(cls.name)
    aliases = ", ".join(entry.aliases if entry else cls.aliases) or "-"
    head = fill(f"{cls.name}  (aliases: {aliases}; provider: "
                 f"{entry.provider if entry else '?'})", width, "", "    ")
    parts = ["\n".join(head), "", render(inspect.getdoc(cls) or "(no description)", width)]
    rows = [("name", "default", "unit", "range", "meaning")]
    for f in cls.param_fields():
        meaning = f.metadata.get("doc", "") or ""
        if f.metadata.get("choices") is not None:
            meaning += f" (one of {', '.join(map(str, f.metadata['choices']))})"
        rows.append((f.name, repr(f.default), f.metadata.get("unit", "") or "-",
                     _range(dict(f.metadata)), inline(meaning.strip())))
    if len(rows) > 1:
        parts += ["Hyperparameters:", "\n".join(columns(rows, width)), ""]
    if cls.param_aliases:
        text = "Aliases: " + "; ".join(f"{k} sets {', '.join(v)}"
                                       for k, v in cls.param_aliases.items())
        parts += ["\n".join(fill(text, width, "", "    ")), ""]
    if cls.rejected:
        text = "Rejected: " + "; ".join(f"{k}: {v}" for k, v in cls.rejected.items())
        parts += ["\n".join(fill(inline(text), width, "", "    ")), ""]
    return "\n".join(parts).rstrip()


def plugin_list(found: list[Any], width: int | None = None) -> str:
    """``plastix plugins``: each plugin, its distribution, status, hooks and what it adds."""
    width = terminal_width(width)
    out: list[str] = []
    for p in found:
        status = {"ok": "ok", "failed": "FAILED", "disabled": "not loaded"}.get(p.status,
                                                                               p.status)
        out.append(f"{p.name}  ({p.distribution} {p.version}, {p.kind})  {status}")
        fields = [("module", p.module), ("error", p.error),
                  ("hooks", ", ".join(p.hooks)),
                  *((what, ", ".join(getattr(p, what))) for what in ("rules", "backends", "ops"))]
        for label, text in fields:
            if text:
                out += fill(f"{label}: {text}", width, "  ", "      ")
    counts = {s: sum(p.status == s for p in found) for s in ("ok", "failed", "disabled")}
    out += ["", f"{len(found)} plugin{'s' * (len(found) != 1)}: "
            + ", ".join(f"{n} {s}" for s, n in counts.items() if n)]
    return "\n".join(out)
