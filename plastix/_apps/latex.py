r"""LaTeX math as plain text for a terminal: ``x_{pre} \leftarrow \lambda\, x_{pre}`` reads
``x_pre ← λ x_pre``.

Greek letters, arrows, relations and big operators become their Unicode characters; ``\frac``
becomes a slash, ``e^{...}`` becomes ``exp(...)``, a superscript of digits and signs is set
in superscript characters (``τ⁻¹``, ``sᵀ``); a subscript stays ``_name``, which reads more
easily than Unicode's incomplete set of subscript letters. Font and sizing commands
(``\mathrm``, ``\big``, ``\textstyle``) disappear. An unknown command keeps its name.
"""

from __future__ import annotations

import re
import unicodedata

_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
          "rho sigma tau upsilon phi chi psi omega").split()


def _greek(name: str, case: str) -> str:
    return unicodedata.lookup(f"GREEK {case} LETTER {name.upper().replace('LAMBDA', 'LAMDA')}")


SYMBOLS: dict[str, str] = {
    **{g: _greek(g, "SMALL") for g in _GREEK},
    **{g.capitalize(): _greek(g, "CAPITAL") for g in _GREEK},
    "varepsilon": "ε", "vartheta": "ϑ", "varphi": "φ", "varrho": "\N{GREEK RHO SYMBOL}",
    "ell": "\N{SCRIPT SMALL L}",
    "leftarrow": "←", "gets": "←", "rightarrow": "→", "to": "→", "Leftarrow": "⇐",
    "Rightarrow": "⇒", "leftrightarrow": "↔", "mapsto": "↦",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ll": "≪", "gg": "≫", "ne": "≠",
    "neq": "≠", "approx": "≈", "sim": "~", "equiv": "≡", "propto": "∝", "in": "∈",
    "pm": "±", "mp": "∓", "cdot": "·", "times": "\N{MULTIPLICATION SIGN}", "odot": "⊙",
    "otimes": "⊗",
    "ast": "*", "star": "⋆", "circ": "∘", "sum": "Σ", "prod": "Π", "int": "∫",
    "partial": "∂", "nabla": "∇", "infty": "∞", "top": "ᵀ", "intercal": "ᵀ",
    "langle": "⟨", "rangle": "⟩", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈",
    "rceil": "⌉", "mid": "|", "vert": "|", "lvert": "|", "rvert": "|", "Vert": "‖",
    "ldots": "…", "cdots": "⋯", "dots": "…", "forall": "∀", "exists": "∃", "neg": "¬",
    "land": "∧", "lor": "\N{LOGICAL OR}", "cap": "∩", "cup": "\N{UNION}", "emptyset": "∅",
    "quad": "\x00\x00", "qquad": "\x00\x00\x00\x00", "{": "{", "}": "}", "_": "_",
    "%": "%", "&": "&", "#": "#", "$": "$", "|": "‖", "-": "-", "+": "+",
    ",": " ", ";": " ", ":": " ", ">": " ", " ": " ", "!": "",
}
#: Commands that only set a size or style: the delimiter or group after them stays.
_DROPPED = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
            "biggl", "biggr", "textstyle", "displaystyle", "scriptstyle", "limits", "nolimits"}
#: Commands whose one argument is printed as it is (fonts, text, operator names).
_AS_IS = {"mathrm", "mathbf", "mathit", "mathsf", "mathtt", "mathcal", "mathbb", "boldsymbol",
          "text", "textrm", "textit", "textbf", "operatorname", "mbox", "hbox"}
#: Accents, as combining characters after their argument.
_ACCENTS = {"bar": "\u0304", "overline": "\u0304", "hat": "\u0302", "widehat": "\u0302",
            "tilde": "\u0303", "widetilde": "\u0303", "dot": "\u0307", "ddot": "\u0308",
            "vec": "\u20d7"}
_SUPERSCRIPT = str.maketrans("0123456789+-=()niT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ")
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}_^&]|\s+|[^\\{}_^&\s]")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _TOKEN.findall(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def sequence(self, closing: str | None = None) -> str:
        out = ""
        while (token := self.peek()) is not None and token != closing:
            if token in ("_", "^"):
                self.take()
                out = _script(out, token, self.argument())
            else:
                out += self.atom()
        if token is not None:
            self.take()  # the closing brace
        return out

    def argument(self) -> str:
        """One command argument or script: a braced group or the next single atom."""
        while (token := self.peek()) is not None and token.isspace():
            self.take()
        return self.atom() if token is not None else ""

    def atom(self) -> str:
        token = self.take()
        if token == "{":
            return self.sequence("}")
        if token == "}":
            return ""
        if token.isspace():
            return " "
        if not token.startswith("\\"):
            return token
        name = token[1:]
        if name in SYMBOLS:
            return SYMBOLS[name]
        if name in _DROPPED:
            return ""
        if name in _AS_IS:
            return self.argument()
        if name in _ACCENTS:
            return self.argument() + _ACCENTS[name]
        if name == "frac":
            top, bottom = self.argument(), self.argument()
            return f"{_grouped(top)}/{_grouped(bottom)}"
        if name == "sqrt":
            return f"√{_grouped(self.argument())}"
        if name in ("begin", "end"):
            env = self.argument()
            return "{ " if name == "begin" and env == "cases" else ""
        return name  # \max, \exp, \log, and any command not known here


def _grouped(text: str) -> str:
    text = text.strip()
    simple = re.fullmatch(r"[\w.ᵀ⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻]+", text) is not None
    return text if simple else f"({text})"


def _script(base: str, kind: str, arg: str) -> str:
    arg = arg.strip()
    if kind == "_":
        return f"{base}_{arg}" if re.fullmatch(r"[\w,+\-±ᵀ]*", arg) else f"{base}_({arg})"
    if arg and all(c in "0123456789+-=()niTᵀ" for c in arg):
        return base + arg.translate(_SUPERSCRIPT)
    if re.search(r"(?:^|[^\w])e$", base) and len(arg) > 1:
        return f"{base[:-1]}exp({arg})"
    return f"{base}^{_grouped(arg)}"


def latex_to_text(math: str) -> str:
    """One formula as a line of plain text (for the rows of a display formula, see
    :func:`math_rows`)."""
    text = _Parser(math.replace("&", " ")).sequence()
    text = re.sub(r"[ \t\n]+", " ", text).strip()
    text = re.sub(r"([(\[⟨]) ", r"\1", re.sub(r" ([)\],]|⟩)", r"\1", text))
    text = re.sub(r"([Δδ]) (?=\w)", r"\1", text)  # Δ w is one quantity: Δw
    return text.replace("\x00", " ")


def math_rows(block: str) -> list[tuple[str, list[str]]]:
    r"""A display formula's rows (split at ``\\``) as ``(left, parts)``: ``left`` is what
    stands before the row's first ``&`` (empty without one), ``parts`` the rest cut at each
    ``\qquad`` (formulas side by side, which a narrow terminal stacks), all as text."""
    rows = []
    for row in re.split(r"(?<!\\)\\\\(?![A-Za-z])", block):
        if not row.strip():
            continue
        left, _, right = row.partition("&") if "&" in row else ("", "", row)
        parts = [latex_to_text(p) for p in re.split(r"\\qquad\b", right)]
        rows.append((latex_to_text(left), [p for p in parts if p]))
    return rows
