"""`plastix run` on rules that need a reward every step, take other signals, or learn values
besides the weight: the report says which signal values were used and where they came from."""

from __future__ import annotations

import json

import pytest

from plastix._apps.cli import main

SMALL = ["--pre", "6", "--post", "3", "--steps", "30", "--rate", "200", "--no-progress"]


@pytest.mark.parametrize("rule", ["mstdp", "mstdpet", "delay_adjusted_mstdp"])
def test_run_rules_with_a_reward_and_infinite_bounds(rule: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", rule, *SMALL, "--reward", "-0.5"]) == 0
    out = capsys.readouterr().out
    assert f"rule {rule}" in out and "w_max" not in out  # no bound: nothing to report
    assert "reward       -0.5 at every step (--reward)" in out


def test_a_reward_left_out_is_said_to_be_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "mstdp", *SMALL]) == 0
    assert "reward       1.0 at every step (the default of --reward)" in capsys.readouterr().out


def test_a_rule_without_a_reward_refuses_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "triplet_stdp", *SMALL, "--reward", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--reward" in err and "takes no reward" in err
    assert main(["run", "triplet_stdp", *SMALL]) == 0


def test_optional_signals_are_reported_and_can_be_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "delay_adjusted_mstdp", *SMALL]) == 0
    out = capsys.readouterr().out
    assert "delay        0.0 at every step (the rule's default; --signal sets it)" in out
    assert main(["run", "delay_adjusted_mstdp", *SMALL, "--signal", "delay=2.5", "--json"]) == 0
    signals = json.loads(capsys.readouterr().out)["signals"]
    assert signals["delay"] == {"value": 2.5, "from": "--signal"}
    assert signals["reward"]["from"] == "the default of --reward"


def test_an_unknown_signal_names_the_rule_s_signals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "postpreintstdp", *SMALL, "--signal", "delay=1"]) == 2
    err = capsys.readouterr().err
    assert "no signal 'delay'" in err and "post_thresh" in err


def test_run_reports_learned_delays(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "delay_adjusted_mstdpd", *SMALL]) == 0
    assert "delay mean" in capsys.readouterr().out
