"""The ``plastix`` command: ``list``, ``info NAME``, ``run NAME``, ``plugins``, ``demo``."""

from __future__ import annotations

import argparse
import ast
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from plastix._errors import PlastixError, PluginWarning


def _cmd_list(args: argparse.Namespace) -> int:
    from plastix._runtime.learner import find_rule
    from plastix.registry import RULES, ensure_loaded

    ensure_loaded()
    if args.json:
        print(_json([rule_record(e.name) for e in RULES]))
        return 0
    rows = [(e.name, ", ".join(e.aliases) or "-", e.provider, find_rule(e.name).summary())
            for e in RULES]
    widths = [max(len(r[i]) for r in [("rule", "aliases", "provider", ""), *rows])
              for i in range(3)]
    print(f"{'rule':<{widths[0]}}  {'aliases':<{widths[1]}}  {'provider':<{widths[2]}}  summary")
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from plastix._runtime.learner import find_rule
    from plastix.registry import RULES

    cls = find_rule(args.name)
    if args.json:
        print(_json(rule_record(args.name)))
        return 0
    entry = RULES.get(args.name)
    print(f"{cls.name}  (aliases: {', '.join(cls.aliases) or '-'}; provider: "
          f"{entry.provider if entry else '?'})\n")
    print(cls.describe())
    return 0


def rule_record(name: str) -> dict[str, Any]:
    """What ``plastix info NAME --json`` prints: the rule's names, provider, summary,
    dtypes, hyperparameters (default, unit, meaning, range, choices) and docstring."""
    import inspect

    from plastix._runtime.learner import find_rule
    from plastix.registry import RULES

    cls = find_rule(name)
    entry = RULES.get(cls.name)
    hyper = [{"name": f.name, "default": f.default,
              **{k: f.metadata.get(k) for k in ("unit", "doc", "low", "high", "open_low",
                                                "choices")}}
             for f in cls.param_fields()]
    return {"name": cls.name, "aliases": list(entry.aliases if entry else cls.aliases),
            "provider": entry.provider if entry else None, "summary": cls.summary(),
            "dtypes": list(cls.dtypes), "hyperparameters": hyper,
            "param_aliases": {k: list(v) for k, v in cls.param_aliases.items()},
            "rejected": dict(cls.rejected), "docstring": inspect.getdoc(cls) or ""}


def _json(value: Any) -> str:
    """Strict JSON: infinite and NaN numbers become the strings "inf", "-inf", "nan"."""
    import json

    def plain(v: Any) -> Any:
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        if isinstance(v, float) and not np.isfinite(v):
            return str(v)
        if isinstance(v, bool | int | float | str) or v is None:
            return v
        return repr(v)

    return json.dumps(plain(value), indent=2, allow_nan=False)


def _cmd_plugins(args: argparse.Namespace) -> int:
    from plastix.registry import DISABLE_ENV, autoload_disabled, plugins

    found = plugins(include_builtin=args.all)
    if autoload_disabled():
        print(f"entry-point plugins are not loaded: {DISABLE_ENV} is set\n")
    if not found:
        print("no plugins installed (use --all to list the built-ins)")
        return 0
    for p in found:
        status = {"ok": "ok", "failed": "FAILED", "disabled": "not loaded"}.get(p.status,
                                                                               p.status)
        print(f"{p.name}  ({p.distribution} {p.version}, {p.kind})  {status}")
        if p.module:
            print(f"  module: {p.module}")
        if p.error:
            print(f"  error: {p.error}")
        if p.hooks:
            print(f"  hooks: {', '.join(p.hooks)}")
        for what in ("rules", "backends", "ops"):
            names = getattr(p, what)
            if names:
                print(f"  {what}: {', '.join(names)}")
    counts = {s: sum(p.status == s for p in found) for s in ("ok", "failed", "disabled")}
    print(f"\n{len(found)} plugin{'s' * (len(found) != 1)}: "
          + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return 0


def _parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _cmd_run(args: argparse.Namespace) -> int:
    from plastix._runtime.learner import Learner

    hyper = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"plastix run: --set expects NAME=VALUE, got {item!r}")
        hyper[key] = _parse_value(value)
    learner = Learner(args.rule, backend=args.backend, dtype=args.dtype, seed=args.seed, **hyper)
    rng = np.random.default_rng(args.seed)
    p = learner.params
    lo, hi = getattr(p, "w_min", None), getattr(p, "w_max", getattr(p, "w_bound", None))
    w0: np.ndarray
    if learner.dtype.startswith("int"):
        w0 = rng.integers(int(lo or 0), int(hi or 100) + 1, (args.post, args.pre))
    else:
        low, high = _finite(lo), _finite(hi)
        w0 = rng.uniform(0.0 if low is None else low, 1.0 if high is None else high,
                         (args.post, args.pre))
    syn = learner.bind(w0, batch_size=args.batch, dt=args.dt)
    prob = args.rate * args.dt / 1000.0
    shape_pre, shape_post = syn.graph.pre_shape, syn.graph.post_shape
    pre = (rng.random((args.steps, *shape_pre)) < prob).astype(learner.dtype)
    post = (rng.random((args.steps, *shape_post)) < prob).astype(learner.dtype)
    before = syn.backend.to_numpy(syn.weight).astype(np.float64).copy()
    others = {k: syn.backend.to_numpy(v).astype(np.float64).copy()
              for k, v in syn.learned.items() if k != "weight"}  # learned delays and the like
    # a signal the rule needs at every step (a reward) is held at --reward
    signals = {n: args.reward for n, d in syn.graph.variables.items()
               if d.kind == "signal" and d.default is None}
    syn.step(pre[0], post[0], **signals)  # compile and warm up outside the timing
    t0 = time.perf_counter()
    syn.run(pre[1:], post[1:], progress=args.progress, **signals)
    elapsed = time.perf_counter() - t0
    w = syn.backend.to_numpy(syn.weight).astype(np.float64)
    print(f"rule {learner.name} on {learner.backend.key} ({learner.dtype}): weight "
          f"{args.post}x{args.pre}, batch {args.batch}, {args.steps} steps of {args.dt} ms, "
          f"Poisson {args.rate} Hz")
    print(f"  weight mean  {before.mean():.6g} -> {w.mean():.6g}")
    print(f"  weight std   {before.std():.6g} -> {w.std():.6g}")
    print(f"  changed      {np.mean(w != before):.1%} of synapses, max |dw| "
          f"{np.abs(w - before).max():.3g}")
    for name, start in others.items():
        end = syn.backend.to_numpy(syn.learned[name]).astype(np.float64)
        print(f"  {name + ' mean':<12} {start.mean():.6g} -> {end.mean():.6g} (std "
              f"{end.std():.3g})")
    for label, bound in (("w_min", _finite(lo)), ("w_max", _finite(hi))):
        if bound is not None:
            print(f"  at {label}={bound}  {np.mean(np.isclose(w, bound)):.1%}")
    print(f"  speed        {(args.steps - 1) / elapsed:,.0f} steps/s "
          f"({elapsed / (args.steps - 1) * 1e3:.3f} ms/step)")
    return 0


def _finite(bound: Any) -> float | None:
    """A weight bound, or None when there is none (None or infinite)."""
    return float(bound) if bound is not None and np.isfinite(bound) else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plastix", description="Synaptic plasticity rules, "
                                     "by name, on NumPy, PyTorch or CuPy.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="list the registered rules")
    p.add_argument("--json", action="store_true",
                   help="print every rule's record (as 'info --json') as a JSON array")
    p.set_defaults(func=_cmd_list)
    p = sub.add_parser("info", help="equations, hyperparameters and reference of a rule")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="print it as a JSON object")
    p.set_defaults(func=_cmd_info)
    p = sub.add_parser("plugins", help="list the installed plugins and what they contribute")
    p.add_argument("--all", action="store_true", help="include the built-in plugins")
    p.set_defaults(func=_cmd_plugins)
    p = sub.add_parser("run", help="drive a rule with Poisson spike trains and report")
    p.add_argument("rule")
    p.add_argument("--pre", type=int, default=784, help="presynaptic neurons")
    p.add_argument("--post", type=int, default=100, help="postsynaptic neurons")
    p.add_argument("--steps", type=int, default=350)
    p.add_argument("--rate", type=float, default=20.0, help="firing rate in Hz")
    p.add_argument("--dt", type=float, default=1.0, help="time step in ms")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--backend", default="numpy")
    p.add_argument("--dtype", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reward", type=float, default=1.0,
                   help="value of a signal the rule needs every step (reward)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="set a hyperparameter (repeatable)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    p.set_defaults(func=_cmd_run)
    from .demo_cli import add_parser as add_demo_parser

    add_demo_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "steps", 2) < 2:
        print("plastix run: --steps must be at least 2", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            rc = int(args.func(args))
    except PlastixError as exc:
        print(f"plastix: error: {exc}", file=sys.stderr)
        return 1
    for w in caught:  # 'plastix plugins' lists failed plugins itself
        if not (args.command == "plugins" and issubclass(w.category, PluginWarning)):
            print(f"plastix: warning: {w.message}", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
