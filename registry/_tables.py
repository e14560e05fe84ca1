"""The three registries: rules, backends and ops, by name.

They are plain name tables; the plugin loader (:mod:`plastix.registry._plugins`) makes itself
their loader when it is imported, so a registry is filled before it is first read. Everything
else imports the tables from here, which imports nothing of plastix but the name table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._names import NameRegistry

if TYPE_CHECKING:
    from plastix._ops import OpSpec
    from plastix._rule import Rule

RULES: NameRegistry[type[Rule]] = NameRegistry("rule")
BACKENDS: NameRegistry[Any] = NameRegistry("backend")
#: Op names are case-sensitive, as in the array libraries.
OPS: NameRegistry[OpSpec] = NameRegistry("op", fold_case=False)
