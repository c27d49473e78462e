"""Reporters write findings; they know ``Finding`` and nothing about git or rules.

``REPORTERS`` maps each ``--format`` name to a module path; the module's
``write(findings, stream, context)`` renders the report. Modules are imported
only when chosen, so the text hook never pays for SARIF or HTML.
"""
from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:  # mypy checks them as the dataclasses they behave as
    from dataclasses import dataclass, field
else:  # at run time: without importing dataclasses (scanner/record.py says why)
    from scanner.record import dataclass, field

from scanner.models import Finding, redact

REPORTERS = {
    "text": "scanner.report.text",
    "json": "scanner.report.json",
    "jsonl": "scanner.report.jsonl",
    "sarif": "scanner.report.sarif",
    "html": "scanner.report.html",
}

JSON_VERSION = 1


@dataclass
class ReportContext:
    """What every reporter may need beyond the findings themselves."""

    show_secrets: bool = False
    command: str = "scan"
    stats: dict[str, Any] = field(default_factory=dict)
    # What the scan could not finish (``Incomplete.to_dict()`` each): not empty means not clean.
    incomplete: list[dict[str, Any]] = field(default_factory=list)
    quiet: bool = False  # -q: the text report is the findings only, no summary or advice

    def secret(self, finding: Finding) -> str:
        """The secret as reports may show it; empty when the finding has none (redacting
        nothing would print a marker that suggests a hidden value)."""
        if not finding.secret:
            return ""
        return finding.secret if self.show_secrets else redact(finding.secret)

    def shown(self, finding: Finding) -> str:
        """What one cell or snippet shows: the (redacted) secret, else the evidence."""
        return self.secret(finding) or finding.evidence


class Writer(Protocol):
    def __call__(self, findings: Sequence[Finding], stream: TextIO, context: ReportContext) -> None: ...


def get_writer(fmt: str) -> Writer:
    """The ``write`` function for one format name."""
    module = importlib.import_module(REPORTERS[fmt])
    writer: Writer = module.write
    return writer


def finding_dict(finding: Finding, context: ReportContext) -> dict[str, Any]:
    """The JSON contract for one finding (version 1): stable keys, secret redacted.

    Every command writes the same keys with the same types (scanner/report/schema/report-v1.json):
    ``secret`` is null when there is no value to hide and ``evidence`` then says what was found.
    """
    data: dict[str, Any] = {
        "rule_id": finding.rule_id,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "message": finding.message,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "commit": finding.commit,
        "author": finding.author,
        "date": finding.date,
        "secret": context.secret(finding) or None,
        "evidence": finding.evidence or None,
        "fingerprint": finding.fingerprint,
        "remediation": finding.remediation,
    }
    for key, value in finding.extra.items():
        data.setdefault(key, value)
    return data


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """A stable order for every report: by path, position, then rule."""
    return sorted(findings, key=lambda f: (f.extra.get("repo", ""), f.path, f.line, f.column, f.rule_id, f.commit or ""))


def other_locations(finding: Finding) -> list[dict[str, Any]]:
    """The places a grouped history finding (``--group secret``) was seen besides its own, earliest
    first; none for any other finding."""
    return [loc for loc in finding.extra.get("locations") or ()
            if (loc.get("path"), loc.get("commit")) != (finding.path, finding.commit)]


def incomplete_text(record: dict[str, Any]) -> str:
    """One line for a record of ``ReportContext.incomplete``: what happened, to which rule, path, commit."""
    parts = [str(record.get("message") or "not fully scanned")]
    for label, key in (("rule", "rule_id"), ("path", "path"), ("commit", "commit")):
        if record.get(key):
            parts.append(f"{label} {record[key]}")
    return ", ".join(parts)
