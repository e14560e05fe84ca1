"""Name resolution, aliases, the pluggy hookspecs and the plugin manager."""

from __future__ import annotations

from ._names import Entry, NameRegistry
from ._plugins import (
    DISABLE_ENV,
    ENTRY_POINT_GROUP,
    autoload_disabled,
    ensure_loaded,
    plugins,
    register_plugin,
    unregister_plugin,
)
from ._registrar import BACKENDS, RULES, PluginInfo, add_rule
from .hookspecs import RegisterBackend, RegisterOp, RegisterRule, hookimpl, hookspec

__all__ = [
    "BACKENDS",
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "RULES",
    "Entry",
    "NameRegistry",
    "PluginInfo",
    "RegisterBackend",
    "RegisterOp",
    "RegisterRule",
    "add_rule",
    "autoload_disabled",
    "ensure_loaded",
    "hookimpl",
    "hookspec",
    "plugins",
    "register_plugin",
    "unregister_plugin",
]
