"""Regular expressions compiled on first use instead of at import.

``mcp-scan staged`` imports the detector's modules on every commit; a pattern
compiled at import costs that start-up even when no hit ever needs it.
"""
from __future__ import annotations

import re
from typing import AnyStr, Callable


def lazy(pattern: AnyStr, flags: int = 0) -> Callable[[], re.Pattern[AnyStr]]:
    """A function returning ``re.compile(pattern, flags)``, compiled on its first call."""
    compiled: list[re.Pattern[AnyStr]] = []

    def get() -> re.Pattern[AnyStr]:
        if not compiled:
            compiled.append(re.compile(pattern, flags))
        return compiled[0]

    return get
