"""The Diehl and Cook demo's training loop: the queue of retries, checkpoints, resumption,
and the checks made before any training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from plastix._apps import demo_dc_train
from plastix._apps.demo_dc import DCConfig
from plastix._apps.demo_dc_run import Interrupted, run_dc
from plastix._apps.demo_dc_train import Progress

TINY = DCConfig(neurons=4, steps=20, batch=4, eval_batch=8, label_images=8, test_limit=8,
                curve_every=12, curve_images=4, retries=1)


def _data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    return {"x_train": rng.random((30, 16), dtype=np.float32),
            "y_train": rng.integers(0, 10, 30), "x_test": rng.random((8, 16), dtype=np.float32),
            "y_test": rng.integers(0, 10, 8)}


def test_retries_go_first_and_the_position_counts_only_fresh_images() -> None:
    prog = Progress(np.arange(10, 16), position=1, retry=[(3, 1)])
    jobs, position = prog.take(3)
    assert jobs == [(3, 1), (11, 0), (12, 0)] and position == 3
    prog.position = 6
    assert not prog.done
    prog.retry = []
    assert prog.done


def test_the_rates_rise_by_the_retry_rate_per_silent_showing() -> None:
    from plastix._apps.demo_dc import rates_of

    r = rates_of(DCConfig(), np.ones((2, 1)), np.array([0.0, 2.0]))
    assert r.ravel().tolist() == [63.75, 63.75 + 2 * 31.875]  # Diehl and Cook's intensities


def test_a_resumed_run_ends_as_the_uninterrupted_one(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    whole = run_dc(TINY, _data(), report=lambda s: None)
    real, calls = demo_dc_train.present, []

    def interrupted_at_the_third_batch(*args: Any) -> Any:
        out = real(*args)  # the weights have moved: the checkpoint must undo this batch
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(demo_dc_train, "present", interrupted_at_the_third_batch)
    with pytest.raises(Interrupted):
        run_dc(TINY, _data(), checkpoint=tmp_path / "ck", report=lambda s: None)
    assert (tmp_path / "ck" / "binding.npz").is_file()
    monkeypatch.setattr(demo_dc_train, "present", real)
    resumed = run_dc(DCConfig(), _data(), resume=tmp_path / "ck", report=lambda s: None)
    np.testing.assert_array_equal(resumed.weights, whole.weights)
    assert resumed.accuracy == whole.accuracy and resumed.curve == whole.curve
    assert resumed.settings == whole.settings  # the checkpoint's settings, not the caller's


@pytest.mark.parametrize("out, why", [("missing_dir/f.png", "does not exist"),
                                      ("f.unknown", "cannot write"), (".", "is a folder")])
def test_a_bad_out_path_fails_before_training(out: str, why: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    from plastix._apps import demo_mnist_cli
    from plastix._apps.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(demo_mnist_cli, "run_dc", lambda *a, **k: pytest.fail("trained"))
    for dataset in ("digits", "mnist"):
        assert main(["demo", "--dataset", dataset, "--out", out]) == 2
        assert why in capsys.readouterr().err


def test_resume_names_a_checkpoint_folder(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from plastix._apps.cli import main

    assert main(["demo", "--dataset", "mnist", "--resume", str(tmp_path),
                 "--out", str(tmp_path / "f.png")]) == 2
    assert "not a checkpoint folder" in capsys.readouterr().err


def test_the_figure_marks_classes_and_silent_neurons(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from plastix._apps.demo_plot import save_figure

    result = run_dc(TINY, _data(), report=lambda s: None)
    result.labels[0] = -1
    path = save_figure(result, tmp_path / "f.png")
    assert path.stat().st_size > 10000 and result.curve and result.split == "test"


def test_the_digits_settings_scale_the_threshold_rise_with_the_neurons() -> None:
    assert DCConfig.digits(100).theta_plus == 0.125 and DCConfig.digits(400).theta_plus == 0.5
    quick = DCConfig.digits(400).quick()
    assert quick.dataset == "digits" and quick.neurons == 30 and quick.train_limit == 300
