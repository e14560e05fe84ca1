"""Shared fixtures: every rule test runs once per installed backend."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import plastix as px
from plastix.backends import get_backend

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
