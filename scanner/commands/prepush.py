"""``mcp-scan pre-push``: scan exactly the commits being pushed (hook stdin protocol)."""
from __future__ import annotations

import argparse
from typing import Any

from scanner.commands._common import add_scan_options
from scanner.errors import ScanError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("pre-push", help="scan the commits being pushed (git pre-push hook)")
    parser.add_argument("remote", nargs="?", help="remote name (passed by git)")
    parser.add_argument("url", nargs="?", help="remote URL (passed by git)")
    add_scan_options(parser, default_confidence="medium")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise ScanError("pre-push is not implemented yet")
