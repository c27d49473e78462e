"""``mcp-scan audit``: secret-file hygiene and MCP configuration checks (issue: audit)."""
from __future__ import annotations

import argparse
from typing import Any

from scanner.commands._common import add_scan_options
from scanner.errors import ScanError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="check .gitignore coverage, MCP configs, token lifetimes, permissions")
    parser.add_argument("repo", nargs="?", default=".", metavar="REPO", help="repository (default: current directory)")
    parser.add_argument("--fix", action="store_true", help="add missing .gitignore entries and tighten permissions")
    add_scan_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise ScanError("audit is not implemented yet")
