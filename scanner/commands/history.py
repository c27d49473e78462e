"""``mcp-scan history``: audit every blob reachable from every ref (issue: history)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from scanner.commands._common import (add_group_option, add_scan_options, apply_suppressions, build_detector,
                                      check_jobs, exit_code, grouped, load_settings, needs_real_secrets,
                                      print_incomplete, report, revision_flag, warn, work_tree)
from scanner.config import size_arg


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("history", help="audit the repository's entire history",
                                   description="Scan every unique blob reachable from all refs (or a range) once, "
                                               "and the commit and annotated-tag messages.")
    parser.add_argument("repo", nargs="?", default=".", metavar="REPO", help="repository (default: current directory)")
    parser.add_argument("--since", metavar="REV", help="report only what commits after REV introduced")
    parser.add_argument("--branch", metavar="REF", help="scan only history reachable from REF")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="worker processes (default: CPU count; at most 4 per CPU and one per chunk of blobs)")
    parser.add_argument("--no-cache", action="store_true", help="ignore and do not update the scanned-blob cache")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="keep the history cache in DIR, keyed by the repository's identity, instead of .git/mcp-scan "
                             "(overrides the config's 'cache-dir')")
    parser.add_argument("--max-blob-size", type=size_arg, default=None, metavar="SIZE",
                        help="skip blobs larger than this: bytes, or 512KB, 10MB, 1GiB (default: no limit; "
                             "blobs over 5 MiB are read in slices)")
    # Every blob is read now, whatever its path; the flag is kept so scripts that pass it still run.
    parser.add_argument("--scan-all-paths", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stats", action="store_true",
                        help="print how the rules were matched on stderr: Hyperscan compile modes, rules on the "
                             "keyword path, and the candidate windows each rule opened")
    add_group_option(parser)
    # Debug/verification: run the rules over every version whole (see scanner.history.delta).
    parser.add_argument("--no-line-delta", action="store_true", help=argparse.SUPPRESS)
    add_scan_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from scanner.gitcmd import verify_commit
    from scanner.history.progress import ProgressBar, wants_progress
    from scanner.commands._rangescan import cache_location
    from scanner.history.scan import DEFAULT_MAX_BLOB_SIZE, scan_history

    check_jobs(args)
    # Checked up front and named by their flag: git would read one starting with '-' as an option.
    branch, since = revision_flag(args, "branch"), revision_flag(args, "since")
    if branch is not None:
        verify_commit(args.repo, branch, "--branch", kind="object")
    if since is not None:
        since = verify_commit(args.repo, since, "--since")
    config = load_settings(args, Path(args.repo))
    max_blob_size = args.max_blob_size or config.max_blob_size or DEFAULT_MAX_BLOB_SIZE
    detector = build_detector(args, config)
    bar = ProgressBar() if wants_progress(args.quiet) else None
    try:
        result = scan_history(
            args.repo,
            detector,
            revs=[branch] if branch else None,
            exclude=[since] if since else (),
            jobs=args.jobs,
            max_blob_size=max_blob_size,
            use_cache=not args.no_cache,
            progress=bar,
            head=branch,
            need_secrets=needs_real_secrets(args, config),
            line_delta=not args.no_line_delta,
            cache_dir=cache_location(args, config),
        )
    finally:
        if bar is not None:
            bar.close()
    for message in result.warnings:
        warn(args, message)
    for message in result.errors[:20]:
        warn(args, message)
    if len(result.errors) > 20:
        warn(args, f"... and {len(result.errors) - 20} more errors")
    print_incomplete(result.incomplete)
    if args.stats:
        _print_matching(result.stats.get("matching"))
    findings = apply_suppressions(result.findings, args, config, work_tree(args.repo) if config.allow_paths else None)
    findings = grouped(findings, args, result.sightings)
    result.stats["findings"] = len(findings)
    report(findings, args, result.stats, "history", incomplete=result.incomplete)
    return exit_code(findings, result.errors, result.incomplete)


def _print_matching(matching: Any) -> None:
    """``--stats``: the matching stage's counters, most candidate windows first."""
    import sys

    if not matching:
        print("matching: pure-Python keyword path (no Hyperscan rule database)", file=sys.stderr)
        return
    modes = ", ".join(f"{n} {mode}" for mode, n in sorted(matching.get("modes", {}).items()))
    print(f"matching: rules compiled as {modes}", file=sys.stderr)
    fallback = matching.get("fallback_rules") or []
    if fallback:
        print(f"matching: Hyperscan rejected {len(fallback)} rule(s), matched on their keywords instead: "
              f"{', '.join(fallback)}", file=sys.stderr)
    unshadowed = matching.get("unshadowed_rules") or []
    if unshadowed:
        print(f"matching: {len(unshadowed)} rule(s) not rewritten for shadows, judged by Python around every "
              f"non-ASCII character: {', '.join(unshadowed)}", file=sys.stderr)
    by_keywords = matching.get("shadow_keyword_rules") or []
    if by_keywords:
        # not rewritten for shadows (Hyperscan rejects the rewrite, or loses its matches): found
        # in non-ASCII texts at their keywords, as on the keyword path
        print(f"matching: {len(by_keywords)} rule(s) searched at their keywords in non-ASCII texts: "
              f"{', '.join(by_keywords)}", file=sys.stderr)
    for key in ("full_scans", "delta_scans", "changes_in_pieces", "long_reach", "shadowed", "windows_judged",
                "windows_reused", "keyword_path", "searches_without_path_rules"):
        if key in matching:
            print(f"matching: {key.replace('_', ' ')}: {matching[key]}", file=sys.stderr)
    for key, value in sorted(matching.items()):
        if key.startswith("keyword_path:"):
            print(f"matching: keyword path because {key.split(':', 1)[1]}: {value}", file=sys.stderr)
        elif key.startswith("whole_text:"):
            print(f"matching: whole texts searched for {key.split(':', 1)[1]} alone "
                  f"(the other rules in their windows unless it matched): {value}", file=sys.stderr)
        elif key.startswith("whole_span:"):
            print(f"matching: versions scanned whole because the change held the keyword of "
                  f"{key.split(':', 1)[1]}: {value}", file=sys.stderr)
    for rule_id, count in list(matching.get("candidates", {}).items())[:25]:
        print(f"matching: candidates {count:>9}  {rule_id}", file=sys.stderr)
