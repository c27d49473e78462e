"""``mcp-scan install`` / ``mcp-scan uninstall``: native git hooks."""
from __future__ import annotations

import argparse
from typing import Any

from scanner.display import printable
from scanner.errors import EXIT_CLEAN


def register(subparsers: Any) -> None:
    for name, helptext, func in (("install", "install the git hook (keeps an existing hook running)", run_install),
                                 ("uninstall", "remove the git hook and restore the previous one", run_uninstall)):
        parser = subparsers.add_parser(name, help=helptext)
        parser.add_argument("--repo", default=".", help="repository (default: current directory)")
        parser.add_argument("--hook", choices=("pre-commit", "pre-push", "pre-receive"), default="pre-commit")
        if name == "uninstall":
            parser.add_argument("--force", action="store_true",
                                help="uninstall even if the hook was edited (the edited file is kept as <hook>.mcp-scan-edited)")
        parser.set_defaults(func=func)


def run_install(args: argparse.Namespace) -> int:
    from scanner.hooks import install

    print(printable(install(args.repo, args.hook)))
    return EXIT_CLEAN


def run_uninstall(args: argparse.Namespace) -> int:
    from scanner.hooks import uninstall

    print(printable(uninstall(args.repo, args.hook, force=args.force)))
    return EXIT_CLEAN
