"""The command line's conventions: one line for every bad argument (never a traceback), a
non-zero exit, ``--version``, ``python -m plastix``, a bare ``plastix`` that prints its help,
quiet ends of broken pipes, ``--json`` for every listing and for ``run``, defaults in
``--help``, and ``run`` on a convolutional rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

import plastix as px
from plastix._apps.cli import main

RUN = ["run", "nearest_online_stdp", "--pre", "8", "--post", "4", "--steps", "5"]

# (arguments, the exit status, a word the one line must contain)
BAD = [
    (["run", "nearest_online_stdp", "--pre", "-3"], 2, "--pre"),
    (["run", "nearest_online_stdp", "--pre", "0"], 2, "--pre"),
    (["run", "nearest_online_stdp", "--pre", "lots"], 2, "--pre"),
    (["run", "nearest_online_stdp", "--post", "-1"], 2, "--post"),
    (["run", "nearest_online_stdp", "--seed", "-1"], 2, "--seed"),
    (["demo", "--seed", "-1"], 2, "--seed"),
    (["run", "nearest_online_stdp", "--pre", "100000000", "--post", "100000"], 2, "--pre"),
    (["run", "nearest_online_stdp", "--steps", "100000000000"], 2, "--steps"),
    (["run", "nearest_online_stdp", "--steps", "1"], 2, "--steps"),
    ([*RUN, "--set", "w_min=2"], 1, "w_min"),  # inverted bounds: the learner refuses them
    ([*RUN, "--set", "backend=1"], 2, "--backend"),
    ([*RUN, "--set", "seed=1"], 2, "--seed"),
    ([*RUN, "--set", "dtype=float64"], 2, "--dtype"),
    ([*RUN, "--set", "Apost"], 2, "--set"),
    (["run", "postpreintstdp", "--pre", "8", "--post", "4", "--steps", "5",
      "--set", "w_max=1e30"], 1, "w_max"),
    (["run", "postpreintstdp", "--pre", "8", "--post", "4", "--steps", "5",
      "--set", "w_max=3000000000"], 2, "w_max"),  # a bound its int32 weights cannot hold
    ([*RUN, "--rate", "-5"], 2, "--rate"),
    ([*RUN, "--rate", "nan"], 2, "--rate"),
    ([*RUN, "--rate", "inf"], 2, "--rate"),
    ([*RUN, "--rate", "5000"], 2, "--rate"),
    ([*RUN, "--dt", "0"], 2, "--dt"),
    ([*RUN, "--batch", "0"], 2, "--batch"),
    ([*RUN, "--reward", "nan"], 2, "--reward"),
    ([*RUN, "--kernel", "3,3"], 2, "--kernel"),
    ([*RUN, "--pre", "1,28,28"], 2, "--pre"),
    (["run", "norse_stdp_conv2d", "--pre", "784", "--steps", "5"], 2, "--pre"),
    (["run", "norse_stdp_conv2d", "--pre", "1,4,4", "--kernel", "5,5", "--steps", "5"], 2,
     "--kernel"),
    ([*RUN, "--set", "Apots=1"], 1, "Apots"),
    ([*RUN, "--backend", "nosuch"], 1, "nosuch"),
    ([*RUN, "--dtype", "int8"], 1, "dtype"),
    (["info", "no_such_rule"], 1, "no_such_rule"),
    (["nosuchcommand"], 2, "nosuchcommand"),
]


@pytest.mark.parametrize(("argv", "status", "word"), BAD, ids=[" ".join(b[0][:1] + b[0][-2:])
                                                                for b in BAD])
def test_a_bad_argument_is_one_line_and_a_non_zero_exit(
        argv: list[str], status: int, word: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == status
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and word in lines[0], captured.err
    assert "Traceback" not in captured.err


# CI installs deliberately broken plugins whose warnings go to stderr; the pipe tests are
# about plastix's own output, so they run with entry-point plugins off.
_WITHOUT_PLUGINS = {**os.environ, "PLASTIX_DISABLE_PLUGIN_AUTOLOAD": "1"}


def _plastix(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plastix", *args], capture_output=True,
                          text=True, timeout=120, **kw)  # type: ignore[call-overload]


def test_bad_arguments_from_a_shell_print_no_traceback() -> None:
    for argv, status in ((["run", "nearest_online_stdp", "--pre", "-3"], 2),
                         (["run", "postpreintstdp", "--set", "w_max=1e30"], 1)):
        proc = _plastix(*argv)
        assert proc.returncode == status and proc.stdout == ""
        assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr


def test_version_module_entry_point_and_bare_command_prints_help() -> None:
    proc = _plastix("--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"plastix {px.__version__}")
    proc = _plastix()
    assert proc.returncode == 0 and proc.stdout.startswith("usage: plastix")
    for command in ("list", "info", "run", "plugins", "demo"):
        assert command in proc.stdout
    proc = _plastix("list")
    assert proc.returncode == 0 and "nearest_online_stdp" in proc.stdout


@pytest.mark.parametrize("argv", [["list"], ["info", "norse_stdp"], ["list", "--json"]])
def test_a_reader_that_goes_away_ends_the_command_quietly(argv: list[str]) -> None:
    # the read end is closed before plastix writes, as `plastix list | head -0` does
    proc = subprocess.Popen([sys.executable, "-m", "plastix", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_WITHOUT_PLUGINS)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert err == ""


def test_head_of_a_listing_from_a_shell_is_quiet() -> None:
    proc = subprocess.run(f"{sys.executable} -m plastix info nearest_online_stdp | head -1",
                          shell=True, capture_output=True, text=True, timeout=120,
                          env=_WITHOUT_PLUGINS)
    assert proc.stdout.startswith("nearest_online_stdp") and proc.stderr == ""


def test_run_help_shows_every_default(capsys: pytest.CaptureFixture[str]) -> None:
    env = {"COLUMNS": "200"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        assert main(["run", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for option, default in [("--pre", "784, or 1,28,28"), ("--post", "100, or 8"),
                            ("--kernel", "5,5"), ("--steps", "350"), ("--rate", "20.0"),
                            ("--dt", "1.0"), ("--batch", "1"), ("--backend", "numpy"),
                            ("--dtype", "the rule's first"), ("--seed", "0"),
                            ("--reward", "1.0"), ("--progress", "on long runs in a terminal")]:
        start = text.index(f" {option}", text.index("options:"))
        assert f"(default: {default})" in text[start:start + 300], option


def test_demo_help_shows_the_defaults_and_where_the_figure_goes(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLUMNS", "200")
        assert main(["demo", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for option, default in [("--dataset", "digits"), ("--neurons", "100"), ("--epochs", "1"),
                            ("--seed", "0"), ("--backend", "numpy"),
                            ("--out", "plastix_demo.png in the current folder")]:
        start = text.index(f" {option}", text.index("options:"))
        assert f"(default: {default})" in text[start:start + 200], option


def test_plugins_and_run_speak_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--all", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    builtin = {p["name"]: p for p in record["plugins"]}
    assert "nearest_online_stdp" in builtin["plastix.learners"]["rules"]
    assert record["autoload"] is (os.environ.get("PLASTIX_DISABLE_PLUGIN_AUTOLOAD") is None)
    assert main([*RUN, "--json", "--batch", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["rule"], report["weight_shape"], report["batch"], report["steps"]) == \
        ("nearest_online_stdp", [4, 8], 2, 5)
    assert report["at_bounds"]["w_max"]["bound"] == 1.0 and report["steps_per_s"] > 0
    w = report["weight"]
    assert 0 <= w["changed"] <= 1 and w["max_abs_change"] >= 0


def test_run_drives_a_convolutional_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "norse_stdp_conv2d", "--pre", "2,9,9", "--post", "3", "--kernel",
                 "3x3", "--steps", "20", "--rate", "300", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["weight_shape"] == [3, 2, 3, 3]
    assert report["pre_shape"] == [2, 9, 9] and report["post_shape"] == [3, 7, 7]
    assert report["weight"]["changed"] > 0  # 300 Hz: pairs happen, the kernel learns
    assert main(["run", "stdp_step_conv2d", "--steps", "3"]) == 0  # the defaults: 1x28x28
    assert "weight 8x1x5x5" in capsys.readouterr().out


def test_run_same_seed_same_report(capsys: pytest.CaptureFixture[str]) -> None:
    reports = []
    for _ in range(2):
        assert main([*RUN, "--seed", "7", "--json"]) == 0
        reports.append(json.loads(capsys.readouterr().out)["weight"])
    assert reports[0] == reports[1]


@pytest.mark.parametrize(("raised", "status", "text"), [
    (KeyboardInterrupt(), 130, "plastix: interrupted"),
    (MemoryError(), 1, "plastix: error: out of memory"),
    (ValueError("a bug\nover two lines"), 3, "internal error: ValueError: a bug over two lines"),
])
def test_what_no_argument_check_caught_is_still_one_line(
        raised: BaseException, status: int, text: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from plastix._apps import show

    def broken(width: int | None = None) -> str:
        raise raised

    monkeypatch.delenv("PLASTIX_DEBUG", raising=False)
    monkeypatch.setattr(show, "rule_list", broken)
    assert main(["list"]) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and text in err
    if isinstance(raised, ValueError):  # a developer asks for the traceback
        monkeypatch.setenv("PLASTIX_DEBUG", "1")
        with pytest.raises(ValueError):
            main(["list"])


def test_a_command_that_stops_with_a_message_prints_it(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # e.g. the digits demo without scikit-learn: SystemExit("plastix demo needs ...")
    from plastix._apps import demo_mnist_cli

    def missing(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("plastix demo needs scikit-learn: python -m pip install 'plastix[demo]'")

    monkeypatch.setattr(demo_mnist_cli, "load_digits", missing)
    assert main(["demo", "--quick", "--out", str(tmp_path / "figure.png")]) == 2
    assert "plastix demo needs scikit-learn" in capsys.readouterr().err
