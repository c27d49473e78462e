"""``mcp-scan pre-push``: scan exactly the commits being pushed (hook stdin protocol).

Run by git as a native pre-push hook, it reads the ref updates on stdin.
Run by the pre-commit framework (hook id ``mcp-scan-push``), stdin has been
consumed and the range arrives in ``PRE_COMMIT_FROM_REF``/``PRE_COMMIT_TO_REF``.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from scanner.commands._common import add_group_option, add_scan_options, exit_code, print_incomplete, report
from scanner.display import printable
from scanner.errors import EXIT_CLEAN, config_error


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("pre-push", help="scan the commits being pushed (git pre-push hook)",
                                   description="Read git's pre-push protocol on stdin and scan the commits "
                                               "the push adds; exit 1 blocks the push.")
    parser.add_argument("remote", nargs="?", help="remote name (passed by git)")
    parser.add_argument("url", nargs="?", help="remote URL (passed by git)")
    parser.add_argument("--repo", default=".", help="repository (default: current directory)")
    add_scan_options(parser, default_confidence="medium")
    add_group_option(parser)
    parser.set_defaults(func=run)


def _under_pre_commit() -> bool:
    return bool(os.environ.get("PRE_COMMIT_TO_REF") or os.environ.get("PRE_COMMIT_LOCAL_BRANCH"))


def run(args: argparse.Namespace) -> int:
    from scanner.commands._rangescan import scan_range
    from scanner.pushrange import parse_updates, pre_commit_range, push_range

    scan = pre_commit_range(args.repo, os.environ) if _under_pre_commit() else None
    if scan is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise config_error("pre-push reads the ref updates git writes on stdin",
                               "install it as a hook: mcp-scan install --hook pre-push")
        text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
        remote = args.remote or os.environ.get("PRE_COMMIT_REMOTE_NAME")
        scan = push_range(args.repo, parse_updates(text), remote, args.url)
    if scan.empty:
        return EXIT_CLEAN
    result = scan_range(args, args.repo, scan)
    findings, errors, incomplete = result.findings, result.errors, result.incomplete
    if findings or errors or incomplete or args.format != "text" or args.output:
        report(findings, args, result.stats, "pre-push", incomplete=incomplete)
    for error in errors:
        print(f"mcp-scan: error: {printable(error)}", file=sys.stderr)
    print_incomplete(incomplete, blocked="the push is blocked to be safe")
    if findings and not args.quiet and (args.format != "text" or args.output):
        # (a text report on stdout ends with this advice itself)
        print("mcp-scan: push blocked: the commits above add credentials. Rotate them, then remove them from "
              "the unpushed commits (git commit --amend, or git rebase -i) and push again.", file=sys.stderr)
    return exit_code(findings, errors, incomplete)
