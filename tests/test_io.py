"""State round trips: state_dict/load_state_dict and save/plastix.load, within and across
backends; the file format is safe and a save is atomic."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import plastix as px
from plastix._runtime import io as _io
from tests.conftest import to_numpy
from tests.reliability_helpers import assert_unchanged, native, snapshot

RULES = ["nearest_online_stdp", "full_online_stdp", "meta_nearest_online_stdp",
         "postpreintstdp"]


def _trains(seed: int, steps: int, batch: int, n_pre: int, n_post: int
            ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return ((rng.random((steps, batch, n_pre)) < 0.4).astype("float64"),
            (rng.random((steps, batch, n_post)) < 0.4).astype("float64"))


def _make(rule: str, backend: str, *, batch: int = 2, **kwargs: Any) -> px.Binding:
    dtype = "int64" if rule == "postpreintstdp" else "float64"
    learner = px.Learner(rule, backend, dtype=dtype, seed=11)
    rng = np.random.default_rng(5)
    w = rng.integers(0, 100, (3, 4)) if dtype == "int64" else rng.uniform(0.1, 0.9, (3, 4))
    return learner.bind(native(backend, w, dtype), batch_size=batch, **kwargs)


def _arrays(b: px.Binding) -> dict[str, np.ndarray]:
    return {k: to_numpy(v).copy() for k, v in b.arrays.items()}


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("rule", RULES)
def test_state_dict_round_trip_continues_bit_for_bit(backend: str, rule: str) -> None:
    pre, post = _trains(1, 20, 2, 4, 3)
    whole = _make(rule, backend)
    whole.run(pre, post, final=False)
    first = _make(rule, backend)
    first.run(pre[:8], post[:8], final=False)
    second = _make(rule, backend)
    second.load_state_dict(first.state_dict())
    assert second.t == 8
    second.run(pre[8:], post[8:], final=False)
    _assert_same(_arrays(second), _arrays(whole))


@pytest.mark.parametrize("rule", RULES)
def test_save_load_continues_bit_for_bit(backend: str, rule: str, tmp_path: Path) -> None:
    pre, post = _trains(2, 20, 2, 4, 3)
    whole = _make(rule, backend)
    whole.run(pre, post)
    first = _make(rule, backend)
    first.run(pre[:11], post[:11], final=False)
    first.save(tmp_path / "syn.npz")
    again = px.load(tmp_path / "syn.npz", backend=backend)
    assert (again.t, again.seed, again.dt, again.batch_size) == (11, 11, 1.0, 2)
    assert again.params == first.params and again.dtype == first.dtype
    assert type(again.weight) is type(first.weight)
    again.run(pre[11:], post[11:])
    _assert_same(_arrays(again), _arrays(whole))


@pytest.mark.parametrize("rule", RULES)
def test_save_on_any_backend_continue_on_numpy(backend: str, rule: str,
                                               tmp_path: Path) -> None:
    """Save from ``backend`` (PyTorch after the backends merge), load into NumPy, continue.

    The file carries every bit: the state NumPy loads is the saved state exactly, and NumPy
    continues from it exactly as from the same state handed over in memory. Against an
    uninterrupted run on ``backend`` itself the result is bit for bit equal for the integer
    rule and whenever ``backend`` is NumPy; between two array libraries, float64 kernels
    (exp, summation order) may differ in the last bit, so the float rules are compared to
    1e-12 there.
    """
    pre, post = _trains(3, 16, 2, 4, 3)
    src = _make(rule, backend)
    src.run(pre[:9], post[:9], final=False)
    saved = _arrays(src)
    src.save(tmp_path / "syn.npz")
    via_file = px.load(tmp_path / "syn.npz", backend="numpy")
    _assert_same(_arrays(via_file), saved)
    in_memory = _make(rule, "numpy")
    in_memory.load_state_dict(src.state_dict())
    via_file.run(pre[9:], post[9:])
    in_memory.run(pre[9:], post[9:])
    _assert_same(_arrays(via_file), _arrays(in_memory))
    src.run(pre[9:], post[9:])
    exact = backend == "numpy" or rule == "postpreintstdp"
    for k, v in _arrays(src).items():
        if exact:
            np.testing.assert_array_equal(to_numpy(via_file.S[k]), v, err_msg=k)
        else:
            np.testing.assert_allclose(to_numpy(via_file.S[k]), v, rtol=1e-12, atol=1e-15)


def test_everything_round_trips(backend: str, tmp_path: Path) -> None:
    """Hyperparameters (also per-binding overrides), dt, seed, batch size, mask, dtype."""
    learner = px.Learner("nearest_online_stdp", backend, dtype="float64", Apost=0.02)
    mask = np.array([[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 1, 1]])
    b = learner.bind(np.full((3, 4), 0.5), batch_size=3, mask=mask, dt=0.25, seed=99,
                     trace_pre=0.5)
    b.run(*_trains(4, 5, 3, 4, 3))
    b.save(tmp_path / "masked.npz")
    c = px.load(tmp_path / "masked.npz", backend=backend)
    assert c.params == b.params and c.params.trace_pre == 0.5 and c.params.Apost == 0.02
    assert (c.dt, c.seed, c.t, c.batch_size, c.dtype) == (0.25, 99, 5, 3, "float64")
    _assert_same(_arrays(c), _arrays(b))
    with zipfile.ZipFile(tmp_path / "masked.npz") as z:
        assert sorted(z.namelist()) == sorted(["header.npy", *(f"array.{k}.npy" for k in b.arrays)])


def test_header_is_plain_json(tmp_path: Path) -> None:
    b = _make("nearest_online_stdp", "numpy")
    b.save(tmp_path / "s.npz")
    with np.load(tmp_path / "s.npz", allow_pickle=False) as z:
        head = json.loads(bytes(z["header"]).decode())
    assert head["format"] == "plastix-binding" and head["version"] == _io.FILE_VERSION
    assert head["rule"] == "nearest_online_stdp" and head["arrays"]["weight"]["shape"] == [3, 4]


def test_binding_load_restores_in_place(backend: str, tmp_path: Path) -> None:
    b = _make("full_online_stdp", backend)
    b.run(*_trains(5, 6, 2, 4, 3), final=False)
    b.save(tmp_path / "a.npz")
    saved = _arrays(b)
    b.run(*_trains(6, 3, 2, 4, 3))
    b.load(tmp_path / "a.npz")
    _assert_same(_arrays(b), saved)
    assert b.t == 6


# -- files that must be refused --------------------------------------------------------------
def _write_npz(path: Path, header: Any = None, **arrays: Any) -> None:
    entries = dict(arrays)
    if header is not None:
        text = header if isinstance(header, str) else json.dumps(header)
        entries["header"] = np.frombuffer(text.encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **entries)


class _Exploit:
    def __reduce__(self) -> Any:
        return (exec, ("import os; os.environ['PLASTIX_PWNED'] = '1'",))


def _good_header(tmp_path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    b = _make("nearest_online_stdp", "numpy")
    b.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz", allow_pickle=False) as z:
        head = json.loads(bytes(z["header"]).decode())
        arrays = {k: z[k] for k in z.files if k != "header"}
    return head, arrays


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    head, arrays = _good_header(tmp_path)
    out: dict[str, tuple[Path, str]] = {}

    def add(name: str, words: str, header: Any = None, raw: bytes | None = None,
            **entries: Any) -> None:
        path = tmp_path / f"{name}.npz"
        if raw is not None:
            path.write_bytes(raw)
        else:
            _write_npz(path, header, **entries)
        out[name] = (path, words)

    pickled = dict(arrays)
    pickled["array.weight"] = np.array([_Exploit()], dtype=object)
    add("pickle", "cannot be read", head, **pickled)
    add("garbage", "not a plastix binding file", raw=b"not a zip at all")
    good = (tmp_path / "good.npz").read_bytes()
    add("truncated", "", raw=good[: len(good) // 2])
    np.save(tmp_path / "single.npy", np.zeros(3))
    out["single-array"] = (tmp_path / "single.npy", "single array")
    add("no-header", "no header", None, **arrays)
    add("header-not-json", "unreadable header", "{not json", **arrays)
    add("other-format", "not a plastix binding file", {**head, "format": "other"}, **arrays)
    add("newer-version", "upgrade plastix", {**head, "version": _io.FILE_VERSION + 1},
        **arrays)
    add("version-string", "not a number", {**head, "version": "1"}, **arrays)
    add("header-lacks-rule", "lacks", {k: v for k, v in head.items() if k != "rule"},
        **arrays)
    add("shape-differs-from-header", "the header says",
        {**head, "arrays": {**head["arrays"], "weight": {"shape": [4, 3], "dtype": "float64"}}},
        **arrays)
    add("missing-array", "cannot be read", head,
        **{k: v for k, v in arrays.items() if k != "array.x_pre"})
    add("extra-entry", "unexpected entries", head, **arrays, extra=np.zeros(2))
    add("unknown-rule", "no plasticity rule", {**head, "rule": "no_such_rule"}, **arrays)
    add("params-collide", "malformed params", {**head, "params": {"backend": "torch"}},
        **arrays)
    add("nan-weight", "NaN", head, **{**arrays, "array.weight": np.full((3, 4), np.nan)})
    add("negative-t", "'t'", {**head, "t": -3}, **arrays)
    return out


def test_unsafe_and_malformed_files_are_refused(tmp_path: Path) -> None:
    os.environ.pop("PLASTIX_PWNED", None)
    cases = _bad_files(tmp_path)
    assert len(cases) >= 17
    for name, (path, words) in cases.items():
        with pytest.raises(px.PlastixError) as info:
            px.load(path)
        assert words in str(info.value), (name, str(info.value))
    assert "PLASTIX_PWNED" not in os.environ  # nothing was unpickled
    with pytest.raises(px.StateDictError, match="no such file"):
        px.load(tmp_path / "absent.npz")


def test_file_from_another_rule_or_shape_fails_clearly(backend: str, tmp_path: Path) -> None:
    other = _make("full_online_stdp", "numpy")
    other.save(tmp_path / "other.npz")
    small = px.Learner("nearest_online_stdp", "numpy", dtype="float64").bind(
        np.full((2, 4), 0.5), batch_size=2)
    small.save(tmp_path / "small.npz")
    b = _make("nearest_online_stdp", backend)
    b.run(*_trains(7, 3, 2, 4, 3))
    before = snapshot(b)
    with pytest.raises(px.StateDictError, match="full_online_stdp"):
        b.load(tmp_path / "other.npz")
    with pytest.raises(px.StateDictError, match="shape"):
        b.load(tmp_path / "small.npz")
    assert_unchanged(b, before)


# -- atomic save -----------------------------------------------------------------------------
def test_crash_mid_save_keeps_the_previous_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    b = _make("nearest_online_stdp", "numpy")
    path = tmp_path / "syn.npz"
    b.save(path)
    good = path.read_bytes()
    b.run(*_trains(8, 4, 2, 4, 3))

    def crash(f: Any, **arrays: Any) -> None:
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        b.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["syn.npz"]  # no temporary left
    assert px.load(path).t == 0
    b.save(path)
    assert px.load(path).t == 4


def test_unserialisable_hyperparameters_fail_before_writing(tmp_path: Path) -> None:
    b = _make("nearest_online_stdp", "numpy")
    object.__setattr__(b, "params", type(b.params)(Apost=np.float64(0.5)))
    b.params.__dict__["Apost"] = object()
    with pytest.raises(px.StateDictError, match="JSON"):
        b.save(tmp_path / "x.npz")
    assert not list(tmp_path.iterdir())
