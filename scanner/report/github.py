"""CI log annotations (GitHub Actions, Azure Pipelines) and a markdown job summary.

Annotations are workflow commands printed to stdout; the runner turns them
into inline errors on the diff. Their values are escaped as the runners
require so a file name cannot end the command early or inject another one.
Secrets are always redacted here: CI logs are read by many people.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from scanner.models import Finding, redact, severity_rank, short_commit
from scanner.report import sort_findings


def _gh_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(value: str) -> str:
    return _gh_data(value).replace(":", "%3A").replace(",", "%2C")


def _shown(finding: Finding) -> str:
    return redact(finding.secret) if finding.secret else finding.evidence


def _text(finding: Finding) -> str:
    commit = f" (commit {short_commit(finding.commit)})" if finding.commit else ""
    if finding.extra.get("present_at_head") is False:
        commit += ", removed since but still in the history"
    return f"{finding.message}{commit}: {_shown(finding)} [{finding.rule_id}]. {finding.remediation}"


def github_annotation(finding: Finding) -> str:
    """One ``::error``/``::warning`` workflow command for a finding."""
    level = "error" if severity_rank(finding.severity) >= severity_rank("high") else "warning"
    props = [f"file={_gh_property(finding.path)}", f"line={finding.line}", f"col={finding.column}"]
    if finding.end_line:
        props.append(f"endLine={finding.end_line}")
        if finding.end_column and finding.end_line == finding.line:
            props.append(f"endColumn={finding.end_column}")
    props.append(f"title={_gh_property('mcp-scan: ' + finding.rule_id)}")
    return f"::{level} {','.join(props)}::{_gh_data(_text(finding))}"


def _azure_value(value: str) -> str:
    # Azure's logging commands end a property at ';' and the command at ']' or a newline.
    return (value.replace("%", "%AZP25").replace(";", "%3B").replace("\r", "%0D")
            .replace("\n", "%0A").replace("]", "%5D"))


def azure_annotation(finding: Finding) -> str:
    """One ``##vso[task.logissue]`` logging command for a finding."""
    kind = "error" if severity_rank(finding.severity) >= severity_rank("high") else "warning"
    return (f"##vso[task.logissue type={kind};sourcepath={_azure_value(finding.path)};"
            f"linenumber={finding.line};columnnumber={finding.column};code={finding.rule_id}]"
            f"{_azure_value(_text(finding))}")


def annotation_lines(findings: Sequence[Finding], style: str) -> list[str]:
    """Annotation lines in the provider's ``style`` ("github", "azure"; anything else: none)."""
    render = {"github": github_annotation, "azure": azure_annotation}.get(style)
    return [render(f) for f in sort_findings(findings)] if render else []


_MD_ESCAPES = {ord(c): f"&#{ord(c)};" for c in "&<>\"'|\\`*_[]()#!~"}
_MD_ESCAPES.update({ord("\n"): " ", ord("\r"): " "})


def _md(value: object) -> str:
    """Escape for a markdown table cell: HTML, pipes, emphasis and link syntax as entities."""
    return str(value).translate(_MD_ESCAPES)


def job_summary(findings: Sequence[Finding], title: str, scanned: str, limit: int = 100) -> str:
    """A markdown summary for the job page: totals, then the first ``limit`` findings."""
    lines = [f"## {_md(title)}", ""]
    if not findings:
        lines += [f"No secrets found in {_md(scanned)}.", ""]
        return "\n".join(lines)
    count = len(findings)
    lines += [f"**{count} secret{'s' if count != 1 else ''} found** in {_md(scanned)}.", ""]
    by_severity = Counter(f.severity for f in findings)
    order = sorted(by_severity, key=severity_rank, reverse=True)
    lines += ["| Severity | Findings |", "| --- | ---: |"]
    lines += [f"| {_md(s)} | {by_severity[s]} |" for s in order]
    lines += ["", "| Severity | Rule | Location | Commit | Secret |", "| --- | --- | --- | --- | --- |"]
    ordered = sorted(sort_findings(findings), key=lambda f: -severity_rank(f.severity))
    for finding in ordered[:limit]:
        where = f"{finding.path}:{finding.line}"
        if finding.extra.get("repo"):
            where = f"{finding.extra['repo']}: {where}"
        lines.append(f"| {_md(finding.severity)} | {_md(finding.rule_id)} | {_md(where)} | "
                     f"{_md(short_commit(finding.commit))} | {_md(_shown(finding))} |")
    if count > limit:
        lines.append(f"\n... and {count - limit} more; see the SARIF or JSON report.")
    remediations = sorted({f.remediation for f in findings if f.remediation})
    if remediations:
        lines += ["", "### What to do", ""] + [f"- {_md(r)}" for r in remediations[:10]]
    lines.append("")
    return "\n".join(lines)
