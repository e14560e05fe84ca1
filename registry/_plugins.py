"""Loading plugins: the built-ins first, then each ``plastix`` entry point in its own guard.

pluggy's own ``load_setuptools_entrypoints`` stops at the first broken plugin, so plastix
loads entry points one at a time: a plugin that fails to import or whose hook raises is
skipped with a warning naming it and the exception, recorded as failed, and everything it had
registered is withdrawn. ``PLASTIX_DISABLE_PLUGIN_AUTOLOAD=1`` turns entry-point loading off.
"""

from __future__ import annotations

import importlib
import os
import threading
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from plastix._errors import RegistrationError

from . import _guard, hookspecs
from ._names import NameRegistry

ENTRY_POINT_GROUP = "plastix"
DISABLE_ENV = "PLASTIX_DISABLE_PLUGIN_AUTOLOAD"

RULES: NameRegistry[type] = NameRegistry("rule")
BACKENDS: NameRegistry[Any] = NameRegistry("backend")
_BUILTINS = ("plastix._ops", "plastix.backends", "plastix.learners")


@dataclass
class PluginInfo:
    """What one plugin is, where it comes from and what it contributed (or why it failed)."""

    name: str
    distribution: str
    version: str
    builtin: bool
    hooks: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    backends: list[str] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)
    error: str | None = None


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.loaded = False
        self.pm = pluggy.PluginManager("plastix")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}


_STATE = _State()


def _callbacks(info: PluginInfo) -> dict[str, Any]:
    from plastix import _ops

    provider = info.distribution

    def register_rule(rule: type, *, name: str | None = None, aliases: Any = (),
                      override: bool = False) -> None:
        from plastix._rule import Rule

        if not (isinstance(rule, type) and issubclass(rule, Rule)):
            raise RegistrationError(f"plugin {info.name!r}: {rule!r} is not a plastix.Rule "
                                    "subclass")
        name = name or getattr(rule, "name", None)
        if not name:
            raise RegistrationError(f"plugin {info.name!r}: rule {rule.__name__} has no name; "
                                    "decorate it with @plastix.rule(name) or pass name=")
        aliases = tuple(aliases) or tuple(getattr(rule, "aliases", ()))
        rule.check_definition()
        if not info.builtin:  # a plugin's graph must build and validate on a small probe
            rule.check_graph()
        RULES.add(name, rule, aliases=aliases, provider=provider, override=override)
        info.rules.append(name)

    def register_backend(name: str, factory: Any, *, aliases: Any = (), package: str = "",
                         override: bool = False) -> None:
        BACKENDS.add(name, factory, aliases=tuple(aliases), provider=provider,
                     override=override, package=package)
        info.backends.append(name)

    def register_op(spec: Any, *, aliases: Any = (), lowerings: dict[str, Any] | None = None,
                    override: bool = False) -> None:
        from plastix.backends import add_lowering

        _ops.OPS.add(spec, tuple(aliases), provider=provider, override=override)
        for backend, template in (lowerings or {}).items():
            add_lowering(backend, spec.name, template)
        info.ops.append(spec.name)

    return {"register_rules": register_rule, "register_backends": register_backend,
            "register_ops": register_op}


def _call_hooks(module: ModuleType, info: PluginInfo,
                snapshot: _guard.Snapshot | None = None) -> None:
    """Run ``module``'s hook implementations; on failure withdraw what it registered.

    ``snapshot`` (taken before the plugin was imported) lets changes the plugin made to
    built-in rules while importing be found too (see ``_guard``)."""
    from plastix import _ops

    callbacks = _callbacks(info)
    name = info.name
    snapshot = snapshot if snapshot is not None or info.builtin else _guard.Snapshot(RULES)
    try:
        _STATE.pm.register(module, name=name)
        info.hooks = sorted(h.name for h in _STATE.pm.get_hookcallers(module) or [])
        with _guard.slow_warning(name, "registering"):
            for hook in ("register_ops", "register_backends", "register_rules"):
                impls = [i for i in getattr(_STATE.pm.hook, hook).get_hookimpls()
                         if i.plugin is module]
                for impl in impls:
                    impl.function(register=callbacks[hook])
        changed = snapshot.undo_changes(info.rules) if snapshot is not None else []
        if changed:
            raise RegistrationError(f"plugin {name!r} modified plastix outside its register "
                                    f"callbacks ({', '.join(changed)}); the changes were "
                                    "undone and the plugin was withdrawn")
    except Exception as exc:
        RULES.remove_provider(info.distribution)
        BACKENDS.remove_provider(info.distribution)
        _ops.OPS.remove_provider(info.distribution)
        if _STATE.pm.is_registered(module):
            _STATE.pm.unregister(module)
        info.rules.clear(), info.backends.clear(), info.ops.clear()
        raise exc


def _load_builtins() -> None:
    version = _version("plastix")
    for modname in _BUILTINS:
        module = importlib.import_module(modname)
        info = PluginInfo(modname, "plastix", version, builtin=True)
        _call_hooks(module, info)
        _STATE.plugins[modname] = info


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _load_entry_points() -> None:
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else ep.value.split(":")[0]
        info = PluginInfo(ep.name, dist, ep.dist.version if ep.dist else "unknown",
                          builtin=False)
        _STATE.plugins[ep.name] = info
        try:
            snapshot = _guard.Snapshot(RULES)
            with _guard.slow_warning(ep.name, "importing"):
                module = ep.load()
            _call_hooks(module, info, snapshot)
        except Exception as exc:
            info.error = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"plastix plugin {ep.name!r} (from {dist!r}) failed and was skipped: "
                          f"{info.error}", RuntimeWarning, stacklevel=3)


def ensure_loaded() -> None:
    """Load the built-ins and (unless disabled) the entry-point plugins, once."""
    if _STATE.loaded:
        return
    with _STATE.lock:
        if _STATE.loaded:
            return
        _load_builtins()
        if os.environ.get(DISABLE_ENV, "").strip() not in ("1", "true", "yes"):
            _load_entry_points()
        _STATE.loaded = True


def register_plugin(module: ModuleType | Any, name: str | None = None) -> PluginInfo:
    """Register a plugin object in-process (tests, notebooks); undo with unregister_plugin."""
    ensure_loaded()
    name = name or getattr(module, "__name__", None) or repr(module)
    with _STATE.lock:
        if name in _STATE.plugins:
            raise RegistrationError(f"a plugin named {name!r} is already registered")
        info = PluginInfo(name, name, "in-process", builtin=False)
        try:
            _call_hooks(module, info)
        except RegistrationError:
            raise
        except Exception as exc:
            raise RegistrationError(f"plugin {name!r} failed and was withdrawn: "
                                    f"{type(exc).__name__}: {exc}") from exc
        _STATE.plugins[name] = info
        return info


def unregister_plugin(name: str) -> None:
    """Withdraw an in-process plugin and everything it registered."""
    from plastix import _ops

    with _STATE.lock:
        info = _STATE.plugins.pop(name, None)
        if info is None:
            raise RegistrationError(f"no plugin named {name!r} is registered")
        if info.builtin:
            _STATE.plugins[name] = info
            raise RegistrationError(f"plugin {name!r} is built in and cannot be unregistered")
        RULES.remove_provider(info.distribution)
        BACKENDS.remove_provider(info.distribution)
        _ops.OPS.remove_provider(info.distribution)
        plugin = _STATE.pm.get_plugin(name)
        if plugin is not None:
            _STATE.pm.unregister(plugin)


def plugins(include_builtin: bool = False) -> list[PluginInfo]:
    """Every plugin plastix knows, loaded or failed; built-ins only when asked."""
    ensure_loaded()
    return [p for p in _STATE.plugins.values() if include_builtin or not p.builtin]
