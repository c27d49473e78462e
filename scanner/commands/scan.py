"""``mcp-scan scan PATH...``: files and directories (or ``-`` for stdin), no git needed."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scanner.commands._common import (add_scan_options, apply_suppressions, build_detector, exit_code, load_settings,
                                      print_incomplete, report, warn)
from scanner.config import size_arg
from scanner.display import printable


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("scan", help="scan files and directories (no git needed)",
                                   description="Scan files and directory trees; '-' reads standard input.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="file, directory, or - for stdin")
    parser.add_argument("--stdin-name", default="-", metavar="NAME", help="path to report for stdin input")
    parser.add_argument("--max-file-size", type=size_arg, default=None, metavar="SIZE",
                        help="skip files larger than this: bytes, or 512KB, 10MB, 1GiB (default: 25 MiB)")
    add_scan_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from scanner.sources.files import DEFAULT_MAX_FILE_SIZE, FilesSource

    first = next((p for p in args.paths if p != "-"), ".")
    config = load_settings(args, Path(first))
    detector = build_detector(args, config)
    max_size = args.max_file_size or config.max_blob_size or DEFAULT_MAX_FILE_SIZE
    source = FilesSource(args.paths, max_size=max_size, stdin=sys.stdin.buffer, stdin_name=args.stdin_name)
    findings = apply_suppressions(detector.scan_all(source.fragments()), args, config)
    for skipped in source.skipped:
        warn(args, f"skipped {skipped}")
    for error in source.errors:
        print(f"mcp-scan: error: cannot read {printable(error)}", file=sys.stderr)
    incomplete = detector.stats.incomplete
    print_incomplete(incomplete)
    stats = {"files": source.files, "bytes": detector.stats.bytes, "findings": len(findings),
             "skipped": len(source.skipped), "errors": len(source.errors)}
    report(findings, args, stats, "scan", incomplete=incomplete)
    return exit_code(findings, source.errors, incomplete)
