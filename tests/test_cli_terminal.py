"""``plastix info`` and ``plastix list`` as a terminal shows them: plain text, no reST or
LaTeX markup, every line within the terminal's width."""

from __future__ import annotations

import re

import pytest

import plastix as px
from plastix._apps.cli import main
from plastix._apps.latex import latex_to_text, math_rows
from plastix._apps.show import rule_info, rule_list
from plastix._apps.terminal import display_len, render

WIDTHS = [40, 60, 80, 132]
#: What may not survive into a terminal: directives, roles, literals, LaTeX commands.
MARKUP = re.compile(r"\.\. [\w-]+::|:[a-z]+:`|`|\\[A-Za-z]+|\\[,;{}\\]|\$")


def _code(line: str) -> bool:
    """Doctest and literal lines are kept as written, so the width does not bind them."""
    return line.startswith("    >>>") or line.startswith("    ...")


@pytest.mark.parametrize("rule", px.rules())
@pytest.mark.parametrize("width", WIDTHS)
def test_info_has_no_markup_and_fits_the_width(rule: str, width: int) -> None:
    text = rule_info(rule, width)
    assert MARKUP.search(text) is None, MARKUP.search(text)
    long = [line for line in text.splitlines() if display_len(line) > width and not _code(line)]
    assert long == []
    assert "Hyperparameters:" in text or not px.find_rule(rule).param_fields()


@pytest.mark.parametrize("width", WIDTHS)
def test_list_has_no_markup_and_fits_the_width(width: int) -> None:
    text = rule_list(width)
    assert MARKUP.search(text) is None
    assert max(display_len(line) for line in text.splitlines()) <= width
    for name in px.rules():
        assert re.search(rf"^{name}[:\s]", text, re.M), name


def test_the_width_comes_from_columns(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    assert main(["info", "norse_stdp"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(display_len(line) for line in lines) <= 50
    assert any(display_len(line) > 40 for line in lines)  # the width is used, not a minimum


@pytest.mark.parametrize(("latex", "text"), [
    (r"x_{pre} \leftarrow \lambda_{pre}\, x_{pre} + s_{pre}", "x_pre ← λ_pre x_pre + s_pre"),
    (r"w + A_{post}\, s_{post}^\top x_{pre}", "w + A_post s_postᵀ x_pre"),
    (r"\frac{dt}{1000}\,\tau^{-1}", "dt/1000 τ⁻¹"),
    (r"\frac{a + b}{2}", "(a + b)/2"),
    (r"a\, e^{-dt/\tau_{pre}}", "a exp(-dt/τ_pre)"),
    (r"\mathrm{clip}\big(w, w_{min}, w_{max}\big)", "clip(w, w_min, w_max)"),
    (r"\textstyle\sum_k |w_{ik}|", "Σ_k |w_ik|"),
    (r"\epsilon = 10^{-4}", "ε = 10⁻⁴"),
    (r"\Delta w_{ij} \ge 0", "Δw_ij ≥ 0"),
    (r"\langle x \rangle_b", "⟨x⟩_b"),
    (r"A_2^+ + A_3^- r_2", "A_2⁺ + A_3⁻ r_2"),
    (r"u^\mu", "u^μ"),
    (r"\bar w_i", "w\u0304_i"),
    (r"f_\pm", "f_±"),
    (r"(\lambda\, x) \gg k_t", "(λ x) ≫ k_t"),
])
def test_latex_becomes_plain_text(latex: str, text: str) -> None:
    assert latex_to_text(latex) == text


def test_display_math_rows_align_at_the_ampersand_and_split_side_by_side_formulas() -> None:
    rows = math_rows(r"x &\leftarrow \lambda x + s, \qquad y \leftarrow y \\ w &= 1")
    assert rows == [("x", ["← λ x + s,", "y ← y"]), ("w", ["= 1"])]
    text = render(".. math::\n\n    x &\\leftarrow \\lambda x \\\\\n    ww &= 1\n", 80)
    assert text.splitlines() == ["     x ← λ x", "    ww = 1"]


def test_render_removes_roles_literals_and_emphasis_and_wraps_prose() -> None:
    doc = ("A rule (SPAIC ``nearest_online_STDP``) with :math:`a` = ``spike``, see "
           ":mod:`plastix.learners.spaic` and :class:`~plastix.Binding`; *emphasis* and "
           "**strong**, an escaped \\- sign, and words enough to need a second line here.")
    text = render(doc, 60)
    assert text.splitlines() == [
        "A rule (SPAIC nearest_online_STDP) with a = spike, see",
        "plastix.learners.spaic and Binding; emphasis and strong, an",
        "escaped - sign, and words enough to need a second line here."]


def test_render_keeps_code_and_list_items() -> None:
    doc = ("Example::\n\n    x = f(1)\n\n- one item that is long enough to wrap once, at forty"
           "\n- two\n\n>>> 1 + 1\n2\n")
    assert render(doc, 40).splitlines() == [
        "Example:", "", "    x = f(1)", "",
        "- one item that is long enough to wrap", "  once, at forty", "", "- two", "",
        "    >>> 1 + 1", "    2"]


def test_a_table_too_wide_for_the_terminal_becomes_one_line_per_row() -> None:
    doc = ("=====  ===================================  ====\n"
           "name   heading                              n\n"
           "=====  ===================================  ====\n"
           "a      :math:`\\eta_+`, a longer explanation  1\n"
           "b      two                                  2\n"
           "=====  ===================================  ====\n")
    assert render(doc, 80).splitlines() == [
        "  name  heading                    n",
        "  ----  -------------------------  -",
        "  a     η_+, a longer explanation  1",
        "  b     two                        2"]
    wide = ("=====  ==========================================  ====\n"
            "name   heading                                     n\n"
            "=====  ==========================================  ====\n"
            "a      :math:`\\eta_+`, a longer explanation, more  1\n"
            "b      two                                         2\n"
            "=====  ==========================================  ====\n")
    assert render(wide, 40).splitlines() == [
        "  a: heading η_+, a longer explanation,", "      more, n 1", "  b: heading two, n 2"]
