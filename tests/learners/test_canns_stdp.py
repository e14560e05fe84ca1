"""canns's STDPTrainer rule (compiled path): closed forms, hand steps, a transcribed train loop."""

from __future__ import annotations

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close, to_numpy
from tests.learners._pair import DELAYS, pair_change, times

LR, A_PLUS, A_MINUS, DECAY = 0.01, 0.005, 0.00525, 0.95


@pytest.mark.parametrize("delay", DELAYS)
def test_one_pair_gives_the_geometric_window(backend: str, delay: int) -> None:
    # each trace jumps by 1 and shrinks by 0.95 per step; same-step spikes count both terms
    ltp = LR * A_PLUS * DECAY ** delay if delay >= 0 else 0.0
    ltd = LR * A_MINUS * DECAY ** -delay if delay <= 0 else 0.0
    w = pair_change(backend, "canns_stdp", 0.5, *times(delay))
    assert w == pytest.approx(0.5 + ltp - ltd, rel=1e-12)


def test_graded_input_by_hand(backend: str) -> None:
    syn = px.Learner("STDPTrainer", backend=backend, dtype="float64", learning_rate=1.0,
                     A_plus=0.1, A_minus=0.2, trace_decay=0.5).bind(np.array([[0.5, 0.5]]))
    syn.step(np.array([[0.4, 0.0]]), np.array([[0.0]]))
    # trace_pre = [0.4, 0]; no post: only LTD = 0.2 * trace_post(0) * x = 0
    syn.step(np.array([[0.0, 1.0]]), np.array([[1.0]]))
    # trace_pre = [0.2, 1], trace_post = 1: dW = 0.1 * [0.2, 1] - 0.2 * 1 * [0, 1]
    assert_close(syn.weight, [[0.5 + 0.02, 0.5 + 0.1 - 0.2]], backend, rtol=1e-12)


def test_clip_and_no_nan(backend: str) -> None:
    assert pair_change(backend, "canns_stdp", 0.0, 3, 0) == 0.0
    assert pair_change(backend, "canns_stdp", 1.0, 0, 3) == 1.0
    rng = np.random.default_rng(0)
    syn = px.Learner("canns", backend=backend, learning_rate=10.0).bind(
        rng.normal(0, 0.05, (4, 6)), batch_size=2)
    syn.run(rng.random((30, 2, 6)), (rng.random((30, 2, 4)) < 0.5) * 1.0)
    w = to_numpy(syn.weight)
    assert np.isfinite(w).all() and w.min() >= 0.0 and w.max() <= 1.0


def _canns_train(w: np.ndarray, patterns: np.ndarray, threshold: float = 1.0,
                 leak: float = 0.9) -> tuple[np.ndarray, list[np.ndarray]]:
    """canns's compiled train() loop as its source describes it, in plain NumPy."""
    w = w.copy()
    tr_pre, tr_post, v = np.zeros(w.shape[1]), np.zeros(w.shape[0]), np.zeros(w.shape[0])
    spikes = []
    for x in patterns:
        tr_pre = DECAY * tr_pre + x
        v = leak * v + w @ x
        s = (v >= threshold).astype(float)
        v = np.where(s > 0, 0.0, v)
        tr_post = DECAY * tr_post + s
        w = np.clip(w + LR * (A_PLUS * np.outer(s, tr_pre) - A_MINUS * np.outer(tr_post, x)),
                    0.0, 1.0)
        spikes.append(s)
    return w, spikes


def test_matches_a_transcription_of_the_canns_train_loop(backend: str) -> None:
    rng = np.random.default_rng(5)
    w0 = rng.uniform(0.0, 0.6, (3, 8))
    patterns = (rng.random((25, 8)) < 0.4) * 1.0
    expected, spikes = _canns_train(w0, patterns)
    syn = px.Learner("canns_stdp", backend=backend, dtype="float64").bind(w0.copy())
    for x, s in zip(patterns, spikes, strict=True):
        syn.step(x[None], s[None])
    assert sum(s.sum() for s in spikes) > 0
    assert_close(syn.weight, expected, backend, rtol=1e-12)


def test_trainer_options_are_rejected_with_a_reason() -> None:
    with pytest.raises(px.HyperparameterError, match="bind the weight"):
        px.Learner("canns_stdp", weight_attr="W")
    with pytest.raises(px.HyperparameterError, match=r"'compiled'.*True or False"):
        px.Learner("canns_stdp", compiled="no")
    assert "trace_decay" in px.info("canns_stdp") and "compiled" in px.info("canns_stdp")


@pytest.mark.parametrize("delay", DELAYS)
def test_uncompiled_pairs_with_the_traces_of_the_step_before(backend: str, delay: int) -> None:
    # canns's Python loop reads the traces saved before the forward pass: a pair k >= 1 steps
    # apart meets a trace decayed k - 1 times, and a same-step pair meets no trace at all
    ltp = LR * A_PLUS * DECAY ** (delay - 1) if delay > 0 else 0.0
    ltd = LR * A_MINUS * DECAY ** (-delay - 1) if delay < 0 else 0.0
    w = pair_change(backend, "canns_stdp", 0.5, *times(delay), compiled=False)
    assert w == pytest.approx(0.5 + ltp - ltd, rel=1e-12)


def _canns_train_uncompiled(w: np.ndarray, pre: np.ndarray, post: np.ndarray) -> np.ndarray:
    """canns's _train_uncompiled as its source reads, with the post spikes given."""
    w = w.copy()
    tr_pre, tr_post = np.zeros(w.shape[1]), np.zeros(w.shape[0])
    for x, s in zip(pre, post, strict=True):
        before_pre, before_post = tr_pre, tr_post
        tr_pre = DECAY * tr_pre + x
        tr_post = DECAY * tr_post + s
        w = np.clip(w + LR * (A_PLUS * np.outer(s, before_pre)
                              - A_MINUS * np.outer(before_post, x)), 0.0, 1.0)
    return w


def test_uncompiled_matches_a_transcription_of_the_python_loop(backend: str) -> None:
    rng = np.random.default_rng(8)
    w0 = rng.uniform(0.0, 1.0, (3, 7))
    pre, post = (rng.random((40, 7)) < 0.4) * 1.0, (rng.random((40, 3)) < 0.4) * 1.0
    syn = px.Learner("canns_stdp", backend=backend, dtype="float64", compiled=False).bind(
        w0.copy())
    for x, s in zip(pre, post, strict=True):
        syn.step(x[None], s[None])
    expected = _canns_train_uncompiled(w0, pre, post)
    assert not np.allclose(expected, w0)
    assert_close(syn.weight, expected, backend, rtol=1e-12)
