"""A case-insensitive name registry with aliases, providers and collision checks."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from plastix._errors import RegistrationError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered thing: its canonical name, aliases and the distribution providing it."""

    name: str
    obj: T
    aliases: tuple[str, ...] = ()
    provider: str = "plastix"
    meta: dict[str, Any] = field(default_factory=dict, compare=False)


class NameRegistry(Generic[T]):
    """Maps names and aliases, compared case-insensitively, to entries; thread-safe."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._keys: dict[str, str] = {}  # lower-case name or alias -> canonical lower name
        self._lock = threading.RLock()

    def add(self, name: str, obj: T, *, aliases: Iterable[str] = (), provider: str = "plastix",
            override: bool = False, **meta: Any) -> Entry[T]:
        if not isinstance(name, str) or not name.strip():
            raise RegistrationError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        aliases = tuple(a for a in dict.fromkeys(aliases) if a != name)
        entry = Entry(name, obj, aliases, provider, dict(meta))
        keys = list(dict.fromkeys([name.lower(), *(a.lower() for a in aliases)]))
        with self._lock:
            clashes = {k: self._entries[self._keys[k]] for k in keys if k in self._keys}
            if clashes and not override:
                k, other = next(iter(clashes.items()))
                raise RegistrationError(
                    f"{self.kind} name {k!r} is provided by both {other.provider!r} "
                    f"({other.name}) and {provider!r} ({name}); register with override=True "
                    "to replace it"
                )
            for other in {id(e): e for e in clashes.values()}.values():
                self._drop(other)
            self._entries[name.lower()] = entry
            for k in keys:
                self._keys[k] = name.lower()
        return entry

    def _drop(self, entry: Entry[T]) -> None:
        self._entries.pop(entry.name.lower(), None)
        for k in [k for k, v in self._keys.items() if v == entry.name.lower()]:
            del self._keys[k]

    def remove_provider(self, provider: str) -> list[Entry[T]]:
        with self._lock:
            gone = [e for e in self._entries.values() if e.provider == provider]
            for e in gone:
                self._drop(e)
            return gone

    def get(self, name: str) -> Entry[T] | None:
        with self._lock:
            key = self._keys.get(name.lower()) if isinstance(name, str) else None
            return self._entries.get(key) if key else None

    def names(self, with_aliases: bool = False) -> list[str]:
        with self._lock:
            out = [e.name for e in self._entries.values()]
            if with_aliases:
                out += [a for e in self._entries.values() for a in e.aliases]
            return sorted(out, key=str.lower)

    def __iter__(self) -> Iterator[Entry[T]]:
        with self._lock:
            entries = sorted(self._entries.values(), key=lambda e: e.name.lower())
        return iter(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def snapshot(self) -> tuple[dict[str, Entry[T]], dict[str, str]]:
        with self._lock:
            return dict(self._entries), dict(self._keys)

    def restore(self, snap: tuple[dict[str, Entry[T]], dict[str, str]]) -> None:
        with self._lock:
            self._entries, self._keys = dict(snap[0]), dict(snap[1])
