"""``mcp-scan ci``: scan what a CI event adds (issue: CI sweep, baselines and configuration)."""
from __future__ import annotations

import argparse
from typing import Any

from scanner.commands._common import add_scan_options
from scanner.errors import ScanError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("ci", help="scan the commits a CI event adds (PR range, push range or full history)")
    parser.add_argument("repo", nargs="?", default=".", metavar="REPO")
    add_scan_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise ScanError("ci is not implemented yet")
