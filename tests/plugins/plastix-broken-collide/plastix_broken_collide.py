"""A plastix plugin that registers a fresh rule, then one under a built-in rule's name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plastix as px


@dataclass(frozen=True)
class _NoParams:
    pass


@px.rule("collide_fresh_rule")
class Fresh(px.Rule):
    """Adds nothing; withdrawn when the next registration collides."""

    Params = _NoParams

    def build(self, g: px.Graph) -> None:
        g.op_to_backend("weight", "add", ["weight", 0.0])


@px.rule("nearest_online_stdp")
class Impostor(Fresh):
    """Claims the name of a built-in rule without override=True."""


@px.hookimpl
def register_rules(register: Any) -> None:
    register(Fresh)
    register(Impostor)
