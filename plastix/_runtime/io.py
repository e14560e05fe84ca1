"""Saving and loading bindings: a file that is safe to open from an untrusted source.

A saved binding is a NumPy ``.npz`` archive read with ``allow_pickle=False``, so opening one
never runs code. It holds one entry ``header``, UTF-8 JSON (the file format and its version,
the plastix version, the rule's name and hyperparameters, dtype, batch size, ``dt``, step
counter and seed, and the name, shape and dtype of every array), and one entry
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
import math
import os
import tempfile
import zipfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from plastix._errors import PlastixError, StateDictError
from plastix.backends import dtype_name

from .contract import dtype_kind

if TYPE_CHECKING:
    from .binding import Binding

FORMAT_NAME = "plastix-binding"
#: Version of the file layout; a newer one is refused.
FILE_VERSION = 1
_PREFIX = "array."


# -- in-memory state dicts --------------------------------------------------------------------
def check_state_dict(b: Binding, sd: Any) -> tuple[dict[str, np.ndarray], int, int]:
    """Check ``sd`` against binding ``b`` without changing it: the host arrays to write, the
    step counter and the seed; StateDictError naming what does not fit."""
    from .binding import STATE_FORMAT
    from .contract import host_array as _host

    rule = b.rule_name

    def fail(message: str) -> StateDictError:
        return StateDictError(f"rule {rule!r}: {message}")

    if not isinstance(sd, Mapping) or not {"format", "rule", "arrays"} <= set(sd):
        raise fail("not a plastix state dict (needs 'format', 'rule' and 'arrays')")
    fmt = sd["format"]
    if isinstance(fmt, bool) or not isinstance(fmt, int | np.integer) or fmt < 1:
        raise fail(f"state format {fmt!r} is not a version number")
    if fmt > STATE_FORMAT:
        raise fail(f"state format {fmt!r} is newer than this plastix reads ({STATE_FORMAT})")
    if str(sd["rule"]).lower() != rule.lower():
        raise fail(f"the state dict is of rule {sd['rule']!r}")
    params = sd.get("params", {})
    if not isinstance(params, Mapping):
        raise fail(f"'params' must be a mapping, got {type(params).__name__}")
    try:
        got = b.learner.rule_cls.make_params(dict(params))
    except PlastixError as exc:
        raise fail(f"its hyperparameters do not fit: {exc}") from None
    if got != b.params:
        raise fail(f"the state dict's hyperparameters {dataclasses.asdict(got)} differ from "
                   f"this binding's {dataclasses.asdict(b.params)}; bind a learner made with "
                   "them")
    if "dt" in sd and not (_is_real(sd["dt"]) and float(sd["dt"]) == b.dt):
        raise fail(f"dt {sd['dt']!r} differs from this binding's {b.dt!r}")
    if "dtype" in sd and sd["dtype"] != b.dtype:
        raise fail(f"dtype {sd['dtype']!r} differs from this binding's {b.dtype!r}")
    t = _count(fail, "t", sd.get("t", b.t), low=0)
    seed = _count(fail, "seed", sd.get("seed", b.seed), low=None)
    arrays = sd["arrays"]
    own = b.arrays
    if not isinstance(arrays, Mapping) or set(arrays) != set(own):
        names = sorted(arrays) if isinstance(arrays, Mapping) else type(arrays).__name__
        raise fail(f"arrays {names} do not match this binding's {sorted(own)}")
    staged = {}
    for k, v in arrays.items():
        try:
            host = _host(v)
        except Exception as exc:
            raise fail(f"array {k!r} cannot be read ({type(exc).__name__}: {exc})") from None
        want_shape, want_dtype = tuple(b.S[k].shape), dtype_name(b.S[k].dtype)
        if host.shape != want_shape:
            raise fail(f"array {k!r}: shape {host.shape} does not match {want_shape}")
        if host.dtype.name != want_dtype:
            raise fail(f"array {k!r}: dtype {host.dtype.name} does not match {want_dtype}")
        decl = b.graph.variables.get(k)
        may_be_nan = decl is not None and not decl.finite  # e.g. spike ages before a spike
        if dtype_kind(host.dtype) == "float" and not may_be_nan and not np.isfinite(host).all():
            raise fail(f"array {k!r} holds NaN or infinite values")
        staged[k] = host
    return staged, t, seed


def _is_real(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, int | float | np.integer | np.floating)


def _count(fail: Any, name: str, value: Any, low: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or \
            (low is not None and value < low):
        raise fail(f"{name!r} must be an int{'' if low is None else f' >= {low}'}, "
                   f"got {value!r}")
    return int(value)


# -- files ------------------------------------------------------------------------------------
def header(b: Binding) -> dict[str, Any]:
    """The JSON header of ``b``'s file (see the module docstring)."""
    from plastix._version import __version__

    return {
        "format": FORMAT_NAME, "version": FILE_VERSION, "plastix": __version__,
        "rule": b.rule_name, "params": dataclasses.asdict(b.params), "dtype": b.dtype,
        "batch_size": b.batch_size, "dt": b.dt, "t": b.t, "seed": b.seed,
        "shape_options": {k: list(v) if isinstance(v, tuple) else v
                          for k, v in b.shape_options.items()},
        "masked": "mask" in b.S, "backend": b.backend.key,
        "arrays": {k: {"shape": list(v.shape), "dtype": dtype_name(v.dtype)}
                   for k, v in b.arrays.items()},
    }


def save(b: Binding, path: str | os.PathLike[str]) -> None:
    """Write ``b`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    from .contract import host_array as _host

    try:
        text = json.dumps(header(b), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StateDictError(f"rule {b.rule_name!r}: cannot save the hyperparameters as "
                             f"JSON ({exc})") from None
    payload = {"header": np.frombuffer(text.encode(), dtype=np.uint8)}
    payload.update((_PREFIX + k, _host(v)) for k, v in b.arrays.items())
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
    from .binding import STATE_FORMAT

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
    return {**sd, "format": STATE_FORMAT, "arrays": arrays}


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


def load(path: str | os.PathLike[str], backend: str = "numpy", *, device: str | None = None,
         check_finite: bool | None = None) -> Binding:
    """Rebuild the learner and binding saved in ``path`` on ``backend`` (any backend,
    whichever one saved it); the binding continues exactly where the saved one stopped."""
    from .learner import Learner

    sd = read(path)
    if not (isinstance(sd["dt"], int | float) and math.isfinite(sd["dt"])):
        raise StateDictError(f"{os.fspath(path)!r}: dt {sd['dt']!r} is not a number")
    if not isinstance(sd["params"], dict) or not isinstance(sd["shape_options"], dict):
        raise StateDictError(f"{os.fspath(path)!r}: malformed params or shape options")
    try:
        learner = Learner(sd["rule"], backend, device=device, dtype=sd["dtype"],
                          **sd["params"])
    except TypeError as exc:  # a hyperparameter named like one of Learner's own arguments
        raise StateDictError(f"{os.fspath(path)!r}: malformed params ({exc})") from None
    pre_shape = sd["shape_options"].get("pre_shape")
    options = {} if pre_shape is None else {"pre_shape": tuple(pre_shape)}
    arrays = sd["arrays"]
    if "weight" not in arrays:
        raise StateDictError(f"{os.fspath(path)!r}: no weight array")
    b = learner.bind(arrays["weight"], batch_size=sd["batch_size"],
                     mask=arrays.get("mask") if sd["masked"] else None, dt=sd["dt"],
                     seed=sd["seed"], check_finite=check_finite, **options)
    b.load_state_dict(sd)
    return b


def moved(b: Binding, backend: str, device: str | None = None) -> Binding:
    """``b`` rebuilt on ``backend``/``device`` with a copy of its state (see Binding.to)."""
    import copy

    from plastix.backends import get_backend

    from .binding import Binding

    target = get_backend(backend, device)
    if target is b.backend:
        return b
    learner = copy.copy(b.learner)
    learner.backend = target
    host = {k: np.array(b.backend.to_numpy(v)) for k, v in b.arrays.items()}
    new = Binding(learner, host["weight"], batch_size=b.batch_size, mask=host.get("mask"),
                  dt=b.dt, seed=b.seed, params=b.params, shape_options=b.shape_options)
    new.load_state_dict(b.state_dict())
    return new
