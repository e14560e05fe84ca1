"""Threads: bindings of one learner step independently; the registry and the compile cache
are safe to use from many threads at once (a barrier makes the threads start together)."""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import plastix as px
from plastix._compiler import CACHE
from plastix.registry import RULES, register_plugin, unregister_plugin
from tests.conftest import to_numpy
from tests.reliability_helpers import native

THREADS = 12


def _in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``n`` threads released together; re-raise the first failure."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def _trains(seed: int, steps: int = 150) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return ((rng.random((steps, 2, 6)) < 0.3).astype("float64"),
            (rng.random((steps, 2, 5)) < 0.3).astype("float64"))


@pytest.mark.parametrize("rule", ["nearest_online_stdp", "meta_nearest_online_stdp",
                                  "postpreintstdp"])
def test_two_threads_two_bindings_equal_sequential(backend: str, rule: str) -> None:
    learner = px.Learner(rule, backend, seed=4)
    w0 = (np.arange(30).reshape(5, 6) % 7 * 10) if learner.dtype.startswith("int") \
        else np.linspace(0.1, 0.9, 30).reshape(5, 6)
    trains = [_trains(1), _trains(2)]

    def run(i: int) -> dict[str, np.ndarray]:
        b = learner.bind(native(backend, w0, learner.dtype), batch_size=2, seed=i)
        pre, post = trains[i]
        for t in range(len(pre)):
            b.step(pre[t], post[t])
        return {k: to_numpy(v).copy() for k, v in b.S.items()}

    sequential = [run(0), run(1)]
    threaded = _in_threads(2, run)
    for seq, thr in zip(sequential, threaded, strict=True):
        for k in seq:
            np.testing.assert_array_equal(thr[k], seq[k], err_msg=k)


def test_compile_cache_from_many_threads(backend: str) -> None:
    # hyperparameters no other test uses, so every thread misses the cache at once
    learner = px.Learner("full_online_stdp", backend, Apost=0.0123456, dtype="float64")
    before = len(CACHE)

    def bind_and_step(i: int) -> Any:
        b = learner.bind(np.full((4, 3), 0.5), batch_size=2)
        b.step(np.ones((2, 3)), np.ones((2, 4)), final=True)
        return b

    bindings = _in_threads(THREADS, bind_and_step)
    steps = {id(b._compiled("step").fn.__code__) for b in bindings}
    finals = {id(b._compiled("final").fn.__code__) for b in bindings}
    assert len(steps) == 1 and len(finals) == 1  # one compiled step shared by all
    assert len(CACHE) == before + 2
    for b in bindings[1:]:
        np.testing.assert_array_equal(to_numpy(b.weight), to_numpy(bindings[0].weight))


@px.rule("concurrency_rule")
class _Rule(px.Rule):
    """w <- w + post^T pre."""

    def build(self, g: px.Graph) -> None:
        g.op_to_backend("dw", "mat_mult_pre", ["post", "pre"])
        g.op_to_backend("weight", "add", ["weight", "dw"])


def _plugin(name: str, rule_name: str) -> types.ModuleType:
    module = types.ModuleType(name)

    def register_rules(register: Any) -> None:
        register(_Rule, name=rule_name)

    module.register_rules = px.hookimpl(register_rules)  # type: ignore[attr-defined]
    return module


def test_registry_from_many_threads() -> None:
    """Half the threads register and unregister plugins while the others look rules up and
    make learners; afterwards the registry is exactly as before."""
    before = px.rules(with_aliases=True)

    def work(i: int) -> int:
        done = 0
        for round_ in range(15):
            if i % 2:
                name = f"concurrency_plugin_{i}_{round_}"
                register_plugin(_plugin(name, f"concurrency_rule_{i}_{round_}"))
                assert px.find_rule(f"concurrency_rule_{i}_{round_}") is _Rule
                unregister_plugin(name)
            else:
                assert "nearest_online_stdp" in px.rules()
                px.Learner("NEAREST_ONLINE_STDP").bind(np.zeros((2, 2)))
                assert px.find_rule("postpreint").name == "postpreintstdp"
            done += 1
        return done

    assert sum(_in_threads(THREADS, work)) == THREADS * 15
    assert px.rules(with_aliases=True) == before


def test_same_name_from_many_threads_registers_once() -> None:
    def work(i: int) -> bool:
        try:
            register_plugin(_plugin(f"concurrency_same_{i}", "concurrency_contested"))
            return True
        except px.RegistrationError as exc:
            assert "concurrency_contested" in str(exc)
            return False

    try:
        wins = _in_threads(THREADS, work)
        assert sum(wins) == 1
        winner = wins.index(True)
        assert RULES.get("concurrency_contested").provider == f"concurrency_same_{winner}"
    finally:
        for i in range(THREADS):
            try:
                unregister_plugin(f"concurrency_same_{i}")
            except px.RegistrationError:
                pass
    assert "concurrency_contested" not in px.rules()


# -- one binding shared between threads (a lock per binding serialises its calls) -----------------
@pytest.fixture
def _switch_often() -> Any:
    """Threads switch every microsecond instead of every 5 ms, so that a race shows up in
    a few hundred steps rather than once in a while."""
    import sys

    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _constant_spikes(batch: int, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return ((rng.random((batch, n_pre)) < 0.5).astype("float32"),
            (rng.random((batch, n_post)) < 0.5).astype("float32"))


@pytest.mark.usefixtures("_switch_often")
@pytest.mark.parametrize("rule", ["nearest_online_stdp", "full_online_stdp",
                                  "postpreintstdp"])
def test_threads_stepping_one_binding_lose_and_double_nothing(backend: str,
                                                              rule: str) -> None:
    """Four threads each take 60 steps of one binding with the same spikes every step: in
    whatever order the steps interleave, the result is 240 steps taken one after another."""
    threads, steps = 4, 60
    learner = px.Learner(rule, backend, seed=3)
    w0 = np.full((5, 6), 40) if learner.dtype.startswith("int") else np.full((5, 6), 0.3)
    pre, post = _constant_spikes(2, 6, 5)

    def make() -> px.Binding:
        return learner.bind(native(backend, w0.copy(), learner.dtype), batch_size=2)

    sequential = make()
    for _ in range(threads * steps):
        sequential.step(pre, post)
    shared = make()

    def work(i: int) -> None:
        for _ in range(steps):
            shared.step(pre, post)

    _in_threads(threads, work)
    assert shared.t == sequential.t == threads * steps
    for k, v in sequential.arrays.items():
        np.testing.assert_array_equal(to_numpy(shared.S[k]), to_numpy(v), err_msg=k)


@pytest.mark.usefixtures("_switch_often")
@pytest.mark.parametrize("snapshot_kind", ["state_dict", "save"])
def test_snapshots_taken_while_another_thread_steps_are_whole_steps(
        backend: str, snapshot_kind: str, tmp_path: Any) -> None:
    """One thread steps through a train while another takes snapshots: each snapshot equals
    the state of the uninterrupted run at its own step counter, never a mix of two steps."""
    learner = px.Learner("meta_nearest_online_stdp", backend, dtype="float64")
    pre, post = _trains(5, steps=120)
    w0 = np.linspace(0.1, 0.9, 30).reshape(5, 6)
    reference = learner.bind(native(backend, w0.copy(), "float64"), batch_size=2)
    states = [{k: to_numpy(v).copy() for k, v in reference.arrays.items()}]
    for t in range(len(pre)):
        reference.step(pre[t], post[t])
        states.append({k: to_numpy(v).copy() for k, v in reference.arrays.items()})
    shared = learner.bind(native(backend, w0.copy(), "float64"), batch_size=2)
    taken: list[dict[str, Any]] = []

    def work(i: int) -> None:
        if i == 0:
            for t in range(len(pre)):
                shared.step(pre[t], post[t])
            return
        for n in range(25):
            if snapshot_kind == "state_dict":
                taken.append(shared.state_dict())
            else:
                path = tmp_path / f"snap{n}.npz"
                shared.save(path)
                taken.append(px.load(path, backend=backend).state_dict())

    _in_threads(2, work)
    assert taken
    for sd in taken:
        expected = states[sd["t"]]
        for k, v in sd["arrays"].items():
            np.testing.assert_array_equal(to_numpy(v), expected[k], err_msg=f"{k} at {sd['t']}")


@pytest.mark.usefixtures("_switch_often")
def test_set_and_reset_from_another_thread_fall_between_steps(backend: str) -> None:
    """While one thread steps, another changes a hyperparameter and resets the traces; every
    call completes and the binding ends consistent (each step saw one set of constants)."""
    learner = px.Learner("nearest_online_stdp", backend, dtype="float64")
    b = learner.bind(native(backend, np.full((5, 6), 0.5), "float64"), batch_size=2)
    pre, post = _trains(9, steps=200)

    def work(i: int) -> None:
        if i == 0:
            b.run(pre, post)
            return
        for n in range(30):
            b.set(Apost=0.01 * (n % 3 + 1))
            b.reset()

    _in_threads(2, work)
    assert b.t == 200 and np.isfinite(to_numpy(b.weight)).all()
