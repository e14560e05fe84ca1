"""norse's STDP (dense and conv2d) against closed forms, hand-worked steps and loop references."""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close, needs_torch, to_numpy
from tests.learners._pair import DELAYS, pair_change, times

ALGORITHMS = ["additive", "additive_step", "multiplicative_pow", "multiplicative_relu"]
HYPER = dict(a_pre=0.5, a_post=2.0, tau_pre_inv=10.0, tau_post_inv=40.0, eta_plus=0.01,
             eta_minus=0.02, mu=0.5, w_min=0.1, w_max=0.9)


def _factors(algorithm: str, w: float) -> tuple[float, float]:
    up, down = HYPER["w_max"] - w, w - HYPER["w_min"]
    return {"additive": (1.0, 1.0),
            "additive_step": (float(up > 0), float(down > 0)),
            "multiplicative_pow": (up ** 0.5, down ** 0.5),
            "multiplicative_relu": (max(up, 0.0), max(down, 0.0))}[algorithm]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("delay", DELAYS)
def test_one_pair_gives_the_euler_window(backend: str, algorithm: str, delay: int) -> None:
    # dt = 0.5 ms = 5e-4 s: the pre trace jumps by r a_pre with r = 5e-4 * 10 and decays by
    # (1 - r) per step; the post trace likewise with 40 /s.
    dt, w0 = 0.5, 0.3
    r_pre, r_post = dt / 1000 * 10.0, dt / 1000 * 40.0
    f_plus, f_minus = _factors(algorithm, w0)
    ltp = 0.01 * f_plus * r_pre * 0.5 * (1 - r_pre) ** delay if delay >= 0 else 0.0
    ltd = 0.02 * f_minus * r_post * 2.0 * (1 - r_post) ** -delay if delay <= 0 else 0.0
    w = pair_change(backend, "norse_stdp", w0, *times(delay), dt=dt, stdp_algorithm=algorithm,
                    **HYPER)
    assert w == pytest.approx(w0 + ltp - ltd, rel=1e-12, abs=1e-15)


def test_two_steps_by_hand(backend: str) -> None:
    # defaults: r = 0.001 s * 20 /s = 0.02, eta = 1e-3, additive, bounds [0, 1]
    syn = px.Learner("stdp_step_linear", backend=backend, dtype="float64").bind(
        np.array([[0.5, 0.5]]), batch_size=2)
    pre1, post1 = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[0.0], [0.0]])
    syn.step(pre1, post1)
    # step 1: x_pre = 0.02 * pre; no post spike and x_post = 0: nothing changes
    assert_close(syn.x_pre, [[0.02, 0.0], [0.02, 0.02]], backend)
    assert_close(syn.weight, [[0.5, 0.5]], backend)
    syn.step(np.array([[0.0, 0.0], [0.0, 1.0]]), np.array([[1.0], [0.0]]))
    # step 2: x_pre = 0.98 x_pre + 0.02 pre = [[0.0196, 0], [0.0196, 0.0396]];
    # x_post = [[0.02], [0]]; LTP = 1e-3 * sum_b post_b x_pre_b = 1e-3 * [0.0196, 0];
    # LTD = 1e-3 * sum_b x_post_b pre_b = 1e-3 * [0, 0.02 * 0 + 0 * 1] = 0
    assert_close(syn.x_post, [[0.02], [0.0]], backend)
    assert_close(syn.weight, [[0.5 + 1e-3 * 0.0196, 0.5]], backend, rtol=1e-12)


@pytest.mark.parametrize("algorithm", ["additive_step", "multiplicative_relu",
                                       "multiplicative_pow"])
def test_no_potentiation_at_the_upper_bound(backend: str, algorithm: str) -> None:
    hyper = {**HYPER, "mu": 0.7}
    w = pair_change(backend, "norse_stdp", hyper["w_max"], 0, 2, stdp_algorithm=algorithm,
                    **hyper)
    assert w == hyper["w_max"]
    w = pair_change(backend, "norse_stdp", hyper["w_min"], 2, 0, stdp_algorithm=algorithm,
                    **hyper)
    assert w == hyper["w_min"]


def test_hardbound_clips_and_softbound_does_not(backend: str) -> None:
    big = dict(eta_plus=100.0, eta_minus=100.0)
    assert pair_change(backend, "norse_stdp", 0.5, 0, 1, **big) == 1.0
    assert pair_change(backend, "norse_stdp", 0.5, 1, 0, **big) == 0.0
    free = pair_change(backend, "norse_stdp", 0.5, 0, 1, hardbound=False, **big)
    assert free == pytest.approx(0.5 + 100.0 * 0.02 * 0.98, rel=1e-12)


def test_random_trains_stay_bounded_and_finite(backend: str) -> None:
    rng = np.random.default_rng(3)
    for algorithm in ALGORITHMS:
        syn = px.Learner("norse_stdp", backend=backend, stdp_algorithm=algorithm, mu=0.5,
                         eta_plus=0.5, eta_minus=0.5).bind(rng.random((5, 7)), batch_size=3)
        syn.run((rng.random((40, 3, 7)) < 0.3) * 1.0, (rng.random((40, 3, 5)) < 0.3) * 1.0)
        w = to_numpy(syn.weight)
        assert np.isfinite(w).all() and w.min() >= 0.0 and w.max() <= 1.0


def test_unknown_algorithm_fails_when_the_learner_is_made() -> None:
    with pytest.raises(px.HyperparameterError, match="multiplicative_relu") as err:
        px.Learner("norse_stdp", stdp_algorithm="multiplicative")
    assert "stdp_algorithm" in str(err.value) and "'additive'" in str(err.value)


# -- convolution ------------------------------------------------------------------------------

def _conv_reference(w: np.ndarray, pres: np.ndarray, posts: np.ndarray, stride: int,
                    padding: int, dilation: int, eta: float = 0.05) -> np.ndarray:
    """norse's conv rule (additive, defaults otherwise) written with explicit loops."""
    w = w.copy()
    c_out, c_in, kh, kw = w.shape
    x_pre, x_post = np.zeros(pres.shape[1:]), np.zeros(posts.shape[1:])
    for z_pre, z_post in zip(pres, posts, strict=True):
        x_pre += 0.02 * (z_pre - x_pre)
        x_post += 0.02 * (z_post - x_post)
        pad = [np.pad(a, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
               for a in (x_pre, z_pre)]
        dw = np.zeros_like(w)
        batch, _, h_out, w_out = z_post.shape
        for b, o, y, x, c, i, j in product(range(batch), range(c_out), range(h_out),
                                           range(w_out), range(c_in), range(kh), range(kw)):
            r, q = y * stride + i * dilation, x * stride + j * dilation
            dw[o, c, i, j] += eta * (z_post[b, o, y, x] * pad[0][b, c, r, q]
                                     - x_post[b, o, y, x] * pad[1][b, c, r, q])
        w = np.clip(w + dw, 0.0, 1.0)
    return w


@pytest.mark.parametrize(("stride", "padding", "dilation"), [(1, 0, 1), (2, 1, 1), (1, 2, 2)])
def test_conv2d_matches_explicit_loops(backend: str, stride: int, padding: int,
                                       dilation: int) -> None:
    rng = np.random.default_rng(stride + 10 * padding + 100 * dilation)
    w0 = rng.uniform(0.3, 0.7, (2, 3, 3, 2))
    syn = px.Learner("stdp_step_conv2d", backend=backend, dtype="float64", eta_plus=0.05,
                     eta_minus=0.05, stride=stride, padding=padding, dilation=dilation).bind(
        w0.copy(), batch_size=2, pre_shape=(3, 7, 6))
    post_shape = syn.graph.post_shape
    h_out = (7 + 2 * padding - dilation * 2 - 1) // stride + 1
    w_out = (6 + 2 * padding - dilation * 1 - 1) // stride + 1
    assert post_shape == (2, 2, h_out, w_out)
    pres = (rng.random((4, 2, 3, 7, 6)) < 0.4) * 1.0
    posts = (rng.random((4, *post_shape)) < 0.4) * 1.0
    syn.run(pres, posts)
    expected = _conv_reference(w0, pres, posts, stride, padding, dilation)
    assert_close(syn.weight, expected, backend, rtol=1e-12, atol=1e-15)


def test_conv2d_needs_the_pre_shape() -> None:
    learner = px.Learner("norse_stdp_conv2d")
    with pytest.raises(px.StepInputError, match="pre_shape"):
        learner.bind(np.zeros((2, 3, 3, 3)))
    with pytest.raises(px.StepInputError, match="in_channels=3"):
        learner.bind(np.zeros((2, 3, 3, 3)), pre_shape=(4, 8, 8))
    with pytest.raises(px.StepInputError, match="fits"):
        learner.bind(np.zeros((2, 3, 3, 3)), pre_shape=(3, 2, 8))


def test_unfold_kernel_matches_torch() -> None:
    torch = needs_torch()
    from plastix.backends._kernels import unfold

    x = np.random.default_rng(0).random((2, 3, 9, 8))
    for kernel, stride, padding, dilation in [((3, 2), 1, 0, 1), ((2, 3), (2, 1), (1, 2), 2)]:
        ours = unfold(torch.tensor(x), kernel, stride, padding, dilation, xp=torch,
                      zeros=lambda shape, like: torch.zeros(shape, dtype=like.dtype))
        ref = torch.nn.functional.unfold(torch.tensor(x), kernel, dilation=dilation,
                                         padding=padding, stride=stride).transpose(1, 2)
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=0, atol=0)


def test_names_and_docs() -> None:
    assert px.Learner("stdp_step_linear").name == "norse_stdp"
    assert px.Learner("STDP_STEP_CONV2D").name == "norse_stdp_conv2d"
    text = px.Learner("norse_stdp").describe()
    assert "tau_pre_inv" in text and "1/s" in text and "math::" in text


@pytest.mark.parametrize(("shape", "attrs", "message"), [
    ((1, 2, 3), {"kernel": (2, 2)}, "needs \\(B, C, H, W\\)"),
    ((1, 2, 3, 3), {"kernel": (4, 2)}, "does not fit"),
    ((1, 2, 3, 3), {"kernel": (2, 2), "stride": 0}, ">= 1"),
    ((1, 2, 3, 3), {"kernel": (2, 2, 2)}, "pair of ints"),
])
def test_unfold_op_rejects_bad_geometry(shape: tuple[int, ...], attrs: dict[str, object],
                                        message: str) -> None:
    from plastix._graph import Graph
    from plastix._validate import validate

    g = Graph("unfold_check", pre_shape=shape, post_shape=(1, 2), weight_shape=(2, 2),
              dtype="float64", dt=1.0, params={})
    g.op_to_backend("patches", "unfold", ["pre"], **attrs)
    with pytest.raises(px.RuleValidationError, match=message):
        validate(g)
