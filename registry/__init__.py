"""Name resolution, aliases, the pluggy hookspecs and the plugin manager.

Owns: the three registries (rules, backends, ops; :mod:`._tables`), the generic name table
with aliases, providers and collisions (:mod:`._names`), the hooks plugins implement
(:mod:`.hookspecs`), what registering means (:mod:`._registrar`), loading plugins each in its
own guard (:mod:`._plugins`, :mod:`._guard`).

May import: :mod:`plastix._errors`; the rule-author layer (``plastix._rule``, ``plastix._ops``)
and ``plastix.backends.Template`` to check what a plugin registers. Never the compiler or the
runtime: what is derived from a registry (a backend's lowering table, compiled steps) notices
a change itself (:attr:`NameRegistry.version`, the compile cache's fingerprints).
"""

from __future__ import annotations

from ._names import Entry, NameRegistry
from ._plugins import (
    DISABLE_ENV,
    ENTRY_POINT_GROUP,
    autoload_disabled,
    ensure_loaded,
    plugins,
    register,
    register_plugin,
    unregister_plugin,
)
from ._registrar import PluginInfo
from ._tables import BACKENDS, OPS, RULES
from .hookspecs import RegisterBackend, RegisterOp, RegisterRule, hookimpl, hookspec

__all__ = [
    "BACKENDS",
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "OPS",
    "RULES",
    "Entry",
    "NameRegistry",
    "PluginInfo",
    "RegisterBackend",
    "RegisterOp",
    "RegisterRule",
    "autoload_disabled",
    "ensure_loaded",
    "hookimpl",
    "hookspec",
    "plugins",
    "register",
    "register_plugin",
    "unregister_plugin",
]
