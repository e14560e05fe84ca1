"""Name resolution, aliases, the pluggy hookspecs and the plugin manager."""

from __future__ import annotations

from ._names import Entry, NameRegistry
from ._plugins import (
    BACKENDS,
    DISABLE_ENV,
    ENTRY_POINT_GROUP,
    RULES,
    PluginInfo,
    ensure_loaded,
    plugins,
    register_plugin,
    unregister_plugin,
)
from .hookspecs import hookimpl, hookspec

__all__ = [
    "BACKENDS",
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "RULES",
    "Entry",
    "NameRegistry",
    "PluginInfo",
    "ensure_loaded",
    "hookimpl",
    "hookspec",
    "plugins",
    "register_plugin",
    "unregister_plugin",
]
