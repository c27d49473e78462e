"""Scan a commit range with the history engine: shared by ``ci``, ``pre-push`` and ``sweep``."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from scanner.commands._common import apply_suppressions, build_detector, load_settings, warn
from scanner.models import Finding
from scanner.pushrange import ScanRange


def scan_range(args: argparse.Namespace, repo: str, scan: ScanRange) -> tuple[list[Finding], dict[str, Any], list[str]]:
    """Findings (suppressions applied), stats and read errors for the commits in ``scan``."""
    if scan.empty:
        return [], {"commits": 0, "findings": 0, "range": scan.description}, []
    from scanner.sources.history import DEFAULT_MAX_BLOB_SIZE, scan_history

    config = load_settings(args, Path(repo))
    detector = build_detector(args, config)
    result = scan_history(
        repo,
        detector,
        revs=scan.revs,
        exclude=scan.exclude,
        jobs=getattr(args, "jobs", None),
        max_blob_size=config.max_blob_size or DEFAULT_MAX_BLOB_SIZE,
        use_cache=not getattr(args, "no_cache", False),
        # Cached findings carry a placeholder secret; --show-secrets needs the real one.
        need_secrets=bool(getattr(args, "show_secrets", False)),
    )
    for message in result.warnings:
        warn(args, message)
    findings = apply_suppressions(result.findings, args, config)
    stats: dict[str, Any] = dict(result.stats)
    stats["findings"] = len(findings)
    stats["range"] = scan.description
    return findings, stats, list(result.errors)
