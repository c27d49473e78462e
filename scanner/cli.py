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
import traceback
from collections.abc import Sequence
from typing import Optional

from scanner import __version__
from scanner.errors import EXIT_INTERRUPTED, EXIT_RUNTIME, EXIT_USAGE, ScanError

# Subcommand modules under scanner/commands, in help order.
COMMANDS = ("staged", "scan", "history", "audit", "ci", "prepush", "baseline", "sweep", "rules", "hooks")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-scan",
        description="Keep credentials out of git: staged-diff hook, history audit, MCP config checks.",
    )
    parser.add_argument("--version", action="version", version=f"mcp-scan {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS:
        importlib.import_module(f"scanner.commands.{name}").register(subparsers)
    return parser


def _debug() -> bool:
    return os.environ.get("MCP_SCAN_DEBUG", "") not in ("", "0")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; return its exit code (never raises, never prints a traceback)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, bad usage exits 2
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    try:
        code: int = args.func(args)
        return code
    except ScanError as exc:
        print(f"mcp-scan: error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        if _debug():
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
        print(f"mcp-scan: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("  hint: this is a bug; rerun with MCP_SCAN_DEBUG=1 and report the traceback", file=sys.stderr)
        if _debug():
            traceback.print_exc()
        return EXIT_RUNTIME


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
