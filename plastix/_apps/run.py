"""``plastix run NAME``: drive a rule with Poisson spike trains and report what it learned.

Every argument is checked before anything is allocated: sizes and counts are positive, the
firing rate is a probability per step, the hyperparameters are the rule's, the weights and
spike trains fit in the memory that is free. A rule that needs a signal at every step (a
reward) gets ``--reward``; its other signals (a delay, a threshold) keep the rule's default
unless ``--signal NAME=VALUE`` sets them; the report says which values were used.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import math
import time
from typing import Any

import numpy as np

from .args import (
    HelpFormatter,
    extents,
    fail,
    finite_float,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)
from .run_report import report_text, run_report, weight_bounds

#: Sizes used when --pre, --post or --kernel are not given: dense, then convolutional.
DENSE_PRE, DENSE_POST = (784,), 100
CONV_PRE, CONV_POST, CONV_KERNEL = (1, 28, 28), 8, (5, 5)
#: A run may use this share of the memory the system reports as available.
MEMORY_SHARE = 0.8


def add_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="drive a rule with Poisson spike trains and report",
                       formatter_class=HelpFormatter,
                       description="Drive a rule with Poisson spike trains of every neuron "
                       "and report how its weights (and other learned values) changed, and "
                       "how fast it stepped.")
    p.add_argument("rule", help="a rule's name or alias (plastix list names them)")
    p.add_argument("--pre", type=extents, default=None, metavar="SHAPE",
                   help="presynaptic neurons, or the input C,H,W of a convolutional rule "
                        "(default: 784, or 1,28,28)")
    p.add_argument("--post", type=positive_int, default=None, metavar="N",
                   help="postsynaptic neurons, or the output channels of a convolutional "
                        "rule (default: 100, or 8)")
    p.add_argument("--kernel", type=extents, default=None, metavar="KH,KW",
                   help="kernel height and width of a convolutional rule (default: 5,5)")
    p.add_argument("--steps", type=positive_int, default=350, help="time steps (at least 2)")
    p.add_argument("--rate", type=non_negative_float, default=20.0, metavar="HZ",
                   help="Poisson firing rate of every neuron, in Hz")
    p.add_argument("--dt", type=positive_float, default=1.0, metavar="MS",
                   help="time step in ms")
    p.add_argument("--batch", type=positive_int, default=1, help="batch size")
    p.add_argument("--backend", default="numpy", help="numpy, torch, torch:cuda or cupy")
    p.add_argument("--dtype", default=None,
                   help="the dtype the rule computes in (default: the rule's first)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the spike trains, the weights and the rule's random numbers")
    p.add_argument("--reward", type=finite_float, default=None,
                   help="the reward given at every step to a rule that needs one "
                        "(default: 1.0)")
    p.add_argument("--signal", action="append", metavar="NAME=VALUE", default=[],
                   help="another step signal of the rule, such as delay (repeatable)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", default=[],
                   help="set a hyperparameter (repeatable; plastix info NAME lists them)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (default: on long runs in a terminal)")
    p.add_argument("--json", action="store_true", help="print the report as a JSON object")
    p.set_defaults(func=command)


def _pairs(option: str, items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            fail("run", f"argument {option}: expected NAME=VALUE, got {item!r}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = text
        out[key.strip()] = value
    return out


def _learner(args: argparse.Namespace, hyper: dict[str, Any]) -> Any:
    from plastix._runtime.learner import Learner

    learner_args = [n for n, p in inspect.signature(Learner).parameters.items()
                    if p.kind is not p.VAR_KEYWORD]
    own = {n: f"--{n}" for n in ("backend", "dtype", "seed")}
    for key in hyper:
        if key in learner_args:
            use = f"; use {own[key]}" if key in own else ""
            fail("run", f"argument --set: {key!r} is an argument of the Learner, not a "
                        f"hyperparameter of the rule{use}")
    return Learner(args.rule, backend=args.backend, dtype=args.dtype, seed=args.seed, **hyper)


def _shapes(args: argparse.Namespace, rule_cls: Any, params: Any) -> tuple[tuple[int, ...],
                                                                            dict[str, Any]]:
    """The weight's shape and the bind options: dense unless the rule refuses a dense
    weight (a convolutional rule), whose kernel is --kernel."""
    try:
        rule_cls.spike_shapes((2, 3), 1, params)
        dense = True
    except (ValueError, TypeError):
        dense = False
    if dense:
        if args.kernel is not None:
            fail("run", f"argument --kernel: rule {rule_cls.name!r} learns a dense weight, "
                        "not a kernel")
        pre: tuple[int, ...] = args.pre or DENSE_PRE
        if len(pre) != 1:
            fail("run", f"argument --pre: rule {rule_cls.name!r} takes a number of neurons, "
                        f"got the shape {','.join(map(str, pre))}")
        return (args.post or DENSE_POST, pre[0]), {}
    pre, kernel = args.pre or CONV_PRE, args.kernel or CONV_KERNEL
    if len(pre) != 3:
        fail("run", f"argument --pre: rule {rule_cls.name!r} is convolutional: expected the "
                    f"input shape C,H,W (such as 1,28,28), got {','.join(map(str, pre))}")
    if len(kernel) != 2:
        fail("run", "argument --kernel: expected the kernel height and width KH,KW")
    shape = (args.post or CONV_POST, pre[0], *kernel)
    try:
        rule_cls.spike_shapes(shape, 1, params, pre_shape=pre)
    except (ValueError, TypeError) as exc:
        fail("run", f"arguments --pre/--kernel: rule {rule_cls.name!r} needs {exc}")
    return shape, {"pre_shape": pre}


def _initial_weight(rng: np.random.Generator, shape: tuple[int, ...], dtype: str,
                    params: Any) -> np.ndarray:
    bounds = weight_bounds(params)
    low, high = bounds.get("w_min"), next((v for k, v in bounds.items() if k != "w_min"), None)
    if low is not None and high is not None and low > high:
        fail("run", f"argument --set: w_min={low:g} is above the upper weight bound "
                    f"{high:g}")
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        for name, bound in bounds.items():
            if not info.min <= bound <= info.max:
                fail("run", f"argument --set: {name}={bound:g} does not fit the rule's "
                            f"{dtype} weights ({info.min} to {info.max})")
        first = 0 if low is None else math.ceil(low)
        last = first + 100 if high is None else max(first, math.floor(high))
        return rng.integers(first, last + 1, shape).astype(dtype)
    return rng.uniform(0.0 if low is None else low, 1.0 if high is None else high,
                       shape).astype(dtype)


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _check_memory(args: argparse.Namespace, weight_size: int, spike_size: int,
                  itemsize: int) -> None:
    """Refuse a run whose weights (four copies: the start, the binding's, the report's)
    and spike trains would not fit in the available memory."""
    need = 4 * 8 * weight_size + args.steps * spike_size * itemsize + 8 * spike_size
    free = _available_memory()
    if free is not None and need > MEMORY_SHARE * free:
        fail("run", f"arguments --pre/--post/--batch/--steps: the weights and "
                    f"{args.steps:,} steps of spike trains need about {_size(need)}, and "
                    f"{_size(free)} of memory is available")


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def _trains(rng: np.random.Generator, steps: int, shape: tuple[int, ...], prob: float,
            dtype: str) -> np.ndarray:
    """Poisson spikes, drawn a block of steps at a time (no float64 copy of the whole
    train); the draws are those of one ``rng.random((steps, *shape))`` call."""
    out = np.empty((steps, *shape), dtype=dtype)
    block = max(1, 2**22 // max(1, math.prod(shape)))
    for start in range(0, steps, block):
        stop = min(steps, start + block)
        out[start:stop] = rng.random((stop - start, *shape)) < prob
    return out


def _signals(args: argparse.Namespace, syn: Any) -> dict[str, tuple[Any, str]]:
    """Each step signal of the rule, the value it gets and where that value comes from."""
    given = _pairs("--signal", args.signal)
    names = {n: d for n, d in syn.graph.variables.items() if d.kind == "signal"}
    for key in given:
        if key not in names or key == "reward":
            known = ", ".join(n for n in names if n != "reward") or "none"
            fail("run", f"argument --signal: rule {syn.rule_name!r} has no signal {key!r} "
                        f"(its signals besides the reward: {known})")
    if args.reward is not None and "reward" not in names:
        fail("run", f"argument --reward: rule {syn.rule_name!r} takes no reward")
    out: dict[str, tuple[Any, str]] = {}
    for name, decl in names.items():
        if name == "reward":
            out[name] = (1.0, "the default of --reward") if args.reward is None \
                else (args.reward, "--reward")
        elif name in given:
            out[name] = (given[name], "--signal")
        elif decl.default is None:
            fail("run", f"rule {syn.rule_name!r} needs the signal {name!r} at every step: "
                        f"give it with --signal {name}=VALUE")
        else:
            out[name] = (decl.default, "the rule's default; --signal sets it")
    return out


def command(args: argparse.Namespace) -> int:
    from plastix._runtime.learner import find_rule

    if args.steps < 2:
        fail("run", f"argument --steps: expected at least 2 steps, got {args.steps}")
    prob = args.rate * args.dt / 1000.0
    if prob > 1:
        fail("run", f"argument --rate: {args.rate:g} Hz at dt = {args.dt:g} ms is "
                    f"{prob:g} spikes per step; at most {1000 / args.dt:g} Hz at this dt")
    find_rule(args.rule)  # an unknown name fails before anything else is looked at
    learner = _learner(args, _pairs("--set", args.set))
    shape, options = _shapes(args, learner.rule_cls, learner.params)
    pre_shape, post_shape = learner.rule_cls.spike_shapes(shape, args.batch, learner.params,
                                                          **options)
    dtype = learner.dtype
    _check_memory(args, math.prod(shape), math.prod(pre_shape) + math.prod(post_shape),
                  np.dtype(dtype).itemsize)
    rng = np.random.default_rng(args.seed)
    w0 = _initial_weight(rng, shape, dtype, learner.params)
    syn = learner.bind(w0, batch_size=args.batch, dt=args.dt, **options)
    signals = _signals(args, syn)
    values = {k: v for k, (v, _) in signals.items()}
    pre = _trains(rng, args.steps, syn.graph.pre_shape, prob, dtype)
    post = _trains(rng, args.steps, syn.graph.post_shape, prob, dtype)
    be = syn.backend
    before = {k: be.to_numpy(v).astype(np.float64).copy() for k, v in syn.learned.items()}
    syn.step(pre[0], post[0], **values)  # compile and warm up outside the timing
    t0 = time.perf_counter()
    syn.run(pre[1:], post[1:], progress=args.progress, **values)
    elapsed = time.perf_counter() - t0
    after = {k: be.to_numpy(v).astype(np.float64) for k, v in syn.learned.items()}
    report = run_report(args, syn, shape, signals, before, after, elapsed)
    if args.json:
        from .show import to_json

        print(to_json(report))
    else:
        print(report_text(report))
    return 0
