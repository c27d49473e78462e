"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other viewers.

One run, one driver. Rules are described from the findings themselves (a
reporter knows ``Finding`` and nothing about the rule registry), so only the
rules that fired are listed. Every result carries ``partialFingerprints``
keyed by the content fingerprint (rule id + secret hash), so a secret that
moves to another line stays the same code-scanning alert. The snippet is
the redacted secret unless ``--show-secrets``.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Optional, TextIO
from urllib.parse import quote

from scanner.version import __version__
from scanner.jsontext import dumps
from scanner.models import Finding, short_commit
from scanner.report import ReportContext, incomplete_text, sort_findings

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "mcp-scan"
# Used until the package metadata names a home page (pyproject [project.urls]).
FALLBACK_INFORMATION_URI = "https://github.com/mcp-scan/mcp-scan"
FINGERPRINT_KEY = "mcpScan/v1"

# SARIF levels and GitHub's security-severity scale (>= 9.0 critical,
# 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low).
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
# CWE-798: Use of Hard-coded Credentials; GitHub shows external/cwe tags.
TAGS = ["security", "secret", "external/cwe/cwe-798"]


def information_uri() -> str:
    """The project's home page from the installed metadata, else the fallback."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        meta = metadata("mcp-secret-scan")
    except (ImportError, PackageNotFoundError):
        return FALLBACK_INFORMATION_URI
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "home", "source", "repository") and url.strip():
            return url.strip()
    return meta["Home-page"] or FALLBACK_INFORMATION_URI if "Home-page" in meta else FALLBACK_INFORMATION_URI


def _quote_path(path: str) -> str:
    # Percent-encode the path's bytes as the file system has them: a name that is not
    # UTF-8 came in through os.fsdecode (byte 0xff as "\udcff") and goes back out as %FF.
    return quote(os.fsencode(path), safe="/")


def artifact_uri(path: str, root: Optional[str] = None) -> str:
    """A relative, percent-encoded URI for ``path`` (absolute paths outside ``root`` become file URIs)."""
    native = path
    if os.path.isabs(native):
        base = os.path.abspath(root or os.getcwd())
        rel = os.path.relpath(native, base)
        if rel == ".." or rel.startswith(".." + os.sep):
            return "file://" + _quote_path(native.replace(os.sep, "/"))
        native = rel
    posix = native.replace(os.sep, "/")
    while posix.startswith("./"):
        posix = posix[2:]
    return _quote_path(posix)


def _rule_name(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def rule_descriptor(finding: Finding) -> dict[str, Any]:
    """A reportingDescriptor built from the first finding of a rule."""
    description = finding.description or finding.message
    remediation = finding.remediation or "Rotate the credential and remove it from the repository."
    return {
        "id": finding.rule_id,
        "name": _rule_name(finding.rule_id),
        "shortDescription": {"text": description},
        "fullDescription": {"text": f"{description}. A credential committed to git stays in its history."},
        "help": {
            "text": f"{description}.\n\nRemediation: {remediation}",
            "markdown": f"**{description}**\n\n**Remediation:** {remediation}",
        },
        "defaultConfiguration": {"level": LEVELS.get(finding.severity, "warning")},
        "properties": {
            "security-severity": SECURITY_SEVERITY.get(finding.severity, "5.5"),
            "precision": {"high": "high", "medium": "medium"}.get(finding.confidence, "low"),
            "severity": finding.severity,
            "tags": list(TAGS),
        },
    }


def _region(finding: Finding, context: ReportContext) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(1, finding.line), "startColumn": max(1, finding.column)}
    if finding.end_line is not None and finding.end_line >= region["startLine"]:
        region["endLine"] = finding.end_line
        if finding.end_column is not None:
            # SARIF's endColumn is exclusive, as is the detector's end offset.
            end_column = max(1, finding.end_column)
            if finding.end_line > region["startLine"] or end_column > region["startColumn"]:
                region["endColumn"] = end_column
            else:
                del region["endLine"]
    region["snippet"] = {"text": context.shown(finding)}
    return region


def result(finding: Finding, rule_index: int, context: ReportContext, root: Optional[str] = None) -> dict[str, Any]:
    """One SARIF result: location, level, fingerprint, redacted snippet."""
    where = f" in commit {short_commit(finding.commit)}" if finding.commit else ""
    repo = finding.extra.get("repo")
    text = f"{finding.message}{where}" + (f" (repository {repo})" if repo else "")
    if finding.extra.get("present_at_head") is False:
        text += "; removed since, but still in the history: rotate it"
    properties: dict[str, Any] = {"severity": finding.severity, "confidence": finding.confidence}
    for key in ("commit", "author", "date"):
        value = getattr(finding, key)
        if value:
            properties[key] = value
    for key, value in finding.extra.items():
        properties.setdefault(key, value)
    sarif: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS.get(finding.severity, "warning"),
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(finding.path, root), "uriBaseId": "%SRCROOT%"},
                    "region": _region(finding, context),
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": properties,
    }
    related = _related_locations(finding, root)
    if related:
        sarif["relatedLocations"] = related
    return sarif


def _related_locations(finding: Finding, root: Optional[str]) -> list[dict[str, Any]]:
    """A grouped history finding's other places (``locations``), as SARIF related locations."""
    related: list[dict[str, Any]] = []
    for loc in finding.extra.get("locations") or ():
        if (loc.get("path"), loc.get("commit")) == (finding.path, finding.commit):
            continue
        entry: dict[str, Any] = {"id": len(related) + 1, "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(str(loc.get("path", "")), root), "uriBaseId": "%SRCROOT%"}}}
        line = loc.get("line")
        if isinstance(line, int) and line > 0:
            entry["physicalLocation"]["region"] = {"startLine": line, "startColumn": max(1, int(loc.get("column") or 1))}
        if loc.get("commit"):
            entry["message"] = {"text": f"also in commit {short_commit(str(loc['commit']))}"}
        related.append(entry)
    return related


def invocation(context: ReportContext) -> dict[str, Any]:
    """The run's invocation: ``executionSuccessful`` is false when part of the input was not fully
    scanned, with one error notification per such part (a viewer shows them with the run)."""
    notifications = []
    for record in context.incomplete:
        notification: dict[str, Any] = {"level": "error", "message": {"text": incomplete_text(record)},
                                        "properties": dict(record)}
        if record.get("rule_id"):
            notification["associatedRule"] = {"id": record["rule_id"]}
        if record.get("path"):
            notification["locations"] = [{"physicalLocation": {"artifactLocation": {
                "uri": artifact_uri(record["path"]), "uriBaseId": "%SRCROOT%"}}}]
        notifications.append(notification)
    return {"executionSuccessful": not context.incomplete, "toolExecutionNotifications": notifications}


def sarif_log(findings: Sequence[Finding], context: ReportContext, root: Optional[str] = None) -> dict[str, Any]:
    """The whole SARIF log as a dict (``write`` serialises it)."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results = []
    for finding in sort_findings(findings):
        if finding.rule_id not in index:
            index[finding.rule_id] = len(rules)
            rules.append(rule_descriptor(finding))
        results.append(result(finding, index[finding.rule_id], context, root))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": information_uri(),
                "rules": rules,
            }
        },
        "automationDetails": {"id": f"{TOOL_NAME}/{context.command}/"},
        # Python string offsets count code points, which is what columns are.
        "columnKind": "unicodeCodePoints",
        "results": results,
        "invocations": [invocation(context)],
        "properties": {"command": context.command, "stats": context.stats, "incomplete": context.incomplete},
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def write(findings: Sequence[Finding], stream: TextIO, context: ReportContext) -> None:
    """Write the SARIF log for ``findings``."""
    stream.write(dumps(sarif_log(findings, context), indent=2))
    stream.write("\n")
