"""px.Monitor: arrays and changes recorded every k steps, over chosen indices, bounded.

Expected values: norse's traces worked by hand (each spike adds 0.02, decay 0.98 per step),
and changes equal to the weight's difference across the step for a rule without bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import plastix as px
from tests.conftest import to_numpy

HYPER = {"eta_plus": 0.02, "eta_minus": 0.013, "w_min": -10.0, "w_max": 10.0}


def _syn(backend: str = "numpy", **kw: Any) -> px.Binding:
    learner = px.Learner("norse_stdp", backend=backend, dtype="float64", **HYPER)
    return learner.bind(np.full((2, 3), 0.5), **kw)


def _x(k: int) -> float:
    """A trace after k steps of spikes: 0.02 * (1 + 0.98 + ... + 0.98^(k-1))."""
    return 0.02 * sum(0.98**i for i in range(k))


def test_records_every_k_steps_during_run(backend: str) -> None:
    syn = _syn(backend)
    mon = px.Monitor(syn, ["x_pre", "weight"], every=3)
    syn.run(np.ones((7, 1, 3)), np.ones((7, 1, 2)))
    assert mon.steps.tolist() == [3, 6] and len(mon) == 2
    np.testing.assert_allclose(to_numpy(mon["x_pre"]),
                               np.array([_x(3), _x(6)]).reshape(2, 1, 1) * np.ones((2, 1, 3)),
                               rtol=1e-12)
    w3 = 0.5 + 0.007 * sum(_x(k) for k in (1, 2, 3))
    np.testing.assert_allclose(to_numpy(mon["weight"])[0], np.full((2, 3), w3), rtol=1e-12)
    np.testing.assert_array_equal(mon.times, [3.0, 6.0])
    assert syn.backend.is_native(mon["weight"])


def test_records_during_plain_steps_and_a_group() -> None:
    syn = _syn()
    mon = px.Monitor(syn, "x_post")
    for _ in range(2):
        syn.step(np.ones((1, 3)), np.ones((1, 2)))
    group = px.LearnerGroup()
    group.add("a", syn)
    group.step({"a": (np.ones((1, 3)), np.ones((1, 2)))})
    assert mon.steps.tolist() == [1, 2, 3]
    np.testing.assert_allclose(mon["x_post"][:, 0, 0], [_x(1), _x(2), _x(3)], rtol=1e-12)


def test_the_change_is_the_rules_dw_of_that_step() -> None:
    rng = np.random.default_rng(0)
    syn = _syn()
    mon = px.Monitor(syn, ["dw"], every=2)
    weights = [np.array(syn.weight)]
    for _ in range(6):
        syn.step((rng.random((2, 3)) < 0.5) * 1.0, (rng.random((2, 2)) < 0.5) * 1.0)
        weights.append(np.array(syn.weight))
    assert mon.steps.tolist() == [2, 4, 6]
    for i, t in enumerate((2, 4, 6)):  # no bound bites: dw is the weight's step difference
        np.testing.assert_allclose(mon["dw"][i], weights[t] - weights[t - 1], atol=1e-15)
    assert not syn._guarded  # the monitor only copies: the steps stay unguarded


def test_the_change_and_a_hook_see_the_same_value() -> None:
    syn = _syn()
    seen = []
    syn.intercept("weight", lambda dw: seen.append(dw.copy()) or dw)
    mon = px.Monitor(syn, ["dw"])
    syn.step(np.ones((1, 3)), np.ones((1, 2)))
    np.testing.assert_array_equal(mon["dw"][0], seen[0])
    np.testing.assert_allclose(seen[0], 0.007 * 0.02, rtol=1e-12)


def test_indices_select_entries() -> None:
    syn = _syn()
    mon = px.Monitor(syn, ["weight", "x_pre"], indices={"weight": ([0, 1], [2, 0]),
                                                       "x_pre": np.s_[:, 1:]})
    syn.step(np.ones((1, 3)), np.zeros((1, 2)))
    assert mon["weight"].shape == (1, 2) and mon["x_pre"].shape == (1, 1, 2)
    assert mon.bytes_per_record == 8 * (2 + 2)
    with pytest.raises(px.StepInputError, match=r"indices\['weight'\]"):
        px.Monitor(syn, ["weight"], indices={"weight": (5, 0)})
    with pytest.raises(px.StepInputError, match="indices of recorded"):
        px.Monitor(syn, ["weight"], indices={"x_pre": 0})


def test_memory_is_bounded_and_the_oldest_records_go() -> None:
    syn = _syn()
    mon = px.Monitor(syn, ["x_pre"], capacity=3)
    with pytest.warns(RuntimeWarning, match="dropped"):
        syn.run(np.ones((5, 1, 3)), np.ones((5, 1, 2)))
    assert mon.steps.tolist() == [3, 4, 5] and mon.dropped == 2
    bounded = px.Monitor(syn, ["weight"], max_bytes=100)  # 48 bytes a record: 2 fit
    assert bounded.capacity == 2


def test_a_delay_and_its_change_are_recorded() -> None:
    learner = px.Learner("delay_adjusted_mstdpd", dtype="float64")
    syn = learner.bind(np.full((2, 3), 0.5))
    mon = px.Monitor(syn, ["delay", "ddelay"])
    rng = np.random.default_rng(1)
    delays = [np.array(syn.delay)]
    for _ in range(5):
        syn.step((rng.random((1, 3)) < 0.6) * 1.0, (rng.random((1, 2)) < 0.6) * 1.0,
                 reward=1.0)
        delays.append(np.array(syn.delay))
    np.testing.assert_array_equal(mon["delay"], np.stack(delays[1:]))
    assert mon["ddelay"].shape == (5, 2, 3)


def test_unknown_names_and_bad_arguments() -> None:
    syn = _syn()
    with pytest.raises(px.StepInputError, match="x_pre"):
        px.Monitor(syn, ["trace"])
    with pytest.raises(px.StepInputError, match="names among"):
        px.Monitor(syn, ["ddelay"])
    for kw in ({"every": 0}, {"capacity": -1}, {"every": True}):
        with pytest.raises(px.StepInputError):
            px.Monitor(syn, ["weight"], **kw)
    with pytest.raises(px.StepInputError, match="target"):
        px.Monitor(object(), ["weight"])


def test_a_new_batch_with_another_recorded_shape_is_refused_until_clear() -> None:
    syn = _syn()
    mon = px.Monitor(syn, ["x_pre"])
    syn.step(np.ones((2, 3)), np.ones((2, 2)))
    syn.reset()
    with pytest.raises(px.StepInputError, match=r"records of shape \(2, 3\)"):
        syn.step(np.ones((1, 3)), np.ones((1, 2)))
    assert syn.batch_size == 2 and syn.t == 1  # nothing changed
    mon.clear()
    syn.step(np.ones((1, 3)), np.ones((1, 2)))
    assert mon["x_pre"].shape == (1, 1, 3)
    per_sample = px.Monitor(syn, ["x_pre"], indices={"x_pre": 0})  # batch-independent
    syn.reset()
    mon.close()
    syn.step(np.ones((4, 3)), np.ones((4, 2)))
    assert per_sample["x_pre"].shape == (1, 3)


def test_close_stops_recording_and_restores_the_fast_path() -> None:
    syn = _syn()
    fast = syn._ready
    mon = px.Monitor(syn, ["dw"])
    assert syn._ready is None
    mon.close()
    assert syn._ready == fast and not syn._seam_hooks
    syn.step(np.ones((1, 3)), np.ones((1, 2)))
    assert len(mon) == 0
    assert set(mon.numpy()) == {"dw", "step"}
