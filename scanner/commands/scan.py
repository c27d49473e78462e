"""``mcp-scan scan PATH...``: files and directories (or ``-`` for stdin), no git needed."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scanner.commands._common import (add_scan_options, apply_suppressions, build_detector, check_jobs, exit_code,
                                      load_settings, print_incomplete, report, warn)
from scanner.config import size_arg
from scanner.display import printable


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("scan", help="scan files and directories (no git needed)",
                                   description="Scan files and directory trees; '-' reads standard input.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="file, directory, or - for stdin")
    parser.add_argument("--stdin-name", default="-", metavar="NAME", help="path to report for stdin input")
    parser.add_argument("--max-file-size", type=size_arg, default=None, metavar="SIZE",
                        help="skip files larger than this: bytes, or 512KB, 10MB, 1GiB (default: 25 MiB)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="worker processes (default: CPU count; at most 4 per CPU; a few files are scanned "
                             "in one process)")
    add_scan_options(parser)
    parser.set_defaults(func=run)


def prefilter_engine(args: argparse.Namespace, match: bool) -> str:
    """The detector's keyword prefilter: Hyperscan for texts of every size when the rule database is used.

    The detector then judges windows of a few KB around the database's matches,
    where its default (Python under 4 KB, to spare small scans Hyperscan's
    start-up) tested each keyword with ``in``: 1.2 ms a window, 1.6 s of the
    sqlalchemy work tree. The rule database has loaded Hyperscan anyway.
    """
    from scanner.prefilter import hyperscan_available

    engine = str(getattr(args, "engine", "auto"))
    return "hyperscan" if match and engine == "auto" and hyperscan_available() else engine


def run(args: argparse.Namespace) -> int:
    from scanner.filescan import MATCH_MIN_BYTES, FileScanner, scan_source
    from scanner.sources.files import DEFAULT_MAX_FILE_SIZE, STDIN, FilesSource

    check_jobs(args)
    first = next((p for p in args.paths if p != STDIN), ".")
    config = load_settings(args, Path(first))
    max_size = args.max_file_size or config.max_blob_size or DEFAULT_MAX_FILE_SIZE
    source = FilesSource(args.paths, max_size=max_size, stdin=sys.stdin.buffer, stdin_name=args.stdin_name)
    # Listed whole first (a stat per file): how many bytes decides whether the rule database is
    # loaded and whether workers start.
    entries = list(source.entries())
    match = sum(max(e.size, 0) for e in entries) >= MATCH_MIN_BYTES
    detector = build_detector(args, config, engine=prefilter_engine(args, match))
    scanner = FileScanner(detector, max_size, match=match)
    result = scan_source(scanner, source, entries, args.jobs)
    findings = apply_suppressions(result.findings, args, config)
    for skipped in source.skipped:
        warn(args, f"skipped {skipped}")
    errors = source.errors + result.errors
    for error in errors:
        print(f"mcp-scan: error: cannot read {printable(error)}", file=sys.stderr)
    incomplete = result.incomplete
    print_incomplete(incomplete)
    stats = {"files": result.files, "bytes": result.bytes, "findings": len(findings),
             "skipped": len(source.skipped), "errors": len(errors)}
    report(findings, args, stats, "scan", incomplete=incomplete)
    return exit_code(findings, errors, incomplete)
