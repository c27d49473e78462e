"""Blobs too large to read whole: streamed through the detector in slices.

A blob over ``WHOLE_READ_LIMIT`` used to be skipped unread, so a key in a
6 MB SQL dump or JSON fixture passed a push. Now it is read through a
``git cat-file blob`` of its own, ``slice_bytes`` at a time. Each slice ends
at a line break and begins with the last ``overlap`` bytes of the previous
one (from a line start), so a secret that straddles a cut (a private key
block is at most 16 KB) is whole in one slice; hits found twice in an
overlap are kept once. Memory stays at a few slices whatever the blob's
size. Binary content (a NUL in the first 8000 bytes, git's own test) stops
the read at once.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Optional

from scanner.detect import Detector
from scanner.encodings import decode_blob
from scanner.gitcmd import spawn_git
from scanner.history.blobs import is_binary
from scanner.history.delta import VersionChain
from scanner.history.hits import Hit
from scanner.models import Fragment, Incomplete

# Blobs up to this size are read whole by the workers (and scanned as deltas
# of their previous version); larger ones are streamed here.
WHOLE_READ_LIMIT = 5 * 1024 * 1024
SLICE = 4 * 1024 * 1024
OVERLAP = 64 * 1024
_WIDE = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


@dataclass
class LargeResult:
    """Hits per cache key of one large blob, and what went wrong."""

    hits: dict[str, list[Hit]] = field(default_factory=dict)
    binary: bool = False
    bytes: int = 0
    incomplete: list[Incomplete] = field(default_factory=list)
    unfinished: set[str] = field(default_factory=set)
    error: Optional[str] = None


def scan_large_blob(repo: str, detector: Detector, oid: str, scans: Sequence[tuple[str, str]],
                    slice_bytes: int = SLICE, overlap: int = OVERLAP) -> LargeResult:
    """Scan blob ``oid`` as each ``(cache key, path)`` of ``scans``, never holding it whole."""
    result = LargeResult()
    proc = spawn_git(["cat-file", "blob", oid], repo)
    assert proc.stdout is not None and proc.stderr is not None
    found: dict[str, dict[tuple[str, str, int, int], Hit]] = {key: {} for key, _ in scans}
    gave_up = detector.stats.incomplete
    before = len(gave_up)
    try:
        _stream(proc.stdout, detector, oid, scans, slice_bytes, overlap, found, result)
    finally:
        if result.binary:
            proc.kill()
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.stderr.close()
        proc.wait()
    if proc.returncode != 0 and not result.binary:
        message = stderr.decode("utf-8", "replace").strip().splitlines()
        result.error = f"cannot read blob {oid}: {message[-1] if message else 'git cat-file failed'}"
        return LargeResult(error=result.error)
    if len(gave_up) > before:
        result.incomplete.extend(gave_up[before:])
        del gave_up[before:]
        result.unfinished.update(key for key, _ in scans)
    for key, _ in scans:
        ordered = sorted(found[key].values(), key=lambda h: (h.line, h.column))
        result.hits[key] = VersionChain.unique(ordered)
    return result


def _stream(stream: IO[bytes], detector: Detector, oid: str, scans: Sequence[tuple[str, str]], slice_bytes: int,
            overlap: int, found: dict[str, dict[tuple[str, str, int, int], Hit]], result: LargeResult) -> None:
    chunk = stream.read(slice_bytes)
    result.bytes += len(chunk)
    if chunk[:4] in _WIDE or chunk[:2] in _WIDE:
        # UTF-16/32 text (rare at this size): decoded whole, it has no byte-level line breaks to cut at
        rest = stream.read()
        result.bytes += len(rest)
        _scan(detector, oid, scans, decode_blob(chunk + rest) or "", 1, 0, found)
        return
    if is_binary(chunk):
        result.binary = True
        return
    carry = b""
    line = 1  # the line number of the buffer's first line
    column = 0  # characters of that line before the buffer (when it starts mid-line)
    while True:
        buffer = carry + chunk
        following = stream.read(slice_bytes) if chunk else b""
        result.bytes += len(following)
        if not following:
            _scan(detector, oid, scans, buffer.decode("utf-8", "replace"), line, column, found)
            return
        cut = buffer.rfind(b"\n") + 1 or len(buffer)  # whole lines only, unless one line fills the slice
        _scan(detector, oid, scans, buffer[:cut].decode("utf-8", "replace"), line, column, found)
        keep = max(0, cut - overlap)
        newline = buffer.find(b"\n", keep, cut)
        if 0 <= newline < cut - 1:
            keep = newline + 1  # the overlap starts a line: line numbers stay exact
        starts = buffer.rfind(b"\n", 0, keep) + 1  # where the line holding ``keep`` starts in this buffer
        line_before = buffer.count(b"\n", 0, keep)
        column = (column if starts == 0 and line_before == 0 else 0) + len(buffer[starts:keep].decode("utf-8", "replace"))
        line += line_before
        carry = buffer[keep:]
        chunk = following


def _scan(detector: Detector, oid: str, scans: Sequence[tuple[str, str]], text: str, line: int, column: int,
          found: dict[str, dict[tuple[str, str, int, int], Hit]]) -> None:
    """Scan one slice; ``column`` characters of its first line came before it (columns are shifted by them)."""
    if not text:
        return
    for key, path in scans:
        for f in detector.scan(Fragment(text=text, path=path, start_line=line, blob=oid)):
            start = f.column + (column if f.line == line else 0)
            end = f.end_column + (column if f.end_line == line else 0) if f.end_column is not None else None
            hit = Hit(f.rule_id, f.fingerprint, f.line, start, f.end_line, end, f.secret, f.example)
            found[key].setdefault((hit.rule_id, hit.fingerprint, hit.line, hit.column), hit)
