"""``mcp-scan pre-receive``: on the git server, reject a push whose new commits carry a credential.

git runs a pre-receive hook in the receiving repository (usually bare) with
one ``<old sha> <new sha> <ref name>`` line per ref on stdin. Everything the
hook writes is relayed to the pusher as ``remote: ...`` lines, so the report
and the rejection go to stderr, where a server admin running it by hand
would also look for them.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from scanner.commands._common import add_group_option, add_scan_options, exit_code, print_incomplete, report
from scanner.display import printable
from scanner.errors import EXIT_CLEAN, config_error


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("pre-receive", help="reject pushed commits carrying secrets (git server hook)",
                                   description="Read git's pre-receive protocol on stdin and scan the commits "
                                               "no existing ref reaches; exit 1 rejects the push.")
    parser.add_argument("--repo", default=".", help="receiving repository (default: current directory)")
    add_scan_options(parser, default_confidence="medium")
    add_group_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from scanner.commands._rangescan import scan_range
    from scanner.pushrange import parse_received, receive_range

    if sys.stdin is None or sys.stdin.isatty():
        raise config_error("pre-receive reads the ref updates git writes on stdin",
                           "install it in the server's repository: mcp-scan install --hook pre-receive")
    text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    scan = receive_range(args.repo, parse_received(text))
    if scan.empty:
        return EXIT_CLEAN
    result = scan_range(args, args.repo, scan)
    findings, errors, incomplete = result.findings, result.errors, result.incomplete
    if findings or errors or incomplete or args.format != "text" or args.output:
        # stdout stays free for a machine format; a text report is part of the rejection message
        stream = sys.stderr if args.format == "text" and not args.output else None
        report(findings, args, result.stats, "pre-receive", stream=stream, incomplete=incomplete)
    for error in errors:
        print(f"mcp-scan: error: {printable(error)}", file=sys.stderr)
    print_incomplete(incomplete, blocked="the push is rejected to be safe")
    if findings:
        # Not silenced by --quiet: the pusher must learn why the server refused.
        print("mcp-scan: push rejected: the pushed commits above add credentials. Rotate each one now (it has "
              "left your machine), remove it from the commits (git commit --amend, or git rebase -i), "
              "and push again.", file=sys.stderr)
    return exit_code(findings, errors, incomplete)
