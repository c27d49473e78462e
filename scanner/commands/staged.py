"""``mcp-scan staged``: the pre-commit hook. Scans the added lines of the index."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scanner.commands._common import add_scan_options, apply_suppressions, build_detector, exit_code, load_settings, report


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("staged", help="scan the staged changes (the pre-commit hook)",
                                   description="Scan lines added in the index against HEAD; exit 1 blocks the commit.")
    parser.add_argument("--repo", default=".", help="repository to scan (default: current directory)")
    add_scan_options(parser, default_confidence="medium")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from scanner.sources.staged import StagedSource

    config = load_settings(args, Path(args.repo))
    detector = build_detector(args, config)
    source = StagedSource(args.repo)
    findings = apply_suppressions(detector.scan_all(source.fragments()), args, config)
    # Fail closed: a rule that timed out did not look at all of what is being
    # committed, so the commit is blocked (exit 3) rather than waved through.
    for timeout in detector.stats.timeouts:
        print(f"mcp-scan: error: rule timed out, staged content not fully scanned: {timeout}", file=sys.stderr)
    if detector.stats.timeouts:
        print("  hint: the commit is blocked to be safe; split the line, add the file to allow-paths "
              "if it holds no secrets, or commit with --no-verify after checking it", file=sys.stderr)
    stats = {"fragments": detector.stats.fragments, "bytes": detector.stats.bytes, "findings": len(findings)}
    if findings or args.format != "text" or args.output:
        report(findings, args, stats, "staged")
    return exit_code(findings, detector.stats.timeouts)
