"""Classic all-to-all STDP (Song, Miller and Abbott; Brian2's example) against closed forms and
an event-driven transcription of Brian2's synapse code."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close, to_numpy
from tests.learners._pair import DELAYS, pair_change, times

HYPER = dict(Apre=1e-3, Apost=-1.2e-3, taupre=2.0, taupost=1.0, wmax=0.05)


@pytest.mark.parametrize("delay", DELAYS)
def test_one_pair_gives_the_exponential_window(backend: str, delay: int) -> None:
    dt = 0.1
    lag = abs(delay) * dt  # ms
    change = 1e-3 * math.exp(-lag / 2.0) if delay >= 0 else -1.2e-3 * math.exp(-lag / 1.0)
    w = pair_change(backend, "song_abbott_stdp", 0.02, *times(delay), dt=dt, **HYPER)
    assert w == pytest.approx(0.02 + change, rel=1e-12)


def test_traces_add_up_all_to_all(backend: str) -> None:
    # pre spikes at steps 0 and 1, post at 3 (dt = 1 ms, tau = 20 ms): both pairs count
    syn = px.Learner("brian2_stdp", backend=backend, dtype="float64").bind(
        np.array([[0.005]]))
    for t in range(4):
        syn.step(np.array([[float(t in (0, 1))]]), np.array([[float(t == 3)]]))
    d = math.exp(-1 / 20)
    assert to_numpy(syn.weight)[0, 0] == pytest.approx(0.005 + 1e-4 * (d ** 3 + d ** 2),
                                                       rel=1e-12)


def test_pre_pathway_clips_before_the_post_pathway(backend: str) -> None:
    # post at step 0; pre and post at step 1. Pre pathway: w + Apost d < 0 is clipped to 0;
    # post pathway: + Apre (this step's pre jump). One clip at the end would give w + ... > 0.
    syn = px.Learner("classic_stdp", backend=backend, dtype="float64").bind(np.array([[2e-5]]))
    syn.step(np.array([[0.0]]), np.array([[1.0]]))
    syn.step(np.array([[1.0]]), np.array([[1.0]]))
    assert to_numpy(syn.weight)[0, 0] == pytest.approx(1e-4, rel=1e-9)


def test_upper_bound_and_gmax_alias(backend: str) -> None:
    assert pair_change(backend, "song_abbott_stdp", 0.00995, 0, 1) == 0.01
    assert pair_change(backend, "song_abbott_stdp", 0.0099, 0, 1, gmax=0.02) == \
        pytest.approx(0.0099 + 1e-4 * math.exp(-1 / 20), rel=1e-12)


def _brian2_event_driven(w: np.ndarray, pres: np.ndarray, posts: np.ndarray, dt: float,
                         Apre: float = 1e-4, Apost: float = -1.05e-4, tau: float = 20.0,
                         wmax: float = 0.01) -> np.ndarray:
    """Brian2's synapse code per synapse: traces decayed exactly since the last event."""
    w = w.copy()
    n_post, n_pre = w.shape
    apre, apost = np.zeros_like(w), np.zeros_like(w)
    last = np.zeros_like(w)
    for step, (pre, post) in enumerate(zip(pres, posts, strict=True)):
        t = step * dt
        for i in range(n_post):
            for j in range(n_pre):
                if pre[j] or post[i]:
                    apre[i, j] *= math.exp(-(t - last[i, j]) / tau)
                    apost[i, j] *= math.exp(-(t - last[i, j]) / tau)
                    last[i, j] = t
                if pre[j]:  # on_pre runs first
                    apre[i, j] += Apre
                    w[i, j] = min(max(w[i, j] + apost[i, j], 0.0), wmax)
                if post[i]:
                    apost[i, j] += Apost
                    w[i, j] = min(max(w[i, j] + apre[i, j], 0.0), wmax)
    return w


def test_matches_brian2_event_driven_code(backend: str) -> None:
    rng = np.random.default_rng(4)
    w0 = rng.uniform(0, 0.01, (3, 5))
    pres = (rng.random((200, 5)) < 0.1) * 1.0
    posts = (rng.random((200, 3)) < 0.1) * 1.0
    syn = px.Learner("song_abbott_stdp", backend=backend, dtype="float64").bind(
        w0.copy(), dt=0.5)
    syn.run(pres[:, None], posts[:, None])
    expected = _brian2_event_driven(w0, pres, posts, 0.5)
    assert_close(syn.weight, expected, backend, rtol=1e-10, atol=1e-15)
    w = to_numpy(syn.weight)
    assert np.isfinite(w).all() and w.min() >= 0 and w.max() <= 0.01


def test_names_and_docs() -> None:
    for name in ("brian2_stdp", "classic_stdp", "Song_Abbott_STDP"):
        assert px.Learner(name).name == "song_abbott_stdp"
    assert "taupre" in px.info("song_abbott_stdp") and "ms" in px.info("song_abbott_stdp")


def test_each_pathway_is_a_seam(backend: str) -> None:
    # an intercept sees each pathway's change, depression then potentiation (Brian2's order),
    # so a data-parallel all-reduce can apply each before its own clip; identity: no change
    seen = []

    def hook(dw: object) -> object:
        seen.append(to_numpy(dw).copy())
        return dw

    runs = []
    for intercept in (False, True):
        syn = px.Learner("song_abbott_stdp", backend=backend, dtype="float64").bind(
            np.array([[0.005, 0.005]]))
        if intercept:
            syn.intercept("weight", hook)
        syn.step(np.array([[1.0, 0.0]]), np.array([[0.0]]))
        syn.step(np.array([[0.0, 1.0]]), np.array([[1.0]]))
        runs.append(to_numpy(syn.weight))
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-15)
    d = math.exp(-1 / 20)
    assert len(seen) == 4  # two steps, two pathways each
    np.testing.assert_array_equal(seen[2], [[0.0, 0.0]])  # no post spike before: no LTD
    np.testing.assert_allclose(seen[3], [[1e-4 * d, 1e-4]], rtol=1e-12)


def _brian2_clock_driven(w: np.ndarray, pres: np.ndarray, posts: np.ndarray, dt: float,
                         Apre: float = 1e-4, Apost: float = -1.05e-4, tau: float = 20.0,
                         wmax: float = 0.01) -> np.ndarray:
    """Brian2's clock-driven (method='exact') synapse code: every trace decays by
    exp(-dt/tau) at each step, then the pre pathway, then the post pathway."""
    w = w.copy()
    apre, apost = np.zeros_like(w), np.zeros_like(w)
    for pre, post in zip(pres, posts, strict=True):
        apre *= math.exp(-dt / tau)
        apost *= math.exp(-dt / tau)
        fired_pre, fired_post = pre.astype(bool)[None, :], post.astype(bool)[:, None]
        apre = np.where(fired_pre, apre + Apre, apre)
        w = np.where(fired_pre, np.clip(w + apost, 0.0, wmax), w)
        apost = np.where(fired_post, apost + Apost, apost)
        w = np.where(fired_post, np.clip(w + apre, 0.0, wmax), w)
    return w


@pytest.mark.parametrize("method", ["event", "clock"])
def test_both_brian2_forms_match_their_transcriptions(backend: str, method: str) -> None:
    """Brian2's event-driven and clock-driven forms are the same equations; each plastix
    method matches both transcriptions to rounding (the forms differ in when they decay)."""
    rng = np.random.default_rng(11)
    w0 = rng.uniform(0, 0.01, (3, 5))
    pres, posts = (rng.random((80, 5)) < 0.15) * 1.0, (rng.random((80, 3)) < 0.15) * 1.0
    syn = px.Learner("song_abbott_stdp", backend=backend, dtype="float64",
                     method=method).bind(w0.copy(), dt=0.5)
    for pre, post in zip(pres, posts, strict=True):
        syn.step(pre[None], post[None])
    for reference in (_brian2_clock_driven, _brian2_event_driven):
        expected = reference(w0, pres, posts, 0.5)
        assert not np.allclose(expected, w0)
        assert_close(syn.weight, expected, backend, rtol=1e-12, atol=1e-17)


def test_an_unknown_method_names_the_choices() -> None:
    with pytest.raises(px.HyperparameterError, match=r"'method'.*'event', 'clock'"):
        px.Learner("song_abbott_stdp", method="exact")
