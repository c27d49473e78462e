"""``mcp-scan rules list`` and ``mcp-scan rules check [FILE...]``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from scanner.errors import EXIT_CLEAN, EXIT_FINDINGS


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("rules", help="list rules or check rule files' examples")
    sub = parser.add_subparsers(dest="rules_command", metavar="{list,check}")
    sub.required = True
    listing = sub.add_parser("list", help="list the active rules")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.add_argument("--rules", action="append", default=[], metavar="PATH", help="list these rule files instead")
    listing.set_defaults(func=run_list)
    check = sub.add_parser("check", help="run every rule's examples and negative examples through the detector")
    check.add_argument("files", nargs="*", metavar="FILE", help="rule files or directories (default: the built-in registry)")
    check.set_defaults(func=run_check)


def _load(paths: list[str]) -> list[Any]:
    from scanner.rules import builtin_rules, load_rules

    return load_rules([Path(p) for p in paths]) if paths else list(builtin_rules())


def run_list(args: argparse.Namespace) -> int:
    rules = _load(args.rules)
    if args.format == "json":
        rows = [{"id": r.id, "description": r.description, "severity": r.severity, "confidence": r.confidence,
                 "keywords": list(r.keywords), "references": list(r.references)} for r in rules]
        json.dump({"version": 1, "rules": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_CLEAN
    width = max((len(r.id) for r in rules), default=0)
    for rule in rules:
        print(f"{rule.id:<{width}}  {rule.severity:<8}  {rule.confidence:<6}  {rule.description}")
    print(f"{len(rules)} rules")
    return EXIT_CLEAN


def run_check(args: argparse.Namespace) -> int:
    from scanner.rulecheck import check_rules

    rules = _load(args.files)
    problems = check_rules(rules)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {len(rules)} rules", file=sys.stderr)
        return EXIT_FINDINGS
    print(f"{len(rules)} rules OK: every example found, no negative example found")
    return EXIT_CLEAN
