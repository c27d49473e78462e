"""Secrets hidden one encoding away: base64 and percent-encoded values.

Kubernetes ``Secret`` manifests carry every value base64-encoded under
``data:``; a ``.dockerconfigjson`` is base64 of JSON that holds more base64;
URLs and form bodies percent-encode ``=``, ``:`` and ``@``. Plain rules miss
all of these. This module finds *candidates* cheaply, decodes them, splices
the decoded text back into its line (so a ``password:`` key keeps giving
context) and lets the detector scan that view. Hits inside the decoded part
are reported at the encoded text: path, line and column are where a person
would look.

The hot path stays cheap: base64 is only tried inside files that declare a
Kubernetes Secret (a substring test first, then one regex), percent-decoding
only around ``%XX`` escapes, and decoding recurses at most ``MAX_DEPTH``
levels with a cap on candidates and decoded size.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Optional, Protocol

from scanner.encodings import PERCENT_ESCAPE, decode_base64, decode_percent
from scanner.lazyre import lazy

if TYPE_CHECKING:  # pragma: no cover
    from scanner.rules import Rule

Hit = tuple[int, int, "Rule", str]


class RawScanner(Protocol):
    """What the decoded views are scanned with: the detector's rules over one text, no decoding.

    A protocol, not ``Detector``, so that this module sits below the detector
    that calls it (``scanner.detect`` passes itself).
    """

    def raw_hits(self, text: str, path: str) -> list[Hit]:
        """``(start, end, rule, secret)`` of every rule match in ``text``, read as the file ``path``."""
        ...


MAX_DEPTH = 2
MAX_CANDIDATES = 256
# Context kept on each side of a decoded value: its line, but no more than
# this, so a huge single-line file (minified JS, a data URI full of %20)
# costs O(candidates x CONTEXT) instead of O(candidates x line length),
# which was quadratic (cubic with recursion) and hung commits for minutes.
CONTEXT = 512

# The literal comes first so re searches for it at memchr speed (a leading \b made
# every position a match attempt: 4 ms on a 500 KB file, now 70 us).
_K8S_SECRET = lazy(r"""kind(?<=\bkind)["']?\s*:\s*["']?Secret\b""")
# The same on the raw bytes, as a superset: any byte of a multi-byte character (or a separator
# \x1c-\x1f) may be a space Python's \s takes; no word boundaries.
_K8S_SECRET_BYTES = lazy(rb"""kind["']?(?:\s|[\x1c-\x1f\x80-\xff])*:(?:\s|[\x1c-\x1f\x80-\xff])*["']?Secret""")


def may_decode_base64(data: bytes) -> bool:
    """Could the detector decode base64 values in this text (UTF-8 bytes)? Only in a Kubernetes
    Secret manifest (``kind: Secret``), whose values it decodes only when it sees the manifest
    whole: such texts must be scanned whole. A word test first: most texts never say "Secret"."""
    return b"Secret" in data and _K8S_SECRET_BYTES().search(data) is not None


# A YAML ``key: <base64>`` line or a JSON ``"key": "<base64>"`` pair.
_B64_VALUE = lazy(
    r"""(?m)^[ \t]*["']?[\w.-]{1,253}["']?[ \t]*:[ \t]*["']?(?P<v>[A-Za-z0-9+/]{8,16384}={0,2})["']?[ \t]*,?[ \t]*\r?$"""
    r"""|"[\w.-]{1,253}"[ \t]*:[ \t]*"(?P<j>[A-Za-z0-9+/]{8,16384}={0,2})\""""
)
# Characters a percent-encoded run may hold (RFC 3986 unreserved + sub-delims + %).
_URL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=:@/?")
_MAX_RUN = 2048


def _base64_candidates(text: str) -> Iterator[tuple[int, int, str]]:
    # A cheap substring test first: most files never mention "Secret".
    if "Secret" not in text or not _K8S_SECRET().search(text):
        return
    for match in _B64_VALUE().finditer(text):
        group = "v" if match.group("v") is not None else "j"
        decoded = decode_base64(match.group(group))
        if decoded is not None:
            yield match.start(group), match.end(group), decoded


def _percent_candidates(text: str) -> Iterator[tuple[int, int, str]]:
    if "%" not in text:
        return
    last_end = -1
    for match in PERCENT_ESCAPE().finditer(text):
        if match.start() < last_end:
            continue
        start, end = match.start(), match.end()
        # Grow the run over URL characters, bounded so one huge token costs little.
        while start > 0 and match.start() - start < _MAX_RUN and text[start - 1] in _URL_CHARS:
            start -= 1
        while end < len(text) and end - match.end() < _MAX_RUN and text[end] in _URL_CHARS:
            end += 1
        last_end = end
        decoded = decode_percent(text[start:end])
        if decoded is not None:
            yield start, end, decoded


def _line_span(text: str, start: int, end: int) -> tuple[int, int]:
    left = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    ends = [i for i in (text.find("\n", end), text.find("\r", end)) if i != -1]
    return left, min(ends) if ends else len(text)


def decoded_hits(
    detector: RawScanner, text: str, path: str, depth: int = 0, opaque: Optional[list[tuple[int, int]]] = None
) -> list[Hit]:
    """Hits found in decoded views of ``text``, placed on the encoded spans of ``text``.

    Each candidate's line is rebuilt with the decoded value in place of the
    encoded one and scanned (recursively, up to ``MAX_DEPTH``); a hit that
    overlaps the decoded part becomes a hit on the encoded text, whose raw
    value is the finding's secret.

    ``opaque`` (when given) receives the spans of base64 values that were
    decoded: such a value means nothing until decoded, so the caller lets the
    decoded verdict replace plain hits on it (a Secret whose data decodes to
    "changeme" is a placeholder, however random its base64 looks).
    """
    if depth >= MAX_DEPTH:
        return []
    hits: list[Hit] = []
    seen = 0
    for finder in (_base64_candidates, _percent_candidates):
        for enc_start, enc_end, decoded in finder(text):
            if opaque is not None and finder is _base64_candidates:
                opaque.append((enc_start, enc_end))
            seen += 1
            if seen > MAX_CANDIDATES:
                return hits
            left, right = _line_span(text, enc_start, enc_end)
            left, right = max(left, enc_start - CONTEXT), min(right, enc_end + CONTEXT)
            view = text[left:enc_start] + decoded + text[enc_end:right]
            dec_start, dec_end = enc_start - left, enc_start - left + len(decoded)
            inner = detector.raw_hits(view, path) + decoded_hits(detector, view, path, depth + 1)
            for start, end, rule, _secret in inner:
                if start < dec_end and end > dec_start:
                    hits.append((enc_start, enc_end, rule, text[enc_start:enc_end]))
    return hits
