"""``--format text``: one block per finding, for people at a terminal.

Every value that comes from the repository (paths, messages quoting config
keys, authors, dates) goes through ``scanner.display``: a file name holding a
newline or an ESC sequence must not split a finding or drive the terminal.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from scanner.display import display_path, printable
from scanner.models import Finding, short_commit
from scanner.report import ReportContext, sort_findings


def _where(finding: Finding) -> str:
    path = display_path(finding.path)
    if finding.line <= 0:  # about a whole file (a secret file, an unparsable config)
        return path
    return f"{path}:{finding.line}:{finding.column}"


def write(findings: Sequence[Finding], stream: TextIO, context: ReportContext) -> None:
    ordered = sort_findings(findings)
    for finding in ordered:
        stream.write(f"{_where(finding)}: {printable(finding.message)}\n")
        stream.write(f"    rule:     {printable(finding.rule_id)} (severity {finding.severity}, "
                     f"confidence {finding.confidence})\n")
        stream.write(f"    secret:   {printable(context.secret(finding))}\n")
        if finding.extra.get("repo"):
            stream.write(f"    repo:     {printable(str(finding.extra['repo']))}\n")
        if finding.commit:
            who = f" by {printable(finding.author)}" if finding.author else ""
            when = f" on {printable(finding.date)}" if finding.date else ""
            stream.write(f"    commit:   {printable(short_commit(finding.commit))}{who}{when}\n")
        for key in ("present_at_head", "commits", "paths"):
            if key in finding.extra:
                stream.write(f"    {key.replace('_', ' ')}: {printable(str(finding.extra[key]))}\n")
        stream.write(f"    fix:      {printable(finding.remediation)}\n\n")
    count = len(ordered)
    if count:
        noun = "finding" if count == 1 else "findings"
        stream.write(f"mcp-scan: {count} {noun}. Suppress a false positive with a `# mcp-scan: allow` comment on its line.\n")
    elif context.incomplete:
        stream.write(f"mcp-scan: no secrets found in what was scanned, but {len(context.incomplete)} part(s) "
                     "were not fully scanned (see the errors): this is not a clean result.\n")
    else:
        stream.write("mcp-scan: no secrets found.\n")
