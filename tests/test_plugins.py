"""Plugins installed as packages: the example plugin and the deliberately broken ones.

``.ci/steps/10-plugins.sh`` pip-installs ``examples/plastix-plugin-example`` and the packages
in ``tests/plugins/``; without them these tests skip, naming the command that installs them.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import plastix as px
from plastix._apps.cli import main
from plastix.registry import RULES, plugins
from tests.conftest import assert_close

ROOT = Path(__file__).resolve().parents[1]
INSTALL = "pip install --no-deps examples/plastix-plugin-example tests/plugins/*/"


def _installed(dist: str) -> bool:
    try:
        metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


def needs(*dists: str) -> pytest.MarkDecorator:
    missing = [d for d in dists if not _installed(d)]
    return pytest.mark.skipif(bool(missing), reason=f"{', '.join(missing)} not installed "
                              f"(CI installs it: {INSTALL})")


EXAMPLE = "plastix-plugin-example"
BROKEN = ("plastix-broken-import", "plastix-broken-hook", "plastix-broken-collide")
HALF = 1 / math.log(2)  # a time constant (ms) whose trace decay over dt = 1 ms is exactly 1/2


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (plugins load once per process)."""
    full_env = {k: v for k, v in os.environ.items() if k != "PLASTIX_DISABLE_PLUGIN_AUTOLOAD"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, env=full_env, cwd=ROOT)


# -- the example plugin ---------------------------------------------------------------------

@needs(EXAMPLE)
def test_the_example_rule_is_found_through_its_entry_point() -> None:
    (ep,) = [ep for ep in metadata.entry_points(group="plastix") if ep.name == "oja"]
    assert ep.value == "plastix_plugin_example" and ep.dist.name == EXAMPLE  # type: ignore
    assert px.find_rule("Oja_Trace") is px.find_rule("oja")
    assert RULES.get("oja").provider == EXAMPLE  # type: ignore[union-attr]
    (info,) = [p for p in plugins() if p.distribution == EXAMPLE]
    assert (info.status, info.version, info.hooks, info.rules) == \
        ("ok", "0.1.0", ["register_rules"], ["oja"])


@needs(EXAMPLE)
def test_the_example_rule_by_hand(backend: str) -> None:
    # Oja on traces, eta = 0.1, trace decay 1/2, w = [0.5, 0.5] (one post, two pre, batch 1):
    # step 1: pre [1, 0], post [1]: x = [1, 0], y = 1,
    #         dw = 0.1 * 1 * ([1, 0] - 1 * [0.5, 0.5]) = [0.05, -0.05]      -> [0.55, 0.45]
    # step 2: pre [0, 1], post [0]: x = [0.5, 1], y = 0.5,
    #         dw = 0.1 * 0.5 * ([0.5, 1] - 0.5 * [0.55, 0.45]) = [0.01125, 0.03875]
    oja = px.Learner("oja", backend=backend, dtype="float64", eta=0.1, tau_pre=HALF,
                     tau_post=HALF)
    syn = oja.bind(np.array([[0.5, 0.5]]))
    syn.step(pre=np.array([[1.0, 0.0]]), post=np.array([[1.0]]))
    assert_close(syn.weight, [[0.55, 0.45]], backend)
    syn.step(pre=np.array([[0.0, 1.0]]), post=np.array([[0.0]]))
    assert_close(syn.weight, [[0.56125, 0.48875]], backend)


@needs(EXAMPLE)
def test_the_example_rule_averages_over_the_batch(backend: str) -> None:
    # Batch of 2, one synapse at w = 0.5, eta = 0.1. Sample 0: pre and post spike (x = y = 1):
    # y (x - y w) = 0.5; sample 1: only pre spikes (y = 0): 0. Mean 0.25, dw = 0.025.
    oja = px.Learner("oja", backend=backend, dtype="float64", eta=0.1)
    syn = oja.bind(np.array([[0.5]]), batch_size=2)
    syn.step(pre=np.array([[1.0], [1.0]]), post=np.array([[1.0], [0.0]]))
    assert_close(syn.weight, [[0.525]], backend)


@needs(EXAMPLE)
def test_the_example_rule_settles_at_its_fixed_point(backend: str) -> None:
    # Pre neuron 0 and the post neuron spike every step, pre neuron 1 never: the traces settle
    # at 1 / (1 - 1/2) = 2 and 0, and w = <y x> / <y^2> = [2 * 2 / 4, 0] = [1, 0].
    oja = px.Learner("oja", backend=backend, dtype="float64", eta=0.05, tau_pre=HALF,
                     tau_post=HALF)
    syn = oja.bind(np.array([[0.2, 0.7]]))
    ones = np.ones((300, 1, 1))
    syn.run(np.concatenate([ones, 0 * ones], axis=2), ones, progress=False)
    assert_close(syn.weight, [[1.0, 0.0]], backend, atol=1e-9)


@needs(EXAMPLE)
def test_plastix_list_shows_the_plugin_rule_with_its_provider(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    rows = [line.split()[:3] for line in capsys.readouterr().out.splitlines()]
    assert ["oja", EXAMPLE, "oja_trace"] in rows  # name, provider, aliases
    assert ["nearest_online_stdp", "plastix", "nearest_online_STDP"] in rows


# -- broken plugins -------------------------------------------------------------------------

@needs(*BROKEN)
def test_broken_plugins_are_listed_as_failed_with_their_exception() -> None:
    found = {p.distribution: p for p in plugins()}
    errors = {d: found[d].error for d in BROKEN}
    assert all(found[d].status == "failed" and found[d].rules == [] for d in BROKEN)
    assert errors["plastix-broken-import"] == (
        "importing 'plastix_broken_import' raised RuntimeError: plastix-broken-import fails "
        "on import on purpose")
    assert errors["plastix-broken-hook"] == (
        "register_rules raised ValueError: plastix-broken-hook fails in its hook on purpose")
    assert errors["plastix-broken-collide"] is not None
    assert errors["plastix-broken-collide"].startswith(
        "register_rules raised NameCollisionError: rule name 'nearest_online_stdp' is "
        "provided by both 'plastix' (nearest_online_stdp) and 'plastix-broken-collide'")
    assert isinstance(found["plastix-broken-hook"].exception, ValueError)


@needs(*BROKEN)
def test_broken_plugins_leave_nothing_half_registered() -> None:
    rules = px.rules()
    assert "half_registered_rule" not in rules      # registered, then its hook raised
    assert "collide_fresh_rule" not in rules        # registered before the collision
    assert RULES.get("nearest_online_stdp").provider == "plastix"  # type: ignore[union-attr]
    assert px.find_rule("nearest_online_stdp").__module__ == "plastix.learners.spaic"


@needs(EXAMPLE, *BROKEN)
def test_plastix_plugins_shows_name_distribution_version_status_hooks_and_contributions(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert ("oja  (plastix-plugin-example 0.1.0, entry point)  ok\n"
            "  module: plastix_plugin_example\n"
            "  hooks: register_rules\n"
            "  rules: oja\n") in out
    assert ("broken_import  (plastix-broken-import 0.1.0, entry point)  FAILED\n"
            "  module: plastix_broken_import\n"
            "  error: importing 'plastix_broken_import' raised RuntimeError") in out
    assert "broken_hook  (plastix-broken-hook 0.1.0, entry point)  FAILED" in out
    assert "broken_collide  (plastix-broken-collide 0.1.0, entry point)  FAILED" in out
    assert re.fullmatch(r"\d+ plugins: \d+ ok, 3 failed", out.splitlines()[-1])
    assert "PluginWarning" not in captured.err  # the listing already says it


FRESH_PROCESS = """
    import json, warnings
    warnings.simplefilter("always")
    with warnings.catch_warnings(record=True) as caught:
        import plastix as px
        lazy = not px.registry._plugins._STATE.loaded
        at_import = len(caught)
        import numpy as np
        syn = px.Learner("nearest_online_stdp").bind(np.full((2, 3), 0.5))
        syn.step(np.ones((1, 3)), np.ones((1, 2)))
    print(json.dumps({
        "lazy": lazy, "warnings_at_import": at_import,
        "warnings": [[w.category.__name__, str(w.message)] for w in caught],
        "weight": np.asarray(syn.weight).tolist(),
        "status": {p.distribution: p.status for p in px.registry.plugins()},
    }))
"""


@pytest.fixture(scope="module")
def fresh() -> dict[str, Any]:
    result = run_python(FRESH_PROCESS)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@needs(*BROKEN)
def test_broken_plugins_warn_once_naming_plugin_and_exception(fresh: dict[str, Any]) -> None:
    messages = {m for c, m in fresh["warnings"] if c == "PluginWarning"}
    assert messages == {
        "plastix plugin 'broken_collide' (plastix-broken-collide 0.1.0) failed and was "
        "skipped: register_rules raised NameCollisionError: rule name 'nearest_online_stdp' "
        "is provided by both 'plastix' (nearest_online_stdp) and 'plastix-broken-collide' "
        "(nearest_online_stdp); register with override=True to replace it",
        "plastix plugin 'broken_hook' (plastix-broken-hook 0.1.0) failed and was skipped: "
        "register_rules raised ValueError: plastix-broken-hook fails in its hook on purpose",
        "plastix plugin 'broken_import' (plastix-broken-import 0.1.0) failed and was "
        "skipped: importing 'plastix_broken_import' raised RuntimeError: "
        "plastix-broken-import fails on import on purpose",
    }
    assert len(fresh["warnings"]) == len(messages)


@needs(*BROKEN)
def test_broken_plugins_break_neither_import_nor_a_builtin_learner(
        fresh: dict[str, Any]) -> None:
    assert fresh["lazy"] and fresh["warnings_at_import"] == 0  # import loads no plugin
    # nearest_online_stdp, one step with every neuron spiking from w = 0.5: the traces are 1,
    # w += Apost - Apre = 0.0099, then each row is scaled to L1 norm 78.4 and clipped to 1.
    assert fresh["weight"] == [[1.0] * 3] * 2
    assert {fresh["status"][d] for d in BROKEN} == {"failed"}


@needs(*BROKEN)
def test_warnings_as_errors_leave_the_registry_complete() -> None:
    result = run_python("""
        import warnings, plastix as px
        warnings.simplefilter("error", px.PluginWarning)
        try:
            px.rules()
        except px.PluginWarning as exc:
            print("raised:", str(exc).split(" failed")[0])
        print(sorted(p.status for p in px.registry.plugins()).count("failed"))
        print("nearest_online_stdp" in px.rules())
    """)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("raised: plastix plugin") and lines[1:] == ["3", "True"]


@needs(EXAMPLE)
def test_the_disable_switch_turns_entry_point_loading_off() -> None:
    result = run_python("""
        import warnings, plastix as px
        from plastix._apps.cli import main
        warnings.simplefilter("error")
        print("oja" in px.rules(), "nearest_online_stdp" in px.rules())
        print(sorted({p.status for p in px.registry.plugins()}))
        main(["plugins"])
    """, PLASTIX_DISABLE_PLUGIN_AUTOLOAD="1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "False True"
    assert lines[1] == "['disabled']"
    assert "PLASTIX_DISABLE_PLUGIN_AUTOLOAD is set" in lines[2]
    assert "oja  (plastix-plugin-example 0.1.0, entry point)  not loaded" in result.stdout


# -- entry points made up in a subprocess (no installation needed) --------------------------

FAKE_ENTRY_POINTS = """
    import json, sys, warnings
    from importlib import metadata
    sys.path.insert(0, {tmp!r})
    import plastix as px
    from plastix.registry import _plugins
    eps = [metadata.EntryPoint(n, n, "plastix") for n in ("aa_decorates", "bb_half")]
    _plugins.metadata = type("M", (), {{"entry_points": staticmethod(lambda group: eps),
                                       "version": metadata.version,
                                       "PackageNotFoundError": metadata.PackageNotFoundError}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rules = px.rules()
    print(json.dumps({{
        "rules": [r for r in rules if r.startswith("fake_")],
        "plugins": {{p.name: [p.status, p.rules, p.error] for p in px.registry.plugins()}},
        "provider": px.registry.RULES.get("fake_decorated").provider,
        "warnings": [str(w.message) for w in caught],
    }}))
"""

DECORATES = '''
from dataclasses import dataclass
import plastix as px

@px.register("fake_decorated")     # at import time, while plastix is still loading
class Decorated(px.Rule):
    """Scales nothing."""
    @dataclass(frozen=True)
    class Params:
        pass
    def build(self, g):
        g.op_to_backend("weight", "add", ["weight", 0.0])
'''

HALF_IMPORT = DECORATES.replace("fake_decorated", "fake_half") + '''
raise ImportError("fails after registering at import time")
'''


def test_import_time_registration_belongs_to_its_plugin_and_is_rolled_back(
        tmp_path: Path) -> None:
    (tmp_path / "aa_decorates.py").write_text(DECORATES)
    (tmp_path / "bb_half.py").write_text(HALF_IMPORT)
    result = run_python(FAKE_ENTRY_POINTS.format(tmp=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["rules"] == ["fake_decorated"]           # fake_half was withdrawn
    assert out["provider"] == "aa_decorates"            # the plugin's, not the module's
    assert out["plugins"]["aa_decorates"] == ["ok", ["fake_decorated"], None]
    assert out["plugins"]["bb_half"] == [
        "failed", [], "importing 'bb_half' raised ImportError: fails after registering at "
                      "import time"]
    assert len(out["warnings"]) == 1 and "'bb_half'" in out["warnings"][0]
