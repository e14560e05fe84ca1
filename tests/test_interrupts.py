"""Ctrl-C during ``run`` and ``LearnerGroup.step``: the ``KeyboardInterrupt`` leaves every
binding exactly at the end of the last finished step (the state equals that of an
uninterrupted run of that many steps, bit for bit)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import plastix as px
from tests.conftest import to_numpy
from tests.reliability_helpers import native

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt",
                                reason="needs POSIX signals")

N_PRE, N_POST, BATCH, STEPS = 200, 100, 8, 400


def _trains(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return ((rng.random((STEPS, BATCH, N_PRE)) < 0.2).astype(np.float32),
            (rng.random((STEPS, BATCH, N_POST)) < 0.2).astype(np.float32))


def _bind(backend: str, **kwargs: Any) -> px.Binding:
    w = np.random.default_rng(1).uniform(0.1, 0.9, (N_POST, N_PRE))
    return px.Learner("nearest_online_stdp", backend).bind(native(backend, w, "float32"),
                                                           batch_size=BATCH, **kwargs)


def _interrupt_after(seconds: float) -> threading.Thread:
    """Send this process a real SIGINT (as Ctrl-C does) from another thread."""
    def send() -> None:
        time.sleep(seconds)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def _arrays(b: px.Binding) -> dict[str, np.ndarray]:
    return {k: to_numpy(v).copy() for k, v in b.arrays.items()}


def _assert_at_step(b: px.Binding, backend: str, pre: np.ndarray, post: np.ndarray,
                    make: Callable[[], px.Binding]) -> None:
    """``b`` equals a fresh binding run for exactly ``b.t`` steps."""
    reference = make()
    if b.t:
        reference.run(pre[:b.t], post[:b.t], final=False)
    assert reference.t == b.t
    got = _arrays(b)
    for k, v in _arrays(reference).items():
        np.testing.assert_array_equal(got[k], v, err_msg=f"{k} after {b.t} steps")


@pytest.mark.parametrize("delay", [0.004, 0.011, 0.023, 0.037])
@pytest.mark.parametrize("hooked", [False, True])
def test_an_interrupted_run_stops_at_a_step_boundary(backend: str, delay: float,
                                                     hooked: bool) -> None:
    def make() -> px.Binding:
        b = _bind(backend)
        if hooked:  # a hooked binding runs guarded steps: the other path through step()
            b.intercept("weight", lambda dw: dw * 1)
        return b

    pre, post = _trains(2)
    b = make()
    sender = _interrupt_after(delay)
    try:
        with pytest.raises(KeyboardInterrupt):
            b.run(pre, post)
            time.sleep(5)  # the run ended first: wait for the signal here
    finally:
        sender.join()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert 0 <= b.t <= STEPS
    _assert_at_step(b, backend, pre, post, make)


def test_a_handler_of_the_callers_own_is_called_at_the_boundary(backend: str) -> None:
    pre, post = _trains(3)
    calls: list[int] = []
    b = _bind(backend)
    seen: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        calls.append(signum)
        seen.append(b.t)  # called between steps, with the step counter matching the state

    previous = signal.signal(signal.SIGINT, handler)
    try:
        sender = _interrupt_after(0.005)
        b.run(pre[:50], post[:50])
        sender.join()
        deadline = time.time() + 5
        while not calls and time.time() < deadline:
            time.sleep(0.01)  # the run may have ended before the signal came
        assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, previous)
    assert calls == [signal.SIGINT] and b.t == 50


def test_a_run_in_another_thread_leaves_the_signal_alone(backend: str) -> None:
    pre, post = _trains(4)
    b = _bind(backend)
    thread = threading.Thread(target=b.run, args=(pre[:20], post[:20]))
    thread.start()
    thread.join()
    assert b.t == 20 and signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupted_loop_of_group_steps_keeps_the_bindings_together(backend: str) -> None:
    pre, post = _trains(5)

    def make() -> px.Binding:
        return _bind(backend)

    group = px.LearnerGroup()
    group.add("a", make())
    group.add("b", make())
    sender = _interrupt_after(0.015)
    try:
        with pytest.raises(KeyboardInterrupt):
            for t in range(STEPS):
                group.step({"a": (pre[t], post[t]), "b": (pre[t], post[t])})
            time.sleep(5)
    finally:
        sender.join()
    assert group["a"].t == group["b"].t
    for name in group:
        _assert_at_step(group[name], backend, pre, post, make)
