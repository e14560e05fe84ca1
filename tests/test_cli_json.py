"""``plastix list --json`` and ``plastix info NAME --json``: strict JSON a program can read."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

import plastix as px
from plastix._apps.cli import main


def _strict(text: str) -> object:
    def refuse(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_info_json_has_names_provider_and_hyperparameters(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "nearest_online_STDP", "--json"]) == 0  # an alias, any case
    record = _strict(capsys.readouterr().out)
    assert isinstance(record, dict)
    assert record["name"] == "nearest_online_stdp"
    assert "nearest_online_STDP" in record["aliases"] and record["provider"] == "plastix"
    assert record["summary"] and ".. math::" in record["docstring"]
    assert "float32" in record["dtypes"]
    hyper = {h["name"]: h for h in record["hyperparameters"]}
    assert hyper["Apost"]["default"] == 0.01
    assert hyper["trace_pre"]["low"] == 0 and hyper["trace_pre"]["high"] == 1
    assert set(hyper["Apost"]) == {"name", "default", "unit", "doc", "low", "high", "open_low",
                                   "choices"}
    assert record["param_aliases"]["trace_decay"] == ["trace_pre", "trace_post"]


def test_info_json_writes_infinite_bounds_and_choices_as_plain_values(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "mstdp", "--json"]) == 0
    hyper = {h["name"]: h for h in _strict(capsys.readouterr().out)["hyperparameters"]}
    assert hyper["w_min"]["default"] == "-inf" and float(hyper["w_min"]["default"]) == -math.inf
    assert main(["info", "norse_stdp", "--json"]) == 0
    hyper = {h["name"]: h for h in _strict(capsys.readouterr().out)["hyperparameters"]}
    assert "additive" in hyper["stdp_algorithm"]["choices"]


def test_list_json_is_every_rule_with_its_record(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    records = _strict(capsys.readouterr().out)
    assert isinstance(records, list)
    assert [r["name"] for r in records] == px.rules()
    for r in records:
        assert r["provider"] and isinstance(r["hyperparameters"], list), r["name"]
        defaults = {h["name"]: h["default"] for h in r["hyperparameters"]}
        finite = {k: v for k, v in px.find_rule(r["name"]).make_params({}).__dict__.items()
                  if not (isinstance(v, float) and not math.isfinite(v))}
        assert {k: defaults[k] for k in finite} == finite, r["name"]


def test_unknown_rule_with_json_is_an_error_on_stderr() -> None:
    proc = subprocess.run([sys.executable, "-m", "plastix._apps.cli", "info", "no_such_rule",
                           "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "no_such_rule" in proc.stderr
