"""Scan a commit range with the history engine: shared by ``ci``, ``pre-push`` and ``sweep``."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.commands._common import (apply_suppressions, build_detector, grouped, load_settings, needs_real_secrets,
                                      warn, work_tree)
from scanner.models import Finding, Incomplete
from scanner.pushrange import ScanRange


@dataclass
class RangeResult:
    """What a range scan gives a command: findings (suppressions applied), stats, read errors,
    and what could not be fully scanned."""

    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    incomplete: list[Incomplete] = field(default_factory=list)


def cache_location(args: argparse.Namespace, config: Any) -> "Path | None":
    """The portable cache directory: ``--cache-dir``, else the config's ``cache-dir``, else None."""
    flag = getattr(args, "cache_dir", None)
    if flag is False:  # sweep: the run decided, and there is none
        return None
    if flag:
        return Path(flag).absolute()
    directory = getattr(config, "cache_dir", None)
    return Path(directory).absolute() if directory else None


def scan_range(args: argparse.Namespace, repo: str, scan: ScanRange) -> RangeResult:
    """Scan the commits (and pushed non-commit objects) in ``scan`` with the history engine."""
    if scan.empty:
        return RangeResult(stats={"commits": 0, "findings": 0, "range": scan.description})
    from scanner.history.scan import DEFAULT_MAX_BLOB_SIZE, scan_history

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
        need_secrets=needs_real_secrets(args, config),
        objects=scan.objects,
        cache_dir=cache_location(args, config),
    )
    for message in result.warnings:
        warn(args, message)
    findings = apply_suppressions(result.findings, args, config, work_tree(repo) if config.allow_paths else None)
    findings = grouped(findings, args, result.sightings)
    stats: dict[str, Any] = dict(result.stats)
    stats["findings"] = len(findings)
    stats["range"] = scan.description
    return RangeResult(findings, stats, list(result.errors), list(result.incomplete))
