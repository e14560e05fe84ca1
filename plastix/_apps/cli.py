"""The ``plastix`` command (also ``python -m plastix``): ``list``, ``info NAME``, ``run NAME``,
``plugins``, ``demo``.

Exit status: 0 on success, 1 for an error plastix reports (an unknown rule, a hyperparameter
out of range), 2 for a bad argument, 130 on Ctrl-C, 141 when the reader of the output went
away (``plastix list | head``). Every error is one line on stderr, never a traceback (set
``PLASTIX_DEBUG=1`` to see one for an error that is not plastix's own).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from plastix._errors import PlastixError, PluginWarning
from plastix._version import __version__

from .args import HelpFormatter, Parser


def _cmd_list(args: argparse.Namespace) -> int:
    from plastix.registry import RULES, ensure_loaded

    from .show import rule_list, rule_record, to_json

    ensure_loaded()
    print(to_json([rule_record(e.name) for e in RULES]) if args.json else rule_list())
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from .show import rule_info, rule_record, to_json

    print(to_json(rule_record(args.name)) if args.json else rule_info(args.name))
    return 0


def _cmd_plugins(args: argparse.Namespace) -> int:
    from plastix.registry import DISABLE_ENV, autoload_disabled, plugins

    from .show import plugin_list, plugin_record, to_json

    found = plugins(include_builtin=args.all)
    if args.json:
        print(to_json({"autoload": not autoload_disabled(),
                       "plugins": [plugin_record(p) for p in found]}))
        return 0
    if autoload_disabled():
        print(f"entry-point plugins are not loaded: {DISABLE_ENV} is set\n")
    print(plugin_list(found) if found else "no plugins installed (use --all to list the "
          "built-ins)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="plastix", formatter_class=HelpFormatter,
                    description="Synaptic plasticity rules, by name, on NumPy, PyTorch or "
                    "CuPy.", epilog="'plastix COMMAND --help' describes a command.")
    parser.add_argument("--version", action="version", version=f"plastix {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("list", help="list the registered rules", formatter_class=HelpFormatter)
    p.add_argument("--json", action="store_true",
                   help="print every rule's record (as 'info --json') as a JSON array")
    p.set_defaults(func=_cmd_list)
    p = sub.add_parser("info", help="equations, hyperparameters and reference of a rule",
                       formatter_class=HelpFormatter)
    p.add_argument("name", help="a rule's name or alias, in any case, '-' or '_'")
    p.add_argument("--json", action="store_true", help="print it as a JSON object")
    p.set_defaults(func=_cmd_info)
    p = sub.add_parser("plugins", help="list the installed plugins and what they contribute",
                       formatter_class=HelpFormatter)
    p.add_argument("--all", action="store_true", help="include the built-in plugins")
    p.add_argument("--json", action="store_true", help="print them as a JSON object")
    p.set_defaults(func=_cmd_plugins)
    from .run import add_parser as add_run_parser

    add_run_parser(sub)
    from .demo_cli import add_parser as add_demo_parser

    add_demo_parser(sub)
    return parser


def _quiet_stdout() -> None:
    """After a broken pipe: send what is still buffered nowhere, so that the interpreter's
    final flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file (a test's capture)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, a bad argument: argparse has printed
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    if getattr(args, "func", None) is None:  # a bare 'plastix'
        parser.print_help()
        return 0
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            rc = int(args.func(args))
            sys.stdout.flush()
    except SystemExit as exc:  # a command refused an argument: it has printed why, or says
        if isinstance(exc.code, str):  # it here (SystemExit("...") prints nothing when caught)
            print(exc.code, file=sys.stderr)
        return int(exc.code) if isinstance(exc.code, int) else 2
    except BrokenPipeError:
        _quiet_stdout()
        return 141
    except KeyboardInterrupt:
        print("plastix: interrupted", file=sys.stderr)
        return 130
    except PlastixError as exc:
        print(f"plastix: error: {exc}", file=sys.stderr)
        return 1
    except MemoryError as exc:
        print(f"plastix: error: out of memory{f' ({exc})' if str(exc) else ''}; try smaller "
              "sizes", file=sys.stderr)
        return 1
    except Exception as exc:
        if os.environ.get("PLASTIX_DEBUG", "").strip() not in ("", "0"):
            raise
        print(f"plastix: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
              "(PLASTIX_DEBUG=1 shows the traceback; please report it)", file=sys.stderr)
        return 3
    for w in caught:  # 'plastix plugins' lists failed plugins itself
        if not (args.command == "plugins" and issubclass(w.category, PluginWarning)):
            print(f"plastix: warning: {w.message}", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
