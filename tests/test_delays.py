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


DELAY_CASES = [  # (id, argument named, words, pre, delay)
    ("nan-delay", "delay", "finite", np.ones((1, 2)), np.array([[np.nan, 1.0]])),
    ("inf-delay", "delay", "finite", np.ones((1, 2)), np.array([[np.inf, 1.0]])),
    ("string-delay", "delay", "real numbers", np.ones((1, 2)), np.array([["a", "b"]])),
    ("nan-spike", "pre", "finite", np.array([[np.nan, 1.0]]), np.zeros((1, 2))),
    ("string-spikes", "pre", "host data", "ab", np.zeros((1, 2))),
    ("string-array-spikes", "pre", "real numbers", np.array([["0", "1"]]), np.zeros((1, 2))),
    ("ragged-spikes", "pre", "rectangular", [[1.0, 0.0], [1.0]], np.zeros((1, 2))),
    ("spikes-1d", "pre", "(batch, n_pre)", np.ones(2), np.zeros((1, 2))),
    ("spikes-3d", "pre", "(batch, n_pre)", np.ones((1, 1, 2)), np.zeros((1, 2))),
    ("complex-spikes", "pre", "real numbers", np.ones((1, 2), dtype=complex), np.zeros((1, 2))),
    ("delay-scalar", "delay", "n_pre", np.ones((1, 2)), 1.0),
    ("delay-wrong-width", "delay", "n_pre", np.ones((1, 2)), np.zeros((1, 3))),
    ("spikes-overflow-float32", "pre", "float32", np.full((1, 2), 1e300), np.zeros((1, 2))),
    ("spikes-other-batch", "pre", "reset()", np.ones((2, 2)), np.zeros((1, 2))),
]


@pytest.mark.parametrize("case", DELAY_CASES, ids=[c[0] for c in DELAY_CASES])
def test_bad_delay_line_input_changes_nothing(backend: str, case: tuple) -> None:
    _, argument, words, pre, delay = case
    line = px.DelayLine(max_delay=2, backend=backend)
    first = line.step(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    buffer, head = to_numpy(line._buffer).copy(), line._head
    with pytest.raises(px.StepInputError) as info:
        line.step(pre, delay)
    assert info.value.argument == argument and words in str(info.value), str(info.value)
    np.testing.assert_array_equal(to_numpy(line._buffer), buffer)
    assert line._head == head
    again = line.step(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]))  # still works: the
    np.testing.assert_array_equal(to_numpy(again), [[[1.0, 0.0]]])     # spike of step 1
    assert to_numpy(first).shape == (1, 1, 2)


@pytest.mark.parametrize("dtype", ["bogus", "float16", "bogus.float32", 3, None])
def test_a_delay_line_dtype_is_checked_when_made(dtype: object) -> None:
    with pytest.raises(px.StepInputError, match="'dtype'"):
        px.DelayLine(max_delay=1, dtype=dtype)  # type: ignore[arg-type]


def test_a_delay_line_accepts_numpy_dtypes() -> None:
    line = px.DelayLine(max_delay=1, dtype=np.float64)  # type: ignore[arg-type]
    assert line.dtype == "float64"
    assert line.step(np.ones((1, 2)), np.zeros((1, 2))).dtype == np.float64


def test_a_delay_buffer_that_cannot_be_allocated_is_refused_before_allocating() -> None:
    line = px.DelayLine(max_delay=2**40)
    with pytest.raises(px.StepInputError, match="'max_delay'") as info:
        line.step(np.ones((1, 2)), np.zeros((1, 2)))
    assert "TiB" in str(info.value) and line._buffer is None
