"""reST docstrings as a terminal shows them: ``plastix info`` and ``plastix list``.

The documentation renders a rule's docstring as reST with LaTeX; a terminal gets plain text
instead: paragraphs and list items wrapped to the width, ``.. math::`` blocks as aligned
rows of Unicode text (:mod:`.latex`), inline roles (``:math:``, ``:mod:``, ...), literals
and emphasis without their markup, and simple tables re-laid out, or written one row per
paragraph when they are wider than the terminal. Code (doctest and literal blocks) is kept
as written.
"""

from __future__ import annotations

import re
import shutil
import textwrap
import unicodedata
from collections.abc import Iterable, Sequence

from .latex import latex_to_text, math_rows

#: The narrowest layout written; a narrower terminal gets lines of this width.
MIN_WIDTH = 40
#: The narrowest last column of a table (see :func:`columns`).
MIN_LAST = 20
_BORDER = re.compile(r"^\s*=+( +=+)+\s*$")
_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)]|\[\*\]) +")


def terminal_width(width: int | None = None) -> int:
    """``width``, else the terminal's (``COLUMNS`` wins; 80 when not a terminal)."""
    if width is None:
        width = shutil.get_terminal_size((80, 24)).columns
    return max(MIN_WIDTH, int(width))


def display_len(text: str) -> int:
    """How many columns ``text`` takes: combining accents (the bar of w̄) take none."""
    return sum(not unicodedata.combining(c) for c in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` columns (on the left when ``right``)."""
    space = " " * max(0, width - display_len(text))
    return space + text if right else text + space


def inline(text: str) -> str:
    """One paragraph's inline reST as plain text: roles, literals, emphasis, escapes."""
    text = re.sub(r":math:`([^`]*)`", lambda m: latex_to_text(m.group(1)), text)
    text = re.sub(r":[\w.:+-]+:`~?([^`<]*?)\s*(<[^`>]*>)?`",
                  lambda m: m.group(1).rpartition(".")[2] if m.group(0).count("~") else
                  m.group(1), text)
    text = re.sub(r"``(.+?)``", r"\1", text)
    text = re.sub(r"`([^`<]+?)\s*<([^`>]+)>`_+", r"\1 (\2)", text)
    text = re.sub(r"(?<![\w*])\*\*(\S(?:.*?\S)?)\*\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])", r"\1", text)
    return re.sub(r"\\(.)", r"\1", text)


def fill(text: str, width: int, indent: str = "", hang: str | None = None) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), width, initial_indent=indent,
                         subsequent_indent=indent if hang is None else hang,
                         break_long_words=True, break_on_hyphens=False) or [indent.rstrip()]


def _math(block: Sequence[str], width: int) -> list[str]:
    rows = math_rows("\n".join(block))
    left = max((display_len(lhs) for lhs, _ in rows), default=0)
    out: list[str] = []
    for lhs, parts in rows:
        start = f"    {pad(lhs, left, right=True)} " if left else "    "
        hang = " " * (display_len(start) + 2)
        if display_len(start) + display_len("    ".join(parts)) <= width:
            out.append((start + "    ".join(parts)).rstrip())
            continue
        for k, part in enumerate(parts):
            first = start if k == 0 else " " * display_len(start)
            out += fill(part, width, first, hang) \
                if display_len(first) + display_len(part) > width else [first + part]
    return out


def _table(block: Sequence[str], width: int) -> list[str]:
    """A reST simple table, re-laid out after its cells are converted; a table wider than
    ``width`` becomes one paragraph per row (``first cell: header value, ...``)."""
    border = next(line for line in block if _BORDER.match(line))
    starts = [m.start() for m in re.finditer(r"=+", border)]
    ends = [*starts[1:], None]
    rows = [[inline(line[a:b].strip()) for a, b in zip(starts, ends, strict=True)]
            for line in block if not _BORDER.match(line) and line.strip()]
    widths = [max(display_len(r[i]) for r in rows) for i in range(len(starts))]
    if sum(widths) + 2 * len(widths) <= width:
        rule = "  " + "  ".join("-" * w for w in widths)
        lines = ["  " + "  ".join(pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip()
                 for r in rows]
        return [lines[0], rule, *lines[1:]]
    head, *body = rows
    out: list[str] = []
    for r in body:
        cells = ", ".join(f"{h} {c}" for h, c in zip(head[1:], r[1:], strict=True))
        out += fill(f"{r[0]}: {cells}", width, "  ", "      ")
    return out


def _blocks(doc: str) -> Iterable[tuple[str, list[str]]]:
    """The docstring cut into (kind, lines): math, table, code, item or text."""
    lines = doc.expandtabs().splitlines()
    i = 0
    literal_next = False
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        indent = len(line) - len(line.lstrip())
        j = i + 1
        if re.match(r"\s*\.\. math::", line) or (literal_next and indent > 0) \
                or re.match(r"\s*\.\. [\w-]+::", line):
            kind = "math" if "math::" in line else "code" if literal_next else "directive"
            body = [] if kind != "code" else [line]
            while j < len(lines) and (not lines[j].strip()
                                      or len(lines[j]) - len(lines[j].lstrip()) > indent):
                body.append(lines[j])
                j += 1
            literal_next = False
            yield kind, [b for b in body if b.strip()] if kind != "code" else body
            i = j
            continue
        item = _ITEM.match(line) is not None  # (reST: an item follows a blank or an item)
        while j < len(lines) and lines[j].strip() and not (item and _ITEM.match(lines[j])) \
                and not re.match(r"\s*\.\. ", lines[j]):
            j += 1
        block = lines[i:j]
        if line.lstrip().startswith(">>>"):
            yield "code", block
        elif any(_BORDER.match(b) for b in block):
            yield "table", block
        else:
            yield ("item" if _ITEM.match(line) else "text"), block
            literal_next = block[-1].rstrip().endswith("::")
        i = j


def render(doc: str, width: int | None = None) -> str:
    """A reST docstring as plain text lines of at most ``width`` characters (code lines
    excepted: they are kept as written)."""
    width = terminal_width(width)
    out: list[str] = []
    for kind, block in _blocks(doc):
        if kind == "math":
            lines = _math(block, width)
        elif kind == "table":
            lines = _table(block, width)
        elif kind == "code":
            lines = [b.rstrip() for b in textwrap.dedent("\n".join(block)).splitlines()]
            lines = ["    " + b if b else b for b in lines]
            while lines and not lines[-1]:
                lines.pop()
        elif kind == "directive":
            lines = fill(inline(" ".join(block)), width, "  ")
        else:
            text = inline(" ".join(b.strip() for b in block))
            if text.endswith("::"):
                text = text[:-1]
            m = _ITEM.match(block[0])
            hang = " " * len(m.group(0)) if m else ""
            lines = fill(text, width, block[0][:len(block[0]) - len(block[0].lstrip())],
                          hang or None)
        out += [*lines, ""]
    return "\n".join(out).rstrip() + "\n"


def columns(rows: Sequence[Sequence[str]], width: int, *, indent: str = "  ") -> list[str]:
    """A table whose first row is its header: every column but the last as wide as its
    widest cell, the last wrapped into what remains of ``width``. When less than
    :data:`MIN_LAST` columns remain, each row becomes a record, ``first: second, ...; last``
    (the header, written the same way, says what each field is)."""
    widths = [max(display_len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lead = len(indent) + sum(w + 2 for w in widths)
    out: list[str] = []
    if width - lead >= MIN_LAST:
        for r in rows:
            head = indent + "".join(pad(c, w + 2) for c, w in zip(r, widths, strict=False))
            out += fill(r[-1], width, head, " " * lead) if r[-1] else [head.rstrip()]
        return out
    for r in rows:
        middle = f"{', '.join(r[1:-1])}; " if len(r) > 2 else ""
        out += fill(f"{r[0]}: {middle}{r[-1]}", width, indent, indent + "    ")
    return out
