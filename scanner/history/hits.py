"""The per-blob result type shared by workers, the cache and attribution."""
from __future__ import annotations

from typing import NamedTuple, Optional


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
