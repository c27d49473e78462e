"""Audit rule ids, their defaults, and the one way audit checks build a Finding.

Audit results are ordinary ``Finding``s so every reporter prints them. The
``secret`` field holds the offending value only when there is one (a literal
credential, a JWT: reporters redact it); ``evidence`` holds a short description
that is never a secret (``staged: .env``, ``mode 0644``) and is printed as is.
The fingerprint hashes rule id, path and the key that names the problem (never
the line, so an edit above it keeps the id, and never the evidence wording).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Optional

from scanner.models import Finding


@dataclass(frozen=True)
class AuditRule:
    """Defaults for one audit rule id: severity, confidence, a description and the fix."""

    severity: str
    confidence: str
    description: str
    remediation: str


RULES: dict[str, AuditRule] = {
    "gitignore-missing": AuditRule(
        "high", "high", "A secret-bearing file exists but .gitignore does not exclude it.",
        "Add it to .gitignore (mcp-scan audit --fix does) so it cannot be committed by accident."),
    "secret-file-tracked": AuditRule(
        "high", "high", "A secret-bearing or ignored file is tracked by git.",
        "Stop tracking it with `git rm --cached -- <path>` (keeps your copy), ignore it, and rotate what it held."),
    "secret-file-in-history": AuditRule(
        "high", "high", "A secret-bearing file was committed at some point in history.",
        "Rotate every credential it held; removing it now does not remove it from history "
        "(rewrite history with git filter-repo only if the repository was never shared)."),
    "mcp-hardcoded-credential": AuditRule(
        "high", "high", "An MCP config holds a literal credential instead of an environment reference.",
        "Replace the literal with a reference such as \"${VAR}\" (headers: \"Bearer ${VAR}\"), keep the "
        "value in the environment or OS keychain, and rotate the exposed one."),
    "mcp-insecure-transport": AuditRule(
        "high", "high", "An MCP server is reached over plain http:// on a non-loopback host.",
        "Use https:// for every remote MCP server; plain http is acceptable only for localhost."),
    "mcp-tls-verification-disabled": AuditRule(
        "high", "high", "TLS certificate verification is switched off for an MCP server.",
        "Re-enable certificate verification; for a private CA point NODE_EXTRA_CA_CERTS (or the "
        "client's CA option) at its bundle instead."),
    "oauth-overbroad-scope": AuditRule(
        "medium", "medium", "An OAuth request asks for more access than an MCP server should need.",
        "Request the minimum scopes (for example mcp:read mcp:write), never admin, full_access, delete or *."),
    "token-ttl-excessive": AuditRule(
        "medium", "medium", "A token lifetime exceeds the guide's maximum.",
        "Keep access tokens to 1-24 hours and refresh tokens to at most 90 days; rely on refresh and rotation."),
    "jwt-alg-none": AuditRule(
        "high", "high", "A JSON Web Token declares alg none, so it carries no signature.",
        "Never accept or issue unsigned tokens; sign with RS256/ES256 (or HS256 with a strong key) "
        "and rotate anything that trusted this token."),
    "jwt-long-lived": AuditRule(
        "medium", "high", "A JSON Web Token lives longer than 24 hours or never expires.",
        "Issue access tokens with an exp no more than 24 hours after iat; revoke or rotate this one."),
    "insecure-file-permissions": AuditRule(
        "medium", "high", "A secret file or directory is readable by group or others.",
        "Restrict it to its owner: chmod 600 for files, chmod 700 for directories (mcp-scan audit --fix does)."),
    "mcp-config-invalid": AuditRule(
        "low", "high", "An MCP config could not be parsed, so it was not checked.",
        "Fix the JSON syntax at the position shown; the client may be ignoring this file too."),
}


def drop_allowed(findings: list[Finding], text: str) -> list[Finding]:
    """``findings`` less those on a line of ``text`` carrying an inline allow marker
    (``// mcp-scan: allow`` in a JSONC config). Whole-file findings (line 0) stay: a
    marker inside a file does not accept the file being tracked."""
    from scanner.allow import has_marker, line_allowed

    if not findings or not has_marker(text):
        return findings
    lines = text.split("\n")  # the JSONC parser counts lines by "\n" alone
    return [f for f in findings if f.line <= 0 or not line_allowed(lines, f.line)]


def audit_fingerprint(rule_id: str, path: str, key: str) -> str:
    """Stable id for one problem: rule id, path and key (not the line)."""
    return hashlib.sha256(f"{rule_id}\0{path}\0{key}".encode("utf-8", "surrogatepass")).hexdigest()


def make_finding(
    rule_id: str,
    path: str,
    message: str,
    *,
    key: str,
    secret: str = "",
    evidence: str = "",
    line: int = 0,
    column: int = 0,
    severity: Optional[str] = None,
    confidence: Optional[str] = None,
    remediation: Optional[str] = None,
    commit: Optional[str] = None,
    author: Optional[str] = None,
    date: Optional[str] = None,
    extra: Optional[dict[str, Any]] = None,
) -> Finding:
    """A Finding for an audit rule; line 0 means the problem is the whole path."""
    rule = RULES[rule_id]
    return Finding(
        rule_id=rule_id,
        severity=severity or rule.severity,
        confidence=confidence or rule.confidence,
        message=message,
        path=path,
        line=line,
        column=column,
        secret=secret,
        evidence=evidence,
        fingerprint=audit_fingerprint(rule_id, path, key),
        commit=commit,
        author=author,
        date=date,
        description=rule.description,
        remediation=remediation or rule.remediation,
        extra=dict(extra or {}),
    )
