"""Saving and loading bindings: a file that is safe to open from an untrusted source.

A saved binding is a NumPy ``.npz`` archive read with ``allow_pickle=False``, so opening one
never runs code. It holds one entry ``header``, UTF-8 JSON (the file format and its version,
the plastix version, the rule's name and hyperparameters, dtype, batch size (and whether
the state is that of a fresh binding, which takes any batch size on its next step), ``dt``,
step counter and seed, and the name, shape and dtype of every array), and one entry
``array.<name>`` per array: the weight, learned values, traces, delays, fixed state, the mask.
The random stream needs no array: the generator is counter-based, a pure function of the seed
and the step counter (``plastix.backends._random``).

A save writes a temporary file in the target's directory, flushes it to disk and renames it
over the target, so a crash mid-save leaves the previous file intact. Loading checks the
whole file (format, version, rule, hyperparameters, names, shapes, dtypes, finite values)
before it changes anything, and fails with :class:`~plastix.StateDictError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
import zipfile
from typing import TYPE_CHECKING, Any

import numpy as np

from plastix._errors import StateDictError
from plastix.backends import dtype_name

from .contract import host_array
from .statedict import STATE_FORMAT

if TYPE_CHECKING:
    from .binding import Binding

FORMAT_NAME = "plastix-binding"
#: Version of the file layout; a newer one is refused.
FILE_VERSION = 1
_PREFIX = "array."


# -- files ------------------------------------------------------------------------------------
def header(b: Binding) -> dict[str, Any]:
    """The JSON header of ``b``'s file (see the module docstring)."""
    from plastix._version import __version__

    return {
        "format": FORMAT_NAME, "version": FILE_VERSION, "plastix": __version__,
        "rule": b.rule_name, "params": dataclasses.asdict(b.params), "dtype": b.dtype,
        "batch_size": b.batch_size, "fresh": b.fresh, "dt": b.dt, "t": b.t, "seed": b.seed,
        "shape_options": {k: list(v) if isinstance(v, tuple) else v
                          for k, v in b.shape_options.items()},
        "masked": "mask" in b.S, "backend": b.backend.key,
        "arrays": {k: {"shape": list(v.shape), "dtype": dtype_name(v.dtype)}
                   for k, v in b.arrays.items()},
    }


def save(b: Binding, path: str | os.PathLike[str]) -> None:
    """Write ``b`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    try:
        text = json.dumps(header(b), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StateDictError(f"rule {b.rule_name!r}: cannot save the hyperparameters as "
                             f"JSON ({exc})") from None
    payload = {"header": np.frombuffer(text.encode(), dtype=np.uint8)}
    payload.update((_PREFIX + k, host_array(v)) for k, v in b.arrays.items())
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".plastix-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)  # type: ignore[arg-type]
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, os.stat(target).st_mode & 0o777 if os.path.exists(target) else 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The state dict stored in ``path`` (host arrays) with the header's other fields;
    StateDictError when the file is missing, unsafe, malformed or from a newer plastix."""
    name = os.fspath(path)
    try:
        archive = np.load(name, allow_pickle=False)
    except FileNotFoundError:
        raise StateDictError(f"{name!r}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise StateDictError(f"{name!r} is not a plastix binding file ({exc})") from None
    if not hasattr(archive, "files"):
        raise StateDictError(f"{name!r} is a single array, not a plastix binding file")
    with archive:
        head = _header(name, archive)
        arrays = {}
        for key, meta in head["arrays"].items():
            try:
                arr = archive[_PREFIX + key]
            except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
                raise StateDictError(f"{name!r}: array {key!r} cannot be read ({exc})") \
                    from None
            if list(arr.shape) != list(meta.get("shape", [])) or \
                    arr.dtype.name != meta.get("dtype"):
                raise StateDictError(f"{name!r}: array {key!r} is {arr.dtype.name}"
                                     f"{list(arr.shape)}, the header says {meta}")
            arrays[key] = arr
        extra = set(archive.files) - {"header", *(_PREFIX + k for k in arrays)}
        if extra:
            raise StateDictError(f"{name!r}: unexpected entries {sorted(extra)}")
    sd = {k: head[k] for k in ("rule", "params", "t", "seed", "dt", "dtype", "batch_size",
                               "shape_options", "masked")}
    return {**sd, "fresh": head.get("fresh", False), "format": STATE_FORMAT, "arrays": arrays}


def _header(name: str, archive: Any) -> dict[str, Any]:
    try:
        raw = archive["header"]
        head = json.loads(bytes(raw.astype(np.uint8)).decode())
    except KeyError:
        raise StateDictError(f"{name!r} is not a plastix binding file (no header)") from None
    except (ValueError, TypeError, UnicodeDecodeError, OSError, zipfile.BadZipFile) as exc:
        raise StateDictError(f"{name!r}: unreadable header ({exc})") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT_NAME:
        raise StateDictError(f"{name!r} is not a plastix binding file (format "
                             f"{head.get('format') if isinstance(head, dict) else head!r})")
    version = head.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise StateDictError(f"{name!r}: version {version!r} is not a number")
    if version > FILE_VERSION:
        raise StateDictError(f"{name!r} was written by plastix {head.get('plastix')!r} in "
                             f"format version {version}; this plastix reads up to "
                             f"{FILE_VERSION}: upgrade plastix")
    missing = {"rule", "params", "t", "seed", "dt", "dtype", "batch_size", "arrays"} - set(head)
    if missing or not isinstance(head["arrays"], dict):
        raise StateDictError(f"{name!r}: the header lacks {sorted(missing) or ['arrays']}")
    head.setdefault("shape_options", {})
    head.setdefault("masked", "mask" in head["arrays"])
    return head
