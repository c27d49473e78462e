"""Audit checks for one file about to be committed (for ``mcp-scan staged``).

The staged command scans added lines; an MCP config needs its whole staged
text (``git show :PATH``) to be parsed, and a secret *file* is a problem
whatever its lines say. ``check_staged_file`` covers both, so the hook can
block ``git add .env`` and a literal ``API_KEY`` in ``.claude/mcp/server.json``
with a message that shows the ``${VAR}`` form to use.
"""
from __future__ import annotations

import shlex
from typing import Any, Optional

from scanner.audit.findings import make_finding
from scanner.audit.gitignore import classify
from scanner.audit.jsonc import JsoncError, parse
from scanner.audit.mcp_config import has_servers, is_known_config, lint_config, looks_like_config
from scanner.audit.pem import public_material_only
from scanner.models import Finding

# Files never to commit at all (the guide's .env and key files); MCP configs are linted instead.
_BLOCKED_KINDS = frozenset({"env", "key", "secrets-dir"})


def is_mcp_config(path: str, text: str) -> bool:
    """Known MCP client path, or a JSON file holding MCP server entries."""
    if is_known_config(path):
        return True
    if not path.lower().endswith((".json", ".jsonc")) or not looks_like_config(text.encode("utf-8", "replace")):
        return False
    try:
        return has_servers(parse(text))
    except JsoncError:
        return False


def check_staged_file(path: str, text: Optional[str], *, detector: Any = None) -> list[Finding]:
    """Findings for committing ``path`` with content ``text`` (None for binary or deleted)."""
    findings: list[Finding] = []
    secret = classify(path)
    if secret is not None and secret.kind == "key" and public_material_only(text):
        secret = None  # a certificate or public key named like a key file: nothing secret in it
    if secret is not None and secret.kind in _BLOCKED_KINDS:
        findings.append(make_finding(
            "secret-file-tracked", path, f"secret file {path} is being committed",
            evidence=f"staged: {path}", key=path,
            remediation=f"Unstage it with `git restore --staged -- {shlex.quote(path)}`, add `{secret.entry}` "
                        "to .gitignore, and keep the values in the environment or OS keychain.",
            extra={"entry": secret.entry, "tracked": True, "ignored": False},
        ))
    if text is not None and is_mcp_config(path, text):
        findings.extend(lint_config(path, text, detector=detector))
    return findings
