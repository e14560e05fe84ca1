"""Plugins registered in-process: the three hooks, collisions, rollback, unregistering."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import plastix as px
from plastix._apps.cli import main
from plastix.backends import Template, get_backend
from plastix.registry import (
    BACKENDS,
    RULES,
    autoload_disabled,
    plugins,
    register_plugin,
    unregister_plugin,
)
from tests.conftest import assert_close


@dataclass(frozen=True)
class _Gain:
    gain: float = px.param(2.0, doc="factor")


def rule_class(name: str, op: str = "mul", aliases: tuple[str, ...] = ()) -> type[px.Rule]:
    """A rule ``weight <- op(weight, gain)``, named ``name``."""

    @px.rule(name, aliases=aliases)
    class Scale(px.Rule):
        """Scales the weight by ``gain`` every step."""

        Params = _Gain

        def build(self, g: px.Graph) -> None:
            g.op_to_backend("weight", op, ["weight", "gain"])

    return Scale


class RulesPlugin:
    """A plugin object registering ``rules``, then raising ``fail`` if given."""

    def __init__(self, *rules: type[px.Rule], fail: Exception | None = None,
                 override: bool = False) -> None:
        self.rules, self.fail, self.override = rules, fail, override

    @px.hookimpl
    def register_rules(self, register: Any) -> None:
        for r in self.rules:
            register(r, override=self.override)
        if self.fail is not None:
            raise self.fail


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Names of in-process plugins to unregister after the test."""
    names: list[str] = []
    yield names
    for name in names:
        if name in {p.name for p in plugins()}:
            unregister_plugin(name)


def test_a_plugin_rule_is_found_listed_and_withdrawn(registered: list[str],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    info = register_plugin(RulesPlugin(rule_class("test_scale", aliases=("TestScale",))),
                           name="scale_plugin", distribution="scale-dist")
    registered.append("scale_plugin")
    assert (info.status, info.kind, info.hooks, info.rules) == \
        ("ok", "in-process", ["register_rules"], ["test_scale"])
    assert RULES.get("testscale").provider == "scale-dist"  # type: ignore[union-attr]
    syn = px.Learner("TestScale", gain=3.0, dtype="float64").bind(np.ones((1, 2)))
    syn.step(np.zeros((1, 2)), np.zeros((1, 1)))
    np.testing.assert_array_equal(syn.weight, [[3.0, 3.0]])
    main(["list"])
    assert any(line.split()[:3] == ["test_scale", "scale-dist", "TestScale"]
               for line in capsys.readouterr().out.splitlines())
    main(["plugins"])
    out = capsys.readouterr().out
    assert "scale_plugin  (scale-dist in-process, in-process)  ok" in out
    assert "  rules: test_scale" in out
    unregister_plugin("scale_plugin")
    with pytest.raises(px.UnknownRuleError):
        px.find_rule("test_scale")


def test_a_collision_names_both_distributions_and_registers_nothing() -> None:
    plugin = RulesPlugin(rule_class("test_fresh"), rule_class("NEAREST_ONLINE_STDP"))
    with pytest.raises(px.PluginError) as info:
        register_plugin(plugin, name="colliding", distribution="colliding-dist")
    err = info.value
    assert isinstance(err.cause, px.NameCollisionError)
    assert err.cause.providers == ("plastix", "colliding-dist")
    assert err.stage == "register_rules" and err.plugin == "colliding"
    assert "'plastix' (nearest_online_stdp) and 'colliding-dist'" in str(err)
    assert "test_fresh" not in px.rules()
    assert px.find_rule("nearest_online_stdp").__module__ == "plastix.learners.spaic"
    assert "colliding" not in {p.name for p in plugins()}
    register_plugin(RulesPlugin(), name="colliding")  # the name is free again
    unregister_plugin("colliding")


def test_override_replaces_a_builtin_until_unregistered(registered: list[str]) -> None:
    builtin = px.find_rule("nearest_online_stdp")
    impostor = rule_class("nearest_online_stdp")
    register_plugin(RulesPlugin(impostor, override=True), name="overrider")
    registered.append("overrider")
    assert px.find_rule("Nearest_Online_STDP") is impostor
    assert RULES.get("nearest_online_stdp").provider == "overrider"  # type: ignore[union-attr]
    unregister_plugin("overrider")
    assert px.find_rule("nearest_online_STDP") is builtin
    assert RULES.get("nearest_online_stdp").provider == "plastix"  # type: ignore[union-attr]


def test_a_hook_that_raises_leaves_nothing_registered() -> None:
    plugin = RulesPlugin(rule_class("test_half"), fail=ZeroDivisionError("boom"))
    with pytest.raises(px.PluginError, match=r"register_rules raised ZeroDivisionError: boom"):
        register_plugin(plugin, name="half")
    assert "test_half" not in px.rules()


def test_a_failing_hook_gives_back_what_it_overrode() -> None:
    builtin = px.find_rule("nearest_online_stdp")
    plugin = RulesPlugin(rule_class("nearest_online_stdp"), override=True,
                         fail=RuntimeError("late"))
    with pytest.raises(px.PluginError, match="late"):
        register_plugin(plugin, name="overrides_then_fails")
    assert px.find_rule("nearest_online_STDP") is builtin
    assert RULES.get("nearest_online_stdp").provider == "plastix"  # type: ignore[union-attr]


def test_a_hook_calling_sys_exit_does_not_end_the_host() -> None:
    with pytest.raises(px.PluginError, match="register_rules raised SystemExit"):
        register_plugin(RulesPlugin(rule_class("test_exit"), fail=SystemExit(3)), name="exits")
    assert "test_exit" not in px.rules()


class Typo:
    @px.hookimpl
    def register_rule(self, register: Any) -> None:  # one letter short of register_rules
        raise AssertionError("never called")


class Returns:
    @px.hookimpl
    def register_rules(self, register: Any) -> list[type]:
        return [rule_class("test_returned")]


class Keeps:
    kept: Any = None

    @px.hookimpl
    def register_rules(self, register: Any) -> None:
        Keeps.kept = register


class BadCall:
    @px.hookimpl
    def register_rules(self, register: Any) -> None:
        register(rule_class("test_bad_call"), alias="x")


class NotARule:
    @px.hookimpl
    def register_rules(self, register: Any) -> None:
        register(dict)


class ReservedOp:
    @px.hookimpl
    def register_ops(self, register: Any) -> None:
        register(px.OpSpec("seam", 1, softsign_infer))


class WrongArgument:
    @px.hookimpl
    def register_rules(self, reg: Any) -> None:
        raise AssertionError("never called")


@pytest.mark.parametrize(("plugin", "fragment"), [
    (Typo(), "unknown hook 'register_rule'.*did you mean 'register_rules'"),
    (Returns(), "it returned list; a hook calls register"),
    (BadCall(), r"register\(rule, \*, name=None, aliases=None, override=False\) cannot be "
                "called this way"),
    (NotARule(), "a rule must be a plastix.Rule subclass, got <class 'dict'>"),
    (ReservedOp(), "'seam' cannot name an op"),
    (WrongArgument(), "registering with pluggy raised PluginValidationError.*'reg'"),
])
def test_mistakes_in_a_plugin_are_named(plugin: object, fragment: str) -> None:
    with pytest.raises(px.PluginError, match=fragment) as info:
        register_plugin(plugin, name="mistaken")
    assert info.value.plugin == "mistaken"
    assert "mistaken" not in {p.name for p in plugins()}


def test_register_is_refused_after_its_hook_returned() -> None:
    register_plugin(Keeps(), name="keeps")
    try:
        with pytest.raises(px.RegistrationError, match="called after the hook returned"):
            Keeps.kept(rule_class("test_late"))
    finally:
        unregister_plugin("keeps")


def softsign_infer(x: Any, **_: Any) -> Any:
    return x  # same shape and dtype as its input


SOFTSIGN = px.OpSpec("test_softsign", 1, softsign_infer, elementwise=True, doc="x / (1 + |x|)")


class OpPlugin:
    @px.hookimpl
    def register_ops(self, register: Any) -> None:
        register(SOFTSIGN, aliases=["test_ss"],
                 lowerings={"*": Template("{0} / (1 + xp.abs({0}))")})

    @px.hookimpl
    def register_rules(self, register: Any) -> None:
        @px.rule("test_softsign_rule")
        class Softsign(px.Rule):
            """weight <- softsign(weight)."""

            Params = _Gain

            def build(self, g: px.Graph) -> None:
                g.op_to_backend("weight", "test_ss", ["weight"])

        register(Softsign)


def test_a_plugin_op_runs_on_every_backend(registered: list[str], backend: str) -> None:
    info = register_plugin(OpPlugin(), name="ops_plugin")
    registered.append("ops_plugin")
    assert info.hooks == ["register_ops", "register_rules"]  # ops first, as documented
    assert "test_softsign" in px.ops() and "test_ss" in px.ops()
    syn = px.Learner("test_softsign_rule", backend=backend, dtype="float64").bind(
        np.array([[3.0, -1.0, 0.0]]))
    syn.step(np.zeros((1, 3)), np.zeros((1, 1)))
    assert_close(syn.weight, [[3 / 4, -1 / 2, 0.0]], backend)
    unregister_plugin("ops_plugin")
    assert "test_softsign" not in px.ops()


class AddOverride:
    @px.hookimpl
    def register_ops(self, register: Any) -> None:
        register(px.OpSpec("add", 2, softsign_infer), override=True,
                 lowerings={"numpy": Template("{0} - {1}")})


def test_overriding_a_builtin_op_is_undone_by_unregistering(registered: list[str]) -> None:
    from plastix.registry import OPS

    builtin = OPS.resolve("add")
    register_plugin(AddOverride(), name="add_override")
    registered.append("add_override")
    assert OPS.resolve("add") is not builtin
    unregister_plugin("add_override")
    assert OPS.resolve("add") is builtin
    assert get_backend("numpy").template("add") == get_backend("numpy").table["add"]
    assert "{1}" in get_backend("numpy").template("add").expr  # type: ignore[union-attr]
    assert "-" not in get_backend("numpy").template("add").expr  # type: ignore[union-attr]


class BackendPlugin:
    @px.hookimpl
    def register_backends(self, register: Any) -> None:
        from plastix.backends._numpy import NumpyBackend

        def missing(device: str | None) -> Any:
            raise ImportError("No module named 'imaginary_arrays'")

        register("test_twin", NumpyBackend, aliases=["twin"])
        register("test_missing", missing, package="imaginary-arrays")


def test_a_plugin_backend_is_usable_and_a_missing_one_names_its_package(
        registered: list[str]) -> None:
    register_plugin(BackendPlugin(), name="backend_plugin", distribution="twin-dist")
    registered.append("backend_plugin")
    assert BACKENDS.get("TWIN").provider == "twin-dist"  # type: ignore[union-attr]
    syn = px.Learner("nearest_online_stdp", backend="twin").bind(np.full((2, 3), 0.5))
    assert isinstance(syn.weight, np.ndarray)
    with pytest.raises(px.BackendUnavailableError, match="pip install imaginary-arrays"):
        px.Learner("nearest_online_stdp", backend="test_missing")
    unregister_plugin("backend_plugin")
    with pytest.raises(px.BackendUnavailableError, match="unknown backend"):
        get_backend("twin")


class ImportTimeStyle:
    """A plugin that uses @px.register inside its hook rather than the callback."""

    @px.hookimpl
    def register_rules(self, register: Any) -> None:
        px.register("test_decorated")(rule_class("test_decorated"))


def test_px_register_while_a_plugin_loads_belongs_to_the_plugin(registered: list[str]) -> None:
    info = register_plugin(ImportTimeStyle(), name="decorating", distribution="deco-dist")
    registered.append("decorating")
    assert info.rules == ["test_decorated"]
    assert RULES.get("test_decorated").provider == "deco-dist"  # type: ignore[union-attr]
    unregister_plugin("decorating")
    assert "test_decorated" not in px.rules()


def test_rerunning_a_notebook_cell_redefines_the_rule() -> None:
    first = px.register("test_notebook_rule", provider="notebook")(rule_class("x"))
    second = px.register("test_notebook_rule", provider="notebook")(rule_class("x"))
    try:
        assert px.find_rule("test_notebook_rule") is second is not first
    finally:
        RULES.remove_provider("notebook")


def test_plugin_names_are_checked() -> None:
    with pytest.raises(px.RegistrationError, match="already registered"):
        register_plugin(RulesPlugin(), name="plastix.learners")
    with pytest.raises(px.RegistrationError, match="no plugin named 'nowhere'"):
        unregister_plugin("nowhere")
    with pytest.raises(px.RegistrationError, match="built in and cannot be unregistered"):
        unregister_plugin("plastix.learners")


def test_builtins_register_through_the_same_hooks(capsys: pytest.CaptureFixture[str]) -> None:
    builtin = {p.name: p for p in plugins(include_builtin=True) if p.builtin}
    assert builtin["plastix._ops"].hooks == ["register_ops"]
    assert "mat_mult_pre" in builtin["plastix._ops"].ops
    assert builtin["plastix.backends"].backends == ["numpy", "torch", "cupy"]
    assert "nearest_online_stdp" in builtin["plastix.learners"].rules
    main(["plugins", "--all"])
    out = capsys.readouterr().out
    assert "plastix.learners  (plastix 0.1.0, built in)  ok" in out
    assert "  hooks: register_rules" in out and "  backends: numpy" in out


@pytest.mark.parametrize(("value", "off"), [
    ("", False), ("0", False), ("false", False), ("No", False),
    ("1", True), ("true", True), ("YES", True), ("on", True),
])
def test_the_disable_switch_reads_common_spellings(monkeypatch: pytest.MonkeyPatch,
                                                    value: str, off: bool) -> None:
    monkeypatch.setenv("PLASTIX_DISABLE_PLUGIN_AUTOLOAD", value)
    assert autoload_disabled() is off


# -- plugin code that fails when used -----------------------------------------------------------
BROKEN_OP = px.OpSpec("test_broken_lowering", 1, softsign_infer, elementwise=True,
                      doc="a lowering that fails on every backend when the step runs")


class BrokenLoweringPlugin:
    """An op whose lowering template raises at step time (a bad reshape), and a rule that
    writes its traces before it reaches the op."""

    @px.hookimpl
    def register_ops(self, register: Any) -> None:
        register(BROKEN_OP, lowerings={"*": Template("{0}.reshape(-7)")})

    @px.hookimpl
    def register_rules(self, register: Any) -> None:
        @px.rule("test_broken_lowering_rule")
        class Broken(px.Rule):
            """x <- x + pre; weight <- broken(weight + post^T x)."""

            def build(self, g: px.Graph) -> None:
                g.variable_to_backend("x", g.pre_shape)
                g.op_to_backend("x", "add", ["x", "pre"])
                g.op_to_backend("dw", "mat_mult_pre", ["post", "x"])
                g.op_to_backend("w", "add", ["weight", "dw"])
                g.op_to_backend("weight", "test_broken_lowering", ["w"])

        register(Broken)


@pytest.mark.parametrize("check_finite", [False, True])
def test_a_plugin_op_failing_at_step_time_is_rolled_back_and_named(
        registered: list[str], backend: str, check_finite: bool) -> None:
    from tests.reliability_helpers import assert_unchanged, snapshot

    register_plugin(BrokenLoweringPlugin(), name="broken_lowering", distribution="broken-dist")
    registered.append("broken_lowering")
    syn = px.Learner("test_broken_lowering_rule", backend=backend, dtype="float64").bind(
        np.full((2, 3), 0.5), batch_size=1, check_finite=check_finite)
    before = snapshot(syn)
    for _ in range(2):  # the second try fails the same way: nothing was left half done
        with pytest.raises(px.StepError) as info:
            syn.step(np.ones((1, 3)), np.ones((1, 2)))
        message = str(info.value)
        assert "'test_broken_lowering'" in message and "'broken-dist'" in message, message
        assert "rolled back" in message and info.value.rule == "test_broken_lowering_rule"
        assert info.value.step == 0 and info.value.__cause__ is info.value.cause
        assert_unchanged(syn, before)


class BrokenFactoryPlugin:
    @px.hookimpl
    def register_backends(self, register: Any) -> None:
        def factory(device: str | None) -> Any:
            raise RuntimeError("the device driver crashed")

        register("test_broken_factory", factory)


def test_a_plugin_backend_whose_factory_raises_is_a_backend_error(
        registered: list[str]) -> None:
    register_plugin(BrokenFactoryPlugin(), name="broken_factory", distribution="factory-dist")
    registered.append("broken_factory")
    with pytest.raises(px.BackendUnavailableError) as info:
        px.Learner("nearest_online_stdp", backend="test_broken_factory")
    message = str(info.value)
    assert "'test_broken_factory'" in message and "'factory-dist'" in message
    assert "RuntimeError: the device driver crashed" in message
    assert isinstance(info.value.__cause__, RuntimeError)
    px.Learner("nearest_online_stdp")  # the other backends are untouched
