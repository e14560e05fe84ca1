"""Sphinx directives that render plastix's rules from the registry, so the docs cannot drift.

``.. plastix-catalogue::`` is a table of every registered rule; ``.. plastix-family:: MODULE``
renders each rule of a family module: its docstring (equations, reference) and a parameter
table built from the ``param`` metadata (name, default, unit, meaning).
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx.util.nodes import nested_parse_with_titles


def _plain(text: str) -> str:
    """Plain text made safe inside reST: no emphasis, substitutions or link targets."""
    text = re.sub(r"([*|`\\])", r"\\\1", text)
    return re.sub(r"(\w)_(?=\W|$)", r"\1\\_", text)


def _rst_table(rows: list[tuple[str, ...]], widths: str) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for row in rows:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return [*lines, ""]


class _Rendered(Directive):
    def render(self, lines: list[str]) -> list[nodes.Node]:
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="plastix"), node)
        return list(node.children)


class Catalogue(_Rendered):
    """A table of every registered rule: name, aliases, provider, summary."""

    def run(self) -> list[nodes.Node]:
        from plastix.registry import RULES, ensure_loaded

        ensure_loaded()
        rows = [("rule (aliases)", "provider", "summary")]
        for e in RULES:
            aliases = ", ".join(f"``{a}``" for a in e.aliases)
            rows.append((f"``{e.name}``" + (f" ({aliases})" if aliases else ""),
                         _plain(e.provider), e.obj.summary()))  # the summary is reST
        return self.render(_rst_table(rows, "auto"))


class Family(_Rendered):
    """Every rule of one family module, with its parameter table."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module: Any = importlib.import_module(self.arguments[0])
        lines: list[str] = []
        for rule in module.RULES:
            title = f"``{rule.name}``"
            lines += [title, "~" * len(title), ""]
            if rule.aliases:
                lines += ["Aliases: " + ", ".join(f"``{a}``" for a in rule.aliases), ""]
            lines += [*(inspect.getdoc(rule) or "").splitlines(), ""]
            rows = [("hyperparameter", "default", "unit", "meaning")]
            for f in rule.param_fields():
                rows.append((f"``{f.name}``", f"``{f.default!r}``",
                             _plain(f.metadata.get("unit") or "--"),
                             _plain(f.metadata.get("doc") or "--")))
            if len(rows) > 1:
                lines += _rst_table(rows, "20 20 15 45")
        return self.render(lines)


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("plastix-catalogue", Catalogue)
    app.add_directive("plastix-family", Family)
    return {"parallel_read_safe": True, "version": "1"}
