"""A name registry with aliases, providers, collision checks and undoable registrations.

Names and aliases are compared case-insensitively, a hyphen or space counting as an underscore
(unless ``fold_case=False``: then they are compared as written). Registering a
name or alias that another provider already holds raises :class:`NameCollisionError` naming
both providers, unless the registration says ``override=True``: it then replaces the entries it
collides with, which are kept aside and come back when the overriding entry is removed. The
same provider registering the same definition again (same module and qualified name, as when a
notebook cell is re-run) replaces its earlier entry without ``override``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from plastix._errors import NameCollisionError, RegistrationError, name_key

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Entry(Generic[T]):
    """One registered thing: its canonical name, aliases and the distribution providing it."""

    name: str
    obj: T
    aliases: tuple[str, ...] = ()
    provider: str = "plastix"
    meta: dict[str, Any] = field(default_factory=dict)


def _same_definition(a: object, b: object) -> bool:
    ident = [(getattr(x, "__module__", None), getattr(x, "__qualname__", None)) for x in (a, b)]
    return ident[0] == ident[1] and None not in ident[0]


class NameRegistry(Generic[T]):
    """Maps names and aliases to entries; thread-safe.

    ``loader``, when given, runs before every lookup, so that a registry that is filled
    lazily (plugins) is complete whenever it is read.
    """

    def __init__(self, kind: str, *, fold_case: bool = True,
                 loader: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self.fold_case = fold_case
        self._load = loader or (lambda: None)
        self._entries: dict[str, Entry[T]] = {}   # key of the canonical name -> entry
        self._keys: dict[str, str] = {}           # key of a name or alias -> key of its entry
        self._shadowed: dict[Entry[T], list[Entry[T]]] = {}  # entry -> what it overrode
        self._lock = threading.RLock()
        #: Counts the changes (additions and removals), so that caches of what was derived
        #: from the registry (backend instances, their lowering tables) can tell they are stale.
        self.version = 0

    def set_loader(self, loader: Callable[[], None]) -> None:
        """Run ``loader`` before every lookup from now on (the plugin loader fills the
        registries lazily, and installs itself here when it is imported)."""
        self._load = loader

    def key(self, name: str) -> str:
        return name_key(name) if self.fold_case else name

    def _check_names(self, name: Any, aliases: Any) -> tuple[str, ...]:
        if not isinstance(name, str) or not name.strip():
            raise RegistrationError(f"a {self.kind} name must be a non-empty string, "
                                    f"got {name!r}")
        if isinstance(aliases, str | bytes) or not isinstance(aliases, Iterable):
            raise RegistrationError(f"{self.kind} {name!r}: aliases must be a list of strings, "
                                    f"got {aliases!r}")
        aliases = tuple(aliases)
        for alias in aliases:
            if not isinstance(alias, str) or not alias.strip():
                raise RegistrationError(f"{self.kind} {name!r}: an alias must be a non-empty "
                                        f"string, got {alias!r}")
        return tuple(a for a in dict.fromkeys(aliases) if a != name)

    def add(self, name: str, obj: T, *, aliases: Iterable[str] = (), provider: str = "plastix",
            override: bool = False, **meta: Any) -> Entry[T]:
        """Register ``obj`` under ``name`` and ``aliases``; return the entry (for remove())."""
        aliases = self._check_names(name, aliases)
        entry = Entry(name, obj, aliases, provider, dict(meta))
        keys = list(dict.fromkeys(self.key(n) for n in (name, *aliases)))
        with self._lock:
            clashes = list({id(e): e for e in (self._entries[self._keys[k]] for k in keys
                                               if k in self._keys)}.values())
            redefined = [e for e in clashes
                         if e.provider == provider and _same_definition(e.obj, obj)]
            others = [e for e in clashes if e not in redefined]
            if others and not override:
                other = others[0]
                clash = next(k for k in keys if self._keys.get(k) == self.key(other.name))
                shown = next(n for n in (name, *aliases) if self.key(n) == clash)
                raise NameCollisionError(self.kind, shown, other.name, other.provider, name,
                                         provider)
            shadowed: list[Entry[T]] = []
            for old in redefined:  # a redefinition inherits what its predecessor overrode
                self._drop(old)
                shadowed += self._shadowed.pop(old, [])
            for old in others:
                self._drop(old)
                shadowed.append(old)
            self._entries[keys[0]] = entry
            for k in keys:
                self._keys[k] = keys[0]
            if shadowed:
                self._shadowed[entry] = shadowed
            self.version += 1
        return entry

    def remove(self, entry: Entry[T]) -> bool:
        """Withdraw ``entry``; what it overrode comes back. False when it is not registered."""
        with self._lock:
            if self._entries.get(self.key(entry.name)) is entry:
                self._drop(entry)
                for old in self._shadowed.pop(entry, []):
                    self._reinstate(old)
                self.version += 1
                return True
            for holder, olds in self._shadowed.items():
                for i, old in enumerate(olds):
                    if old is entry:  # overridden already: splice in what it had overridden
                        olds[i:i + 1] = self._shadowed.pop(entry, [])
                        if not olds:
                            del self._shadowed[holder]
                        return True
            return False

    def remove_provider(self, provider: str) -> list[Entry[T]]:
        """Withdraw every entry ``provider`` registered (what they overrode comes back)."""
        with self._lock:
            gone = [e for e in self._entries.values() if e.provider == provider]
            for entry in gone:
                self.remove(entry)
            return gone

    def _drop(self, entry: Entry[T]) -> None:
        k = self.key(entry.name)
        self._entries.pop(k, None)
        for alias in [a for a, v in self._keys.items() if v == k]:
            del self._keys[alias]

    def _reinstate(self, entry: Entry[T]) -> None:
        keys = [self.key(n) for n in (entry.name, *entry.aliases)]
        if any(k in self._keys for k in keys):  # taken since by someone else: it stays gone
            self._shadowed.pop(entry, None)
            return
        self._entries[keys[0]] = entry
        for k in keys:
            self._keys[k] = keys[0]

    def get(self, name: str) -> Entry[T] | None:
        self._load()
        with self._lock:
            key = self._keys.get(self.key(name)) if isinstance(name, str) else None
            return self._entries.get(key) if key else None

    def resolve(self, name: str) -> T | None:
        """What is registered under ``name`` or one of its aliases, or None."""
        entry = self.get(name)
        return entry.obj if entry is not None else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def names(self, with_aliases: bool = False) -> list[str]:
        self._load()
        with self._lock:
            out = [e.name for e in self._entries.values()]
            if with_aliases:
                out += [a for e in self._entries.values() for a in e.aliases]
            return sorted(out, key=str.lower)

    def __iter__(self) -> Iterator[Entry[T]]:
        self._load()
        with self._lock:
            entries = sorted(self._entries.values(), key=lambda e: e.name.lower())
        return iter(entries)

    def __len__(self) -> int:
        self._load()
        return len(self._entries)

    def snapshot(self) -> tuple[dict[str, Entry[T]], dict[str, str]]:
        """Copies of the entries and the name keys, to compare against later (``_guard``)."""
        with self._lock:
            return dict(self._entries), dict(self._keys)
