"""canns's STDPTrainer and SpikingLayer: a three-step case worked by hand.

Layer: W = [[0.6, 0.5]], leak 0.5, trace decay 0.5, threshold 1; trainer: learning_rate 1,
A_plus 0.1, A_minus 0.2. Patterns x1 = [1, 0], x2 = [1, 1], x3 = [0, 1] (canns's compiled
path: traces include this step's spikes, v uses the running weight):

1. x_pre = [1, 0]; v = 0.6, no spike; x_post = 0; no change.
2. x_pre = [1.5, 1]; v = 0.3 + 1.1 = 1.4, spike, v = 0; x_post = 1;
   dW = 0.1 [1.5, 1] - 0.2 [1, 1] = [-0.05, -0.1]  ->  W = [0.55, 0.4].
3. x_pre = [0.75, 1.5]; v = 0.4, no spike; x_post = 0.5; dW = -0.2 * 0.5 [0, 1]
   ->  W = [0.55, 0.3].
"""

from __future__ import annotations

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close, to_numpy

PATTERNS = np.array([[1, 0], [1, 1], [0, 1]], dtype=np.float32)


def _layer(backend: str) -> px.SpikingLayer:
    layer = px.SpikingLayer(2, 1, leak=0.5, trace_decay=0.5, backend=backend)
    layer.W = get_w(backend, [[0.6, 0.5]])
    return layer


def get_w(backend: str, w: list[list[float]]) -> object:
    from plastix.backends import get_backend

    return get_backend(backend).asarray(np.array(w), "float32")


def test_three_steps_by_hand(backend: str) -> None:
    layer = _layer(backend)
    trainer = px.STDPTrainer(layer, learning_rate=1.0, A_plus=0.1, A_minus=0.2)
    trainer.train(PATTERNS)
    assert_close(layer.W, [[0.55, 0.3]], backend, rtol=1e-6)
    assert_close(layer.trace_pre, [0.75, 1.5], backend, rtol=1e-6)
    assert_close(layer.trace_post, [0.5], backend, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(layer.v), [0.4], rtol=1e-6)


def test_state_restarts_from_zero_at_every_call(backend: str) -> None:
    layer = _layer(backend)
    trainer = px.STDPTrainer(layer, learning_rate=1.0, A_plus=0.1, A_minus=0.2)
    trainer.train(PATTERNS)
    # a carried post trace (0.25 after one decay) would depress W[0, 1] by 0.05
    trainer.train(PATTERNS[2:])
    assert_close(layer.W, [[0.55, 0.3]], backend, rtol=1e-6)


def test_predict_is_one_forward_step(backend: str) -> None:
    layer = _layer(backend)
    trainer = px.STDPTrainer(layer)
    assert to_numpy(trainer.predict(np.array([1.0, 1.0]))).tolist() == [1.0]  # v = 1.1
    # the spike reset v; canns's predict keeps the state: v = 0.6, 0.9, 1.05
    fired = [to_numpy(trainer.predict(np.array([1.0, 0.0]))).tolist() for _ in range(3)]
    assert fired == [[0.0], [0.0], [1.0]]
    np.testing.assert_allclose(to_numpy(layer.trace_pre), [1.875, 0.125], rtol=1e-6)


def test_weights_are_clipped_from_the_first_step(backend: str) -> None:
    layer = px.SpikingLayer(30, 5, backend=backend, seed=1)
    assert to_numpy(layer.W).min() < 0  # canns draws 0.05 N(0, 1)
    rng = np.random.default_rng(0)
    px.STDPTrainer(layer, w_max=0.04).train(rng.random((20, 30)) < 0.5)
    w = to_numpy(layer.W)
    assert w.min() >= 0.0 and w.max() <= 0.04 and np.isfinite(w).all()


def test_unsupported_options_fail_clearly() -> None:
    layer = px.SpikingLayer(3, 2)
    with pytest.raises(px.HyperparameterError, match="compiled"):
        px.STDPTrainer(layer, compiled=False)
    with pytest.raises(px.HyperparameterError, match="weight_attr"):
        px.STDPTrainer(layer, weight_attr="weights")
    with pytest.raises(px.UnknownRuleError):
        px.STDPTrainer(layer, rule="no_such_rule")


@pytest.mark.parametrize("args, kwargs, argument", [
    ((-1, 3), {}, "input_size"), ((3, 0), {}, "output_size"), ((2.5, 3), {}, "input_size"),
    ((True, 3), {}, "input_size"), (("3", 3), {}, "input_size"),
    ((3, 2), {"threshold": float("nan")}, "threshold"), ((3, 2), {"leak": "0.9"}, "leak"),
    ((3, 2), {"trace_decay": None}, "trace_decay"), ((3, 2), {"dtype": "int32"}, "dtype"),
    ((3, 2), {"dtype": "bogus.float32"}, "dtype"), ((3, 2), {"seed": 1.5}, "seed"),
])
def test_spiking_layer_arguments_are_checked(args: tuple, kwargs: dict, argument: str) -> None:
    with pytest.raises(px.StepInputError) as info:
        px.SpikingLayer(*args, **kwargs)
    assert info.value.argument == argument and info.value.rule == "SpikingLayer"
