"""The ``mcp-scan`` command line: parse, dispatch, map errors to exit codes.

This is the only place that turns exceptions into exit codes: 0 clean,
1 findings, 2 usage or configuration error, 3 runtime error, 130 on Ctrl-C.
Users see one line per error; ``MCP_SCAN_DEBUG=1`` adds the traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Optional

from scanner.version import __version__
from scanner.display import printable
from scanner.errors import EXIT_INTERRUPTED, EXIT_RUNTIME, EXIT_USAGE, ScanError

# Subcommand modules under scanner/commands, in help order.
COMMANDS = ("staged", "scan", "history", "audit", "ci", "prepush", "prereceive", "baseline", "sweep", "rules", "hooks")


# Which module registers each command name, so `mcp-scan staged` can import
# just its own module: importing every command costs more than a staged scan.
COMMAND_MODULES = {
    "staged": "staged", "scan": "scan", "history": "history", "audit": "audit", "ci": "ci",
    "pre-push": "prepush", "pre-receive": "prereceive", "baseline": "baseline", "sweep": "sweep", "merge": "sweep",
    "rules": "rules", "install": "hooks", "uninstall": "hooks",
}


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that command's module is registered."""
    parser = argparse.ArgumentParser(
        prog="mcp-scan",
        description="Keep credentials out of git: staged-diff hook, history audit, MCP config checks.",
    )
    parser.add_argument("--version", action="version", version=f"mcp-scan {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS if only is None else (only,):
        importlib.import_module(f"scanner.commands.{name}").register(subparsers)
    return parser


def _parse(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    args = list(sys.argv[1:] if argv is None else argv)
    first = args[0] if args else ""
    if first in COMMAND_MODULES and not any(a in ("-h", "--help") for a in args[:1]):
        return build_parser(COMMAND_MODULES[first]).parse_args(args)
    return build_parser().parse_args(args)


def _debug() -> bool:
    return os.environ.get("MCP_SCAN_DEBUG", "") not in ("", "0")


def _tolerant_streams() -> None:
    # A file name git hands us may not be valid UTF-8 (it arrives as
    # surrogate escapes) and a terminal may not be UTF-8 at all: print an
    # escape rather than crash half-way through a report.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            reconfigure(errors="backslashreplace")


def _where(exc: BaseException) -> str:
    """``module.py:line`` of the innermost frame inside the scanner package."""
    where = "?"
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if os.sep + "scanner" + os.sep in filename:
            where = f"{os.path.basename(filename)}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; return its exit code (never raises, never prints a traceback)."""
    _tolerant_streams()
    try:
        args = _parse(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, bad usage exits 2
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C while command modules are still importing
        print("mcp-scan: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    try:
        code: int = args.func(args)
        return code
    except ScanError as exc:
        print(f"mcp-scan: error: {printable(exc.message)}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {printable(exc.hint)}", file=sys.stderr)
        if _debug():
            import traceback

            traceback.print_exc()
        return exc.exit_code
    except KeyboardInterrupt:
        print("mcp-scan: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`mcp-scan ... | head`); silence the flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_RUNTIME
    except Exception as exc:  # fail closed: block the commit, say so in one line
        # The exception's text can quote the data being scanned (a secret in
        # "invalid literal ... 'sk_live_...'"), so it is shown only in debug mode;
        # the type and the place are enough for a bug report.
        detail = f": {exc}" if _debug() else f" at {_where(exc)}"
        print(f"mcp-scan: internal error: {type(exc).__name__}{printable(detail)}", file=sys.stderr)
        print("  hint: this is a bug; rerun with MCP_SCAN_DEBUG=1 and report the traceback", file=sys.stderr)
        if _debug():
            import traceback

            traceback.print_exc()
        return EXIT_RUNTIME


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
