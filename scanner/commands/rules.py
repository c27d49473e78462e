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
    listing = sub.add_parser("list", help="list the active rules (secret and audit) after the configuration",
                             description="List every rule with its kind (secret or audit), severity, confidence and "
                                         "whether this configuration enables it: built-in rules, --rules and "
                                         "extra-patterns files, an imported gitleaks config, minus disable-rules.")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.add_argument("--config", metavar="FILE",
                         help="configuration file (default: .mcp-scan.toml or pyproject.toml, found upwards)")
    listing.add_argument("--no-config", action="store_true", help="ignore configuration files")
    listing.add_argument("--rules", action="append", default=[], metavar="PATH",
                         help="extra rule file or directory (repeatable), as for the scanning commands")
    listing.add_argument("--gitleaks-config", metavar="FILE",
                         help="import rules from a gitleaks .gitleaks.toml (overrides the config's 'gitleaks-config')")
    listing.set_defaults(func=run_list)
    check = sub.add_parser("check", help="run every rule's examples and negative examples through the detector")
    check.add_argument("files", nargs="*", metavar="FILE", help="rule files or directories (default: the built-in registry)")
    check.set_defaults(func=run_check)


def _load(paths: list[str]) -> list[Any]:
    """The rules ``rules check`` runs: the given files, else the built-in registry."""
    from scanner.rules import builtin_rules, load_rules

    return load_rules([Path(p) for p in paths]) if paths else list(builtin_rules())


def _rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    from scanner.audit.findings import RULES as AUDIT_RULES
    from scanner.commands._common import collect_rules, load_settings

    config = load_settings(args, Path("."))
    rows = [{"id": r.id, "kind": "secret", "severity": r.severity, "confidence": r.confidence, "enabled": enabled,
             "source": source, "description": r.description, "keywords": list(r.keywords),
             "references": list(r.references), "path": r.path, "content": r.content,
             "vendored": r.vendored, "docs": r.docs, "filler": "example" if r.reports_filler else "drop"}
            for r, source, enabled in collect_rules(args, config)]
    rows += [{"id": rule_id, "kind": "audit", "severity": rule.severity, "confidence": rule.confidence,
              "enabled": rule_id not in config.disable_rules, "source": "audit", "description": rule.description,
              "keywords": [], "references": [], "path": None, "content": None,
              "vendored": None, "docs": None, "filler": None} for rule_id, rule in AUDIT_RULES.items()]
    return rows


def run_list(args: argparse.Namespace) -> int:
    rows = _rows(args)
    if args.format == "json":
        json.dump({"version": 1, "rules": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_CLEAN
    width = max((len(row["id"]) for row in rows), default=0)
    for row in rows:
        state = "on" if row["enabled"] else "OFF"
        print(f"{row['id']:<{width}}  {row['kind']:<6}  {state:<3}  {row['severity']:<8}  {row['confidence']:<6}  "
              f"{row['description']}")
    kinds = {kind: sum(1 for row in rows if row["kind"] == kind) for kind in ("secret", "audit")}
    off = sum(1 for row in rows if not row["enabled"])
    print(f"{len(rows)} rules ({kinds['secret']} secret, {kinds['audit']} audit), {off} disabled")
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
