"""``mcp-scan staged``: the pre-commit hook.

Scans the added lines of the index, and blocks committing a secret file
(``.env``, keys) or an MCP config with a literal credential (the audit's
checks on the whole staged file).
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from scanner.commands._common import (add_scan_options, apply_suppressions, work_tree, build_detector, exit_code, load_settings,
                                      print_incomplete, report)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("staged", help="scan the staged changes (the pre-commit hook)",
                                   description="Scan lines added in the index against HEAD; exit 1 blocks the commit.")
    parser.add_argument("--repo", default=".", help="repository to scan (default: current directory)")
    add_scan_options(parser, default_confidence="medium")
    parser.set_defaults(func=run)


# Staged paths that may be a secret file (.env, keys, *-secrets/) or an MCP
# config; only these pull in the audit checks and have their whole staged
# text read, so an ordinary commit pays nothing for them.
_AUDIT_CANDIDATE = re.compile(r"-secrets/|(?:^|/)\.env[^/]*$|\.(?:key|pem|p12|json|jsonc)$", re.IGNORECASE)


def _audit_staged_files(source: Any, detector: Any) -> list[Any]:
    """Secret files being committed, and staged MCP configs with literal credentials or plain http."""
    candidates = {d.path for d in source.diffs if _AUDIT_CANDIDATE.search(d.path)}
    if not candidates:
        return []
    from scanner.audit.staged import check_staged_file

    findings = []
    for path, text in sorted(source.whole_files(candidates).items()):
        findings.extend(check_staged_file(path, text, detector=detector))
    return findings


def run(args: argparse.Namespace) -> int:
    from scanner.sources.staged import StagedSource

    config = load_settings(args, Path(args.repo))
    detector = build_detector(args, config)
    source = StagedSource(args.repo)
    found = list(detector.scan_all(source.fragments()))
    found.extend(_audit_staged_files(source, detector))
    # where the repository's paths lie: one git call, made only when an allow-list needs it
    findings = apply_suppressions(found, args, config, work_tree(args.repo) if config.allow_paths else None)
    # Fail closed: a rule that timed out did not look at all of what is being
    # committed, so the commit is blocked (exit 3) rather than waved through.
    incomplete = detector.stats.incomplete
    print_incomplete(incomplete, blocked="the commit is blocked to be safe (or commit with --no-verify after "
                                         "checking the file yourself)")
    stats: dict[str, object] = {"fragments": detector.stats.fragments, "bytes": detector.stats.bytes,
                                "findings": len(findings)}
    if findings:
        # the advice names the unstage command that works in this state
        stats["initial_commit"] = source.before_first_commit()
    if findings or args.format != "text" or args.output:
        report(findings, args, stats, "staged", incomplete=incomplete)
    return exit_code(findings, (), incomplete)
