"""Rule lookup by name, aliases, suggestions, and hyperparameter checking."""

from __future__ import annotations

import math

import pytest

import plastix as px


def test_lookup_is_case_insensitive_and_takes_seed_spellings() -> None:
    for name in ("nearest_online_stdp", "nearest_online_STDP", "NEAREST_ONLINE_STDP"):
        assert px.find_rule(name).name == "nearest_online_stdp"
    assert px.find_rule("PostPreIntSTDP").name == "postpreintstdp"
    assert px.find_rule("postpreint").name == "postpreintstdp"
    assert px.find_rule("Meta_nearest_online_STDP").name == "meta_nearest_online_stdp"


def test_unknown_rule_suggests_closest_names() -> None:
    with pytest.raises(px.UnknownRuleError) as info:
        px.Learner(algorithm="nearest_onlin_stdp")
    assert info.value.name == "nearest_onlin_stdp"
    assert "nearest_online_stdp" in info.value.suggestions
    assert "did you mean 'nearest_online_stdp'" in str(info.value)


def test_unknown_hyperparameter_lists_valid_ones() -> None:
    with pytest.raises(px.HyperparameterError) as info:
        px.Learner(algorithm="nearest_online_stdp", Apots=0.1)
    msg = str(info.value)
    assert info.value.rule == "nearest_online_stdp" and info.value.param == "Apots"
    assert "Apost" in msg and "trace_pre" in msg and "did you mean 'Apost'" in msg


def test_lr_is_rejected_with_the_reason() -> None:
    with pytest.raises(px.HyperparameterError, match="reads 'lr' but never uses it"):
        px.Learner(algorithm="full_online_stdp", lr=0.5)


def test_trace_decay_alias_sets_both_decays_and_real_names_win() -> None:
    stdp = px.Learner(algorithm="nearest_online_stdp", trace_decay=0.5)
    assert stdp.params.trace_pre == 0.5 and stdp.params.trace_post == 0.5
    stdp = px.Learner(algorithm="nearest_online_stdp", trace_decay=0.5, trace_post=0.25)
    assert stdp.params.trace_pre == 0.5 and stdp.params.trace_post == 0.25


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"trace_pre": -0.1}, "expected a value >= 0"),
        ({"trace_pre": 1.5}, "expected a value <= 1"),
        ({"Apost": math.nan}, "expected a finite number"),
        ({"Apost": math.inf}, "expected a finite number"),
        ({"w_norm": 0.0}, "expected a value > 0"),
        ({"Apost": "big"}, "expected a number"),
    ],
)
def test_bad_values_fail_when_the_learner_is_created(kwargs: dict, fragment: str) -> None:
    with pytest.raises(px.HyperparameterError, match=fragment) as info:
        px.Learner(algorithm="nearest_online_stdp", **kwargs)
    assert info.value.param == next(iter(kwargs))


def test_integer_hyperparameters_refuse_fractions() -> None:
    with pytest.raises(px.HyperparameterError, match="expected an integer"):
        px.Learner(algorithm="postpreintstdp", nu0=1.5)


def test_unsupported_dtype_and_bad_seed() -> None:
    with pytest.raises(px.HyperparameterError, match="dtype"):
        px.Learner(algorithm="postpreintstdp", dtype="float32")
    with pytest.raises(px.HyperparameterError, match="seed"):
        px.Learner(algorithm="nearest_online_stdp", seed=1.5)  # type: ignore[arg-type]


def test_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(px.BackendUnavailableError, match=r"known backends: .*numpy") as info:
        px.Learner(algorithm="nearest_online_stdp", backend="nump")
    assert "did you mean 'numpy'" in str(info.value)


def test_in_process_registration_and_collision() -> None:
    from dataclasses import dataclass

    from plastix.registry import RULES

    @px.register("test_identity_rule", aliases=["TestIdentity"], provider="tests")
    class Identity(px.Rule):
        """Leaves the weight as it is."""

        @dataclass(frozen=True)
        class Params:
            gain: float = px.param(1.0)

        def build(self, g: px.Graph) -> None:
            g.op_to_backend("weight", "mul", ["weight", "gain"])

    try:
        assert px.find_rule("testidentity") is Identity
        with pytest.raises(px.RegistrationError, match="provided by both"):
            px.register("test_identity_rule", provider="other")(Identity)
        px.register("test_identity_rule", override=True, provider="tests")(Identity)
    finally:
        RULES.remove_provider("tests")
    with pytest.raises(px.UnknownRuleError):
        px.find_rule("test_identity_rule")
