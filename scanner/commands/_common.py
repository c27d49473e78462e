"""What every scanning command shares: flags, detector set-up, reporting, exit code."""
from __future__ import annotations

import argparse
import fnmatch
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Optional, TextIO

from scanner.config import Config, load_config
from scanner.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_RUNTIME, config_error
from scanner.models import CONFIDENCES, Finding

FORMATS = ("text", "json", "jsonl", "sarif")


def add_scan_options(parser: argparse.ArgumentParser, *, default_confidence: str = "low") -> None:
    """Flags every scanning command takes, so they read the same everywhere."""
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    out.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    out.add_argument("--show-secrets", action="store_true", help="print secrets in full (default: redacted)")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress or warnings on stderr")
    det = parser.add_argument_group("detection")
    det.add_argument("--config", metavar="FILE", help="configuration file (default: .mcp-scan.toml or pyproject.toml, found upwards)")
    det.add_argument("--rules", action="append", default=[], metavar="PATH", help="extra rule file or directory (repeatable)")
    det.add_argument("--min-confidence", choices=CONFIDENCES, default=None,
                     help=f"report findings at or above this confidence (default: {default_confidence})")
    det.add_argument("--baseline", metavar="FILE", help="suppress findings listed in this baseline file")
    det.add_argument("--engine", choices=("auto", "hyperscan", "python"), default="auto", help=argparse.SUPPRESS)
    parser.set_defaults(default_confidence=default_confidence)


def warn(args: argparse.Namespace, message: str) -> None:
    """A warning on stderr, unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(f"mcp-scan: warning: {message}", file=sys.stderr)


def load_settings(args: argparse.Namespace, start: Path) -> Config:
    """The configuration for this run: file settings, then flags on top."""
    config = load_config(getattr(args, "config", None), start)
    return config


def build_detector(args: argparse.Namespace, config: Config) -> Any:
    """A Detector for the built-in registry plus configured and ``--rules`` files."""
    from scanner.detect import Detector
    from scanner.rules import builtin_rules, load_rules

    rules = list(builtin_rules())
    extra = [Path(p) for p in getattr(args, "rules", [])] + list(config.extra_patterns)
    if extra:
        known = {r.id for r in rules}
        for rule in load_rules(extra):
            if rule.id in known:
                raise config_error(f"{rule.source}: rule {rule.id!r} duplicates a built-in rule id")
            rules.append(rule)
    unknown = config.disable_rules - {r.id for r in rules}
    if unknown:
        raise config_error(f"disable-rules names unknown rule id(s): {', '.join(sorted(unknown))}")
    rules = [r for r in rules if r.id not in config.disable_rules]
    confidence = args.min_confidence or config.min_confidence or args.default_confidence
    return Detector(
        rules,
        allow_regexes=config.allow_regexes,
        stopwords=config.stopwords,
        min_confidence=confidence,
        engine=getattr(args, "engine", "auto"),
    )


def path_allowed(path: str, patterns: Sequence[str]) -> bool:
    """True when ``path`` matches an ``allow-paths`` glob (``**`` spans directories)."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern.replace("**/", "")):
            return True
    return False


def apply_suppressions(findings: Iterable[Finding], args: argparse.Namespace, config: Config) -> list[Finding]:
    """Drop findings under allowed paths or listed in ``--baseline``."""
    kept = [f for f in findings if not path_allowed(f.path, config.allow_paths)]
    baseline = getattr(args, "baseline", None)
    if baseline:
        from scanner.baseline import load_baseline

        kept = load_baseline(Path(baseline)).filter(kept)
    return kept


def report(findings: Sequence[Finding], args: argparse.Namespace, stats: dict[str, Any],
           command: str, stream: Optional[TextIO] = None) -> None:
    """Render ``findings`` in ``--format`` to ``--output`` (atomically) or stdout."""
    import io

    from scanner.paths import atomic_write
    from scanner.report import ReportContext, get_writer

    context = ReportContext(show_secrets=args.show_secrets, command=command, stats=stats)
    writer = get_writer(args.format)
    if getattr(args, "output", None):
        buffer = io.StringIO()
        writer(findings, buffer, context)
        atomic_write(Path(args.output), buffer.getvalue().encode("utf-8"))
    else:
        writer(findings, stream or sys.stdout, context)


def exit_code(findings: Sequence[Finding], errors: Sequence[str]) -> int:
    """1 when anything was found; 3 when part of the input could not be read."""
    if errors:
        return EXIT_RUNTIME
    return EXIT_FINDINGS if findings else EXIT_CLEAN
