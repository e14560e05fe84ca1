"""delay_adjusted_mstdpd: hand-worked steps, the seed's sign/mode table, the batch-reduction
contract and the scalar-signal behaviour, against values worked out here."""

from __future__ import annotations

import math

import numpy as np
import pytest

import plastix as px
from tests.conftest import assert_close, to_numpy

RULE = "delay_adjusted_mstdpd"


def bind(backend: str, n_post: int = 1, n_pre: int = 1, batch: int = 1, dt: float = 1.0,
         **hp: float | str) -> px.Binding:
    learner = px.Learner(RULE, backend=backend, dtype="float64", **hp)
    return learner.bind(np.zeros((n_post, n_pre)), batch_size=batch, dt=dt)


def spikes(*on: int, n: int, batch: int = 1) -> np.ndarray:
    s = np.zeros((batch, n))
    s[:, list(on)] = 1.0
    return s


def test_registered_under_the_seed_name() -> None:
    assert px.find_rule("DelayAdjustedMSTDPD").name == RULE


def test_hand_worked_steps(backend: str) -> None:
    """pre at step 0, post at step 2, then silence: an update at every step from step 2 on,
    each with the delay the previous step left."""
    lr_neg, lr_pos, tc_neg, tc_pos, gamma, m = -0.5, 0.25, 10.0, 5.0, 2.0, 1.5
    syn = bind(backend, lr_neg=lr_neg, lr_pos=lr_pos, tc_neg=tc_neg, tc_pos=tc_pos,
               scale=gamma)
    pre = [1, 0, 0, 0, 0]
    post = [0, 0, 1, 0, 0]
    d = 0.0
    expected = []
    for t in range(5):
        syn.step(pre=[[pre[t]]], post=[[post[t]]], reward=m)
        if t >= 2:  # both have fired; t_post - t_pre = 2 ms
            t_delta = 2.0 - d
            zeta = (lr_neg * math.exp(-abs(t_delta) / tc_neg) if t_delta >= 0
                    else lr_pos * math.exp(-abs(t_delta) / tc_pos))
            d += gamma * m * zeta
        expected.append(d)
        assert_close(syn.delay, [[d]], backend)
    # the first update by hand: -0.5 * exp(-0.2) * 3
    assert expected[2] == pytest.approx(-1.5 * math.exp(-0.2))
    assert expected[1] == 0.0


def test_no_update_until_both_sides_fired(backend: str) -> None:
    syn = bind(backend)
    for _ in range(3):
        syn.step(pre=[[1.0]], post=[[0.0]], reward=1.0)
    assert_close(syn.delay, [[0.0]], backend)
    assert np.isnan(to_numpy(syn.age_post)).all()
    assert_close(syn.age_pre, [[0.0]], backend)


def _one_step_pairs(syn: px.Binding, reward: float) -> None:
    """post 0 fires at step 0; at step 1 the pre neuron and post 1 fire: synapse (0, 0) sees
    t_delta = -1 (anti-causal), synapse (1, 0) t_delta = 0 (causal, equality counts)."""
    syn.step(pre=[[0.0]], post=[[1.0, 0.0]], reward=reward)
    syn.step(pre=[[1.0]], post=[[0.0, 1.0]], reward=reward)


# (mode, sgn eta_-, sgn eta_+, potentiative terms) from the seed's table; "potentiative"
# shortens the delay when M > 0.
MODES = [("hebbian", -1, 1, {"neg"}), ("anti_hebbian", 1, -1, {"pos"}),
         ("potentiative_only", -1, -1, {"neg", "pos"}), ("depressive_only", 1, 1, set())]


@pytest.mark.parametrize(("mode", "s_neg", "s_pos", "potentiative"), MODES,
                         ids=[m[0] for m in MODES])
@pytest.mark.parametrize("reward", [0.8, -0.8])
def test_sign_mode_table(backend: str, mode: str, s_neg: int, s_pos: int,
                         potentiative: set[str], reward: float) -> None:
    lr_neg, lr_pos, tc_pos = 0.3 * s_neg, 0.2 * s_pos, 4.0
    syn = bind(backend, n_post=2, lr_neg=lr_neg, lr_pos=lr_pos, tc_pos=tc_pos)
    _one_step_pairs(syn, reward)
    anticausal = reward * lr_pos * math.exp(-1 / tc_pos)
    causal = reward * lr_neg * 1.0
    assert_close(syn.delay, [[anticausal], [causal]], backend, rtol=1e-12)
    # the table: a potentiative term shortens the delay under a positive signal, and a
    # negative signal flips every update
    for term, change in (("neg", causal), ("pos", anticausal)):
        shortens = term in potentiative
        assert (change < 0) == (shortens == (reward > 0))


def test_interp_tolerance_makes_close_spikes_coincident(backend: str) -> None:
    syn = bind(backend, n_post=2, lr_neg=-0.3, lr_pos=0.2, interp_tolerance=1.0)
    _one_step_pairs(syn, 1.0)
    # |t_delta| = 1 <= tolerance: both count as t_delta = 0, the causal term at full size
    assert_close(syn.delay, [[-0.3], [-0.3]], backend)


def test_scale_sign_is_ignored(backend: str) -> None:
    a, b = bind(backend, n_post=2, scale=-2.0), bind(backend, n_post=2, scale=2.0)
    _one_step_pairs(a, 1.0)
    _one_step_pairs(b, 1.0)
    assert_close(a.delay, to_numpy(b.delay), backend)


def _batch_of_three(syn: px.Binding, last_reward: list[float] | float) -> tuple[float, ...]:
    """Three samples, one synapse: sample 0 pre@0 post@2 (t_delta = 2), sample 1 post@0
    pre@2 (t_delta = -2), sample 2 both @1 (t_delta = 0); zero reward before the last step.
    Returns the magnitudes P0, Q1, P2 (all other P, Q are 0)."""
    p = syn.params
    pre = [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    post = [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    for t in range(3):
        reward = last_reward if t == 2 else np.zeros(3)
        syn.step(pre=[[pre[b][t]] for b in range(3)], post=[[post[b][t]] for b in range(3)],
                 reward=reward)
    return (abs(p.lr_neg) * math.exp(-2 / p.tc_neg), abs(p.lr_pos) * math.exp(-2 / p.tc_pos),
            abs(p.lr_neg))


def squares(x, axis, *, xp):  # type: ignore[no-untyped-def]
    """A batch reduction that is not homogeneous of degree 1."""
    return xp.sum(x * x, axis=axis)


def test_batch_reduction_contract_with_a_custom_function(backend: str) -> None:
    """Per-sample signal: scaled by |M_b|, split by sign into the two slots, then reduced.
    Hebbian, M = (2, -1, -0.5): the causal term (eta_- < 0) of sample 0 and the anti-causal
    term (eta_+ > 0) of samples 1, 2 go to the negative slot, the rest to the positive."""
    syn = bind(backend, batch=3, lr_neg=-0.3, lr_pos=0.2, tc_neg=8.0, tc_pos=6.0,
               batch_reduction=squares)
    p0, q1, p2 = _batch_of_three(syn, [2.0, -1.0, -0.5])
    pos = (0.5 * p2) ** 2                     # f([P1, 0.5 P2, 2 Q0]) with P1 = Q0 = 0
    neg = (2 * p0) ** 2 + q1 ** 2             # f([2 P0, Q1, 0.5 Q2]) with Q2 = 0
    assert_close(syn.delay, [[pos - neg]], backend)


def test_sum_is_the_signed_formula(backend: str) -> None:
    syn = bind(backend, batch=3, lr_neg=-0.3, lr_pos=0.2, tc_neg=8.0, tc_pos=6.0)
    p0, q1, p2 = _batch_of_three(syn, [2.0, -1.0, -0.5])
    # sum_b M_b (eta_- e^.. [t >= 0] + eta_+ e^.. [t < 0]) with signed rates
    assert_close(syn.delay, [[2.0 * -p0 + -1.0 * q1 + -0.5 * -p2]], backend)


@pytest.mark.parametrize("how", ["mean", "amax"])
def test_named_reductions_reduce_each_slot(backend: str, how: str) -> None:
    syn = bind(backend, batch=3, lr_neg=-0.3, lr_pos=0.2, tc_neg=8.0, tc_pos=6.0,
               batch_reduction=how)
    p0, q1, p2 = _batch_of_three(syn, [2.0, -1.0, -0.5])
    pos_slot, neg_slot = [0.0, 0.5 * p2, 0.0], [2 * p0, q1, 0.0]
    f = np.mean if how == "mean" else np.max
    assert_close(syn.delay, [[f(pos_slot) - f(neg_slot)]], backend)


def test_scalar_signal_reduces_first_then_scales(backend: str) -> None:
    """The seed's warning, kept as behaviour: with a scalar signal the reduction sees the
    unscaled parts, so a reduction of degree 2 gives |M| f(X) instead of f(|M| X)."""
    kw = dict(batch=3, lr_neg=-0.3, lr_pos=0.2, tc_neg=8.0, tc_pos=6.0,
              batch_reduction=squares)
    scalar, tensor = bind(backend, **kw), bind(backend, **kw)  # type: ignore[arg-type]
    p0, q1, p2 = _batch_of_three(scalar, 2.0)
    _batch_of_three(tensor, [2.0, 2.0, 2.0])
    # M > 0, Hebbian: causal parts -> negative slot, anti-causal -> positive
    assert_close(scalar.delay, [[2.0 * (q1 ** 2 - p0 ** 2 - p2 ** 2)]], backend)
    assert_close(tensor.delay, [[(2 * q1) ** 2 - (2 * p0) ** 2 - (2 * p2) ** 2]], backend)


def test_scalar_and_tensor_mean_differ_when_both_terms_share_a_slot(backend: str) -> None:
    """Potentiative only: with a tensor signal both parts are concatenated into one slot (a
    mean over 2B rows); with a scalar each part is reduced alone and the results added."""
    kw = dict(batch=3, lr_neg=-0.3, lr_pos=-0.2, tc_neg=8.0, tc_pos=6.0,
              batch_reduction="mean")
    scalar, tensor = bind(backend, **kw), bind(backend, **kw)  # type: ignore[arg-type]
    p0, q1, p2 = _batch_of_three(scalar, 1.0)
    _batch_of_three(tensor, np.ones(3))  # type: ignore[arg-type]
    assert_close(scalar.delay, [[-((p0 + p2) / 3 + q1 / 3)]], backend)
    assert_close(tensor.delay, [[-(p0 + p2 + q1) / 6]], backend)


def test_zero_reward_changes_nothing(backend: str) -> None:
    syn = bind(backend, n_post=2)
    _one_step_pairs(syn, 0.0)
    assert_close(syn.delay, [[0.0], [0.0]], backend)


def test_delay_change_goes_through_the_seam(backend: str) -> None:
    syn = bind(backend, n_post=2)
    seen = []

    def freeze(dd):  # type: ignore[no-untyped-def]
        seen.append(to_numpy(dd).copy())
        return dd * 0

    syn.intercept("delay", freeze)
    _one_step_pairs(syn, 1.0)
    assert_close(syn.delay, [[0.0], [0.0]], backend)
    assert seen[-1][1, 0] == pytest.approx(-0.01)  # default lr_neg, t_delta = 0


def test_reset_forgets_spike_times_but_keeps_delays(backend: str) -> None:
    syn = bind(backend, n_post=2)
    _one_step_pairs(syn, 1.0)
    before = to_numpy(syn.delay).copy()
    syn.reset()
    assert np.isnan(to_numpy(syn.age_pre)).all()
    assert_close(syn.delay, before, backend)


def test_trace_mode_cumulative_is_refused_with_the_reason() -> None:
    with pytest.raises(px.HyperparameterError, match="never reads it"):
        px.Learner(RULE, trace_mode="cumulative")
    assert px.Learner(RULE, trace_mode="nearest").params.trace_mode == "nearest"


def test_bad_batch_reduction_is_refused() -> None:
    with pytest.raises(px.HyperparameterError, match=r"'batch_reduction'.*'sum', 'mean'"):
        px.Learner(RULE, batch_reduction="median")


def test_a_reduction_that_keeps_the_batch_axis_fails_at_bind() -> None:
    def keeps(x, axis, *, xp):  # type: ignore[no-untyped-def]
        return xp.sum(x, axis=axis, keepdims=True)

    with pytest.raises(px.PlastixError, match="batch_reduction"):
        px.Learner(RULE, batch_reduction=keeps).bind(np.zeros((2, 3)))


def test_reward_is_required_and_shaped() -> None:
    syn = px.Learner(RULE).bind(np.zeros((2, 3)), batch_size=2)
    with pytest.raises(px.StepInputError, match="'reward'"):
        syn.step(pre=np.zeros((2, 3)), post=np.zeros((2, 2)))
    with pytest.raises(px.StepInputError, match="'reward'"):
        syn.step(pre=np.zeros((2, 3)), post=np.zeros((2, 2)), reward=np.ones(3))


def test_state_dict_round_trip_keeps_spike_times_and_delays() -> None:
    learner = px.Learner(RULE, dtype="float64", batch_reduction=squares)
    syn = learner.bind(np.zeros((2, 1)))
    _one_step_pairs(syn, 1.0)
    fresh = learner.bind(np.zeros((2, 1)))
    fresh.load_state_dict(syn.state_dict())
    for s in (syn, fresh):
        s.step(pre=[[0.0]], post=[[0.0, 0.0]], reward=0.5)
    np.testing.assert_array_equal(fresh.delay, syn.delay)
    np.testing.assert_array_equal(fresh.age_post, syn.age_post)


@pytest.mark.parametrize("how", ["sum", "mean"])
@pytest.mark.parametrize(("lr_neg", "lr_pos"), [(-0.3, 0.2), (0.3, -0.2), (-0.3, -0.2),
                                                (0.3, 0.2)])
def test_named_sum_and_mean_agree_with_the_same_function(how: str, lr_neg: float,
                                                         lr_pos: float) -> None:
    """sum and mean skip gathering the slots; a function doing the same reduction takes the
    gathering path: both must agree on random spikes and mixed-sign rewards."""
    def same(x, axis, *, xp):  # type: ignore[no-untyped-def]
        return getattr(xp, how)(x, axis=axis)

    rng = np.random.default_rng(3)
    kw = dict(lr_neg=lr_neg, lr_pos=lr_pos, dtype="float64")
    named = px.Learner(RULE, batch_reduction=how, **kw).bind(np.zeros((3, 4)), batch_size=5)
    func = px.Learner(RULE, batch_reduction=same, **kw).bind(np.zeros((3, 4)), batch_size=5)
    for _ in range(30):
        pre, post = rng.random((5, 4)) < 0.3, rng.random((5, 3)) < 0.3
        reward = rng.normal(size=5)
        for syn in (named, func):
            syn.step(pre=pre * 1.0, post=post * 1.0, reward=reward)
    np.testing.assert_allclose(named.delay, func.delay, rtol=1e-10, atol=1e-14)
    assert np.abs(named.delay).max() > 0


def test_weight_rule_uses_the_given_delays(backend: str) -> None:
    """delay_adjusted_mstdp: pre@0, post@3. With d = 1 ms, t_delta = 2 (causal, eta_+); with
    d = 5 ms, t_delta = -2 (anti-causal, eta_-). Weights do not move t_delta, so the same
    change repeats at the next (silent) step."""
    learner = px.Learner("delay_adjusted_mstdp", backend=backend, dtype="float64",
                         lr_pos=0.4, lr_neg=-0.1, tc_pos=8.0, tc_neg=4.0, scale=0.5)
    syn = learner.bind(np.zeros((2, 1)))
    delay = np.array([[1.0], [5.0]])
    for t in range(5):
        syn.step(pre=[[float(t == 0)]], post=[[float(t == 3)] * 2], reward=2.0, delay=delay)
    causal = 0.5 * 2.0 * 0.4 * math.exp(-2 / 8)
    anticausal = 0.5 * 2.0 * -0.1 * math.exp(-2 / 4)
    assert_close(syn.weight, [[2 * causal], [2 * anticausal]], backend)
    assert px.find_rule("DelayAdjustedMSTDP").name == "delay_adjusted_mstdp"


def test_weight_rule_reads_a_delay_binding(backend: str) -> None:
    """Both neurons fire at steps 0 and 1; the weight rule reads the delay before the delay
    rule's step: d = 0 at step 0, d = -0.01 at step 1 (t_delta = 0.01, causal for both)."""
    kw = dict(backend=backend, dtype="float64")
    delays = px.Learner(RULE, **kw).bind(np.zeros((1, 1)))  # type: ignore[arg-type]
    weights = px.Learner("delay_adjusted_mstdp", **kw).bind(np.zeros((1, 1)))  # type: ignore
    for _ in range(2):
        weights.step(pre=[[1.0]], post=[[1.0]], reward=1.0, delay=delays.delay)
        delays.step(pre=[[1.0]], post=[[1.0]], reward=1.0)
    second = math.exp(-0.01 / 20)
    assert_close(weights.weight, [[0.01 + 0.01 * second]], backend)
    assert_close(delays.delay, [[-0.01 - 0.01 * second]], backend)


def test_weight_rule_clamps() -> None:
    syn = px.Learner("delay_adjusted_mstdp", w_max=0.005).bind(np.zeros((1, 1)))
    syn.step(pre=[[1.0]], post=[[1.0]], reward=1.0)
    assert syn.weight[0, 0] == pytest.approx(0.005)


def test_mask_freezes_absent_synapses(backend: str) -> None:
    syn = px.Learner(RULE, backend=backend, dtype="float64") \
        .bind(np.ones((2, 1)), mask=np.array([[1.0], [0.0]]))
    _one_step_pairs(syn, 1.0)
    assert_close(syn.delay, [[0.01 * math.exp(-1 / 20)], [0.0]], backend)
    assert_close(syn.weight, [[1.0], [0.0]], backend)
