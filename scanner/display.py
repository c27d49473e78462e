"""Text from a repository, made safe to show to a person.

File names, author names, commit subjects and config keys are whatever
the repository's author chose: a newline splits a report line in two (and can
forge one), an ESC sequence reprograms the terminal, a bidi override reorders
what is read. ``printable`` shows each such character as an escape
(``\\n``, ``\\x1b``, ``\\u202e``); a byte that is not UTF-8 (a surrogate
escape from ``os.fsdecode``) shows as ``\\xff``. ``display_path`` quotes a
path that needed escaping, as git does, so it cannot be confused with a
name that holds a literal backslash.
"""
from __future__ import annotations

import re

from scanner.lazyre import lazy

# C0 and C1 controls, DEL, line/paragraph separators, bidi marks and overrides, lone surrogates.
_UNSAFE = lazy("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named:
        return named
    code = ord(char)
    if code < 0x80:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's escape for a byte that is not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control, bidi and undecodable character shown as an escape."""
    return _UNSAFE().sub(_escape, text)


def display_path(path: str) -> str:
    """``path`` as is, or in double quotes with C-style escapes when it holds unsafe characters."""
    if not _UNSAFE().search(path):
        return path
    return '"' + printable(path.replace("\\", "\\\\").replace('"', '\\"')) + '"'
