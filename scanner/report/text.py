"""``--format text``: one block per finding, for people at a terminal."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from scanner.models import Finding
from scanner.report import ReportContext, sort_findings


def _where(finding: Finding) -> str:
    if finding.line <= 0:  # about a whole file (a secret file, an unparsable config)
        return finding.path
    return f"{finding.path}:{finding.line}:{finding.column}"


def write(findings: Sequence[Finding], stream: TextIO, context: ReportContext) -> None:
    ordered = sort_findings(findings)
    for finding in ordered:
        stream.write(f"{_where(finding)}: {finding.message}\n")
        stream.write(f"    rule:     {finding.rule_id} (severity {finding.severity}, confidence {finding.confidence})\n")
        stream.write(f"    secret:   {context.secret(finding)}\n")
        if finding.extra.get("repo"):
            stream.write(f"    repo:     {finding.extra['repo']}\n")
        if finding.commit:
            who = f" by {finding.author}" if finding.author else ""
            when = f" on {finding.date}" if finding.date else ""
            stream.write(f"    commit:   {finding.commit[:12]}{who}{when}\n")
        for key in ("present_at_head", "commits", "paths"):
            if key in finding.extra:
                stream.write(f"    {key.replace('_', ' ')}: {finding.extra[key]}\n")
        stream.write(f"    fix:      {finding.remediation}\n\n")
    count = len(ordered)
    if count:
        noun = "finding" if count == 1 else "findings"
        stream.write(f"mcp-scan: {count} {noun}. Suppress a false positive with a `# mcp-scan: allow` comment on its line.\n")
    elif context.incomplete:
        stream.write(f"mcp-scan: no secrets found in what was scanned, but {len(context.incomplete)} part(s) "
                     "were not fully scanned (see the errors): this is not a clean result.\n")
    else:
        stream.write("mcp-scan: no secrets found.\n")
