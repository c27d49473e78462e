"""``mcp-scan history``: audit every blob reachable from every ref (issue: history)."""
from __future__ import annotations

import argparse
from typing import Any

from scanner.commands._common import add_scan_options
from scanner.errors import ScanError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("history", help="audit the repository's entire history",
                                   description="Scan every unique blob reachable from all refs (or a range) once.")
    parser.add_argument("repo", nargs="?", default=".", metavar="REPO", help="repository (default: current directory)")
    parser.add_argument("--since", metavar="REV", help="report only what commits after REV introduced")
    parser.add_argument("--branch", metavar="REF", help="scan only history reachable from REF")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes (default: CPU count)")
    parser.add_argument("--no-cache", action="store_true", help="ignore and do not update the scanned-blob cache")
    parser.add_argument("--max-blob-size", type=int, default=None, metavar="BYTES", help="skip blobs larger than this")
    add_scan_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raise ScanError("history is not implemented yet")
