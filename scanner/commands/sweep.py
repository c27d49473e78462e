"""``mcp-scan sweep`` and ``mcp-scan merge``: many repositories, sharded (issue: CI sweep).

``sweep`` scans the full history of every repository found, in parallel
across repositories (one process each, so one slow repository does not hold
up the rest), and writes one report whose findings carry ``repo``. A
repository that cannot be scanned is reported and makes the exit code 3,
but the others are still scanned. Clone URLs in a list file are mirrored
bare and fetched (``scanner.mirror``); ``--cache-dir`` keeps every
repository's history cache in one directory CI can save and restore
(``scanner.history.store``), pruned after the run. ``merge`` combines
shards' JSON reports.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scanner.commands._common import add_group_option, add_scan_options, check_jobs, exit_code, load_settings, print_incomplete, report
from scanner.config import size_arg
from scanner.history.store import age_arg
from scanner.display import printable
from scanner.errors import ScanError, config_error
from scanner.models import Finding, Incomplete

if TYPE_CHECKING:
    from scanner.commands._rangescan import RangeResult
    from scanner.history.store import Store
    from scanner.sweep import RepoTarget

_SUMMED = ("commits", "blobs", "scanned", "cached", "bytes", "skipped_size", "binary", "fetched_bytes", "cloned")


def register(subparsers: Any) -> None:
    sweep = subparsers.add_parser("sweep", help="scan every repository under DIRs or listed in files",
                                  description="Scan the full history of every git repository under each DIR "
                                              "(work trees and bare) or listed in each LIST-FILE (one path or "
                                              "clone URL per line, paths relative to the file; # comments).")
    sweep.add_argument("targets", nargs="*", metavar="DIR|LIST-FILE")
    sweep.add_argument("--repos", action="append", default=[], metavar="FILE",
                       help="a list of repositories: one path or clone URL per line (repeatable; "
                            "the same as giving FILE as an argument, but never taken for a directory)")
    sweep.add_argument("--shard", metavar="i/n", help="scan only the i-th of n disjoint slices (1/n .. n/n)")
    sweep.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="repositories scanned at once (default: CPU count; at most 4 per CPU)")
    sweep.add_argument("--dry-run", "--list", dest="list", action="store_true",
                       help="print the repositories (of this shard), one per line, and exit without cloning or scanning")
    cache = sweep.add_argument_group("cache and mirrors")
    cache.add_argument("--cache-dir", metavar="DIR",
                       help="keep every repository's history cache in DIR (what CI saves and restores; "
                            "overrides the config's 'cache-dir')")
    cache.add_argument("--cache-max-age", type=age_arg, default=None, metavar="AGE",
                       help="after the sweep, delete cache files unused for AGE (default 30d)")
    cache.add_argument("--cache-max-size", type=size_arg, default=None, metavar="SIZE",
                       help="then delete the least recently used until DIR fits in SIZE (default 2GiB)")
    cache.add_argument("--mirror-dir", metavar="DIR",
                       help="where clone URLs are mirrored bare and fetched (default: ~/.cache/mcp-scan/mirrors)")
    add_scan_options(sweep)
    add_group_option(sweep)
    sweep.set_defaults(func=run_sweep)
    merge = subparsers.add_parser("merge", help="combine shards' JSON reports into one report",
                                  description="Merge JSON reports (e.g. sweep shards): identical findings once, "
                                              "stats summed. Redacted secrets stay redacted.")
    merge.add_argument("reports", nargs="+", metavar="REPORT")
    merge.add_argument("--format", choices=("json", "sarif", "html", "text"), default="json")
    merge.add_argument("-o", "--output", metavar="FILE")
    merge.add_argument("--show-secrets", action="store_true",
                       help="keep full secrets present in the inputs (default: redact them)")
    merge.set_defaults(func=run_merge)


def _scan_one(args: argparse.Namespace, target: "RepoTarget") -> "RangeResult":
    """Mirror (for a URL) and scan one repository's full history (runs in a worker process)."""
    from scanner.commands._rangescan import RangeResult, scan_range
    from scanner.pushrange import ScanRange

    name, path = target.name, target.path
    fetched: dict[str, int] = {}
    fetch_errors: list[str] = []
    if target.url:
        from scanner.mirror import sync_mirror

        synced = sync_mirror(target.url, Path(path))
        fetched = {"fetched_bytes": synced.fetched, "cloned": int(synced.cloned)}
        if synced.error:
            fetch_errors.append(synced.error)
            if not Path(path).exists():
                return RangeResult(stats=fetched, errors=fetch_errors)
            # A failed fetch still scans what the mirror has; the error makes the exit code 3.
    try:
        result = scan_range(args, path, ScanRange(revs=None, description="full history"))
    except ScanError as exc:
        return RangeResult(stats=fetched, errors=[*fetch_errors, f"{exc.message} ({exc.hint})" if exc.hint else exc.message])
    except Exception as exc:  # one broken repository must not stop the sweep
        return RangeResult(stats=fetched, errors=[*fetch_errors, f"internal error: {type(exc).__name__}: {exc}"])
    result.stats.update(fetched)
    result.errors[:0] = fetch_errors
    result.findings = [f.replace(extra={**f.extra, "repo": name}) for f in result.findings]
    result.incomplete = [i.replace(repo=name) for i in result.incomplete]
    return result


def _progress(args: argparse.Namespace, done: int, total: int, name: str, found: int, errors: list[str]) -> None:
    if args.quiet:
        return
    state = f"error: {errors[0]}" if errors else f"{found} finding{'s' if found != 1 else ''}"
    print(f"mcp-scan: [{done}/{total}] {printable(name)}: {printable(state)}", file=sys.stderr)


def run_sweep(args: argparse.Namespace) -> int:
    from scanner.commands._rangescan import RangeResult
    from scanner.history.pool import worker_limit
    from scanner.sweep import discover, in_shard, parse_shard, with_mirrors

    check_jobs(args)
    shard = parse_shard(args.shard) if args.shard else None
    for listed in args.repos:
        if not os.path.isfile(listed):
            raise config_error(f"--repos {listed}: no such repository list file")
    if not args.targets and not args.repos:
        raise config_error("sweep needs a directory or a repository list", "e.g. mcp-scan sweep --repos repos.txt")
    targets = discover([*args.targets, *args.repos])
    if shard:
        targets = in_shard(targets, *shard)
    if args.list:
        for target in targets:
            print(printable(target.name))
        return 0
    store = _store(args)
    # The run's cache directory, not one a scanned repository's own config names.
    args.cache_dir = str(store.root) if store else False
    if any(t.url for t in targets):
        from scanner.paths import cache_dir

        targets = with_mirrors(targets, Path(args.mirror_dir).absolute() if args.mirror_dir else cache_dir() / "mirrors")
    # Capped like a history scan's workers: --jobs 100000 must not fork 100000 processes.
    jobs = worker_limit(args.jobs)
    findings: list[Finding] = []
    incomplete: list[Incomplete] = []
    repo_errors: list[dict[str, str]] = []
    stats: dict[str, Any] = {key: 0 for key in _SUMMED}
    stats.update({"repositories": len(targets), "failed": 0})
    if shard:
        stats["shard"] = f"{shard[0]}/{shard[1]}"

    def collect(name: str, result: RangeResult, done: int) -> None:
        found, repo_stats, errors = result.findings, result.stats, result.errors
        findings.extend(found)
        incomplete.extend(result.incomplete)
        for key in _SUMMED:
            value = repo_stats.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                stats[key] += value
        if errors or result.incomplete:
            stats["failed"] += 1
            repo_errors.extend({"repo": name, "error": e} for e in errors)
        _progress(args, done, len(targets), name, len(found),
                  errors or [i.describe() for i in result.incomplete])

    scannable = []
    for target in targets:
        if target.problem:
            collect(target.name, RangeResult(errors=[f"{target.path}: {target.problem}"]), 0)
        else:
            scannable.append(target)
    # Parallelism goes across repositories first; a history scan gets more
    # than one process only when there are fewer repositories than --jobs.
    per_repo = max(1, jobs // max(1, len(scannable)))
    worker_args = argparse.Namespace(**{**vars(args), "jobs": per_repo, "func": None})
    done = len(targets) - len(scannable)
    if jobs == 1 or len(scannable) <= 1:
        for target in scannable:
            done += 1
            collect(target.name, _scan_one(worker_args, target), done)
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(scannable))) as pool:
            futures = {pool.submit(_scan_one, worker_args, t): t for t in scannable}
            for future in as_completed(futures):
                done += 1
                try:
                    result = future.result()
                except Exception as exc:  # a worker that died (killed, out of memory)
                    result = RangeResult(errors=[f"worker process failed: {type(exc).__name__}: {exc}"])
                collect(futures[future].name, result, done)
    stats["findings"] = len(findings)
    stats["errors"] = repo_errors
    if store is not None:
        stats["cache_pruned"] = _prune(args, store)
    report(findings, args, stats, "sweep", incomplete=incomplete)
    for error in repo_errors:
        print(f"mcp-scan: error: {printable(str(error['repo']))}: {printable(str(error['error']))}", file=sys.stderr)
    print_incomplete(incomplete)
    return exit_code(findings, [e["error"] for e in repo_errors], incomplete)


def _store(args: argparse.Namespace) -> "Store | None":
    """The portable cache of this run: flags first, then the config found from here (or ``--config``)."""
    from scanner.history.store import DEFAULT_MAX_AGE, DEFAULT_MAX_SIZE, Store

    config = load_settings(argparse.Namespace(**{**vars(args), "quiet": True}), Path.cwd())
    root = Path(args.cache_dir) if args.cache_dir else config.cache_dir
    if root is None:
        return None
    return Store(root.absolute(), max_age=args.cache_max_age or config.cache_max_age or DEFAULT_MAX_AGE,
                 max_size=args.cache_max_size or config.cache_max_size or DEFAULT_MAX_SIZE)


def _prune(args: argparse.Namespace, store: "Store") -> int:
    from scanner.history.store import prune

    pruned = prune(store)
    if pruned.removed and not args.quiet:
        print(f"mcp-scan: cache {printable(str(store.root))}: removed {pruned.removed} stale file(s) ({pruned.freed} bytes); "
                   f"{pruned.kept} file(s), {pruned.size} bytes kept", file=sys.stderr)
    return pruned.removed


def run_merge(args: argparse.Namespace) -> int:
    from scanner.paths import atomic_write
    from scanner.report import ReportContext, get_writer
    from scanner.sweep import merge_reports

    findings, stats, incomplete = merge_reports(args.reports, show_secrets=args.show_secrets)
    # The secrets are already as redacted as they should be (see merge_reports):
    # the writer passes them through rather than redacting a redaction again.
    context = ReportContext(show_secrets=True, command="merge", stats=stats,
                            incomplete=[i.to_dict() for i in incomplete])
    writer = get_writer(args.format)
    if args.output:
        buffer = io.StringIO()
        writer(findings, buffer, context)
        atomic_write(Path(args.output), buffer.getvalue().encode("utf-8"),
                     new_mode=0o600 if args.show_secrets else None)  # as report() does for full secrets
    else:
        writer(findings, sys.stdout, context)
    errors = stats.get("errors")
    print_incomplete(incomplete)
    return exit_code(findings, errors if isinstance(errors, list) else [], incomplete)

