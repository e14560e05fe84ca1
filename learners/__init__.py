"""The built-in rules, one module per family, registered through the plugin hooks.

Owns: the rule families and the sub-graphs they share (:mod:`._pieces`: traces, pair terms,
weight dependence, bounds, normalisation; :mod:`._modulation`: reward modulation and batch
reductions). May import only ``plastix`` itself (``import plastix as px``), as a plugin's
rules do, so the built-ins are the examples to copy; ``tests/test_layers.py`` checks it.
"""

from __future__ import annotations

import importlib
from typing import Any

import plastix as px

#: Modules holding built-in rule families; each lists its rule classes in ``RULES``.
FAMILIES = ("spaic", "integer_stdp", "norse_stdp", "ngclearn_stdp", "canns_stdp",
            "classic_stdp", "delay_stdp", "mstdp", "triplet_stdp", "nest_stdp", "nest_nn_stdp",
            "nest_dopamine", "nest_tsodyks", "bindsnet_stdp", "inferno_stdp",
            "ngclearn_trace_stdp", "spikingjelly_stdp")


@px.hookimpl
def register_rules(register: Any) -> None:
    """Built-in rules register through the same hook as plugins' rules."""
    for family in FAMILIES:
        module = importlib.import_module(f"{__name__}.{family}")
        for rule_cls in module.RULES:
            register(rule_cls)
