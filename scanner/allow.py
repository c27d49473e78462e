"""Inline allow markers: a comment on a line that tells every check to leave that line alone.

The detector applies them to secret-rule hits; the audit applies them to
findings that point at a line (an MCP config value, a token lifetime, a JWT),
so one marker works the same for both. Ours, plus gitleaks' and
detect-secrets' so a team can switch scanners without editing code.
"""
from __future__ import annotations

from collections.abc import Sequence

ALLOW_MARKERS = ("mcp-scan: allow", "mcp-scan:allow", "gitleaks:allow", "pragma: allowlist secret")
ALLOW_NEXT_LINE = "pragma: allowlist nextline secret"


def has_marker(text: str) -> bool:
    """True when ``text`` holds any marker (a cheap test before looking at lines)."""
    return any(m in text for m in ALLOW_MARKERS + (ALLOW_NEXT_LINE,))


def line_allowed(lines: Sequence[str], line: int) -> bool:
    """True when 1-based ``line`` carries a marker, or the line before it allows the next line."""
    if not 1 <= line <= len(lines):
        return False
    if any(marker in lines[line - 1] for marker in ALLOW_MARKERS):
        return True
    return line >= 2 and ALLOW_NEXT_LINE in lines[line - 2]
