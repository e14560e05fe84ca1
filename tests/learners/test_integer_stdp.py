"""PostPreIntSTDP: exact integer arithmetic, unbiased stochastic rounding, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close, to_numpy


def _learner(backend: str, **hyper: int) -> px.Learner:
    return px.Learner(algorithm="PostPreIntSTDP", backend=backend, **hyper)


def test_traces_decay_by_integer_shifts(backend: str) -> None:
    syn = _learner(backend).bind(np.zeros((1, 1), dtype=np.int32))
    syn.step(np.array([[1]]), np.array([[0]]))
    expected = 127
    assert int(to_numpy(syn.state["x_pre"])[0, 0]) == expected
    for _ in range(3):
        syn.step(np.array([[0]]), np.array([[0]]))
        expected = (31169 * expected) >> 15  # 127 -> 120 -> 114 -> 108
        assert int(to_numpy(syn.state["x_pre"])[0, 0]) == expected
    assert expected == 108


def test_without_fractional_bits_the_update_is_exact(backend: str) -> None:
    # shift=0 leaves nothing to round: w += x_pre * nu1 on a post spike
    syn = _learner(backend, shift=0, nu0=3, nu1=1, w_max=1000).bind(
        np.full((2, 2), 50, dtype=np.int32))
    syn.step(np.array([[1, 0]]), np.array([[0, 0]]))  # pre 0 fires: x_post is 0, no change
    syn.step(np.array([[0, 0]]), np.array([[0, 0]]))
    syn.step(np.array([[0, 0]]), np.array([[1, 0]]))  # post 0 fires, x_pre[0] = 114
    expected = np.full((2, 2), 50)
    expected[0, 0] += 114
    assert_close(syn.weight, expected, backend)
    syn.step(np.array([[0, 1]]), np.array([[0, 0]]))  # pre 1 fires: x_post[0] = 120 -> +360
    expected[0, 1] += 120 * 3
    assert_close(syn.weight, expected, backend)


def test_stochastic_rounding_is_unbiased(backend: str) -> None:
    # pre and post fire together: every synapse gains sr(127*141) + sr(127*14) with 14
    # fractional bits, i.e. 1 + Bernoulli(1523/16384) + Bernoulli(1778/16384) on average.
    n_post, n_pre = 100, 784
    syn = _learner(backend, w_max=10_000).bind(np.zeros((n_post, n_pre), dtype=np.int32))
    syn.step(np.ones((1, n_pre), dtype=np.int32), np.ones((1, n_post), dtype=np.int32))
    w = to_numpy(syn.weight)
    p1, p2 = (127 * 141 - 16384) / 16384, 127 * 14 / 16384
    assert set(np.unique(w)) <= {1, 2, 3}
    sigma = np.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / w.size)
    assert abs(w.mean() - (1 + p1 + p2)) < 5 * sigma


def test_same_seed_same_result_other_seed_other_result(backend: str) -> None:
    rng = np.random.default_rng(5)
    pre = (rng.random((20, 1, 30)) < 0.3).astype(np.int32)
    post = (rng.random((20, 1, 8)) < 0.3).astype(np.int32)
    w0 = rng.integers(20, 90, (8, 30)).astype(np.int32)
    results = []
    for seed in (1, 1, 2):
        syn = _learner(backend).bind(w0.copy(), seed=seed)
        syn.run(pre, post)
        results.append(to_numpy(syn.weight).copy())
    np.testing.assert_array_equal(results[0], results[1])
    assert (results[0] != results[2]).any()


def test_rows_of_neurons_over_threshold_are_halved(backend: str) -> None:
    syn = _learner(backend).bind(np.full((2, 3), 101, dtype=np.int32))
    zeros_pre, zeros_post = np.zeros((1, 3), np.int32), np.zeros((1, 2), np.int32)
    syn.step(zeros_pre, zeros_post, post_thresh=np.array([5000.0, 4915.0]))
    assert_close(syn.weight, [[50, 50, 50], [101, 101, 101]], backend)
    syn.step(zeros_pre, zeros_post)  # post_thresh defaults to 0: nothing halves
    assert_close(syn.weight, [[50, 50, 50], [101, 101, 101]], backend)


def test_weights_stay_integer_and_bounded(backend: str) -> None:
    rng = np.random.default_rng(0)
    syn = _learner(backend, nu1=4000).bind(rng.integers(0, 109, (5, 9)).astype(np.int32),
                                           batch_size=2)
    syn.run((rng.random((40, 2, 9)) < 0.4).astype(np.int32),
            (rng.random((40, 2, 5)) < 0.4).astype(np.int32))
    w = to_numpy(syn.weight)
    assert w.dtype == np.int32 and w.min() >= 0 and w.max() <= 109
    assert (w == 109).any()


def test_float_dtype_is_refused() -> None:
    with pytest.raises(px.HyperparameterError, match="int32"):
        px.Learner(algorithm="postpreintstdp", dtype="float64")
