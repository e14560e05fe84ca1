"""SPAIC's float rules against hand-worked cases and a scalar transcription of the equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close, to_numpy

DECAY = math.exp(-1 / 20)


def _pair(backend: str, rule: str, first: str, k: int, **hyper: float) -> np.ndarray:
    """Weights [0.4, 0.6] of one post neuron after one spike pair ``k`` steps apart."""
    stdp = px.Learner(algorithm=rule, backend=backend, dtype="float64", w_norm=1.0, **hyper)
    syn = stdp.bind(np.array([[0.4, 0.6]]))
    t_pre, t_post = (0, k) if first == "pre" else (k, 0)
    for t in range(k + 1):
        pre = np.array([[float(t == t_pre), 0.0]])
        post = np.array([[float(t == t_post)]])
        syn.step(pre, post, final=True)
    return to_numpy(syn.weight)[0]


@pytest.mark.parametrize("rule", ["nearest_online_stdp", "full_online_stdp"])
@pytest.mark.parametrize("k", [1, 2, 5, 20])
def test_single_pair_gives_the_exponential_window(backend: str, rule: str, k: int) -> None:
    # pre k steps before post: w0 gains Apost * decay**k before the row is rescaled to sum 1,
    # so the ratio of the two weights carries the change exactly.
    w = _pair(backend, rule, "pre", k)
    assert w[0] / w[1] == pytest.approx((0.4 + 1e-2 * DECAY**k) / 0.6, rel=1e-12)
    assert w.sum() == pytest.approx(1.0, rel=1e-12)
    # post k steps before pre: w0 loses Apre * decay**k
    w = _pair(backend, rule, "post", k)
    assert w[0] / w[1] == pytest.approx((0.4 - 1e-4 * DECAY**k) / 0.6, rel=1e-12)


def test_simultaneous_spikes_count_both_terms(backend: str) -> None:
    w = _pair(backend, "nearest_online_stdp", "pre", 0)
    assert w[0] / w[1] == pytest.approx((0.4 + 1e-2 - 1e-4) / 0.6, rel=1e-12)


def _scalar_reference(w: np.ndarray, pres: np.ndarray, posts: np.ndarray, *, nearest: bool,
                      normalise_every_step: bool, Apost: float = 1e-2, Apre: float = 1e-4,
                      d_pre: float = DECAY, d_post: float = DECAY, w_norm: float = 78.4,
                      lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """SPAIC's equations written out element by element in Python floats."""
    w = [list(map(float, row)) for row in w]
    n_post, n_pre = len(w), len(w[0])
    steps, batch = pres.shape[:2]
    x_pre = [[0.0] * n_pre for _ in range(batch)]
    x_post = [[0.0] * n_post for _ in range(batch)]
    for t in range(steps):
        for b in range(batch):
            for j in range(n_pre):
                s = float(pres[t, b, j])
                x_pre[b][j] = ((1 - s) * d_pre * x_pre[b][j] + s) if nearest \
                    else d_pre * x_pre[b][j] + s
            for i in range(n_post):
                s = float(posts[t, b, i])
                x_post[b][i] = ((1 - s) * d_post * x_post[b][i] + s) if nearest \
                    else d_post * x_post[b][i] + s
        for i in range(n_post):
            for j in range(n_pre):
                w[i][j] += sum(Apost * posts[t, b, i] * x_pre[b][j]
                               - Apre * x_post[b][i] * pres[t, b, j] for b in range(batch))
        if normalise_every_step or t == steps - 1:
            for i in range(n_post):
                norm = sum(abs(v) for v in w[i])
                w[i] = [w_norm * (v / norm) for v in w[i]]
        w = [[min(max(v, lo), hi) for v in row] for row in w]
    return np.array(w)


@pytest.mark.parametrize("rule,nearest,every", [("nearest_online_stdp", True, True),
                                                ("full_online_stdp", False, False)])
def test_small_network_matches_the_scalar_equations(backend: str, rule: str, nearest: bool,
                                                    every: bool) -> None:
    rng = np.random.default_rng(7)
    steps, batch, n_pre, n_post = 12, 3, 5, 4
    pres = (rng.random((steps, batch, n_pre)) < 0.4).astype(float)
    posts = (rng.random((steps, batch, n_post)) < 0.4).astype(float)
    w0 = rng.uniform(0.2, 0.8, (n_post, n_pre))
    hyper = dict(Apost=0.05, Apre=0.04, w_norm=2.5)
    syn = px.Learner(algorithm=rule, backend=backend, dtype="float64", **hyper).bind(
        w0.copy(), batch_size=batch)
    syn.run(pres, posts)
    expected = _scalar_reference(w0, pres, posts, nearest=nearest, normalise_every_step=every,
                                 Apost=0.05, Apre=0.04, w_norm=2.5)
    assert_close(syn.weight, expected, backend, rtol=1e-12, atol=1e-15)


def test_full_online_normalises_only_on_the_final_step(backend: str) -> None:
    rng = np.random.default_rng(3)
    pres = (rng.random((30, 1, 6)) < 0.3).astype(float)
    posts = (rng.random((30, 1, 3)) < 0.3).astype(float)
    w0 = rng.uniform(0.1, 0.3, (3, 6))
    stdp = px.Learner(algorithm="full_online_stdp", backend=backend, dtype="float64",
                      w_norm=1.5)
    syn = stdp.bind(w0.copy())
    syn.run(pres, posts, final=False)
    sums = to_numpy(syn.weight).sum(axis=1)
    assert not np.allclose(sums, 1.5)
    syn2 = stdp.bind(w0.copy())
    syn2.run(pres, posts)
    np.testing.assert_allclose(to_numpy(syn2.weight).sum(axis=1), 1.5, rtol=1e-12)


def test_nearest_online_bounds_hold_and_rows_are_normalised(backend: str) -> None:
    rng = np.random.default_rng(0)
    syn = px.Learner(algorithm="nearest_online_stdp", backend=backend, Apost=0.5).bind(
        rng.uniform(0, 1, (10, 40)), batch_size=4)
    syn.run(rng.random((60, 4, 40)) < 0.2, rng.random((60, 4, 10)) < 0.2)
    w = to_numpy(syn.weight)
    assert np.isfinite(w).all() and w.min() >= 0.0 and w.max() <= 1.0
    # w_norm 78.4 over 40 inputs asks for a mean of 1.96, so the clip at 1 binds
    assert np.isclose(w, 1.0).mean() > 0.5


def _meta_reference(w: np.ndarray, pres: np.ndarray, posts: np.ndarray) -> np.ndarray:
    """Meta_nearest_online_STDP's update, transcribed term by term (defaults)."""
    Apost, Apre = 1e-2, 1e-4
    d_pre, d_post = math.exp(-1 / 30), math.exp(-1 / 200)
    w = w.astype(float).copy()
    w_mean = w.mean(axis=1, keepdims=True)
    aw_mean = w_mean.mean()
    x_pre = np.zeros(pres.shape[1:])
    x_post = np.zeros(posts.shape[1:])
    for pre, post in zip(pres, posts, strict=True):
        x_pre = d_pre * x_pre * (pre <= 0) + pre
        x_post = d_post * x_post * (post <= 0) + post
        dw = Apost * post.T @ x_pre - Apre * x_post.T @ pre
        w_mean = w_mean - 0.1 * Apre * (x_post.mean(axis=0) - x_post.mean())[:, None]
        w_mean = w_mean * aw_mean / w_mean.mean()
        soft = (dw < 0) * np.exp(-0.2 / np.maximum(w - 0.0, 1e-4)) \
            + (dw > 0) * np.exp(-0.2 / np.maximum(1.0 - w, 1e-4))
        w = w * w_mean / np.maximum(w.mean(axis=1, keepdims=True), 1e-6) + dw * soft
    return w


def test_meta_matches_its_equations(backend: str) -> None:
    rng = np.random.default_rng(11)
    pres = (rng.random((15, 2, 6)) < 0.4).astype(float)
    posts = (rng.random((15, 2, 3)) < 0.4).astype(float)
    w0 = rng.uniform(0.2, 0.8, (3, 6))
    syn = px.Learner(algorithm="meta_nearest_online_stdp", backend=backend,
                     dtype="float64").bind(w0.copy(), batch_size=2)
    syn.run(pres, posts)
    assert_close(syn.weight, _meta_reference(w0, pres, posts), backend, rtol=1e-12)


def test_meta_row_means_survive_reset(backend: str) -> None:
    rng = np.random.default_rng(2)
    syn = px.Learner(algorithm="meta_nearest_online_stdp", backend=backend,
                     dtype="float64").bind(rng.uniform(0.2, 0.8, (3, 6)))
    syn.run(rng.random((5, 1, 6)) < 0.5, rng.random((5, 1, 3)) < 0.5)
    w_mean = to_numpy(syn.state["w_mean"]).copy()
    syn.reset()
    np.testing.assert_array_equal(to_numpy(syn.state["w_mean"]), w_mean)
    assert not to_numpy(syn.state["x_pre"]).any()


def test_meta_rejects_the_unused_w_norm() -> None:
    with pytest.raises(px.HyperparameterError, match="never uses it"):
        px.Learner(algorithm="meta_nearest_online_stdp", w_norm=1.2)
