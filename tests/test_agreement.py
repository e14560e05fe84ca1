"""Every registered rule gives the same weights on every installed backend as on NumPy.

NumPy is the reference semantics. Each rule runs, in each of its dtypes, on the same seeded
weight, spike trains and signals on every backend; the weights and the whole state must agree
with NumPy's: float64 within 1e-12 relative, float32 within 1e-5 relative, integers bit for bit
(the integer rule draws from the counter-based generator, which every backend must reproduce).
"Relative" is per entry, with an absolute floor of the tolerance times the array's largest
magnitude: an entry that a run drives through zero carries the rounding of its larger terms.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import plastix as px
from plastix.backends import get_backend
from tests.conftest import assert_close

N_PRE, N_POST, BATCH, STEPS = 784, 8, 4, 30
#: Weight layouts tried in order, each with the bind() options it needs: the first a rule
#: accepts is used (dense (n_post, n_pre), then a 3x3 convolution kernel on 2x10x10 inputs).
LAYOUTS: list[tuple[tuple[int, ...], dict[str, Any]]] = [
    ((N_POST, N_PRE), {}),
    ((4, 2, 3, 3), {"pre_shape": (2, 10, 10)}),
]
RTOL = {"float64": 1e-12, "float32": 1e-5}

#: Signal ranges per rule where uniform [0, 1) would leave a branch untested: post
#: thresholds straddle postpreintstdp's max_threshold (4915), so some rows are halved.
SIGNAL_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "postpreintstdp": {"post_thresh": (0.0, 6000.0)},
}


def _cases() -> list[tuple[str, str]]:
    return [(name, dtype) for name in px.rules() for dtype in px.find_rule(name).dtypes]


def _weight(rule: type[px.Rule], dtype: str, shape: tuple[int, ...],
            rng: np.random.Generator) -> np.ndarray:
    if dtype.startswith("int"):
        p = rule.make_params({})
        low, high = int(getattr(p, "w_min", 0)), int(getattr(p, "w_max", 100))
        return rng.integers(low, high + 1, shape).astype(dtype)
    return rng.uniform(0.0, 1.0, shape).astype(dtype)


def _bind(learner: px.Learner, backend: str, rng: np.random.Generator
          ) -> tuple[np.ndarray, px.Binding]:
    """The first weight layout the rule accepts, bound; and the initial weight (host)."""
    be = get_backend(backend)
    for i, (shape, options) in enumerate(LAYOUTS):
        w0 = _weight(learner.rule_cls, learner.dtype, shape, rng)
        try:
            return w0, learner.bind(be.asarray(w0.copy(), learner.dtype), batch_size=BATCH,
                                    **options)
        except px.StepInputError as exc:
            if exc.argument != "weight" or i == len(LAYOUTS) - 1:
                raise
    raise AssertionError("unreachable")


def _run(name: str, dtype: str, backend: str
         ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], Any]:
    """Run ``name`` for STEPS steps; the learned arrays before and the state after (host)."""
    be = get_backend(backend)
    rng = np.random.default_rng(20240611)
    learner = px.Learner(name, backend=backend, dtype=dtype, seed=7)
    _, syn = _bind(learner, backend, rng)
    learned0 = {k: be.to_numpy(be.copy(v)) for k, v in syn.learned.items()}
    g = syn.graph
    pre = (rng.random((STEPS, *g.pre_shape)) < 0.2).astype(dtype)
    post = (rng.random((STEPS, *g.post_shape)) < 0.2).astype(dtype)
    signals = {}
    for sig, decl in g.variables.items():
        if decl.kind == "signal":
            low, high = SIGNAL_RANGES.get(name, {}).get(sig, (0.0, 1.0))
            values = rng.uniform(low, high, (STEPS, *decl.aval.shape)).astype(decl.aval.dtype)
            signals[sig] = be.asarray(values, decl.aval.dtype)
    syn.run(be.asarray(pre, dtype), be.asarray(post, dtype), **signals)
    arrays = syn.state_dict()["arrays"]
    return learned0, {k: be.to_numpy(v) for k, v in arrays.items()}, syn


def _scale(x: np.ndarray) -> float:
    """The largest finite magnitude in ``x`` (0 when there is none)."""
    return float(np.max(np.abs(x[np.isfinite(x)]), initial=0.0))


@pytest.mark.parametrize(("name", "dtype"), _cases())
def test_rule_agrees_with_numpy(backend: str, name: str, dtype: str) -> None:
    _agree(backend, name, dtype)


@pytest.mark.parametrize(("name", "dtype"), _cases())
def test_rule_agrees_with_numpy_in_torchs_own_lowering(
        name: str, dtype: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # a CPU torch binding computes through NumPy on its tensors' memory by default; this
    # runs PyTorch's own lowering (CUDA's) against NumPy's array lowering, kernels off
    pytest.importorskip("torch", reason="needs torch")
    monkeypatch.setenv("PLASTIX_TORCH_HOST", "0")
    monkeypatch.setenv("PLASTIX_KERNELS", "0")
    _agree("torch", name, dtype)


def _agree(backend: str, name: str, dtype: str) -> None:
    learned0, expected, ref = _run(name, dtype, "numpy")
    if ref.graph.seams:
        assert any(not np.array_equal(expected[k], v) for k, v in learned0.items()), \
            "the run must change a learned array (weight or delays)"
    else:  # learns nothing by design (short-term plasticity, tsodyks2): its state must move
        assert any(not np.all(expected[k] == ref.graph.variables[k].value)
                   for k in ref.state), "the run must change the rule's state"
    _, got, syn = _run(name, dtype, backend)
    assert set(got) == set(expected)
    if dtype.startswith("int"):
        assert syn.weight.dtype == get_backend(backend).dtype(dtype)
        for k in expected:
            np.testing.assert_array_equal(got[k], expected[k], err_msg=f"{name}: {k}")
        assert_close(syn.weight, expected["weight"], backend, rtol=0)
        return
    rtol = RTOL[dtype]
    assert_close(syn.weight, expected["weight"], backend, rtol=rtol,
                 atol=rtol * _scale(expected["weight"]))
    for k in expected:  # NaN marks "never fired" in some rules' state; it must match too
        np.testing.assert_allclose(got[k], expected[k], rtol=rtol, atol=rtol * _scale(
            expected[k]), err_msg=f"{name}: {k}")


def test_every_rule_is_covered() -> None:
    """The cases cover every registered rule (a rule added later is picked up by name)."""
    assert {name for name, _ in _cases()} == set(px.rules())
