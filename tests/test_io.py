"""State round trips: state_dict/load_state_dict and save/plastix.load, within and across
backends; the file format is safe and a save is atomic."""

from __future__ import annotations

import json
import math
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


# -- every rule, with every admissible hyperparameter value, saves and loads --------------------
def _bind_any(rule: str, backend: str = "numpy", **params: Any) -> px.Binding:
    """``rule`` bound to a small weight of the shape it takes (dense, else convolutional)."""
    cls = px.find_rule(rule)
    learner = px.Learner(rule, backend, **params)
    dtype = learner.dtype
    try:
        cls.spike_shapes((3, 4), 2, learner.params)
        w, options = np.full((3, 4), 5 if dtype.startswith("int") else 0.5), {}
    except Exception:
        w, options = np.full((2, 1, 3, 3), 0.5), {"pre_shape": (1, 6, 6)}
    b = learner.bind(native(backend, w, dtype), batch_size=2, **options)
    rng = np.random.default_rng(0)
    signals = {n: 0.5 for n, d in b._signals.items() if d.default is None}
    for _ in range(3):
        b.step((rng.random(b.graph.pre_shape) < 0.5).astype("float64"),
               (rng.random(b.graph.post_shape) < 0.5).astype("float64"), **signals)
    return b


def _extremes(rule: str) -> list[tuple[str, Any]]:
    """For each numeric hyperparameter, values at the edges of its range: its bounds (or
    just inside an open one), an infinity where the default is one, zero and a large value."""
    out: list[tuple[str, Any]] = []
    for f in px.find_rule(rule).param_fields():
        d, meta = f.default, f.metadata
        if isinstance(d, bool) or not isinstance(d, int | float) or meta.get("choices"):
            continue
        low, high = meta.get("low"), meta.get("high")
        values: list[Any] = [high] if high is not None else [d * 4 if d else 1e6]
        if low is not None:
            values.append(low if not meta.get("open_low") else low + 1e-3)
        else:
            values.append(0)
        if isinstance(d, float) and math.isinf(d):
            values.append(d)
        out += [(f.name, int(v) if isinstance(d, int) else float(v)) for v in values]
    return out


@pytest.mark.parametrize("rule", px.rules())
def test_every_rule_saves_and_loads_with_its_defaults(rule: str, tmp_path: Path) -> None:
    b = _bind_any(rule)
    b.save(tmp_path / "r.npz")
    again = px.load(tmp_path / "r.npz")
    assert again.params == b.params and again.t == b.t == 3
    _assert_same(_arrays(again), _arrays(b))


@pytest.mark.parametrize("rule", px.rules())
def test_every_rule_saves_and_loads_at_the_edges_of_its_ranges(rule: str,
                                                               tmp_path: Path) -> None:
    tried = 0
    for name, value in _extremes(rule):
        try:
            b = _bind_any(rule, **{name: value})
        except (px.HyperparameterError, px.StepInputError):
            continue  # in range alone, not with the other defaults (an inverted pair) or
            # with this small weight (a convolution padded by a million needs terabytes)
        with np.errstate(all="ignore"):
            b.save(tmp_path / "r.npz")
            again = px.load(tmp_path / "r.npz")
        assert again.params == b.params, (name, value)
        assert getattr(again.params, name) == value
        tried += 1
    assert tried or not _extremes(rule)


def test_infinite_bounds_are_plain_json(tmp_path: Path) -> None:
    b = px.Learner("triplet_stdp").bind(np.full((3, 4), 0.5))
    b.save(tmp_path / "t.npz")
    with np.load(tmp_path / "t.npz", allow_pickle=False) as z:
        text = bytes(z["header"]).decode()
    assert "Infinity" not in text and "NaN" not in text
    head = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert head["params"]["w_min"] == {"float": "-inf"}
    assert head["params"]["w_max"] == {"float": "inf"}
    assert px.load(tmp_path / "t.npz").params.w_max == math.inf


def test_a_function_hyperparameter_cannot_be_saved_and_says_which(tmp_path: Path) -> None:
    def biggest(x: Any, axis: int, *, xp: Any) -> Any:
        return xp.max(x, axis=axis)

    b = px.Learner("mstdp", batch_reduction=biggest).bind(np.full((3, 4), 0.5))
    with pytest.raises(px.StateDictError, match=r"'batch_reduction'.*JSON"):
        b.save(tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


# -- hostile files: sizes checked before anything is read ----------------------------------------
def _npy(shape: tuple[int, ...], dtype: str, data: bytes) -> bytes:
    """A ``.npy`` entry whose header claims ``shape`` and ``dtype``, followed by ``data``."""
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.dtype(dtype).str,
                                               "fortran_order": False, "shape": shape})
    return buf.getvalue() + data


def _zip(path: Path, entries: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression=method) as z:
        for name, data in entries.items():
            z.writestr(name, data)


def _good_entries(tmp_path: Path) -> dict[str, bytes]:
    _good_header(tmp_path)
    with zipfile.ZipFile(tmp_path / "good.npz") as z:
        return {name: z.read(name) for name in z.namelist()}


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    import tracemalloc

    entries = _good_entries(tmp_path)
    head, _ = _good_header(tmp_path)
    n = 40 * 2**20 // 8  # 40 MiB of zeros: deflates to ~40 kB
    head["arrays"]["weight"] = {"shape": [n], "dtype": "float64"}
    entries["header.npy"] = _npy((len(json.dumps(head)),), "uint8", json.dumps(head).encode())
    entries["array.weight.npy"] = _npy((n,), "float64", bytes(n * 8))
    _zip(tmp_path / "bomb.npz", entries, zipfile.ZIP_DEFLATED)
    size = (tmp_path / "bomb.npz").stat().st_size
    assert size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(px.StateDictError, match="zip bomb"):
            px.load(tmp_path / "bomb.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20  # nothing near the 40 MiB was allocated


@pytest.mark.parametrize("claimed", [(2**40,), (2**20, 2**20), (3, 2**62)])
def test_an_array_header_claiming_a_huge_shape_is_refused_before_allocating(
        tmp_path: Path, claimed: tuple[int, ...]) -> None:
    entries = _good_entries(tmp_path)
    head, _ = _good_header(tmp_path)
    head["arrays"]["weight"] = {"shape": list(claimed), "dtype": "float64"}
    entries["header.npy"] = _npy((len(json.dumps(head)),), "uint8", json.dumps(head).encode())
    entries["array.weight.npy"] = _npy(claimed, "float64", bytes(96))
    _zip(tmp_path / "huge.npz", entries)
    with pytest.raises(px.StateDictError, match=r"'weight' claims .* bytes of data, the "
                                                r"archive holds 96"):
        px.load(tmp_path / "huge.npz")


@pytest.mark.parametrize("batch", [2**45, 10**6])
def test_a_forged_batch_size_is_refused_before_the_state_is_allocated(
        tmp_path: Path, batch: int) -> None:
    head, arrays = _good_header(tmp_path)
    _write_npz(tmp_path / "batch.npz", {**head, "batch_size": batch}, **arrays)
    with pytest.raises(px.StateDictError, match=f"batch size {batch}"):
        px.load(tmp_path / "batch.npz")


def _header_cases(head: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    """Crafted headers (dicts, JSON texts or raw bytes) and the field their error names."""
    arrays = head["arrays"]
    weight = arrays["weight"]

    def with_weight(meta: Any) -> dict[str, Any]:
        return {**head, "arrays": {**arrays, "weight": meta}}

    return {
        "rule-number": ({**head, "rule": 5}, "'rule'"),
        "rule-list": ({**head, "rule": ["nearest_online_stdp"]}, "'rule'"),
        "rule-unknown": ({**head, "rule": "no_such_rule"}, "'rule'"),
        "params-list": ({**head, "params": [1, 2]}, "'params'"),
        "param-list": ({**head, "params": {"Apost": [0.1]}}, "'params.Apost'"),
        "param-mapping": ({**head, "params": {"Apost": {"a": 1}}}, "'params.Apost'"),
        "param-string": ({**head, "params": {"Apost": "0.1"}}, "'params.Apost'"),
        "param-bool": ({**head, "params": {"Apost": True}}, "'params.Apost'"),
        "param-unknown": ({**head, "params": {"Apots": 0.1}}, "'params.Apots'"),
        "param-nan": (json.dumps({**head, "params": {"Apost": math.nan}}), "'params.Apost'"),
        "param-inf-encoded-wrongly": ({**head, "params": {"Apost": {"float": "big"}}},
                                      "'params.Apost'"),
        "t-string": ({**head, "t": "7"}, "'t'"),
        "t-float": ({**head, "t": 1.5}, "'t'"),
        "t-negative": ({**head, "t": -1}, "'t'"),
        "seed-string": ({**head, "seed": "x"}, "'seed'"),
        "seed-bool": ({**head, "seed": True}, "'seed'"),
        "dt-string": ({**head, "dt": "1"}, "'dt'"),
        "dt-zero": ({**head, "dt": 0}, "'dt'"),
        "dt-infinite": (json.dumps({**head, "dt": math.inf}), "'dt'"),
        "dtype-number": ({**head, "dtype": 64}, "'dtype'"),
        "dtype-bogus": ({**head, "dtype": "bogus.float64"}, "'params.dtype'"),
        "batch-string": ({**head, "batch_size": "2"}, "'batch_size'"),
        "batch-bool": ({**head, "batch_size": True}, "'batch_size'"),
        "batch-zero": ({**head, "batch_size": 0}, "'batch_size'"),
        "masked-string": ({**head, "masked": "yes"}, "'masked'"),
        "shape-options-list": ({**head, "shape_options": []}, "'shape_options'"),
        "pre-shape-string": ({**head, "shape_options": {"pre_shape": "ab"}},
                             "'shape_options.pre_shape'"),
        "shape-options-unknown": ({**head, "shape_options": {"x": 1}}, "'shape_options'"),
        "arrays-list": ({**head, "arrays": []}, "'arrays'"),
        "arrays-no-weight": ({**head, "arrays": {k: v for k, v in arrays.items()
                                                 if k != "weight"}}, "'arrays'"),
        "array-meta-list": (with_weight([3, 4]), "'arrays.weight'"),
        "array-meta-extra-key": (with_weight({**weight, "offset": 9}), "'arrays.weight'"),
        "array-shape-string": (with_weight({**weight, "shape": "ab"}),
                               "'arrays.weight.shape'"),
        "array-shape-negative": (with_weight({**weight, "shape": [-3, 4]}),
                                 "'arrays.weight.shape'"),
        "array-shape-floats": (with_weight({**weight, "shape": [3.0, 4.0]}),
                               "'arrays.weight.shape'"),
        "array-dtype-number": (with_weight({**weight, "dtype": 8}), "'arrays.weight.dtype'"),
        "array-name-a-path": ({**head, "arrays": {**arrays, "../x": weight}}, "'arrays'"),
        "header-a-list": ([head], "format"),
        "header-a-number": (42, "format"),
        "header-a-string": ('"plastix-binding"', "format"),
        "header-null": ("null", "format"),
        "deep-nesting": ("[" * 100_000 + "]" * 100_000, "header"),
        "deep-nesting-in-params": (json.dumps({**head, "params": 0}).replace(
            '"params": 0', '"params": ' + '{"a": ' * 5000 + "1" + "}" * 5000), "header"),
        "format-missing": ({k: v for k, v in head.items() if k != "format"}, "format"),
        "version-bool": ({**head, "version": True}, "version"),
        "version-zero": ({**head, "version": 0}, "version"),
        "version-float": ({**head, "version": 1.0}, "version"),
        "not-utf8": (b"\xff\xfe{}", "header"),
        "empty": (b"", "header"),
    }


_HEAD = json.loads(json.dumps(_io.header(_make("nearest_online_stdp", "numpy"))))
HEADER_CASES = _header_cases(_HEAD)


@pytest.mark.parametrize("case", sorted(HEADER_CASES))
def test_a_crafted_header_is_one_state_dict_error_naming_the_field(case: str,
                                                                    tmp_path: Path) -> None:
    header, field = HEADER_CASES[case]
    _, arrays = _good_header(tmp_path)
    entries = {k: v for k, v in arrays.items()}
    if isinstance(header, bytes | str):
        raw = header if isinstance(header, bytes) else header.encode()
    else:
        raw = json.dumps(header).encode()
    entries["header"] = np.frombuffer(raw, dtype=np.uint8)
    with open(tmp_path / "crafted.npz", "wb") as f:
        np.savez(f, **entries)
    with pytest.raises(px.StateDictError) as info:
        px.load(tmp_path / "crafted.npz")
    assert field in str(info.value), str(info.value)


@pytest.mark.parametrize("path", [None, 5, 1.5, ["a.npz"], "", b""])
def test_a_path_that_is_no_path_is_a_state_dict_error(path: Any) -> None:
    with pytest.raises(px.StateDictError, match="path"):
        px.load(path)


def test_archives_that_are_not_what_plastix_writes_are_refused(tmp_path: Path) -> None:
    entries = _good_entries(tmp_path)
    _zip(tmp_path / "bz2.npz", entries, zipfile.ZIP_BZIP2)
    with pytest.raises(px.StateDictError, match="compression method"):
        px.load(tmp_path / "bz2.npz")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile: "Duplicate name"
        with zipfile.ZipFile(tmp_path / "twice.npz", "w") as z:
            for name, data in entries.items():
                z.writestr(name, data)
            z.writestr("array.weight.npy", entries["array.weight.npy"])
    with pytest.raises(px.StateDictError, match="twice"):
        px.load(tmp_path / "twice.npz")
    head = json.loads(bytes(np.load(tmp_path / "good.npz")["header"]).decode())
    big = json.dumps({**head, "pad": "x" * (1 << 20)})
    _zip(tmp_path / "big-header.npz", {**entries, "header.npy": _npy(
        (len(big),), "uint8", big.encode())})
    with pytest.raises(px.StateDictError, match="unreadable header"):
        px.load(tmp_path / "big-header.npz")
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(px.StateDictError, match="not a plastix binding file"):
        px.load(tmp_path / "folder.npz")
    structured = dict(entries)
    structured["array.weight.npy"] = _npy((3, 4), "float64", bytes(96)).replace(
        b"'<f8'", b"[('a', '<f8')]", 1)
    _zip(tmp_path / "structured.npz", structured)
    with pytest.raises(px.StateDictError, match="cannot be read"):
        px.load(tmp_path / "structured.npz")


# -- saving: symbolic links and temporaries --------------------------------------------------------
def test_saving_to_a_symbolic_link_writes_through_to_its_target(tmp_path: Path) -> None:
    b = _make("nearest_online_stdp", "numpy")
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "latest-real.npz"
    link = tmp_path / "latest.npz"
    link.symlink_to(os.path.relpath(target, tmp_path))  # dangling until the first save
    b.save(link)
    assert link.is_symlink() and target.is_file() and not target.is_symlink()
    b.run(*_trains(9, 4, 2, 4, 3))
    b.save(link)  # an existing target is replaced, atomically, through the link
    assert link.is_symlink() and os.path.realpath(link) == os.path.realpath(target)
    assert px.load(link).t == px.load(target).t == 4
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["latest-real.npz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.npz", "runs"]


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporaries_of_killed_saves_are_cleaned_up_and_never_loaded(tmp_path: Path) -> None:
    b = _make("nearest_online_stdp", "numpy")
    path = tmp_path / "syn.npz"
    b.save(path)
    host = _io._owner().rpartition("-")[0]
    dead = tmp_path / f".syn.npz.{host}-{_dead_pid()}-abc123{_io._TMP_SUFFIX}"
    live = tmp_path / f".syn.npz.{host}-{os.getpid()}-def456{_io._TMP_SUFFIX}"
    remote = tmp_path / f".syn.npz.otherhost-{_dead_pid()}-ghi789{_io._TMP_SUFFIX}"
    other = tmp_path / f".other.npz.{host}-{_dead_pid()}-jkl000{_io._TMP_SUFFIX}"
    for p in (dead, live, remote, other):
        p.write_bytes(path.read_bytes()[:100])  # half a file, as a killed save leaves it
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == ["syn.npz"]  # not checkpoints
    with pytest.raises(px.StateDictError):
        px.load(dead)
    b.save(path)
    assert not dead.exists()  # a dead process of this host: removed
    assert live.exists() and remote.exists() and other.exists()  # others: kept


def test_kill_9_during_saves_always_leaves_a_loadable_file(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "syn.npz"
    _make("nearest_online_stdp", "numpy").save(path)
    script = (
        "import numpy as np, plastix as px\n"
        "b = px.Learner('nearest_online_stdp', dtype='float64').bind(np.full((300, 400), 0.5))\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        f"    b.step(np.ones((1, 400)), np.ones((1, 300))); b.save({str(path)!r})\n")
    for delay in (0.05, 0.2):
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                 text=True)
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert px.load(path).t >= 0  # the last complete save (or the first one)
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == ["syn.npz"]
