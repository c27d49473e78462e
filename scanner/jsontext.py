"""JSON text that is valid UTF-8 whatever file names it holds.

A path that is not valid UTF-8 reaches us as lone surrogates (``os.fsdecode``:
byte 0xff becomes ``"\\udcff"``). ``json.dumps(ensure_ascii=False)`` writes
such a character raw, and no UTF-8 encoder accepts it (or, with
surrogateescape, it writes the raw byte and the file is no longer UTF-8).
``dumps`` writes it as the JSON escape ``\\udcff`` instead, which
``json.loads`` reads back as the same string, so the path still round-trips to
the file system and matches across commands and baselines.
"""
from __future__ import annotations

import json
import re
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **kwargs)`` with lone surrogates as ``\\uXXXX`` escapes."""
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    # Raw surrogates can only occur inside string literals, where \\uXXXX is their JSON spelling.
    return _LONE_SURROGATE.sub(_escape, text)
