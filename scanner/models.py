"""The values that flow between sources, the detector and reporters."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional

SEVERITIES = ("info", "low", "medium", "high", "critical")
CONFIDENCES = ("low", "medium", "high")


@dataclass(frozen=True)
class Fragment:
    """A piece of text from one place: a file, a diff hunk, a blob.

    ``start_line`` is the 1-based line number of the fragment's first line in
    the file it came from (a diff hunk starts mid-file). Git context is
    optional: a plain file scan leaves ``commit`` and friends as None.
    """

    text: str
    path: str
    start_line: int = 1
    commit: Optional[str] = None
    author: Optional[str] = None
    date: Optional[str] = None
    blob: Optional[str] = None


@dataclass(frozen=True)
class Finding:
    """One secret (or configuration problem) at one place.

    ``secret`` holds the raw value in memory only; reporters print
    ``display_secret()``, which is redacted unless the user asked otherwise.
    ``extra`` carries command-specific fields (``repo``, ``present_at_head``,
    ...) that reporters add to their output verbatim.
    """

    rule_id: str
    severity: str
    message: str
    path: str
    line: int
    column: int
    secret: str
    fingerprint: str
    confidence: str = "high"
    end_line: Optional[int] = None
    end_column: Optional[int] = None
    commit: Optional[str] = None
    author: Optional[str] = None
    date: Optional[str] = None
    description: str = ""
    remediation: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def replace(self, **changes: Any) -> "Finding":
        """A copy with some fields changed (findings are immutable)."""
        return dataclasses.replace(self, **changes)


def redact(secret: str) -> str:
    """A short prefix of ``secret`` followed by a marker; never the whole value.

    At most a quarter of the secret (and never more than 4 characters) is
    kept, so even a short password is not recoverable from the output.
    """
    keep = min(4, len(secret) // 4)
    return f"{secret[:keep]}***REDACTED***"


def severity_rank(severity: str) -> int:
    """Order severities for sorting and thresholds (unknown sorts lowest)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def confidence_rank(confidence: str) -> int:
    """Order confidences for ``--min-confidence`` (unknown sorts lowest)."""
    return CONFIDENCES.index(confidence) if confidence in CONFIDENCES else -1
