"""The hooks through which built-in and third-party packages contribute to plastix.

A plugin is a module listed under the ``plastix`` entry-point group (or registered in-process
with :func:`plastix.registry.register_plugin`) that implements any of these hooks with
:data:`plastix.hookimpl`. Each hook receives a ``register`` callback, so a plugin never touches
plastix's internals; plastix decides what registering means (aliases, collisions, providers).
"""

from __future__ import annotations

from typing import Any, Protocol

import pluggy

hookspec = pluggy.HookspecMarker("plastix")
hookimpl = pluggy.HookimplMarker("plastix")


class RegisterRule(Protocol):
    def __call__(self, rule: type, *, name: str | None = None,
                 aliases: tuple[str, ...] | list[str] = (), override: bool = False) -> None:
        """Register ``rule`` (a :class:`plastix.Rule` subclass) under ``name`` (default: the
        name given by :func:`plastix.rule`) and ``aliases``."""


class RegisterBackend(Protocol):
    def __call__(self, name: str, factory: Any, *, aliases: tuple[str, ...] | list[str] = (),
                 package: str = "", override: bool = False) -> None:
        """Register a backend: ``factory(device)`` returns a :class:`plastix.backends.Backend`
        or raises ``ImportError``; ``package`` is the pip requirement named when missing."""


class RegisterOp(Protocol):
    def __call__(self, spec: Any, *, aliases: tuple[str, ...] | list[str] = (),
                 lowerings: dict[str, Any] | None = None, override: bool = False) -> None:
        """Register a primitive op (a :class:`plastix.OpSpec`) and, per backend name, its
        :class:`plastix.backends.Template` lowering."""


@hookspec
def register_rules(register: RegisterRule) -> None:
    """Register plasticity rules by calling ``register(RuleClass, ...)``."""


@hookspec
def register_backends(register: RegisterBackend) -> None:
    """Register array backends by calling ``register(name, factory, ...)``."""


@hookspec
def register_ops(register: RegisterOp) -> None:
    """Register primitive ops by calling ``register(spec, ...)``."""
