"""DelayLine: spikes delivered after whole-step delays from a ring buffer, compared with a
plain history of the inputs."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import plastix as px
import plastix._runtime.delays
from tests.conftest import assert_close, to_numpy


def test_docstring_example_runs() -> None:
    assert doctest.testmod(plastix._runtime.delays).failed == 0


def test_arrivals_match_the_input_history(backend: str) -> None:
    """Random spikes, per-synapse delays 0..3 steps (3 > max_delay = 2 is clamped to 2)."""
    rng = np.random.default_rng(1)
    batch, n_post, n_pre, steps = 2, 3, 4, 12
    delay = np.array([[0, 1, 2, 3], [3, 2, 1, 0], [1, 1, 0, 2]], dtype=float)
    k = np.minimum(delay, 2).astype(int)
    history = (rng.random((steps, batch, n_pre)) < 0.4).astype(float)
    line = px.DelayLine(max_delay=2, backend=backend, dtype="float64")
    for t in range(steps):
        arrived = line.step(history[t], delay)
        expected = np.zeros((batch, n_post, n_pre))
        for i in range(n_post):
            for j in range(n_pre):
                if t - k[i, j] >= 0:
                    expected[:, i, j] = history[t - k[i, j], :, j]
        assert_close(arrived, expected, backend)


def test_per_input_delays(backend: str) -> None:
    line = px.DelayLine(max_delay=1, backend=backend, dtype="float64")
    first = line.step(np.array([[1.0, 1.0]]), np.array([0.0, 1.0]))
    second = line.step(np.array([[0.0, 0.0]]), np.array([0.0, 1.0]))
    assert_close(first, [[1.0, 0.0]], backend)
    assert_close(second, [[0.0, 1.0]], backend)


@pytest.mark.parametrize(("rounding", "expected"), [("round", [0, 2, 2, 1, 3]),
                                                    ("ceil", [0, 2, 3, 1, 3]),
                                                    ("floor", [0, 1, 2, 1, 3])])
def test_ms_to_steps_rounding_and_clamping(backend: str, rounding: str,
                                           expected: list[int]) -> None:
    line = px.DelayLine(max_delay=3, backend=backend, dt=0.5, rounding=rounding)
    # ms: -1 (clamped to 0), 0.75 (1.5 steps), 1.25 (2.5 steps), 0.5 (1 step), 9 (clamped)
    steps = line.steps(np.array([-1.0, 0.75, 1.25, 0.5, 9.0]))
    assert to_numpy(steps).tolist() == expected


def test_current_weights_the_arrivals(backend: str) -> None:
    line = px.DelayLine(max_delay=1, backend=backend, dtype="float64")
    w = np.array([[2.0, 3.0]])
    delay = np.array([[0.0, 1.0]])
    assert_close(line.current(np.array([[1.0, 1.0]]), w, delay), [[2.0]], backend)
    assert_close(line.current(np.array([[0.0, 0.0]]), w, delay), [[3.0]], backend)


def test_from_binding_reads_the_learned_delays(backend: str) -> None:
    syn = px.Learner("delay_adjusted_mstdpd", backend=backend, dtype="float64") \
        .bind(np.zeros((1, 2)))
    syn.backend.assign(syn.delay, syn.backend.asarray(np.array([[1.0, 0.0]]), "float64"))
    line = px.DelayLine.from_binding(syn, max_delay=2)
    assert_close(line.step(np.array([[1.0, 1.0]])), [[[0.0, 1.0]]], backend)
    assert_close(line.step(np.array([[0.0, 0.0]])), [[[1.0, 0.0]]], backend)


def test_reset_forgets(backend: str) -> None:
    line = px.DelayLine(max_delay=1, backend=backend, dtype="float64")
    line.step(np.array([[1.0]]), np.array([1.0]))
    line.reset()
    assert_close(line.step(np.array([[0.0]]), np.array([1.0])), [[0.0]], backend)


def test_errors() -> None:
    with pytest.raises(px.StepInputError, match="'max_delay'"):
        px.DelayLine(max_delay=-1)
    with pytest.raises(px.StepInputError, match="'rounding'"):
        px.DelayLine(max_delay=1, rounding="nearest")
    with pytest.raises(px.StepInputError, match="'dt'"):
        px.DelayLine(max_delay=1, dt=0)
    line = px.DelayLine(max_delay=1)
    with pytest.raises(px.StepInputError, match="'delay'"):
        line.step(np.zeros((1, 3)), np.zeros((2, 2)))
    with pytest.raises(px.StepInputError, match="not bound"):
        line.step(np.zeros((1, 3)))
    line.step(np.zeros((1, 3)), np.zeros(3))
    with pytest.raises(px.StepInputError, match="reset"):
        line.step(np.zeros((2, 3)), np.zeros(3))
    syn = px.Learner("mstdp").bind(np.zeros((2, 3)))
    with pytest.raises(px.StepInputError, match="learns 'delay'"):
        px.DelayLine.from_binding(syn, 3)
