"""A plastix plugin whose hook registers one rule, then raises: nothing of it may stay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plastix as px


@px.rule("half_registered_rule")
class HalfRegistered(px.Rule):
    """Adds nothing; registered just before the hook fails."""

    @dataclass(frozen=True)
    class Params:
        pass

    def build(self, g: px.Graph) -> None:
        g.op_to_backend("weight", "add", ["weight", 0.0])


@px.hookimpl
def register_rules(register: Any) -> None:
    register(HalfRegistered)
    raise ValueError("plastix-broken-hook fails in its hook on purpose")
