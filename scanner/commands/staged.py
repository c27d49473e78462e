"""``mcp-scan staged``: the pre-commit hook. Scans the added lines of the index."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from scanner.commands._common import add_scan_options, apply_suppressions, build_detector, exit_code, load_settings, report, warn


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
    for timeout in detector.stats.timeouts:
        warn(args, f"rule timed out and was skipped: {timeout}")
    stats = {"fragments": detector.stats.fragments, "bytes": detector.stats.bytes, "findings": len(findings)}
    if findings or args.format != "text" or args.output:
        report(findings, args, stats, "staged")
    return exit_code(findings, [])
