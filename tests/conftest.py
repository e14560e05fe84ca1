"""Shared fixtures: every rule test runs once per installed backend."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import plastix as px
from plastix.backends import get_backend
from plastix.registry import BACKENDS as BACKEND_REGISTRY
from plastix.registry import ensure_loaded

#: Backends the suite knows how to exercise, with the reason each may be skipped.
BACKENDS = ["numpy", "torch", "torch:cuda", "cupy"]


def _available(name: str) -> str | None:
    """None when ``name`` can run here, else why not."""
    # the registry, not px.backends(): importing plastix.backends shadows that function
    ensure_loaded()
    if BACKEND_REGISTRY.get(name.partition(":")[0]) is None:
        return f"backend {name!r} is not registered in this build"
    try:
        get_backend(name)
    except px.BackendUnavailableError as exc:
        return str(exc)
    return None


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
