"""The per-blob result type shared by workers, the cache and attribution."""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Optional

if TYPE_CHECKING:
    from scanner.models import Finding
    from scanner.rules import Rule


class Hit(NamedTuple):
    """One finding in one blob, without its path or commit (those come from attribution)."""

    rule_id: str
    fingerprint: str
    line: int
    column: int
    end_line: Optional[int]
    end_column: Optional[int]
    secret: str
    # The detector reported it as a documentation example (Rule.as_example): attribution builds
    # its finding from that variant of the rule, as a scan of the file does.
    example: bool = False

    @classmethod
    def of(cls, finding: "Finding") -> "Hit":
        """The hit a detector finding makes (its path and commit are attribution's)."""
        return cls(finding.rule_id, finding.fingerprint, finding.line, finding.column, finding.end_line,
                   finding.end_column, finding.secret, finding.example)

    def reported_by(self, rule: "Rule") -> "Rule":
        """The rule its finding is built from: ``rule``, or its example variant."""
        return rule.as_example if self.example else rule
