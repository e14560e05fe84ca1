"""The demo's read-out, worked by hand, and its configuration."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from plastix._apps.demo import DemoConfig, assign_labels, classify
from plastix._apps.demo_cli import quick_mode


def test_neurons_take_the_class_of_their_highest_mean_response() -> None:
    labels = np.array([0, 0, 1, 2])
    counts = np.array([[4, 0, 0], [2, 1, 0], [0, 6, 0], [1, 1, 0]], dtype=float)
    # neuron 0: means (3, 0, 1) -> class 0; neuron 1: (0.5, 6, 1) -> class 1; neuron 2 is
    # silent everywhere -> no class
    assert assign_labels(counts, labels).tolist()[:3] == [0, 1, -1]


def test_images_go_to_the_class_whose_neurons_fire_most_on_average() -> None:
    neuron_labels = np.array([0, 0, 1, -1])
    counts = np.array([[3, 1, 3, 9],     # class 0 mean 2, class 1 mean 3 -> 1
                       [4, 4, 3, 0],     # 4 against 3 -> 0
                       [0, 0, 0, 5]])    # silent labelled neurons: a tie, lowest class wins
    assert classify(counts, neuron_labels).tolist() == [1, 0, 0]


def test_w_norm_is_spaic_s_per_input_value_for_64_inputs() -> None:
    assert DemoConfig().w_norm == 78.4 / 784 * 64


def test_quick_mode_from_flag_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLASTIX_QUICK", raising=False)
    assert not quick_mode() and quick_mode(True)
    monkeypatch.setenv("PLASTIX_QUICK", "1")
    assert quick_mode()
    monkeypatch.setenv("PLASTIX_QUICK", "0")
    assert not quick_mode()
    q = DemoConfig().quick()
    assert q.train_limit is not None and q.steps <= DemoConfig().steps


def test_demo_without_matplotlib_says_where_the_figure_would_be(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from plastix._apps import demo_mnist_cli
    from plastix._apps.cli import main
    from plastix._apps.demo import DemoResult

    fake = DemoResult(accuracy=0.5, confusion=np.eye(10, dtype=np.int64),
                      weights=np.zeros((3, 64)), labels=np.array([0, 1, -1]), n_train=2,
                      n_test=10, seconds=0.0)
    monkeypatch.setattr(demo_mnist_cli, "run_dc", lambda cfg, data, **kw: fake)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    assert main(["demo", "--no-progress", "--out", "somewhere.png"]) == 0
    text = capsys.readouterr().out
    assert "test accuracy: 50.0%" in text
    assert "matplotlib is missing" in text and "somewhere.png" in text


def test_demo_rejects_bad_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    from plastix._apps.cli import main

    assert main(["demo", "--neurons", "0"]) == 2
    assert "--neurons" in capsys.readouterr().err


def test_the_torch_demo_learns_with_a_plastic_linear_layer_as_the_numpy_one() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from plastix._apps import demo
    from plastix.torch import PlasticLinear

    cfg = demo.DemoConfig(neurons=8, steps=20, retries=0)
    x = demo.load_digits(0, 0.25)[0][:6]
    w_np, theta_np = demo.train(cfg, x)
    torch_cfg = dataclasses.replace(cfg, backend="torch")
    assert isinstance(demo.plastic_synapse(torch_cfg, np.zeros((8, 64))).layer, PlasticLinear)
    w_t, theta_t = demo.train(torch_cfg, x)
    np.testing.assert_allclose(w_t.numpy(), w_np, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(theta_t.numpy(), theta_np, rtol=1e-5, atol=1e-6)
