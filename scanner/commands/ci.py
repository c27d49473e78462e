"""``mcp-scan ci``: scan what a CI event adds (issue: CI sweep, baselines and configuration).

The provider and event come from the environment (``scanner.ci``). Besides
the ``--format`` report, a CI run writes SARIF for code scanning (default
``mcp-scan.sarif``), inline annotations where the provider has them
(GitHub Actions, Azure Pipelines) and a markdown job summary on GitHub.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path
from typing import Any

from scanner.commands._common import add_group_option, add_scan_options, check_jobs, exit_code, print_incomplete, report, revision_flag, warn
from scanner.display import printable
from scanner.errors import EXIT_CLEAN, ScanError

DEFAULT_SARIF = "mcp-scan.sarif"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("ci", help="scan the commits a CI event adds (PR range, push range or full history)",
                                   description="Detect the CI provider and scan the pull request's or push's "
                                               "commits (full history when nothing narrower is known).")
    parser.add_argument("repo", nargs="?", default=".", metavar="REPO")
    ci = parser.add_argument_group("ci")
    ci.add_argument("--sarif", metavar="FILE", help=f"also write SARIF here (default in CI: {DEFAULT_SARIF})")
    ci.add_argument("--no-sarif", action="store_true", help="do not write the SARIF file")
    ci.add_argument("--no-annotations", action="store_true", help="do not print inline annotations")
    ci.add_argument("--no-summary", action="store_true", help="do not write the job summary")
    ci.add_argument("--base", metavar="REV", help="scan commits after REV (overrides the CI event)")
    ci.add_argument("--head", metavar="REV", help="scan commits up to REV (default: the event's commit, else HEAD)")
    ci.add_argument("--dry-run", action="store_true", help="print the provider and range, scan nothing")
    ci.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes (default: CPU count; at most 4 per CPU)")
    ci.add_argument("--cache-dir", metavar="DIR",
                    help="keep the full-history scan cache in DIR, keyed by the repository's identity, for CI to save "
                         "and restore (overrides the config's 'cache-dir')")
    add_scan_options(parser)
    add_group_option(parser)
    parser.set_defaults(func=run)


def _write_sarif(findings: Any, path: str, stats: dict[str, Any], incomplete: list[Any]) -> None:
    from scanner.paths import atomic_write
    from scanner.report import ReportContext
    from scanner.report.sarif import write

    buffer = io.StringIO()
    # Code-scanning uploads are shared widely: never with full secrets.
    write(findings, buffer, ReportContext(show_secrets=False, command="ci", stats=stats,
                                          incomplete=[i.to_dict() for i in incomplete]))
    atomic_write(Path(path), buffer.getvalue().encode("utf-8"))


def _append_summary(path: str, text: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ScanError(f"cannot write the job summary to {path}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    from scanner.ci import detect, plan
    from scanner.commands._rangescan import scan_range
    from scanner.report.github import annotation_lines, job_summary

    check_jobs(args)
    ctx = detect(os.environ)
    scan, warnings = plan(args.repo, ctx, base=revision_flag(args, "base"), head=revision_flag(args, "head"))
    for message in warnings:
        warn(args, message)
    if args.dry_run:
        revs = "all refs" if scan.revs is None else " ".join(scan.revs) or "nothing"
        excluded = f" excluding {' '.join(scan.exclude)}" if scan.exclude else ""
        print(f"provider: {ctx.provider}\nevent: {ctx.event or '-'}\nrange: {scan.description}\nrevs: {revs}{excluded}")
        return EXIT_CLEAN
    if not args.quiet:
        print(f"mcp-scan: {ctx.provider}: scanning {printable(scan.description)}", file=sys.stderr)
    result = scan_range(args, args.repo, scan)
    findings, stats, errors, incomplete = result.findings, result.stats, result.errors, result.incomplete
    stats["provider"] = ctx.provider
    report(findings, args, stats, "ci", incomplete=incomplete)
    sarif = None if args.no_sarif else (args.sarif or (DEFAULT_SARIF if ctx.in_ci else None))
    if sarif:
        _write_sarif(findings, sarif, stats, incomplete)
    if not args.no_annotations:
        # Keep a machine-readable report on stdout parseable: annotations go to stderr then.
        stream = sys.stdout if args.format == "text" or args.output else sys.stderr
        for line in annotation_lines(findings, ctx.annotations):
            print(line, file=stream)
    if ctx.summary_path and not args.no_summary:
        _append_summary(ctx.summary_path, job_summary(findings, "mcp-scan", scan.description))
    for error in errors:
        print(f"mcp-scan: error: {printable(error)}", file=sys.stderr)
    print_incomplete(incomplete)
    return exit_code(findings, errors, incomplete)
