"""``mcp-scan audit``: secret-file hygiene and MCP configuration checks (issue: audit)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scanner.commands._common import (add_scan_options, apply_suppressions, build_detector, exit_code, load_settings,
                                      print_incomplete, report, warn)
from scanner.audit import AuditResult
from scanner.config import Config
from scanner.display import printable
from scanner.errors import ScanError, config_error
from scanner.models import confidence_rank


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="check .gitignore coverage, MCP configs, token lifetimes, permissions "
                                                 "(--user: your own MCP client configs)",
                                   description="Audit a repository: secret files vs .gitignore (work tree and history), "
                                               "MCP client configs, OAuth scopes and token lifetimes, JWTs, permissions.")
    parser.add_argument("repo", nargs="?", default=".", metavar="REPO", help="repository (default: current directory)")
    parser.add_argument("--fix", action="store_true", help="add missing .gitignore entries and tighten permissions")
    parser.add_argument("--user", action="store_true",
                        help="audit your own MCP client configs (Claude Desktop, Claude Code, Cursor, VS Code, "
                             "Windsurf, ...) in your home directory instead of a repository; no git needed")
    parser.add_argument("--hook", action="store_true",
                        help="commit-hook mode: check only what a commit can change (.gitignore coverage, tracked "
                             "and staged files, staged MCP configs) and take history from the cache in "
                             ".git/mcp-scan/, which only new commits update")
    add_scan_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from scanner.audit import run_audit
    from scanner.audit.fix import apply_fixes
    from scanner.audit.inventory import repo_root

    if args.user:
        return run_user(args)
    try:
        root = repo_root(Path(args.repo))
    except ScanError as exc:
        # Outside a repository the likeliest wish is the user's own configs: say how.
        exc.hint = "; ".join(filter(None, [exc.hint, "`mcp-scan audit --user` checks your own MCP client configs"]))
        raise
    config = load_settings(args, root)
    detector = build_detector(args, config)
    result = run_audit(root, detector=detector, hook=args.hook)
    if args.fix:
        changes, problems = apply_fixes(root, result.findings)
        for change in changes:
            print(f"mcp-scan: fixed: {printable(change)}", file=sys.stderr)
        for problem in problems:
            print(f"mcp-scan: --fix: could not fix: {printable(problem)}", file=sys.stderr)
        if not changes and not problems:
            print("mcp-scan: --fix: nothing to change", file=sys.stderr)
        else:
            result = run_audit(root, detector=detector, hook=args.hook)  # report what is left
    return finish(args, config, detector, result)


def run_user(args: argparse.Namespace) -> int:
    """``audit --user``: the home directory's MCP client configs; works outside any repository."""
    import os

    from scanner.audit.user import run_user_audit

    if args.repo != ".":
        raise config_error("--user audits your home directory and takes no REPO",
                           "run `mcp-scan audit REPO` and `mcp-scan audit --user` separately")
    if args.hook:
        raise config_error("--hook applies to a repository, not to --user",
                           "run `mcp-scan audit --hook` inside the repository's commit hook")
    if args.fix:
        raise config_error("--fix does not apply to --user",
                           "replace literal credentials by ${VAR} references and chmod 600 the files listed")
    config = load_settings(args, Path.cwd())
    detector = build_detector(args, config)
    try:
        home = Path.home()
    except RuntimeError:  # no HOME and no password entry: nowhere to look
        raise ScanError("cannot tell which directory is your home", "set HOME and run again") from None
    result = run_user_audit(home, os.environ, detector=detector)
    if not result.stats["configs"] and not result.errors and not args.quiet:
        print("mcp-scan: no MCP client configs found in your home directory "
              "(see docs/audit.md for the places checked)", file=sys.stderr)
    return finish(args, config, detector, result)


def finish(args: argparse.Namespace, config: Config, detector: Any, result: AuditResult) -> int:
    """Filter, report and pick the exit code: the same for a repository and for --user."""
    threshold = confidence_rank(args.min_confidence or config.min_confidence or args.default_confidence)
    findings = [f for f in apply_suppressions(result.findings, args, config) if confidence_rank(f.confidence) >= threshold]
    for warning in result.warnings:
        warn(args, warning)
    for error in result.errors:
        print(f"mcp-scan: error: cannot read {printable(error)}", file=sys.stderr)
    # The audit's rule scans (MCP config values, history of secret files) fail closed like any scan.
    # the audit may run a rule over one text twice (lint, then content judgement): name each gap once
    incomplete = list(dict.fromkeys(detector.stats.incomplete))
    print_incomplete(incomplete)
    stats = dict(result.stats, findings=len(findings))
    report(findings, args, stats, "audit", incomplete=incomplete)
    return exit_code(findings, result.errors, incomplete)
