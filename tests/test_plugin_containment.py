"""Plugins cannot break the host: a plugin that raises, hangs, mutates a built-in rule or
registers a rule whose graph is invalid is withdrawn, reported, and the registry stays usable."""

from __future__ import annotations

import time
import types
import warnings
from typing import Any

import numpy as np
import pytest

import plastix as px
from plastix.learners.spaic import NearestOnlineSTDP
from plastix.registry import RULES, _plugins, plugins, register_plugin, unregister_plugin


def _plugin(name: str, register_rules: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.register_rules = px.hookimpl(register_rules)  # type: ignore[attr-defined]
    return module


@px.rule("containment_ok_rule")
class OkRule(px.Rule):
    """A valid rule: w <- w + post^T pre."""

    def build(self, g: px.Graph) -> None:
        g.op_to_backend("dw", "mat_mult_pre", ["post", "pre"])
        g.op_to_backend("weight", "add", ["weight", "dw"])


@px.rule("containment_bad_graph")
class BadGraphRule(px.Rule):
    """Reads a name it never declares."""

    def build(self, g: px.Graph) -> None:
        g.op_to_backend("weight", "add", ["weight", "undeclared_trace"])


@px.rule("containment_bad_shapes")
class BadShapesRule(px.Rule):
    """Writes a (batch, n_pre) value into the (n_post, n_pre) weight."""

    def build(self, g: px.Graph) -> None:
        g.op_to_backend("weight", "add", ["weight", "pre"])


def _reference_weight() -> np.ndarray:
    b = px.Learner("nearest_online_stdp", dtype="float64").bind(np.full((3, 4), 0.5),
                                                                batch_size=1)
    b.step(np.ones((1, 4)), np.ones((1, 3)))
    return np.asarray(b.weight).copy()


@pytest.fixture
def host() -> Any:
    """The registry before a test, checked to be intact and usable after it."""
    before = px.rules(with_aliases=True)
    weight = _reference_weight()
    yield
    for name in [p.name for p in plugins() if p.distribution.startswith("containment")]:
        unregister_plugin(name)
    assert px.rules(with_aliases=True) == before
    np.testing.assert_array_equal(_reference_weight(), weight)


def _assert_no_trace_of(plugin: str) -> None:
    assert not [e for e in RULES if e.provider == plugin]
    assert plugin not in [p.name for p in plugins()]


def test_plugin_that_raises_is_withdrawn_and_reported(host: None) -> None:
    def register_rules(register: Any) -> None:
        register(OkRule)  # registered first, then the plugin fails
        raise RuntimeError("plugin bug")

    with pytest.raises(px.RegistrationError, match=r"containment_raises.*RuntimeError: "
                                                   r"plugin bug") as info:
        register_plugin(_plugin("containment_raises", register_rules))
    assert isinstance(info.value.__cause__, RuntimeError)
    _assert_no_trace_of("containment_raises")
    assert "containment_ok_rule" not in px.rules()
    # the name is free again: a fixed version of the plugin registers
    register_plugin(_plugin("containment_raises", lambda register: register(OkRule)))
    assert "containment_ok_rule" in px.rules()


@pytest.mark.parametrize("rule", [BadGraphRule, BadShapesRule])
def test_rule_with_invalid_graph_is_refused_at_registration(host: None, rule: type) -> None:
    with pytest.raises(px.RegistrationError, match=rule.name) as info:
        register_plugin(_plugin("containment_invalid", lambda register: register(rule)))
    assert "does not build" in str(info.value)
    _assert_no_trace_of("containment_invalid")
    assert rule.name not in px.rules()


def test_plugin_patching_a_builtin_rule_is_undone(host: None) -> None:
    original = NearestOnlineSTDP.build

    def evil_build(self: Any, g: px.Graph) -> None:
        g.op_to_backend("weight", "mul", ["weight", 0.0])

    def register_rules(register: Any) -> None:
        NearestOnlineSTDP.build = evil_build  # type: ignore[method-assign]
        NearestOnlineSTDP.binary_spikes = False
        register(OkRule)

    with pytest.raises(px.RegistrationError, match=r"NearestOnlineSTDP\.build"):
        register_plugin(_plugin("containment_patcher", register_rules))
    assert NearestOnlineSTDP.build is original
    assert NearestOnlineSTDP.binary_spikes is True and "binary_spikes" not in \
        vars(NearestOnlineSTDP)
    _assert_no_trace_of("containment_patcher")


def test_plugin_patching_the_rule_base_class_is_undone(host: None) -> None:
    original = px.Rule.make_params

    def register_rules(register: Any) -> None:
        px.Rule.make_params = classmethod(lambda cls, values, base=None: None)  # type: ignore

    with pytest.raises(px.RegistrationError, match=r"Rule\.make_params"):
        register_plugin(_plugin("containment_base", register_rules))
    assert px.Rule.__dict__["make_params"].__func__ is original.__func__


def test_plugin_replacing_a_registry_entry_behind_the_callbacks_is_undone(host: None) -> None:
    def register_rules(register: Any) -> None:
        RULES.add("nearest_online_stdp", OkRule, override=True)

    with pytest.raises(px.RegistrationError, match="rule registry entry"):
        register_plugin(_plugin("containment_hijack", register_rules))
    assert px.find_rule("nearest_online_stdp") is NearestOnlineSTDP


def test_declared_override_through_the_callback_is_allowed(host: None) -> None:
    """Replacing a built-in name is allowed when asked for openly (override=True)."""
    from plastix.learners.spaic import FullOnlineSTDP

    register_plugin(_plugin("containment_override", lambda register: register(
        OkRule, name="full_online_stdp", override=True)))
    try:
        assert px.find_rule("full_online_stdp") is OkRule
    finally:
        unregister_plugin("containment_override")  # gives back what it overrode
    assert px.find_rule("full_online_stdp") is FullOnlineSTDP


def test_slow_plugin_is_reported_while_it_loads(host: None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLASTIX_PLUGIN_SLOW_S", "0.05")

    def register_rules(register: Any) -> None:
        time.sleep(0.4)
        register(OkRule)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        register_plugin(_plugin("containment_slow", register_rules))
    messages = [str(w.message) for w in caught]
    assert any("containment_slow" in m and "may hang" in m for m in messages), messages
    assert any("took" in m for m in messages)
    assert "containment_ok_rule" in px.rules()


class _EntryPoint:
    """A stand-in for an installed entry point of the ``plastix`` group."""

    def __init__(self, name: str, load: Any) -> None:
        self.name, self.value, self.dist, self._load = name, f"{name}:plugin", None, load
        self.module = name

    def load(self) -> Any:
        return self._load()


def _load_entry_points(monkeypatch: pytest.MonkeyPatch, *eps: _EntryPoint) -> list[str]:
    monkeypatch.setattr(_plugins.metadata, "entry_points", lambda group: list(eps))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        failures = _plugins._load_entry_points(False)
    return failures + [str(w.message) for w in caught]


def test_entry_points_that_fail_are_skipped_and_shown(host: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLASTIX_PLUGIN_SLOW_S", "0.05")

    def import_error() -> Any:
        raise ImportError("No module named 'missing_dependency'")

    def mutates_on_import() -> Any:
        NearestOnlineSTDP.Params = dict  # type: ignore[misc,assignment]
        return _plugin("containment_ep_mutates", lambda register: None)

    def hangs_a_while() -> Any:
        time.sleep(0.3)
        return _plugin("containment_ep_slow", lambda register: register(OkRule))

    original_params = NearestOnlineSTDP.Params
    messages = _load_entry_points(
        monkeypatch, _EntryPoint("containment_ep_broken", import_error),
        _EntryPoint("containment_ep_mutates", mutates_on_import),
        _EntryPoint("containment_ep_slow", hangs_a_while))
    try:
        assert NearestOnlineSTDP.Params is original_params
        shown = {p.name: p for p in plugins()}
        assert "missing_dependency" in (shown["containment_ep_broken"].error or "")
        assert "NearestOnlineSTDP.Params" in (shown["containment_ep_mutates"].error or "")
        assert shown["containment_ep_slow"].error is None
        assert any("containment_ep_broken" in m for m in messages)
        assert any("containment_ep_mutates" in m for m in messages)
        assert any("containment_ep_slow" in m and "importing" in m for m in messages)
        assert "containment_ok_rule" in px.rules()
    finally:
        for name in ("containment_ep_broken", "containment_ep_mutates"):
            _plugins._STATE.plugins.pop(name, None)
        _plugins._STATE.plugins.pop("containment_ep_slow", None)
        reg = _plugins._STATE.registrars.pop("containment_ep_slow", None)
        if reg is not None:
            reg.rollback()
