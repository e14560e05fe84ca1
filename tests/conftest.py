"""Shared fixtures: every rule test runs once per installed backend."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import plastix as px
from plastix._errors import install_hint
from plastix.backends import get_backend

#: Why a test that needs PyTorch is skipped, and how to install it (pinned: see install_hint).
NO_TORCH = f"PyTorch is not installed; install it with {install_hint('torch')}"


def needs_torch() -> Any:
    """The torch module, or a skip that says how to install it."""
    return pytest.importorskip("torch", reason=NO_TORCH)

# Hypothesis: "ci" (the default) is reproducible and has no deadline (CI machines are slow
# and shared); HYPOTHESIS_PROFILE=deep fuzzes 20 times longer.
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: Backends the suite knows how to exercise, with the reason each may be skipped.
BACKENDS = ["numpy", "torch", "torch:cuda", "cupy"]


def _available(name: str) -> str | None:
    """None when ``name`` can run here, else why not."""
    if name.partition(":")[0] not in px.backend_names():
        return f"backend {name!r} is not registered in this build"
    try:
        get_backend(name)
    except px.BackendUnavailableError as exc:
        return str(exc)
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    # Load plugins before any test runs, so that an installed plugin that fails (CI installs
    # the broken ones in tests/plugins on purpose) warns here once, not inside whichever test
    # happens to look a rule up first.
    px.rules()


def skip_reasons(reports: list[Any]) -> Counter[str]:
    """How many tests were skipped for each distinct reason."""
    reasons: Counter[str] = Counter()
    for report in reports:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    return reasons


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int,
                            config: pytest.Config) -> None:
    # one line per reason (an absent backend skips hundreds of tests for one reason)
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if r.when != "teardown"]
    if not skipped:
        return
    terminalreporter.section(f"{len(skipped)} skipped, by reason", sep="-")
    for reason, count in skip_reasons(skipped).most_common():
        terminalreporter.line(f"{count:5d}  {reason}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of an installed backend; tests using it run once per backend."""
    why = _available(request.param)
    if why is not None:
        pytest.skip(why)
    return str(request.param)


def to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    if hasattr(x, "get") and not isinstance(x, np.ndarray):
        return np.asarray(x.get())
    return np.asarray(x)


def assert_close(actual: Any, expected: Any, backend: str, *, rtol: float = 1e-12,
                 atol: float = 0.0) -> None:
    """Compare values and check that ``actual`` lives on ``backend`` (array type and device)."""
    be = get_backend(backend)
    assert be.is_native(actual), f"expected a {be.key} array, got {be.describe(actual)}"
    np.testing.assert_allclose(to_numpy(actual), np.asarray(expected), rtol=rtol, atol=atol)
