"""Sources turn places (a staged diff, files, history blobs) into Fragments.

Sources know git but not rules: each yields ``Fragment`` values and the
detector decides what is a secret.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from scanner.models import Fragment


class Source(Protocol):
    """Anything that yields fragments to scan."""

    def fragments(self) -> Iterator[Fragment]:
        """Yield the text to scan, one fragment per file, hunk or blob."""
        ...
