"""``mcp-scan sweep`` and ``mcp-scan merge``: many repositories, sharded (issue: CI sweep)."""
from __future__ import annotations

import argparse
from typing import Any

from scanner.commands._common import add_scan_options
from scanner.errors import ScanError


def register(subparsers: Any) -> None:
    sweep = subparsers.add_parser("sweep", help="scan every repository under DIRs or listed in files")
    sweep.add_argument("targets", nargs="+", metavar="DIR|LIST-FILE")
    sweep.add_argument("--shard", metavar="i/n", help="scan only the i-th of n disjoint slices")
    sweep.add_argument("--jobs", type=int, default=None, metavar="N")
    add_scan_options(sweep)
    sweep.set_defaults(func=run_sweep)
    merge = subparsers.add_parser("merge", help="combine shards' JSON reports into one report")
    merge.add_argument("reports", nargs="+", metavar="REPORT")
    merge.add_argument("--format", choices=("json", "sarif", "html", "text"), default="json")
    merge.add_argument("-o", "--output", metavar="FILE")
    merge.set_defaults(func=run_merge)


def run_sweep(args: argparse.Namespace) -> int:
    raise ScanError("sweep is not implemented yet")


def run_merge(args: argparse.Namespace) -> int:
    raise ScanError("merge is not implemented yet")
