"""Containment of plugins: what a plugin may not do while it loads, and slow loads reported.

A plugin registers through callbacks; everything else it does to plastix while it is
imported or while its hooks run is checked afterwards:

* the attributes of every registered rule class (and of :class:`plastix.Rule` itself) are
  compared, by identity, with what they were before; a plugin that replaced
  ``NearestOnlineSTDP.build`` or a rule's ``Params`` has the change undone and fails;
* the rule registry's existing entries are compared with what they were before, apart from
  names the plugin registered through its callback; an entry replaced or removed behind the
  callbacks' back is put back and the plugin fails. (New names that appear meanwhile are
  not flagged: another thread may legitimately register a rule at the same time.)

What Python cannot contain is not claimed: code of a plugin that runs *later* (a function of
the plugin called during a simulation) can still patch anything in the process.

A plugin that takes longer than ``PLASTIX_PLUGIN_SLOW_S`` seconds (default 10) to import or
register is reported with a warning while it is still loading, so a hang is never silent;
plastix does not kill it (a Python import cannot be interrupted safely).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

SLOW_ENV = "PLASTIX_PLUGIN_SLOW_S"
_MISSING = object()


class Snapshot:
    """The rule classes' attributes and the rule registry's entries at one moment."""

    def __init__(self, rules: Any) -> None:
        from plastix._rule import Rule

        self.rules = rules
        self.registry = rules.snapshot()
        classes = {Rule, *(e.obj for e in rules)}
        self.classes = {cls: dict(vars(cls)) for cls in classes if isinstance(cls, type)}

    def undo_changes(self, allowed_names: Iterable[str]) -> list[str]:
        """Undo every change since the snapshot except registrations of ``allowed_names``;
        describe what was undone (empty when nothing was)."""
        changed = []
        for cls, before in self.classes.items():
            now = dict(vars(cls))
            for key in sorted(set(before) | set(now)):
                if before.get(key, _MISSING) is not now.get(key, _MISSING):
                    changed.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
                    if key in before:
                        setattr(cls, key, before[key])
                    else:
                        delattr(cls, key)
        allowed = {n.lower() for n in allowed_names}
        entries_before, _ = self.registry
        entries_now, _ = self.rules.snapshot()
        for key, entry in sorted(entries_before.items()):
            if key not in allowed and entries_now.get(key) is not entry:
                changed.append(f"rule registry entry {key!r}")
                self.rules.add(entry.name, entry.obj, aliases=entry.aliases,
                               provider=entry.provider, override=True, **entry.meta)
        return changed


def slow_after() -> float:
    try:
        return float(os.environ.get(SLOW_ENV, "10"))
    except ValueError:
        return 10.0


@contextlib.contextmanager
def slow_warning(plugin: str, what: str = "loading") -> Iterator[None]:
    """Warn (from a watchdog thread) when the enclosed block outlasts ``slow_after()``."""
    limit = slow_after()
    done = threading.Event()
    start = time.monotonic()

    def watch() -> None:
        if not done.wait(limit):
            warnings.warn(f"plastix plugin {plugin!r} has been {what} for more than "
                          f"{limit:g} s and has not finished; it may hang (set "
                          f"{SLOW_ENV} to change this limit)", RuntimeWarning, stacklevel=1)

    watchdog = threading.Thread(target=watch, name=f"plastix-watch-{plugin}", daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        done.set()
        watchdog.join()
        elapsed = time.monotonic() - start
        if elapsed > limit:
            warnings.warn(f"plastix plugin {plugin!r} took {elapsed:.1f} s {what}",
                          RuntimeWarning, stacklevel=3)
