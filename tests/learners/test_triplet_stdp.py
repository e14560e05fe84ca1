"""triplet_stdp: the closed forms of Pfister and Gerstner's model for pair and triplet
protocols, all-to-all against nearest-spike, and the fitted presets."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close

HP = dict(A2_plus=0.1, A3_plus=0.2, A2_minus=0.05, A3_minus=0.03, tau_plus=10.0,
          tau_minus=20.0, tau_x=40.0, tau_y=50.0)


def protocol(backend: str, pre_times: list[int], post_times: list[int], steps: int,
             dt: float = 1.0, **hp: object) -> px.Binding:
    learner = px.Learner("triplet_stdp", backend=backend, dtype="float64", **{**HP, **hp})
    syn = learner.bind(np.zeros((1, 1)), dt=dt)
    for t in range(steps):
        syn.step(pre=[[float(t in pre_times)]], post=[[float(t in post_times)]])
    return syn


def test_pre_then_post_pair(backend: str) -> None:
    syn = protocol(backend, [0], [5], 8)
    assert_close(syn.weight, [[0.1 * math.exp(-5 / 10)]], backend)


def test_post_then_pre_pair(backend: str) -> None:
    syn = protocol(backend, [5], [0], 8)
    assert_close(syn.weight, [[-0.05 * math.exp(-5 / 20)]], backend)


def test_time_is_in_ms(backend: str) -> None:
    syn = protocol(backend, [0], [10], 12, dt=0.5)  # 5 ms apart
    assert_close(syn.weight, [[0.1 * math.exp(-5 / 10)]], backend)


def test_post_pre_post_triplet(backend: str) -> None:
    """post@0, pre@4, post@10: the pre spike depresses with o1 (no earlier pre, r2 = 0); the
    second post spike potentiates with r1 and the triplet factor o2 of the first post."""
    syn = protocol(backend, [4], [0, 10], 12)
    expected = (-0.05 * math.exp(-4 / 20)
                + math.exp(-6 / 10) * (0.1 + 0.2 * math.exp(-10 / 50)))
    assert_close(syn.weight, [[expected]], backend)


def test_pre_post_pre_triplet(backend: str) -> None:
    syn = protocol(backend, [0, 10], [4], 12)
    expected = (0.1 * math.exp(-4 / 10)
                - math.exp(-6 / 20) * (0.05 + 0.03 * math.exp(-10 / 40)))
    assert_close(syn.weight, [[expected]], backend)


def test_all_to_all_sums_every_pre_spike_nearest_keeps_the_last(backend: str) -> None:
    a2a = protocol(backend, [0, 2], [5], 6, interaction="all_to_all")
    nearest = protocol(backend, [0, 2], [5], 6, interaction="nearest")
    assert_close(a2a.weight, [[0.1 * (math.exp(-5 / 10) + math.exp(-3 / 10))]], backend)
    assert_close(nearest.weight, [[0.1 * math.exp(-3 / 10)]], backend)


def test_simultaneous_first_spikes_add_no_pair_term(backend: str) -> None:
    syn = protocol(backend, [0], [0], 2)
    assert_close(syn.weight, [[0.0]], backend)


def test_batch_sums(backend: str) -> None:
    syn = px.Learner("triplet_stdp", backend=backend, dtype="float64", **HP) \
        .bind(np.zeros((1, 1)), batch_size=2)
    syn.step(pre=[[1.0], [1.0]], post=[[0.0], [0.0]])
    syn.step(pre=[[0.0], [0.0]], post=[[1.0], [0.0]])
    assert_close(syn.weight, [[0.1 * math.exp(-1 / 10)]], backend)


def test_bounds_clamp(backend: str) -> None:
    syn = protocol(backend, [0], [1], 2, w_max=0.01)
    assert_close(syn.weight, [[0.01]], backend)


# The fitted sets of the full model as NESTML's triplet STDP tutorial runs them (all four; the
# visual-cortex all-to-all set is also NEST's stdp_triplet_synapse default).
TABLE = {
    "visual_cortex_all_to_all": ("all_to_all", 101, 125, 5e-10, 6.2e-3, 7e-3, 2.3e-4),
    "visual_cortex_nearest": ("nearest", 714, 40, 8.8e-11, 5.3e-2, 6.6e-3, 3.1e-3),
    "hippocampal_all_to_all": ("all_to_all", 946, 27, 6.1e-3, 6.7e-3, 1.6e-3, 1.4e-3),
    "hippocampal_nearest": ("nearest", 575, 47, 4.6e-3, 9.1e-3, 3e-3, 7.5e-9),
}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_presets_match_the_fitted_sets(name: str) -> None:
    p = px.Learner("triplet_stdp", preset=name).params
    assert (p.interaction, p.tau_x, p.tau_y, p.A2_plus, p.A3_plus, p.A2_minus, p.A3_minus) == \
        TABLE[name]
    assert (p.tau_plus, p.tau_minus) == (16.8, 33.7)


def test_only_the_verified_sets_are_offered() -> None:
    field = next(f for f in px.find_rule("triplet_stdp").param_fields() if f.name == "preset")
    assert set(field.metadata["choices"]) == {None, *TABLE}
    with pytest.raises(px.HyperparameterError, match="preset"):
        px.Learner("triplet_stdp", preset="visual_cortex_all_to_all_minimal")


def test_the_default_is_nest_s_triplet_default() -> None:
    p = px.Learner("triplet_stdp").params
    nest = px.Learner("nest_stdp_triplet").params
    assert (p.A2_plus, p.A3_plus, p.A2_minus, p.A3_minus, p.tau_plus, p.tau_x) == \
        (nest.Aplus, nest.Aplus_triplet, nest.Aminus, nest.Aminus_triplet, nest.tau_plus,
         nest.tau_plus_triplet)


def test_explicit_values_win_over_the_preset() -> None:
    p = px.Learner("triplet_stdp", preset="hippocampal_all_to_all", A2_plus=0.5).params
    assert (p.A2_plus, p.A3_plus) == (0.5, 6.7e-3)


def test_a_preset_fixes_its_interaction() -> None:
    with pytest.raises(px.HyperparameterError, match=r"'interaction'.*fitted with 'nearest'"):
        px.Learner("triplet_stdp", preset="visual_cortex_nearest", interaction="all_to_all")


def test_unknown_preset_lists_the_names() -> None:
    with pytest.raises(px.HyperparameterError, match="hippocampal_all_to_all"):
        px.Learner("triplet_stdp", preset="visual")


def test_preset_applies_per_binding() -> None:
    learner = px.Learner("triplet_stdp")
    syn = learner.bind(np.zeros((1, 1)), preset="hippocampal_nearest")
    assert syn.params.interaction == "nearest" and learner.params.interaction == "all_to_all"


def test_state_dict_round_trip_keeps_the_preset() -> None:
    learner = px.Learner("triplet_stdp", preset="visual_cortex_nearest", dtype="float64")
    syn = learner.bind(np.zeros((1, 1)))
    syn.step(pre=[[1.0]], post=[[0.0]])
    fresh = learner.bind(np.zeros((1, 1)))
    fresh.load_state_dict(syn.state_dict())
    for s in (syn, fresh):
        s.step(pre=[[0.0]], post=[[1.0]])
    np.testing.assert_array_equal(fresh.weight, syn.weight)
    assert syn.weight[0, 0] == pytest.approx(8.8e-11 * math.exp(-1 / 16.8))
