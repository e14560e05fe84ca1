"""What ``register`` means: each plugin registers through a :class:`Registrar` that checks
what it is given, records where it came from, and keeps a journal to withdraw it again.

The journal is what makes a failing plugin leave nothing half-registered, and what lets
:func:`plastix.registry.unregister_plugin` bring back the entries a plugin had overridden.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from plastix._errors import RegistrationError

from ._tables import BACKENDS, OPS, RULES

if TYPE_CHECKING:
    pass



_LOCAL = threading.local()


@dataclass
class PluginInfo:
    """What one plugin is, where it comes from and what it contributed (or why it failed).

    ``status`` is ``"ok"``, ``"failed"`` (``error`` says why) or ``"disabled"`` (found, not
    loaded, because ``PLASTIX_DISABLE_PLUGIN_AUTOLOAD`` is set); ``kind`` is ``"built in"``,
    ``"entry point"`` or ``"in-process"``; ``module`` is what the plugin was loaded from.
    """

    name: str
    distribution: str
    version: str
    builtin: bool = False
    kind: str = "entry point"
    module: str = ""
    status: str = "ok"
    hooks: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    backends: list[str] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)
    error: str | None = None
    exception: BaseException | None = field(default=None, repr=False, compare=False)


class Registrar:
    """Registers one plugin's contributions under its distribution's name, journaling each."""

    def __init__(self, info: PluginInfo) -> None:
        self.info = info
        self.journal: list[Callable[[], object]] = []

    def _where(self) -> str:
        return f"plugin {self.info.name!r}"

    def rule(self, rule: Any, *, name: str | None = None, aliases: Iterable[str] | None = None,
             override: bool = False) -> None:
        from plastix._rule import Rule

        if not (isinstance(rule, type) and issubclass(rule, Rule)):
            raise RegistrationError(f"a rule must be a plastix.Rule subclass, got {rule!r}")
        name = name or rule.name
        if not name:
            raise RegistrationError(f"rule {rule.__name__} has no name; decorate it with "
                                    "@plastix.rule(name) or pass name=")
        if not rule.name:
            rule.name = name
        rule.check_definition()
        if not self.info.builtin:  # a plugin's graph must build and validate on a small probe
            rule.check_graph()
        entry = RULES.add(name, rule, aliases=rule.aliases if aliases is None else aliases,
                          provider=self.info.distribution, override=override)
        self.journal.append(partial(RULES.remove, entry))
        self.info.rules.append(entry.name)

    def backend(self, name: str, factory: Any, *, aliases: Iterable[str] = (),
                package: str = "", override: bool = False) -> None:
        if not callable(factory):
            raise RegistrationError(f"backend {name!r} needs a factory callable(device), "
                                    f"got {factory!r}")
        entry = BACKENDS.add(name, factory, aliases=aliases, provider=self.info.distribution,
                             override=override, package=package)
        self.journal.append(partial(BACKENDS.remove, entry))
        self.info.backends.append(entry.name)

    def op(self, spec: Any, *, aliases: Iterable[str] = (),
           lowerings: Mapping[str, Any] | None = None, override: bool = False) -> None:
        from plastix._ops import INTERNAL_OPS, OpSpec
        from plastix.backends import Template

        if not isinstance(spec, OpSpec):
            raise RegistrationError(f"an op is described by a plastix.OpSpec, got {spec!r}")
        if not spec.name.isidentifier() or spec.name in INTERNAL_OPS or spec.internal:
            raise RegistrationError(f"{spec.name!r} cannot name an op: an op name is an "
                                    f"identifier other than the compiler's own "
                                    f"{sorted(INTERNAL_OPS)}")
        lowerings = dict(lowerings or {})
        for backend, template in lowerings.items():
            if not isinstance(backend, str) or not isinstance(template, Template):
                raise RegistrationError(f"op {spec.name!r}: lowerings map a backend name to a "
                                        f"plastix.backends.Template, got {backend!r}: "
                                        f"{template!r}")
        # a backend's lowering table reads the lowerings from the entry; compiled steps are
        # keyed by the templates they used, so a new lowering never meets a stale step
        entry = OPS.add(spec.name, spec, aliases=aliases, provider=self.info.distribution,
                        override=override,
                        lowerings={k.lower(): v for k, v in lowerings.items()})
        self.journal.append(partial(OPS.remove, entry))
        self.info.ops.append(spec.name)

    def callback(self, hook: str) -> _Callback:
        methods: dict[str, Callable[..., None]] = {
            "register_rules": self.rule, "register_backends": self.backend,
            "register_ops": self.op}
        return _Callback(methods[hook], hook, self._where())

    def rollback(self) -> None:
        """Withdraw everything registered so far, newest first."""
        while self.journal:
            self.journal.pop()()
        self.info.rules.clear()
        self.info.backends.clear()
        self.info.ops.clear()


class _Callback:
    """The ``register`` a hook receives; it refuses calls once its hook has returned."""

    def __init__(self, method: Callable[..., object], hook: str, where: str) -> None:
        self._method = method
        self._hook = hook
        self._where = where
        self.open = True

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        if not self.open:
            raise RegistrationError(f"{self._where}: the register callback of {self._hook} was "
                                    "called after the hook returned; register inside the hook")
        signature = inspect.signature(self._method)
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            plain = signature.replace(return_annotation=signature.empty, parameters=[
                p.replace(annotation=p.empty) for p in signature.parameters.values()])
            raise RegistrationError(f"register{plain} cannot be called this way: "
                                    f"{exc}") from None
        self._method(*args, **kwargs)


def current() -> Registrar | None:
    """The registrar of the plugin being loaded in this thread, if any."""
    return getattr(_LOCAL, "registrar", None)


@contextmanager
def loading(registrar: Registrar) -> Iterator[None]:
    """Attribute registrations made while a plugin imports or runs its hooks to that plugin
    (``@plastix.register`` at import time included), so that they can be withdrawn with it."""
    outer = current()
    _LOCAL.registrar = registrar
    try:
        yield
    finally:
        _LOCAL.registrar = outer
