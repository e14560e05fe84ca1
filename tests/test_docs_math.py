"""The equations in the rules' docstrings typeset: what MathJax would refuse, found without a
browser (``docs/check_pages.py`` checks the built pages in one). Sphinx wraps a display
formula in ``split`` only when it has a line break, so an alignment ``&`` without ``\\\\`` is
MathJax's "Misplaced &"; unbalanced braces are an error anywhere."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from plastix.learners import FAMILIES

ROLE = re.compile(r":math:`([^`]*)`")
BLOCK = re.compile(r"^( *)\.\. math::\n\n((?:\1 +.*\n|\n)+)", re.M)


def _docstrings() -> list[tuple[str, str]]:
    out = []
    for family in FAMILIES:
        module = importlib.import_module(f"plastix.learners.{family}")
        out.append((module.__name__, inspect.getdoc(module) or ""))
        out += [(rule.name, inspect.getdoc(rule) or "") for rule in module.RULES]
    return out


def _balanced(tex: str) -> bool:
    depth = 0
    for brace in re.findall(r"(?<!\\)[{}]", tex):
        depth += 1 if brace == "{" else -1
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize(("where", "doc"), _docstrings(), ids=lambda v: v[:40])
def test_every_formula_typesets(where: str, doc: str) -> None:
    for _, block in BLOCK.findall(doc + "\n"):
        for part in [p for p in block.split("\n\n") if p.strip()]:
            assert _balanced(part), f"{where}: unbalanced braces in {part.strip()[:60]!r}"
            bare = re.sub(r"\\begin\{(\w+)\}.*?\\end\{\1\}", "", part, flags=re.S)
            if re.search(r"(?<!\\)&", bare):
                assert "\\\\" in part, f"{where}: an '&' without a line break: {part[:60]!r}"
    for tex in ROLE.findall(" ".join(doc.split())):
        assert _balanced(tex), f"{where}: unbalanced braces in :math:`{tex}`"
        assert not re.search(r"(?<!\\)&", tex), f"{where}: '&' in inline math {tex!r}"


def test_the_check_sees_a_misplaced_ampersand() -> None:
    bad = ".. math::\n\n    x &= 1, \\qquad y = 2\n"
    with pytest.raises(AssertionError, match="without a line break"):
        test_every_formula_typesets("probe", bad)
    test_every_formula_typesets("probe", ".. math::\n\n    x &= 1 \\\\\n    y &= 2\n")
