"""Finding a rule by a name a user types: hyphens, spaces and case do not matter; an unknown
word lists the rules it names (a family, a library, part of a name) or the names spelt
most alike."""

from __future__ import annotations

import re

import pytest

import plastix as px
from plastix._errors import closest, did_you_mean, matching, name_key
from plastix.registry import RULES


@pytest.mark.parametrize("spelling", ["nearest-online-stdp", "Nearest-Online-STDP",
                                      "nearest online stdp", "nearest-online-STDP"])
def test_hyphens_spaces_and_case_are_one_name(spelling: str) -> None:
    assert px.find_rule(spelling).name == "nearest_online_stdp"
    assert px.Learner(spelling).name == "nearest_online_stdp"


def test_name_key() -> None:
    assert name_key(" Meta-Nearest online_STDP ") == "meta_nearest_online_stdp"


def _named(word: str) -> set[str]:
    """The rules whose name, an alias or a word of the summary contains ``word``."""
    return {e.name for e in RULES
            if any(word in n.lower() for n in (e.name, *e.aliases))
            or any(word in w.lower() for w in re.findall(r"[\w-]+", e.obj.summary()))}


def test_a_word_inside_many_names_lists_every_rule_it_is_part_of() -> None:
    with pytest.raises(px.UnknownRuleError) as info:
        px.find_rule("stdp")
    err = info.value
    assert _named("stdp") <= set(err.matches) == set(err.suggestions)
    assert f"'stdp' matches {len(err.matches)} rules:" in str(err)
    # the rules with 'stdp' as a whole word of their name come before those that merely
    # contain it (mstdp), so the reward-modulated rules are not what is offered first
    first = err.suggestions[:3]
    assert all("stdp" in name.split("_") for name in first), first


def test_a_family_names_its_rules() -> None:
    with pytest.raises(px.UnknownRuleError) as info:
        px.find_rule("spaic")
    assert {"nearest_online_stdp", "full_online_stdp", "meta_nearest_online_stdp"} \
        <= set(info.value.matches)
    assert "canns_stdp" not in info.value.matches


def test_a_library_in_the_summaries_names_its_rules() -> None:
    with pytest.raises(px.UnknownRuleError) as info:
        px.find_rule("inferno")
    assert {"delay_adjusted_mstdp", "delay_adjusted_mstdpd"} <= _named("inferno") \
        == set(info.value.matches)
    assert "norse_stdp" not in info.value.matches
    assert "'inferno' matches" in str(info.value) or "did you mean" in str(info.value)


def test_a_misspelling_gets_the_names_spelt_alike() -> None:
    with pytest.raises(px.UnknownRuleError) as info:
        px.find_rule("tripplet_stdp")
    assert info.value.suggestions[0] == "triplet_stdp"
    with pytest.raises(px.UnknownRuleError) as info:
        px.find_rule("stdp_step_lineer")  # an alias, misspelt: its rule is suggested
    assert info.value.suggestions[0] == "norse_stdp"


def test_a_word_that_names_nothing_says_how_to_list_the_rules() -> None:
    with pytest.raises(px.UnknownRuleError) as info:
        px.find_rule("qqqq")
    assert info.value.suggestions == [] and info.value.matches == []
    assert "'plastix list'" in str(info.value)


def test_the_hint_helpers() -> None:
    known = ["canns_stdp", "mstdp", "exp_stdp", "stdp_step_linear"]
    assert closest("stdp", known) == ["exp_stdp", "canns_stdp", "stdp_step_linear"]
    assert closest("stdp-step", {"stdp_step_linear": "norse_stdp"}) == ["norse_stdp"]
    assert did_you_mean("exp-stpd", known) == "; did you mean 'exp_stdp'?"
    assert did_you_mean("zzz", known) == ""
    assert matching("Infer", {"inferno": ["a", "b"], "norse": ["c"], "infer_x": ["b"]}) \
        == ["a", "b"]


def test_backend_names_accept_the_same_spellings() -> None:
    with pytest.raises(px.BackendUnavailableError, match="did you mean 'numpy'"):
        px.Learner("nearest_online_stdp", backend="numpi")
