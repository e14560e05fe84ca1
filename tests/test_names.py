"""The name registry: case, aliases, collisions naming both providers, override and undo."""

from __future__ import annotations

import pytest

import plastix as px
from plastix.registry import NameRegistry


class Thing:
    """A registrable object with a module and qualified name, like a rule class."""


def make(qualname: str) -> type:
    return type(qualname, (), {"__qualname__": qualname, "__module__": "somewhere"})


def test_names_and_aliases_are_case_insensitive() -> None:
    reg: NameRegistry[object] = NameRegistry("rule")
    reg.add("pair_stdp", Thing, aliases=["PairSTDP"], provider="a")
    assert reg.get("PAIR_stdp").obj is Thing  # type: ignore[union-attr]
    assert reg.get("pairstdp").obj is Thing  # type: ignore[union-attr]
    assert "PairSTDP" in reg and "other" not in reg
    assert reg.names() == ["pair_stdp"]
    assert reg.names(with_aliases=True) == ["pair_stdp", "PairSTDP"]


def test_a_collision_names_both_providers_and_the_name() -> None:
    reg: NameRegistry[object] = NameRegistry("rule")
    reg.add("pair_stdp", make("A"), aliases=["pair"], provider="dist-a")
    with pytest.raises(px.NameCollisionError) as info:
        reg.add("other_rule", make("B"), aliases=["PAIR"], provider="dist-b")
    assert info.value.providers == ("dist-a", "dist-b")
    assert info.value.name == "PAIR"
    msg = str(info.value)
    assert "'dist-a' (pair_stdp)" in msg and "'dist-b' (other_rule)" in msg
    assert "override=True" in msg
    assert "other_rule" not in reg  # nothing of the refused registration stays


def test_override_shadows_and_removal_brings_the_original_back() -> None:
    reg: NameRegistry[object] = NameRegistry("rule")
    a = reg.add("x", make("A"), aliases=["ex"], provider="a")
    b = reg.add("x", make("B"), provider="b", override=True)
    assert reg.get("x") is b
    assert reg.get("ex") is None  # the overridden entry is replaced whole, aliases included
    assert reg.remove(b)
    assert reg.get("x") is a and reg.get("ex") is a
    assert not reg.remove(b)


def test_removing_a_middle_override_keeps_the_chain() -> None:
    reg: NameRegistry[object] = NameRegistry("rule")
    a = reg.add("x", make("A"), provider="a")
    b = reg.add("x", make("B"), provider="b", override=True)
    c = reg.add("x", make("C"), provider="c", override=True)
    assert reg.remove(b)          # b is shadowed: a takes its place under c
    assert reg.get("x") is c
    assert reg.remove(c)
    assert reg.get("x") is a


def test_an_override_removed_after_its_name_was_reused_does_not_clobber() -> None:
    reg: NameRegistry[object] = NameRegistry("rule")
    reg.add("x", make("A"), aliases=["shared"], provider="a")
    b = reg.add("x", make("B"), provider="b", override=True)
    d = reg.add("d", make("D"), aliases=["shared"], provider="d")  # 'shared' was freed
    reg.remove(b)
    assert reg.get("shared") is d
    assert reg.get("x") is None  # 'a' cannot come back whole, so it stays gone


def test_the_same_definition_from_the_same_provider_is_a_redefinition() -> None:
    reg: NameRegistry[object] = NameRegistry("rule")
    first, second = make("MyRule"), make("MyRule")  # a notebook cell run twice
    reg.add("mine", first, provider="__main__")
    entry = reg.add("mine", second, provider="__main__")
    assert reg.get("mine") is entry and entry.obj is second
    reg.remove(entry)
    assert reg.get("mine") is None  # the earlier definition does not come back
    reg.add("mine", first, provider="__main__")
    with pytest.raises(px.NameCollisionError):
        reg.add("mine", second, provider="elsewhere")


def test_remove_provider_withdraws_all_of_its_entries() -> None:
    reg: NameRegistry[object] = NameRegistry("rule")
    a = reg.add("x", make("A"), provider="a")
    reg.add("x", make("B"), provider="b", override=True)
    reg.add("y", make("C"), provider="b")
    assert {e.name for e in reg.remove_provider("b")} == {"x", "y"}
    assert reg.get("x") is a and reg.get("y") is None


@pytest.mark.parametrize(("name", "aliases", "fragment"), [
    ("", (), "non-empty string"),
    (3, (), "non-empty string"),
    ("ok", "abc", "aliases must be a list of strings"),
    ("ok", ["fine", 7], "an alias must be a non-empty string"),
    ("ok", [""], "an alias must be a non-empty string"),
])
def test_bad_names_and_aliases_are_refused(name: object, aliases: object,
                                           fragment: str) -> None:
    reg: NameRegistry[object] = NameRegistry("rule")
    with pytest.raises(px.RegistrationError, match=fragment):
        reg.add(name, Thing, aliases=aliases)  # type: ignore[arg-type]


def test_op_names_are_case_sensitive() -> None:
    reg: NameRegistry[object] = NameRegistry("op", fold_case=False)
    reg.add("add", make("A"))
    reg.add("Add", make("B"), provider="other")
    assert reg.get("add").obj is not reg.get("Add").obj  # type: ignore[union-attr]
    assert reg.get("ADD") is None
