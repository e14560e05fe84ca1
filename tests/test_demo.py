"""The demo's read-out, worked by hand, and its configuration."""

from __future__ import annotations

import numpy as np
import pytest

from plastix._demo import DemoConfig, assign_labels, classify
from plastix._demo_cli import quick_mode


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
