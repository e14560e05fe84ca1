"""The built-in rules, one module per family, registered through the plugin hooks."""

from __future__ import annotations

import importlib
from typing import Any

import plastix as px

#: Modules holding built-in rule families; each lists its rule classes in ``RULES``.
FAMILIES = ("spaic", "integer_stdp", "norse_stdp", "ngclearn_stdp", "canns_stdp",
            "classic_stdp", "delay_stdp", "mstdp", "triplet_stdp", "nest_stdp", "nest_nn_stdp",
            "nest_dopamine", "nest_tsodyks")


@px.hookimpl
def register_rules(register: Any) -> None:
    """Built-in rules register through the same hook as plugins' rules."""
    for family in FAMILIES:
        module = importlib.import_module(f"{__name__}.{family}")
        for rule_cls in module.RULES:
            register(rule_cls)
