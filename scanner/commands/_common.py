"""What every scanning command shares: flags, detector set-up, reporting, exit code."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, TextIO, Union

from scanner.config import CWD, Config, load_config, path_matches
from scanner.display import printable
from scanner.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_RUNTIME, config_error
from scanner.models import CONFIDENCES, Finding, Incomplete

FORMATS = ("text", "json", "jsonl", "sarif", "html")


def add_scan_options(parser: argparse.ArgumentParser, *, default_confidence: str = "low") -> None:
    """Flags every scanning command takes, so they read the same everywhere."""
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    out.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    out.add_argument("--show-secrets", action="store_true", help="print secrets in full (default: redacted)")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress or warnings on stderr")
    det = add_detection_options(parser, default_confidence=default_confidence)
    det.add_argument("--baseline", metavar="FILE",
                     help="suppress findings listed in this baseline file (overrides the config's 'baseline')")


def add_group_option(parser: argparse.ArgumentParser) -> None:
    """``--group``, for the commands that scan history (``history``, ``ci``, ``pre-push``,
    ``pre-receive``, ``sweep``): the same secret at many paths can be read as one finding."""
    parser.add_argument("--group", choices=("path", "secret"), default="path",
                        help="path (default): one finding per secret and path; secret: one finding per secret, "
                             "listing every path and commit it was seen at under 'locations'")


def add_detection_options(parser: argparse.ArgumentParser, *, default_confidence: str = "low") -> Any:
    """The flags that decide what counts as a finding (also used by ``baseline``); returns the group."""
    det = parser.add_argument_group("detection")
    det.add_argument("--config", metavar="FILE", help="configuration file (default: .mcp-scan.toml or pyproject.toml, found upwards)")
    det.add_argument("--no-config", action="store_true", help="ignore configuration files")
    det.add_argument("--rules", action="append", default=[], metavar="PATH", help="extra rule file or directory (repeatable)")
    det.add_argument("--gitleaks-config", metavar="FILE",
                     help="import rules and allowlists from a gitleaks .gitleaks.toml (overrides the config's 'gitleaks-config')")
    det.add_argument("--min-confidence", choices=CONFIDENCES, default=None,
                     help=f"report findings at or above this confidence (default: {default_confidence})")
    det.add_argument("--engine", choices=("auto", "hyperscan", "python"), default="auto", help=argparse.SUPPRESS)
    parser.set_defaults(default_confidence=default_confidence)
    return det


def check_jobs(args: argparse.Namespace) -> None:
    """``--jobs`` below 1 is a usage error, in every command that takes it."""
    jobs = getattr(args, "jobs", None)
    if jobs is not None and jobs < 1:
        raise config_error(f"--jobs must be at least 1 (got {jobs})",
                           "omit --jobs for one process per CPU; more than 4 per CPU are not used")


def revision_flag(args: argparse.Namespace, name: str) -> Optional[str]:
    """The value of a revision flag (``--since``, ``--base``...), None when not given.

    argparse turns ``--since=--`` into ``[]`` (it drops a lone ``--``): that is
    still a revision the user gave, and git must not see it as one.
    """
    value = getattr(args, name, None)
    return "--" if isinstance(value, list) else value


def warn(args: argparse.Namespace, message: str) -> None:
    """A warning on stderr, unless ``--quiet`` (control characters from file names escaped)."""
    if not getattr(args, "quiet", False):
        print(f"mcp-scan: warning: {printable(message)}", file=sys.stderr)


def load_settings(args: argparse.Namespace, start: Path) -> Config:
    """The configuration for this run: file settings, then flags on top."""
    if getattr(args, "no_config", False):
        config = Config()
    else:
        config = load_config(getattr(args, "config", None), start)
    for message in config.warnings:
        warn(args, message)
    gitleaks = getattr(args, "gitleaks_config", None)
    if gitleaks:
        config.gitleaks_config = Path(gitleaks)
    if getattr(args, "baseline", None):
        config.baseline = Path(args.baseline)
    if config.gitleaks_config is not None and config.gitleaks is None:
        from scanner.gitleaks_import import load_gitleaks_config

        config.gitleaks = load_gitleaks_config(config.gitleaks_config)
        for message in config.gitleaks.warnings:
            warn(args, message)
    return config


def collect_rules(args: argparse.Namespace, config: Config) -> list[tuple[Any, str, bool]]:
    """Every secret rule this run knows: (rule, where it comes from, enabled).

    Built-in rules, then ``--rules`` and ``extra-patterns`` files, then an
    imported gitleaks config; ``disable-rules`` (and the gitleaks config's own
    disabled list) turn rules off. ``rules list`` shows exactly this, and
    ``build_detector`` keeps the enabled ones, so the two cannot disagree.
    """
    from scanner.rules import builtin_rules, load_rules

    rules: list[tuple[Any, str]] = [(r, "builtin") for r in builtin_rules()]
    extra = [Path(p) for p in getattr(args, "rules", [])] + list(config.extra_patterns)
    if extra:
        known = {r.id for r, _ in rules}
        for rule in load_rules(extra):
            if rule.id in known:
                raise config_error(f"{rule.source}: rule {rule.id!r} duplicates a built-in rule id")
            rules.append((rule, rule.source))
    gitleaks_off: set[str] = set()
    if config.gitleaks is not None:
        # An imported gitleaks rule replaces a rule with the same id: it is the
        # version the team tuned (and its allowlists are keyed by that id).
        imported = {r.id: r for r in config.gitleaks.rules}
        gitleaks_off = set(config.gitleaks.disabled)
        origin = f"gitleaks: {config.gitleaks_config}"
        rules = [(r, src) for r, src in rules if r.id not in imported] + [(r, origin) for r in imported.values()]
    check_disabled_ids(config, {r.id for r, _ in rules})
    off = config.disable_rules | gitleaks_off
    return [(r, src, r.id not in off) for r, src in rules]


def check_disabled_ids(config: Config, secret_ids: set[str]) -> None:
    """``disable-rules`` may name secret rules and audit rules; anything else is a config error."""
    unknown = config.disable_rules - secret_ids
    if not unknown:
        return  # the common case: the commit hook need not import the audit package
    from scanner.audit.findings import RULES as AUDIT_RULES

    unknown -= set(AUDIT_RULES)
    if unknown:
        where = f"{config.source}: " if config.source else ""
        raise config_error(f"{where}disable-rules = {sorted(unknown)!r}: unknown rule id(s)",
                           "`mcp-scan rules list` shows the rule ids, secret and audit rules alike")


def build_detector(args: argparse.Namespace, config: Config, engine: Optional[str] = None) -> Any:
    """A Detector for the built-in registry plus configured and ``--rules`` files.

    ``engine`` overrides the (hidden) ``--engine`` flag's prefilter choice.
    """
    from scanner.detect import Detector

    known = collect_rules(args, config)
    rules = [rule for rule, _, enabled in known if enabled]
    confidence = args.min_confidence or config.min_confidence or args.default_confidence
    return Detector(
        rules,
        # Disabled rules still own what they match (reporting nothing), so their
        # matches never fall to a weaker rule that would misdescribe them.
        claim_rules=[rule for rule, _, enabled in known if not enabled],
        allow_regexes=config.allow_regexes,
        stopwords=config.stopwords,
        min_confidence=confidence,
        engine=engine or str(getattr(args, "engine", "auto")),
    )


def needs_real_secrets(args: argparse.Namespace, config: Config) -> bool:
    """Whether history findings answered from the cache must get their real secret back.

    The cache stores a redacted stand-in; what reads the secret after the scan
    must see the real one, or a warm run would decide differently from a cold
    one: ``--show-secrets``, and imported gitleaks allowlists that test it.
    """
    if getattr(args, "show_secrets", False):
        return True
    return config.gitleaks is not None and bool(config.gitleaks.tests_secrets())


def path_allowed(path: str, patterns: Sequence[str], root: Optional[Path] = None,
                 base: Union[Path, str, None] = CWD) -> bool:
    """True when ``path`` matches the ``allow-paths`` globs (gitignore-style, ``**`` spans directories).

    Patterns are relative to ``root`` (the config file's directory); ``path``
    is relative to ``base`` (see ``relative_candidates``).
    """
    return path_matches(path, patterns, root, base)


def work_tree(repo: str) -> Optional[Path]:
    """The top level of ``repo``'s work tree, which git sources' paths are relative to; None when bare."""
    from scanner.gitcmd import run_git

    out = run_git(["rev-parse", "--show-toplevel"], cwd=repo, check=False).strip()
    return Path(os.fsdecode(out)) if out else None


def grouped(findings: Sequence[Finding], args: argparse.Namespace,
            sightings: Optional[Mapping[tuple[str, str], frozenset[str]]] = None) -> list[Finding]:
    """The findings as ``--group`` asks: per path (as they come), or one per secret.

    Applied after suppression: allow-paths and baselines judge each path, the reader each secret.
    """
    if getattr(args, "group", "path") != "secret":
        return list(findings)
    from scanner.history.grouping import by_secret

    return by_secret(findings, sightings)


def apply_suppressions(findings: Iterable[Finding], args: argparse.Namespace, config: Config,
                       base: Union[Path, str, None] = CWD) -> list[Finding]:
    """Drop findings of disabled rules, under ``allow-paths``, allowed by imported gitleaks allowlists, or in the baseline.

    The baseline is ``--baseline`` or the config's ``baseline`` (``load_settings``
    puts the flag into ``config.baseline``; the flag is read here too for
    callers that built their Config another way).
    """
    # Secret rules named in disable-rules never run; audit rules run and are dropped here.
    kept = [f for f in findings if f.rule_id not in config.disable_rules
            and not path_allowed(f.path, config.allow_paths, config.root, base)]
    if config.gitleaks is not None:
        kept = [f for f in kept if not config.gitleaks.allows(f)]
    baseline = getattr(args, "baseline", None) or config.baseline
    if baseline:
        from scanner.baseline import load_baseline

        kept = load_baseline(Path(baseline)).filter(kept)
    return kept


def report(findings: Sequence[Finding], args: argparse.Namespace, stats: dict[str, Any],
           command: str, stream: Optional[TextIO] = None, incomplete: Sequence[Incomplete] = ()) -> None:
    """Render ``findings`` in ``--format`` to ``--output`` (atomically) or stdout.

    ``incomplete`` lists what was not fully scanned: JSON gets ``"incomplete"``,
    SARIF ``executionSuccessful: false``, HTML a banner.
    """
    import io

    from scanner.paths import atomic_write
    from scanner.report import ReportContext, get_writer

    if any("eyJ" in f.secret for f in findings):
        # Say whether each JWT is expired or still live (decoded offline, no signature check).
        from scanner.audit.jwt import enrich_jwt_message

        findings = [enrich_jwt_message(f) if "eyJ" in f.secret else f for f in findings]
    context = ReportContext(show_secrets=args.show_secrets, command=command, stats=stats,
                            incomplete=[i.to_dict() for i in incomplete], quiet=bool(getattr(args, "quiet", False)))
    writer = get_writer(args.format)
    if getattr(args, "output", None):
        buffer = io.StringIO()
        writer(findings, buffer, context)
        # surrogateescape: a non-UTF-8 file name goes back out as the bytes it came in as
        data = buffer.getvalue().encode("utf-8", "surrogateescape")
        try:
            # Full secrets: a new file is for its owner only (an existing one keeps its mode).
            atomic_write(Path(args.output), data, new_mode=0o600 if args.show_secrets else None)
        except OSError as exc:
            from scanner.errors import ScanError

            raise ScanError(f"cannot write the report to {args.output}: {exc.strerror or exc}",
                            "check that the directory exists and is writable") from None
    else:
        writer(findings, stream or sys.stdout, context)


def exit_code(findings: Sequence[Finding], errors: Sequence[Any], incomplete: Sequence[Incomplete] = ()) -> int:
    """0 clean, 1 findings, 3 when part of the input could not be read (``errors``, whatever was found)
    or could not be fully scanned (``incomplete``, unless findings already make it 1).

    Every non-zero code blocks a commit, a push or a CI job; the report and
    stderr say what was not scanned.
    """
    if errors:
        return EXIT_RUNTIME
    if findings:
        return EXIT_FINDINGS
    return EXIT_RUNTIME if incomplete else EXIT_CLEAN


# What to do about each kind of incomplete scan (``Incomplete.reason``).
INCOMPLETE_HINTS = {
    "regex-timeout": "a rule's regex backtracks on this input (often a rule imported with --gitleaks-config: RE2 "
                     "never backtracks, Python's regex does): fix or disable the rule (disable-rules), or add the "
                     "path to allow-paths if it holds no secrets",
    "missing-blob": "fetch the missing blobs (`git fetch --refetch`) or scan a full clone",
}


def print_incomplete(incomplete: Sequence[Incomplete], blocked: str = "", limit: int = 20) -> None:
    """Fail closed, out loud: one error line per thing not fully scanned, then what to do.

    Errors, not warnings: ``-q`` does not hide them. ``blocked`` says what the
    hook stopped ("the commit is blocked to be safe").
    """
    if not incomplete:
        return
    for record in incomplete[:limit]:
        print(f"mcp-scan: error: incomplete scan: {printable(record.describe())}", file=sys.stderr)
    if len(incomplete) > limit:
        print(f"mcp-scan: error: incomplete scan: ... and {len(incomplete) - limit} more", file=sys.stderr)
    hints = [INCOMPLETE_HINTS.get(reason, "rerun the scan; report a bug if it persists")
             for reason in dict.fromkeys(r.reason for r in incomplete)]
    lead = f"{blocked}; " if blocked else "an incomplete scan is not a clean one; "
    print(f"  hint: {lead}{'; '.join(hints)}", file=sys.stderr)


def max_blob_size(args: argparse.Namespace, config: Config, default: int) -> int:
    """The size limit for one file or blob: the command's flag, then the config, then ``default``."""
    flag = getattr(args, "max_blob_size", None) or getattr(args, "max_file_size", None)
    return int(flag or config.max_blob_size or default)
