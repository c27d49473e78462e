"""The values that flow between sources, the detector and reporters."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:  # mypy checks them as the dataclasses they behave as
    from dataclasses import dataclass, field, replace
else:  # at run time: without importing dataclasses (scanner/record.py says why)
    from scanner.record import dataclass, field, replace

from scanner.lazyre import lazy

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
    # When set, the text is context and only findings touching one of these
    # (first, last) line ranges count: a staged file read whole so that a
    # secret spanning lines (a key body pasted between committed BEGIN/END
    # lines) is seen, while its unchanged lines are not reported again.
    report_lines: Optional[tuple[tuple[int, int], ...]] = None
    # Content that is not text (a keystore, a DER key): ``text`` then holds
    # its bytes one character each (latin-1), and only rules with
    # ``content = "binary"`` read it.
    binary: bool = False


@dataclass(frozen=True)
class Finding:
    """One secret (or configuration problem) at one place.

    ``secret`` holds the raw value in memory only; reporters print it
    redacted unless the user asked otherwise. It is empty when there is no
    value to hide (most audit findings: a tracked ``.env``, a file mode);
    ``evidence`` then says what was found, in words that are never a secret,
    and reporters print it as is.
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
    evidence: str = ""
    # The value looks like a documentation example (filler in a provider's format), so the finding
    # is at low confidence and its message says so (scanner/rules.py, Rule.as_example).
    example: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def replace(self, **changes: Any) -> "Finding":
        """A copy with some fields changed (findings are immutable)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Incomplete:
    """Something a scan could not finish: a rule that gave up on a text, a blob it could not read.

    A scan with any of these is not clean whatever it found: commands exit 3
    (unless findings already make it 1) and reports carry them under
    ``incomplete``. ``reason`` is a stable keyword (``regex-timeout``,
    ``missing-blob``); ``count`` groups many alike (missing blobs of a
    partial clone). Never holds a secret: a rule id, a path, object ids.
    """

    reason: str
    message: str
    rule_id: Optional[str] = None
    path: Optional[str] = None
    commit: Optional[str] = None
    blob: Optional[str] = None
    count: int = 1
    repo: Optional[str] = None  # set by sweep

    def replace(self, **changes: Any) -> "Incomplete":
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``"incomplete": [...]`` in JSON, SARIF properties and merged reports)."""
        return {"reason": self.reason, "rule_id": self.rule_id, "path": self.path, "commit": self.commit,
                "blob": self.blob, "count": self.count, "repo": self.repo, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Incomplete":
        """Read back what ``to_dict`` wrote (``merge`` reads shards' reports)."""
        def text(key: str) -> Optional[str]:
            value = data.get(key)
            return None if value is None else str(value)

        count = data.get("count")
        return cls(reason=text("reason") or "unknown", message=text("message") or "not fully scanned",
                   rule_id=text("rule_id"), path=text("path"), commit=text("commit"), blob=text("blob"),
                   count=count if isinstance(count, int) and count > 0 else 1, repo=text("repo"))

    def describe(self) -> str:
        """One line for stderr naming what was not scanned: rule, path, commit."""
        where = [f"{self.repo}: {self.message}" if self.repo else self.message]
        if self.rule_id:
            where.append(f"rule {self.rule_id}")
        if self.path:
            where.append(f"path {self.path}")
        if self.commit:
            where.append(f"commit {short_commit(self.commit)}")
        elif self.blob:
            where.append(f"blob {self.blob[:12]}")
        return ", ".join(where)


_OBJECT_ID = lazy(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def short_commit(commit: Optional[str]) -> str:
    """A commit id cut to 12 digits for people; anything else (a ref name standing in for a
    commit, for what a tag or custom ref reaches without one) whole."""
    if not commit:
        return ""
    return commit[:12] if _OBJECT_ID().fullmatch(commit) else commit


# What a redacted secret ends with; the history cache and merge recognise redacted values by it.
REDACTION_MARK = "***REDACTED***"


def redact(secret: str) -> str:
    """A short prefix of ``secret`` followed by a marker; never the whole value.

    At most a quarter of the secret (and never more than 4 characters) is
    kept, so even a short password is not recoverable from the output.
    """
    keep = min(4, len(secret) // 4)
    return f"{secret[:keep]}{REDACTION_MARK}"


def severity_rank(severity: str) -> int:
    """Order severities for sorting and thresholds (unknown sorts lowest)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def confidence_rank(confidence: str) -> int:
    """Order confidences for ``--min-confidence`` (unknown sorts lowest)."""
    return CONFIDENCES.index(confidence) if confidence in CONFIDENCES else -1
