"""Loading plugins: the built-ins first, then each ``plastix`` entry point in its own guard.

Loading is lazy: nothing is imported until a registry is first used (``px.Learner``,
``px.rules()``, ``plastix list``), so ``import plastix`` cannot fail because of a plugin.
pluggy's own ``load_setuptools_entrypoints`` stops at the first broken plugin, so plastix
loads entry points itself, one at a time and sorted by distribution so that the outcome does
not depend on install order. A plugin that fails to import, fails pluggy's validation, or whose
hook raises (a name collision included) is skipped: everything it had registered is withdrawn,
it is listed as failed, and a :class:`plastix.PluginWarning` names it and the exception once
loading has finished. ``PLASTIX_DISABLE_PLUGIN_AUTOLOAD=1`` turns entry-point loading off.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from importlib import metadata
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from plastix._errors import PluginError, PluginWarning, RegistrationError, did_you_mean

from . import _guard, hookspecs
from ._registrar import PluginInfo, Registrar, current, loading
from ._tables import BACKENDS, OPS, RULES

if TYPE_CHECKING:
    from plastix._rule import Rule

R = TypeVar("R", bound=type["Rule"])

ENTRY_POINT_GROUP = "plastix"
DISABLE_ENV = "PLASTIX_DISABLE_PLUGIN_AUTOLOAD"
_BUILTINS = ("plastix._ops", "plastix.backends", "plastix.learners")
_GUARDED = (Exception, SystemExit)  # a plugin calling sys.exit() must not end the host


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.loaded = False
        self.loading = False
        self.pm = pluggy.PluginManager("plastix")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.registrars: dict[str, Registrar] = {}


_STATE = _State()


def autoload_disabled() -> bool:
    """Whether ``PLASTIX_DISABLE_PLUGIN_AUTOLOAD`` is set to anything but ``""``/``0``/``false``."""
    return os.environ.get(DISABLE_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def _implemented_hooks(plugin: object, info: PluginInfo) -> list[str]:
    """The hooks ``plugin`` implements; an unknown hook or a hook wrapper is an error."""
    hooks = []
    for caller in _STATE.pm.get_hookcallers(plugin) or []:
        if caller.spec is None:
            hint = did_you_mean(caller.name, hookspecs.HOOKS, n=1)
            raise RegistrationError(f"plugin {info.name!r} implements unknown hook "
                                    f"{caller.name!r}; plastix's hooks are "
                                    f"{', '.join(hookspecs.HOOKS)}{hint}")
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                raise RegistrationError(f"plugin {info.name!r}: {caller.name} cannot be a hook "
                                        "wrapper")
        hooks.append(caller.name)
    return [h for h in hookspecs.HOOKS if h in hooks]


def _run_hooks(plugin: object, reg: Registrar, snapshot: _guard.Snapshot | None = None) -> None:
    """Register ``plugin`` with pluggy and run its hooks; on failure withdraw all of it.

    With a ``snapshot`` (taken before the plugin was imported), whatever the plugin changed
    behind its register callbacks (a built-in rule patched, a registry entry replaced) is
    undone and the plugin fails (see ``_guard``)."""
    info, pm = reg.info, _STATE.pm
    stage = "registering with pluggy"
    slow = _guard.slow_warning(info.name, "registering") if snapshot is not None \
        else contextlib.nullcontext()
    try:
        with loading(reg), slow:
            pm.register(plugin, name=info.name)
            reg.journal.append(lambda: pm.unregister(name=info.name))
            stage = "checking its hooks"
            info.hooks = _implemented_hooks(plugin, info)
            for hook in info.hooks:
                stage = hook
                for impl in getattr(pm.hook, hook).get_hookimpls():
                    if impl.plugin is not plugin:
                        continue
                    register = reg.callback(hook)
                    try:
                        kwargs = {"register": register} if impl.argnames else {}
                        result = impl.function(**kwargs)
                    finally:
                        register.open = False
                    if result is not None:
                        raise RegistrationError(f"it returned {type(result).__name__}; a hook "
                                                "calls register(...) and returns nothing")
        stage = "checking what it changed"
        changed = snapshot.undo_changes(info.rules) if snapshot is not None else []
        if changed:
            raise RegistrationError(f"it modified plastix outside its register callbacks "
                                    f"({', '.join(changed)}); the changes were undone")
    except BaseException as exc:  # withdraw it whole, even on KeyboardInterrupt
        reg.rollback()
        info.hooks = []
        if isinstance(exc, _GUARDED):
            raise PluginError(info.name, info.distribution, stage, exc) from exc
        raise


def _load_builtins() -> None:
    from plastix._version import __version__ as version

    for modname in _BUILTINS:
        module = importlib.import_module(modname)
        reg = Registrar(PluginInfo(modname, "plastix", version, builtin=True, kind="built in",
                                    module=modname))
        _run_hooks(module, reg)
        _STATE.plugins[modname] = reg.info
        _STATE.registrars[modname] = reg


def _load_entry_points(disabled: bool) -> list[str]:
    """Load every ``plastix`` entry point in its own guard; return the failure warnings."""
    eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP),
                 key=lambda ep: ((ep.dist.name if ep.dist else "").lower(), ep.name))
    failures = []
    for ep in eps:
        dist = ep.dist.name if ep.dist is not None else ep.module
        version = ep.dist.version if ep.dist is not None else "unknown"
        name = ep.name if ep.name not in _STATE.plugins else f"{ep.name} ({dist})"
        info = PluginInfo(name, dist, version, module=ep.value)
        _STATE.plugins[name] = info
        if disabled:
            info.status = "disabled"
            continue
        reg = Registrar(info)
        snapshot = _guard.Snapshot(RULES)
        try:
            try:
                with loading(reg), _guard.slow_warning(name, "importing"):
                    plugin = ep.load()
            except _GUARDED as exc:
                raise PluginError(name, dist, f"importing {ep.value!r}", exc) from exc
            _run_hooks(plugin, reg, snapshot)
        except BaseException as exc:  # withdraw it whole, even on KeyboardInterrupt
            reg.rollback()
            if not isinstance(exc, PluginError):
                raise
            info.status, info.error, info.exception = "failed", exc.reason, exc.cause
            failures.append(f"plastix plugin {name!r} ({dist} {version}) failed and was "
                            f"skipped: {exc.reason}")
            continue
        _STATE.registrars[name] = reg
    return failures


def ensure_loaded() -> None:
    """Load the built-ins and (unless disabled) the entry-point plugins, once per process.

    A plugin's hooks may use the registries while loading (``px.register`` at import time):
    the nested call returns at once instead of loading again.
    """
    if _STATE.loaded:
        return
    with _STATE.lock:
        if _STATE.loaded or _STATE.loading:
            return
        _STATE.loading = True
        try:
            _load_builtins()
            failures = _load_entry_points(autoload_disabled())
        except BaseException:  # a bug in plastix itself: undo, so a retry starts clean
            for reg in reversed(list(_STATE.registrars.values())):
                reg.rollback()
            _STATE.plugins.clear()
            _STATE.registrars.clear()
            raise
        finally:
            _STATE.loading = False
        _STATE.loaded = True
    # Warn only now, with the registries complete: under ``-W error`` a warning raises, and
    # it must not leave loading half done.
    for message in failures:
        warnings.warn(message, PluginWarning, stacklevel=3)


def register_plugin(plugin: Any, name: str | None = None, *,
                    distribution: str | None = None) -> PluginInfo:
    """Register a plugin object (a module, or any object with hook methods) in-process.

    For tests and notebooks; undo with :func:`unregister_plugin`. ``name`` defaults to the
    module's name, ``distribution`` (the provider shown by ``plastix list``) to ``name``.
    Raises :class:`plastix.PluginError` when a hook fails; nothing of the plugin then stays.
    """
    ensure_loaded()
    name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
    with _STATE.lock:
        if name in _STATE.plugins:
            raise RegistrationError(f"a plugin named {name!r} is already registered")
        module = getattr(plugin, "__name__", None) or type(plugin).__qualname__
        reg = Registrar(PluginInfo(name, distribution or name, "in-process", kind="in-process",
                                    module=module))
        _run_hooks(plugin, reg, _guard.Snapshot(RULES))
        _STATE.plugins[name] = reg.info
        _STATE.registrars[name] = reg
        return reg.info


def unregister_plugin(name: str) -> PluginInfo:
    """Withdraw a plugin and everything it registered; what it overrode comes back."""
    ensure_loaded()
    with _STATE.lock:
        info = _STATE.plugins.get(name)
        if info is None:
            raise RegistrationError(f"no plugin named {name!r} is registered; registered: "
                                    f"{', '.join(_STATE.plugins)}")
        if info.builtin:
            raise RegistrationError(f"plugin {name!r} is built in and cannot be unregistered")
        del _STATE.plugins[name]
        reg = _STATE.registrars.pop(name, None)
        if reg is not None:
            reg.rollback()
        return info


def plugins(include_builtin: bool = False) -> list[PluginInfo]:
    """Every plugin plastix knows (loaded, failed or disabled); built-ins only when asked."""
    ensure_loaded()
    with _STATE.lock:
        return [p for p in _STATE.plugins.values() if include_builtin or not p.builtin]


def register(name: str, aliases: Iterable[str] = (), *, override: bool = False,
             provider: str | None = None) -> Callable[[R], R]:
    """Name a rule class and register it in-process (notebooks, scripts, tests).

    While a plugin loads, the rule is that plugin's (and is withdrawn with it). Otherwise the
    provider shown by ``plastix list`` is ``provider`` or the class's top-level package.
    Registering the same definition again (a re-run notebook cell) replaces it; another
    provider's name or alias raises :class:`NameCollisionError` unless ``override=True``.
    """

    def mark(cls: R) -> R:
        from plastix._rule import rule

        rule(name, aliases)(cls)
        cls.check_definition()
        ensure_loaded()
        reg = current()
        if reg is not None:
            reg.rule(cls, override=override)
        else:
            RULES.add(cls.name, cls, aliases=cls.aliases, override=override,
                      provider=provider or cls.__module__.split(".")[0])
        return cls

    return mark


for _table in (RULES, BACKENDS, OPS):  # reading a registry loads the plugins first
    _table.set_loader(ensure_loaded)
