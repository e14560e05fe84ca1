"""The hooks through which built-in and third-party packages contribute to plastix.

A plugin is a module listed under the ``plastix`` entry-point group (or registered in-process
with :func:`plastix.registry.register_plugin`) that implements any of these hooks with
:data:`plastix.hookimpl`. Each hook receives a ``register`` callback, so a plugin never touches
plastix's internals; plastix decides what registering means (aliases, collisions, providers).

plastix calls each plugin's hooks once, when a registry is first used, in the order
``register_ops``, ``register_backends``, ``register_rules``. A ``register`` callback is valid
only while its hook runs; a hook returns nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
    from plastix._ops import OpSpec
    from plastix._rule import Rule
    from plastix.backends import Backend, Template

hookspec = pluggy.HookspecMarker("plastix")
hookimpl = pluggy.HookimplMarker("plastix")

#: The hooks in the order plastix calls them.
HOOKS = ("register_ops", "register_backends", "register_rules")


class RegisterRule(Protocol):
    def __call__(self, rule: type[Rule], *, name: str | None = None,
                 aliases: Iterable[str] | None = None, override: bool = False) -> None:
        """Register ``rule``, a :class:`plastix.Rule` subclass.

        ``name`` defaults to the name given by :func:`plastix.rule` (a class without one takes
        ``name``); ``aliases`` default to the class's. Names and aliases are looked up
        case-insensitively. A name or alias another distribution provides raises
        :class:`plastix.NameCollisionError` naming both, unless ``override=True``.
        """


class RegisterBackend(Protocol):
    def __call__(self, name: str, factory: Callable[[str | None], Backend], *,
                 aliases: Iterable[str] = (), package: str = "",
                 override: bool = False) -> None:
        """Register an array backend.

        ``factory(device)`` returns a :class:`plastix.backends.Backend` for ``device`` (None:
        the default device) or raises ``ImportError`` when its array library is missing;
        ``package`` is the pip requirement the error message then names.
        """


class RegisterOp(Protocol):
    def __call__(self, spec: OpSpec, *, aliases: Iterable[str] = (),
                 lowerings: Mapping[str, Template] | None = None,
                 override: bool = False) -> None:
        """Register a primitive op described by ``spec`` (a :class:`plastix.OpSpec`).

        ``lowerings`` maps a backend name (``"*"``: every backend) to the
        :class:`plastix.backends.Template` that renders the op in generated step code. Op
        names are case-sensitive.
        """


@hookspec
def register_rules(register: RegisterRule) -> None:
    """Register plasticity rules by calling ``register(RuleClass, ...)`` once per rule."""


@hookspec
def register_backends(register: RegisterBackend) -> None:
    """Register array backends by calling ``register(name, factory, ...)`` once per backend."""


@hookspec
def register_ops(register: RegisterOp) -> None:
    """Register primitive ops by calling ``register(spec, ...)`` once per op."""
