"""``mcp-scan baseline create|check|update`` (issue: CI sweep, baselines and configuration)."""
from __future__ import annotations

import argparse
from typing import Any

from scanner.errors import ScanError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("baseline", help="create, check or update a baseline of accepted findings")
    sub = parser.add_subparsers(dest="baseline_command", metavar="{create,check,update}")
    sub.required = True
    for name in ("create", "check", "update"):
        cmd = sub.add_parser(name)
        cmd.add_argument("repo", nargs="?", default=".", metavar="REPO")
        cmd.add_argument("--output", "-o", default=None, metavar="FILE", help="baseline file (default: .mcp-scan-baseline.json)")
        cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise ScanError("baseline is not implemented yet")
