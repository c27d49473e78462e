"""``--format text``: one compact block per finding, for people at a terminal.

Findings come in file order, each headed ``path:line:column: message`` (what
editors and terminals make clickable), then a summary in words by severity
and rule, each distinct fix once, and what to do next *for the command that
ran*: a blocked commit is not yet in git, a history finding is, and an
inline marker can silence the first but never change the second. ``-q``
leaves the findings only.

Every value that comes from the repository (paths, messages quoting config
keys, authors, dates) goes through ``scanner.display``: a file name holding a
newline or an ESC sequence must not split a finding or drive the terminal.
"""
from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from scanner.display import display_path, printable
from scanner.models import SEVERITIES, Finding, short_commit
from scanner.report import ReportContext, other_locations, sort_findings


def _where(finding: Finding) -> str:
    path = display_path(finding.path)
    if finding.line <= 0:  # about a whole file (a secret file, an unparsable config)
        return path
    return f"{path}:{finding.line}:{finding.column}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _listed(value: Any, noun: str) -> str:
    """A count or a list from ``extra`` in words: "3 commits", ".env, config/.env"."""
    if isinstance(value, (list, tuple)):
        shown = ", ".join(printable(str(v)) for v in value[:5])
        return shown + (f" and {len(value) - 5} more" if len(value) > 5 else "")
    if isinstance(value, int) and not isinstance(value, bool):
        return _count(value, noun)
    return printable(str(value))


def _history_line(finding: Finding) -> str:
    parts = []
    if finding.commit:
        who = f" by {printable(finding.author)}" if finding.author else ""
        when = f" on {printable(finding.date)}" if finding.date else ""
        parts.append(f"{printable(short_commit(finding.commit))}{who}{when}")
    at_head = finding.extra.get("present_at_head")
    if at_head is True:
        parts.append("still in the files at HEAD")
    elif at_head is False:
        parts.append("removed since, still in the history")
    return "; ".join(parts)


def _block(finding: Finding, context: ReportContext) -> str:
    lines = [f"{_where(finding)}: {printable(finding.message)}",
             f"    rule:     {printable(finding.rule_id)} (severity {finding.severity}, "
             f"confidence {finding.confidence})"]
    if finding.secret:
        lines.append(f"    secret:   {printable(context.secret(finding))}")
    if finding.evidence:
        lines.append(f"    found:    {printable(finding.evidence)}")
    if finding.extra.get("repo"):
        lines.append(f"    repo:     {printable(str(finding.extra['repo']))}")
    history = _history_line(finding)
    if history:
        lines.append(f"    commit:   {history}")
    seen = [_listed(finding.extra[key], noun) for key, noun in (("commits", "commit"), ("paths", "path"))
            if key in finding.extra and finding.extra[key] not in (1, [], None)]
    if seen:
        lines.append(f"    seen in:  {', '.join(seen)}")
    lines.extend(_other_locations(finding))
    return "\n".join(lines) + "\n\n"


# How many of a secret's other locations a block lists; JSON and SARIF list them all.
SHOWN_LOCATIONS = 5


def _other_locations(finding: Finding) -> list[str]:
    """``also at:`` lines for the other places a grouped history finding was seen (``locations``)."""
    others = other_locations(finding)
    lines = []
    for loc in others[:SHOWN_LOCATIONS]:
        where = display_path(str(loc.get("path", "")))
        if isinstance(loc.get("line"), int) and loc["line"] > 0:
            where += f":{loc['line']}:{loc.get('column') or 1}"
        commit = loc.get("commit")
        lines.append(f"    also at:  {where}" + (f" (commit {printable(short_commit(commit))})" if commit else ""))
    if len(others) > SHOWN_LOCATIONS:
        lines.append(f"    also at:  ... and {len(others) - SHOWN_LOCATIONS} more (--format json lists them all)")
    return lines


def _summary(findings: Sequence[Finding], command: str) -> str:
    files = len({(f.extra.get("repo"), f.path) for f in findings})
    severities = Counter(f.severity for f in findings)
    by_severity = ", ".join(f"{severities[s]} {s}" for s in reversed(SEVERITIES) if severities[s])
    rules = Counter(f.rule_id for f in findings).most_common()
    by_rule = ", ".join(f"{printable(rule)} {n}" for rule, n in rules[:8])
    if len(rules) > 8:
        by_rule += f" and {len(rules) - 8} more rules"
    lead = "commit blocked: " if command == "staged" else "push blocked: " if command == "pre-push" else ""
    return (f"mcp-scan: {lead}{_count(len(findings), 'finding')} in {_count(files, 'file')} "
            f"({by_severity}); by rule: {by_rule}.\n")


def _fixes(findings: Sequence[Finding]) -> str:
    """Each distinct remediation once, with the rules it applies to."""
    rules_of: dict[str, list[str]] = {}
    for finding in findings:
        if finding.remediation:
            rules = rules_of.setdefault(finding.remediation, [])
            if finding.rule_id not in rules:
                rules.append(finding.rule_id)
    if not rules_of:
        return ""
    lines = ["How to fix:"]
    for remediation, rules in rules_of.items():
        lines.append(f"  {', '.join(printable(r) for r in rules)}: {printable(remediation)}")
    return "\n".join(lines) + "\n"


# What to do next, by command. History-like commands report commits that
# exist: only rotation helps, and suppression goes through baselines or
# allow-paths (an inline marker cannot change an old commit).
_IN_HISTORY = (
    "Next: these secrets are in commits, and removing them from the files does not remove them from git: "
    "rotate each one. Accept reviewed findings with a baseline (`mcp-scan baseline create`, then "
    "`--baseline FILE` or `baseline = ...` in the config) or `allow-paths`; an inline marker cannot change "
    "an old commit."
)
_NEXT = {
    "history": _IN_HISTORY,
    "ci": _IN_HISTORY,
    "sweep": _IN_HISTORY,
    "merge": _IN_HISTORY,
    "pre-push": (
        "Next: these secrets are in commits that are not pushed yet: rotate them, remove them from the "
        "commits (`git commit --amend`, or `git rebase -i`) and push again. Accept a reviewed false positive "
        "with a baseline (`mcp-scan baseline create`) or `allow-paths`. Skip the check once with "
        "`git push --no-verify` (logged nowhere: the secret would then reach the remote)."
    ),
    "scan": (
        "Next: load each secret from the environment (${VAR}) instead. A false positive: add "
        "`# mcp-scan: allow` at the end of its line, or its path to `allow-paths` in the config."
    ),
    "audit": (
        "Next: each finding above says what to change. Accept reviewed findings with a baseline "
        "(`mcp-scan baseline create` records audit findings too), an `mcp-scan: allow` comment on a config "
        "line that allows comments, `allow-paths` or `disable-rules` (see docs/audit.md)."
    ),
}


def _next_staged(findings: Sequence[Finding], context: ReportContext) -> str:
    paths = sorted({f.path for f in findings})
    named = " ".join(shlex.quote(printable(p)) for p in paths) if len(paths) <= 3 else "PATH..."
    unstage = (f"git rm --cached {named}" if context.stats.get("initial_commit")
               else f"git restore --staged {named}")
    return (
        "Next: the commit was stopped, so the secret is not in git. Take it out of the file (load it from "
        f"the environment as ${{VAR}}), `git add` the file and commit again; or unstage the file: `{unstage}`.\n"
        "  A false positive: add `# mcp-scan: allow` at the end of its line, or its path to `allow-paths` in "
        "the config.\n"
        "  Skip the hook once: `git commit --no-verify` (logged nowhere: the secret would then be in the commit).\n"
        "  If the secret was shared anywhere else, rotate it."
    )


def write(findings: Sequence[Finding], stream: TextIO, context: ReportContext) -> None:
    ordered = sort_findings(findings)
    for finding in ordered:
        stream.write(_block(finding, context))
    if context.quiet:
        return
    if ordered:
        stream.write(_summary(ordered, context.command))
        stream.write(_fixes(ordered))
        advice = _next_staged(ordered, context) if context.command == "staged" else _NEXT.get(context.command)
        if advice:
            stream.write(advice + "\n")
    elif context.incomplete:
        stream.write(f"mcp-scan: no secrets found in what was scanned, but {len(context.incomplete)} part(s) "
                     "were not fully scanned (see the errors): this is not a clean result.\n")
    else:
        stream.write("mcp-scan: no secrets found.\n")
