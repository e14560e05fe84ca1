"""Saving and loading bindings: a file that is safe to open from an untrusted source.

A saved binding is a ZIP archive of NumPy ``.npy`` entries (an ``.npz`` file), read without
pickle, so opening one never runs code. It holds one entry ``header``, UTF-8 JSON (see
:mod:`plastix._runtime.fileformat`; among its fields the batch size, and whether the state is
that of a fresh binding, which takes any batch size on its next step), and one entry
``array.<name>`` per array: the weight, learned values, traces, delays, fixed state, the
mask. The random stream needs no array: the generator is counter-based, a pure function of
the binding's random seed (``seed``) and its step counter (``plastix.backends._random``).

A save writes a temporary file beside the target (``.<name>.<host>-<pid>-*.plastix-tmp``,
hidden and without the ``.npz`` suffix, so it is never mistaken for a checkpoint), flushes it
to disk and renames it over the target, so a crash mid-save leaves the previous file intact;
the next save to that target removes temporaries that dead processes of this host left. A
target that is a symbolic link is written through: the file the link points to is replaced
(atomically, as editors do) and the link stays.

A load checks sizes before it reads data: every entry is stored or deflated, the archive's
entries together inflate to at most :data:`ALLOC_FACTOR` times the file's size, and each
array's ``.npy`` header agrees with the entry's declared size and with the plastix header,
so a zip bomb or a header claiming a huge shape is refused before anything is allocated.
:func:`plastix.load` binds at batch size 1 and takes the file's batch size only once the
file's arrays fit it (a forged ``batch_size`` allocates nothing). Everything (format,
version, rule, hyperparameters, names, shapes, dtypes, finite values) is checked before
anything changes; every failure is a :class:`~plastix.StateDictError`.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import socket
import tempfile
import zipfile
from typing import TYPE_CHECKING, Any

import numpy as np

from plastix._errors import StateDictError

from .contract import host_array
from .fileformat import FILE_VERSION, FORMAT_NAME, MAX_HEADER_BYTES, check_header, make_header
from .statedict import STATE_FORMAT

if TYPE_CHECKING:
    from .binding import Binding

__all__ = ["ALLOC_FACTOR", "FILE_VERSION", "FORMAT_NAME", "read", "save"]

_PREFIX = "array."
_TMP_SUFFIX = ".plastix-tmp"
#: A load allocates at most this many times the file's size (plus :data:`ALLOC_SLACK`) for
#: its arrays. plastix writes uncompressed entries (factor 1); a recompressed file may
#: deflate, a zip bomb (hundreds of times) may not.
ALLOC_FACTOR = 64
ALLOC_SLACK = 1 << 20


# -- files ------------------------------------------------------------------------------------
def header(b: Binding) -> dict[str, Any]:
    """The JSON header of ``b``'s file (see :mod:`plastix._runtime.fileformat`)."""
    return make_header(b)


def save(b: Binding, path: str | os.PathLike[str]) -> None:
    """Write ``b`` to ``path`` atomically (temporary file in the same folder, then rename);
    a symbolic link is written through to its target."""
    try:
        text = json.dumps(header(b), allow_nan=False)
    except StateDictError:
        raise
    except (TypeError, ValueError) as exc:
        raise StateDictError(f"rule {b.rule_name!r}: cannot save the hyperparameters as "
                             f"JSON ({exc}); only numbers, strings, true/false and null "
                             "can be saved") from None
    payload = {"header": np.frombuffer(text.encode(), dtype=np.uint8)}
    payload.update((_PREFIX + k, host_array(v)) for k, v in b.arrays.items())
    target = os.path.realpath(_path_name(path))  # through symbolic links, as editors do
    folder, base = os.path.split(target)
    _remove_stale_temporaries(folder, base)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.{_owner()}-", suffix=_TMP_SUFFIX, dir=folder)
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


def _owner() -> str:
    """``<host>-<pid>``: who writes a temporary file (dots and dashes kept out of the host)."""
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:32]
    return f"{host}-{os.getpid()}"


def _remove_stale_temporaries(folder: str, base: str) -> None:
    """Remove the temporaries of ``base`` that processes of this host that no longer run
    left behind (killed mid-save); another host's, or a live process's, are left alone."""
    host = _owner().rpartition("-")[0]
    for tmp in glob.glob(os.path.join(glob.escape(folder), f".{glob.escape(base)}.*"
                                      f"{_TMP_SUFFIX}")):
        owner = os.path.basename(tmp)[len(base) + 2:].split("-")
        if len(owner) < 3 or owner[0] != host or not owner[1].isdigit():
            continue
        if not _alive(int(owner[1])):
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's) or cannot tell: keep its file
    return True


def _path_name(path: Any) -> str:
    try:
        name = os.fspath(path)
    except TypeError:
        raise StateDictError(f"a file path is a string or os.PathLike, got {path!r} "
                             f"({type(path).__name__})") from None
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    if not name:
        raise StateDictError("a file path is a non-empty string, got ''")
    return name


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The state dict stored in ``path`` (host arrays) with the header's other fields;
    StateDictError when the file is missing, unsafe, malformed or from a newer plastix."""
    name = _path_name(path)
    magic = b""
    try:
        with open(name, "rb") as f:
            magic = f.read(6)
            size = os.fstat(f.fileno()).st_size
        archive = zipfile.ZipFile(name)
    except FileNotFoundError:
        raise StateDictError(f"{name!r}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        if magic == b"\x93NUMPY":
            raise StateDictError(f"{name!r} is a single array, not a plastix binding "
                                 "file") from None
        raise StateDictError(f"{name!r} is not a plastix binding file ({exc})") from None
    with archive:
        entries = _entries(name, archive, size)
        if "header" not in entries:
            raise StateDictError(f"{name!r} is not a plastix binding file (no header)")
        head = check_header(name, _read_header(name, archive, entries["header"]))
        arrays = {}
        for key, meta in head["arrays"].items():
            info = entries.get(_PREFIX + key)
            if info is None:
                raise StateDictError(f"{name!r}: array {key!r} cannot be read (the archive "
                                     "has no such entry)")
            arrays[key] = _read_array(name, archive, info, key, meta)
        extra = set(entries) - {"header", *(_PREFIX + k for k in arrays)}
        if extra:
            raise StateDictError(f"{name!r}: unexpected entries {sorted(extra)}")
    sd = {k: head[k] for k in ("rule", "params", "t", "seed", "dt", "dtype", "batch_size",
                               "shape_options", "masked")}
    return {**sd, "fresh": head["fresh"], "format": STATE_FORMAT, "arrays": arrays}


def _entries(name: str, archive: zipfile.ZipFile, size: int) -> dict[str, zipfile.ZipInfo]:
    """The archive's entries by name (without ``.npy``), checked before any is inflated."""
    entries: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in archive.infolist():
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if key in entries:
            raise StateDictError(f"{name!r}: the archive holds {info.filename!r} twice")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise StateDictError(f"{name!r}: entry {info.filename!r} uses compression "
                                 f"method {info.compress_type} (stored or deflated expected)")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise StateDictError(f"{name!r}: entry {info.filename!r} declares "
                                 f"{info.file_size} bytes but stores {info.compress_size}")
        entries[key] = info
        total += info.file_size
    limit = ALLOC_FACTOR * size + ALLOC_SLACK
    if total > limit:
        raise StateDictError(f"{name!r}: the archive's entries inflate to {total} bytes, more "
                             f"than a load allocates for a file of {size} bytes ({limit}: "
                             f"{ALLOC_FACTOR} times its size; a zip bomb?)")
    return entries


def _npy_header(name: str, f: Any, what: str) -> tuple[tuple[int, ...], np.dtype[Any], int]:
    """Shape, dtype and header length of the ``.npy`` entry open in ``f``."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = fmt.read_array_header_2_0(f)
        else:
            raise ValueError(f".npy format version {version} (1.0 or 2.0 expected)")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, zipfile.BadZipFile) as exc:
        raise StateDictError(f"{name!r}: {what} cannot be read ({exc})") from None
    if dtype.hasobject or dtype.kind not in "biuf" or dtype.subdtype is not None:
        raise StateDictError(f"{name!r}: {what} cannot be read (dtype {dtype}: plastix reads "
                             "plain numbers only and never unpickles)")
    return tuple(shape), dtype, f.tell()


def _read_header(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Any:
    try:
        with archive.open(info) as f:
            shape, dtype, offset = _npy_header(name, f, "the header")
            if dtype != np.uint8 or len(shape) != 1 or shape[0] > MAX_HEADER_BYTES or \
                    offset + shape[0] != info.file_size:
                raise StateDictError(f"{name!r}: unreadable header (a uint8 vector of at most "
                                     f"{MAX_HEADER_BYTES} bytes expected, got {dtype}{shape})")
            text = f.read(shape[0])
        return json.loads(text.decode())
    except (ValueError, UnicodeDecodeError, OSError, EOFError, RecursionError,
            zipfile.BadZipFile) as exc:
        raise StateDictError(f"{name!r}: unreadable header ({type(exc).__name__}: "
                             f"{str(exc)[:200]})") from None


def _read_array(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str,
                meta: dict[str, Any]) -> np.ndarray:
    """Array ``key``, read only once its ``.npy`` header agrees with the plastix header's
    ``meta`` and with the size the archive declares for the entry."""
    what = f"array {key!r}"
    try:
        with archive.open(info) as f:
            shape, dtype, offset = _npy_header(name, f, what)
            if list(shape) != list(meta["shape"]) or dtype.name != meta["dtype"]:
                raise StateDictError(f"{name!r}: {what} is {dtype.name}{list(shape)}, the "
                                     f"header says {meta['dtype']}{list(meta['shape'])}")
            nbytes = math.prod(shape) * dtype.itemsize
            if offset + nbytes != info.file_size:
                raise StateDictError(f"{name!r}: {what} claims {nbytes} bytes of data, the "
                                     f"archive holds {info.file_size - offset}")
        with archive.open(info) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except StateDictError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise StateDictError(f"{name!r}: {what} cannot be read ({exc})") from None
