"""Text encodings: a file's bytes as text, and values one encoding away from their text.

``decode_blob`` reads bytes the way git's binary check does (NUL means
binary; UTF-16/32 with a BOM is text). ``DECODERS`` are the value decoders
(base64, percent-encoding) that rule files name in ``decode = [...]`` and
that ``scanner.decode`` tries on encoded candidates. Knows no rules: the
rule loader and the detector both import it.
"""
from __future__ import annotations

import binascii
import functools
from collections.abc import Callable
from typing import Optional

from scanner.lazyre import lazy

MAX_DECODED = 64 * 1024
# One ``%XX`` escape: percent-encoding is tried only where one occurs.
PERCENT_ESCAPE = lazy(r"%[0-9A-Fa-f]{2}")


def has_lone_cr(data: bytes) -> bool:
    """Does ``data`` hold a CR that is not part of a CRLF? The detector ends a line at one, git and
    the byte-level line counts do not."""
    return b"\r" in data and data.count(b"\r") != data.count(b"\r\n")


_LONE_CR = lazy(rb"\r(?!\n)")


def lone_cr_as_lf(data: bytes) -> bytes:
    """``data`` with each lone CR made a line feed (``data`` itself when it holds none): the text
    the detector's rules read (it does the same to its text, ``Detector.raw_hits``), of the same
    length, whose lines byte-level counts and Hyperscan's multi-line anchors see as it does."""
    return _LONE_CR().sub(b"\n", data) if has_lone_cr(data) else data


def as_decoded(data: bytes) -> bytes:
    """``data`` as ``decode_blob`` reads it (each invalid UTF-8 sequence U+FFFD), encoded again:
    valid UTF-8 with the same line feeds, whose slices at line starts decode to the detector's
    characters. For searching a text that is not UTF-8 throughout through its shadow."""
    return data.decode("utf-8", "replace").encode("utf-8")


def decode_blob(data: bytes) -> Optional[str]:
    """Bytes of a file as text, or None for binary content.

    UTF-16/32 with a BOM is decoded; NUL bytes otherwise mean binary (git's
    own heuristic looks at the first 8000 bytes the same way). Invalid UTF-8
    is replaced (U+FFFD) so the valid text around it keeps its columns.
    """
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    elif data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return data.decode("utf-32", "replace")
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", "replace")
    if b"\0" in data[:8000]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace")


def decode_base64(value: str) -> Optional[str]:
    """Strict base64 (standard or URL-safe) that decodes to printable UTF-8 text, else None."""
    cleaned = value.strip()
    if len(cleaned) < 8 or len(cleaned) > MAX_DECODED * 2:
        return None
    cleaned = cleaned.replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        import base64  # only a Kubernetes Secret or a rule with decode = ["base64"] gets here

        raw = base64.b64decode(cleaned, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not text or not all(c.isprintable() or c in "\r\n\t" for c in text):
        return None
    return text


# The same runs recur in window after window of a history ("%eax" in x86 assembly: 22,306 runs
# decoded on gin's, 234 distinct); the answer depends on the run alone.
@functools.lru_cache(maxsize=1024)
def decode_percent(value: str) -> Optional[str]:
    """Percent-decoding of ``value`` when it holds at least one ``%XX`` escape, else None."""
    if not PERCENT_ESCAPE().search(value):
        return None
    from urllib.parse import unquote  # lazily: most runs never get here

    try:
        text = unquote(value, errors="strict") if value.isascii() else None
    except UnicodeDecodeError:  # escapes that are not UTF-8 (e.g. "%dd"): not text, not a secret
        return None
    if text is None or text == value or not text.isprintable():
        return None
    return text


# The names rule files may list in ``decode = [...]``.
DECODERS: dict[str, Callable[[str], Optional[str]]] = {
    "base64": decode_base64,
    "percent": decode_percent,
}


def decode_value(value: str, encodings: tuple[str, ...]) -> Optional[str]:
    """The first successful decoding of ``value`` among ``encodings`` (rule-level ``decode``)."""
    for name in encodings:
        decoded = DECODERS[name](value)
        if decoded is not None:
            return decoded
    return None
