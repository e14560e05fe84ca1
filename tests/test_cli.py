"""The plastix command: list, info, run, plugins."""

from __future__ import annotations

import re

import pytest

from plastix._apps.cli import main


def test_list_shows_rules_aliases_and_provider(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("nearest_online_stdp", "full_online_stdp", "meta_nearest_online_stdp",
                 "postpreintstdp"):
        assert re.search(rf"^{name}\s", out, re.M), name
    assert "nearest_online_STDP" in out and "plastix" in out


def test_info_shows_equations_parameters_and_reference(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "nearest_online_STDP"]) == 0
    out = capsys.readouterr().out
    assert "w ← w + A_post s_postᵀ x_pre - A_pre x_postᵀ s_pre" in out  # the update, as text
    assert "Hyperparameters:" in out
    assert re.search(r"Apost\s+0\.01", out) and "w_norm" in out and "doi:" in out
    assert re.search(r"trace_pre\s+0\.95\d+\s+-\s+\[0, 1\]", out)  # default and range
    assert "trace_decay sets trace_pre, trace_post" in out


def test_run_reports_weights_bounds_and_speed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "nearest_online_stdp", "--pre", "50", "--post", "10", "--steps", "40",
                 "--rate", "50", "--batch", "2"]) == 0
    out = capsys.readouterr().out
    assert "weight mean" in out and "weight std" in out and "steps/s" in out
    assert "at w_min=0.0" in out and "at w_max=1.0" in out


def test_run_integer_rule_and_hyperparameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "postpreint", "--pre", "20", "--post", "5", "--steps", "10",
                 "--set", "nu1=200"]) == 0
    assert "(int32)" in capsys.readouterr().out


def test_errors_are_reported_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "nearest_onlin"]) == 1
    assert "did you mean 'nearest_online_stdp'" in capsys.readouterr().err
    assert main(["run", "nearest_online_stdp", "--steps", "5", "--set", "lr=1"]) == 1
    assert "never uses it" in capsys.readouterr().err


def test_plugins_all_lists_the_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--all"]) == 0
    out = capsys.readouterr().out
    assert "plastix.learners" in out and "register_rules" in out
    assert "nearest_online_stdp" in out and "numpy" in out
