"""``mcp-scan baseline create|check|update``: accept today's findings, fail on new ones.

``create`` scans the repository (its history when the history engine is
available, else the work tree; ``--source`` chooses) and writes the baseline;
``check`` lists entries no longer found (exit 1 when there are any) so the
file can be pruned; ``update`` prunes those and adds new findings. Check
and update rescan with the source recorded in the file, so an update never
prunes history-only entries with a work-tree scan. See ``scanner.baseline``
for the file format.

History is the default source because a baseline should accept what is
already exposed in commits; a secret in an uncommitted file has not leaked
yet and should still block its commit (``--source both`` accepts it too).
In a git repository the baseline also records what ``mcp-scan audit`` finds
(its history check only with a history source), so existing audit findings
can be accepted like secrets; ``audit`` applies the baseline as every scan does.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scanner.baseline import BASELINE_NAME, Baseline, describe, load_baseline, write_baseline
from scanner.commands._common import (add_detection_options, apply_suppressions, build_detector, check_jobs, load_settings,
                                      max_blob_size, needs_real_secrets, warn)
from scanner.config import size_arg
from scanner.display import printable
from scanner.errors import EXIT_CLEAN, EXIT_FINDINGS, ScanError
from scanner.models import Finding, Fragment, Incomplete

SOURCES = ("history", "worktree", "both")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("baseline", help="create, check or update a baseline of accepted findings",
                                   description="Accept the findings a repository has today; later scans with "
                                               "--baseline FILE report only new ones.")
    sub = parser.add_subparsers(dest="baseline_command", metavar="{create,check,update}")
    sub.required = True
    helps = {
        "create": "scan and write a baseline of every current finding",
        "check": "list baseline entries that are no longer found (exit 1 if any)",
        "update": "prune entries no longer found and add new findings",
    }
    for name in ("create", "check", "update"):
        cmd = sub.add_parser(name, help=helps[name], description=helps[name])
        cmd.add_argument("repo", nargs="?", default=".", metavar="REPO")
        names = ("--output", "-o") if name == "create" else ("--output", "-o", "--baseline")
        cmd.add_argument(*names, dest="output", default=None, metavar="FILE",
                         help=f"baseline file (default: the config's 'baseline', else REPO/{BASELINE_NAME})")
        cmd.add_argument("--source", choices=SOURCES, default=None,
                         help="what to scan: git history, the work tree (tracked and untracked, not ignored), "
                              "or both (default: the file's recorded source for check/update, else history)")
        cmd.add_argument("--max-blob-size", type=size_arg, default=None, metavar="SIZE",
                         help="skip files/blobs larger than this: bytes, or 512KB, 10MB, 1GiB "
                              "(default: history no limit, work tree 25 MiB)")
        cmd.add_argument("--jobs", type=int, default=None, metavar="N", help="history worker processes")
        cmd.add_argument("-q", "--quiet", action="store_true", help="no warnings on stderr")
        add_detection_options(cmd)
        cmd.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_jobs(args)
    repo = _repo_root(Path(args.repo))
    config = load_settings(args, repo)
    path = Path(args.output) if args.output else (config.baseline or repo / BASELINE_NAME)
    config.baseline = None  # a baseline never filters the scan that builds it
    existing = load_baseline(path) if args.baseline_command != "create" else None
    source = args.source or (existing.source if existing and existing.source in SOURCES else None) or _default_source(repo)
    findings = _scan(args, config, repo, source)
    fresh = Baseline.from_findings(findings, source=source)
    if existing is None:
        write_baseline(path, fresh)
        _say(args, f"wrote {len(fresh.entries)} entr{'y' if len(fresh.entries) == 1 else 'ies'} to {path} (source: {source})")
        return EXIT_CLEAN
    existing.root = None  # the rescan reports repository-relative paths, as the entries are stored
    stale = existing.stale(findings)
    new = sorted(fresh.entries - existing.entries)
    if args.baseline_command == "check":
        for line in describe(stale):
            print(f"stale: {printable(line)}")
        if new:
            _say(args, f"{len(new)} finding(s) are not in the baseline (fix them, or `mcp-scan baseline update`)")
        _say(args, f"{len(stale)} stale entr{'y' if len(stale) == 1 else 'ies'} in {path}")
        return EXIT_FINDINGS if stale else EXIT_CLEAN
    write_baseline(path, fresh)
    _say(args, f"updated {path}: {len(new)} added, {len(stale)} pruned, {len(fresh.entries) - len(new)} kept")
    return EXIT_CLEAN


def _say(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(f"mcp-scan: {printable(message)}", file=sys.stderr)


def _repo_root(path: Path) -> Path:
    """The work tree's top level for a git repository (so paths are repository-relative), else ``path``."""
    from scanner.gitcmd import run_git

    if not path.is_dir():
        raise ScanError(f"{path} is not a directory", "pass the path of a repository", exit_code=2)
    out = run_git(["rev-parse", "--show-toplevel"], cwd=str(path), check=False).strip()
    return Path(os.fsdecode(out)) if out else path.resolve()


def _is_git(repo: Path) -> bool:
    return (repo / ".git").exists()


def _history_available() -> bool:
    try:
        from scanner.history import scan as history
    except ImportError:
        return False
    return hasattr(history, "scan_history")


def _default_source(repo: Path) -> str:
    return "history" if _is_git(repo) and _history_available() else "worktree"


def _scan(args: argparse.Namespace, config: Any, repo: Path, source: str) -> list[Finding]:
    """Every current finding of ``source``, after allow-paths and imported allowlists."""
    detector = build_detector(args, config)
    found: list[Finding] = []
    if source in ("history", "both"):
        if not _is_git(repo) or not _history_available():
            raise ScanError(f"cannot scan history of {repo}: " + ("not a git repository" if not _is_git(repo)
                            else "the history engine is not available"), "use --source worktree", exit_code=2)
        from scanner.history.scan import DEFAULT_MAX_BLOB_SIZE, scan_history

        result = scan_history(str(repo), detector, jobs=args.jobs,
                              max_blob_size=max_blob_size(args, config, DEFAULT_MAX_BLOB_SIZE),
                              need_secrets=needs_real_secrets(args, config))
        for message in result.warnings:
            warn(args, message)
        if result.errors:
            raise ScanError(f"history scan of {repo} could not read everything: {result.errors[0]}",
                            "the baseline was not written; check the repository with `git fsck`")
        _refuse_incomplete(result.incomplete)
        found.extend(result.findings)
    if source in ("worktree", "both"):
        found.extend(detector.scan_all(_worktree(args, config, repo)))
        _refuse_incomplete(detector.stats.incomplete)
    if _is_git(repo):
        found.extend(_audit(repo, detector, history=source != "worktree"))
    return apply_suppressions(found, args, config, repo)


def _audit(repo: Path, detector: Any, *, history: bool) -> list[Finding]:
    """What `mcp-scan audit` finds today, so a team can accept an existing tracked `.env` or
    MCP config too. Its history check runs with a history source only: a work-tree baseline
    accepts no history exposure, as for secrets."""
    from scanner.audit import run_audit

    result = run_audit(repo, detector=detector, history=history)
    if result.errors:
        raise ScanError(f"audit of {repo} could not read {result.errors[0]}",
                        "the baseline was not written; fix the file's permissions and run again")
    _refuse_incomplete(detector.stats.incomplete)
    return result.findings


def _refuse_incomplete(incomplete: list[Incomplete]) -> None:
    """A baseline accepts what a scan found: from a scan that did not finish it would accept too little,
    and the findings it missed would surface later as new. Fail closed instead."""
    if incomplete:
        more = f" (and {len(incomplete) - 1} more)" if len(incomplete) > 1 else ""
        raise ScanError(f"incomplete scan: {incomplete[0].describe()}{more}",
                        "the baseline was not written; fix or disable the rule (disable-rules), or add the "
                        "path to allow-paths if it holds no secrets")


def _worktree(args: argparse.Namespace, config: Any, repo: Path) -> Iterator[Fragment]:
    """Files of the work tree with repository-relative paths: tracked plus untracked, not ignored."""
    from scanner.encodings import decode_blob
    from scanner.gitcmd import run_git
    from scanner.sources.files import DEFAULT_MAX_FILE_SIZE

    limit = max_blob_size(args, config, DEFAULT_MAX_FILE_SIZE)
    if _is_git(repo):
        listing = run_git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=str(repo))
        names = sorted({os.fsdecode(n) for n in listing.split(b"\0") if n})
    else:
        names = _walk(repo)
    for name in names:
        file = repo / name
        try:
            if file.is_symlink() or not file.is_file():
                continue  # deleted, a submodule, or a link (git stores its target, not content)
            if file.stat().st_size > limit:
                warn(args, f"skipped {name}: larger than {limit} bytes")
                continue
            data = file.read_bytes()
        except OSError as exc:
            raise ScanError(f"cannot read {file}: {exc.strerror or exc}", "the baseline was not written") from None
        text = decode_blob(data)
        if text:
            yield Fragment(text=text, path=name)


def _walk(root: Path) -> list[str]:
    """Every file below ``root`` (not a git repository), as sorted ``/``-separated relative paths."""
    from scanner.sources.files import SKIP_DIRS

    names: list[str] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        names.extend(os.path.relpath(os.path.join(directory, f), root).replace(os.sep, "/") for f in files)
    return sorted(names)
