"""`plastix run` on rules that need a reward every step and learn values besides the weight."""

from __future__ import annotations

import pytest

from plastix._apps.cli import main


@pytest.mark.parametrize("rule", ["mstdp", "mstdpet", "delay_adjusted_mstdp", "triplet_stdp"])
def test_run_rules_with_signals_and_infinite_bounds(rule: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", rule, "--pre", "6", "--post", "3", "--steps", "30", "--rate", "200",
                 "--reward", "-0.5", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"rule {rule}" in out and "w_max" not in out  # no bound: nothing to report


def test_run_reports_learned_delays(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "delay_adjusted_mstdpd", "--pre", "6", "--post", "3", "--steps", "30",
                 "--rate", "200", "--no-progress"]) == 0
    assert "delay mean" in capsys.readouterr().out
