"""Scanning files (``mcp-scan scan``): the rules' Hyperscan database first, as for history blobs.

Each file's bytes go once through every rule at once (``scanner.rulematch``),
and the detector judges only windows of whole lines around the matches
Hyperscan reports, each window searched for the rules matched in it, with all
the detector's gates; a file without a match costs no Python per line. Around
bytes Hyperscan cannot vouch for (non-ASCII, ``\\x1c``-``\\x1f``) every rule
judges a region that holds any match touching them. The keyword path (the
detector on the whole text, as every file went before) takes what windows
cannot stand for: lone ``\\r`` line ends (the detector counts them as lines),
``Secret`` (Kubernetes values are decoded only when the manifest is seen
whole), UTF-16/32 text, files a path-chosen rule reads, unvouched bytes all
over, too many matches. Without Hyperscan (``MCP_SCAN_NO_HYPERSCAN=1``,
``--engine python``, no wheel) every file takes the keyword path.

Many files are split across worker processes (``scan_files``); a few stay in
this process, and a few small ones skip the rule database, so commit-hook-sized
calls pay for neither a fork nor Hyperscan's start-up.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from scanner.decode import may_decode_base64
from scanner.detect import Detector
from scanner.encodings import as_decoded, decode_blob, lone_cr_as_lf
from scanner.forking import forked_pool, ignore_interrupts
from scanner.models import Finding, Fragment, Incomplete
from scanner.sources.files import STDIN, Entry, FilesSource, read_file

# Below this many bytes in all, the rule database is not loaded: a few small
# files (a pre-commit style call) go to the detector whole, as they always did;
# loading Hyperscan and the database costs ~60 ms of CPU and 13 MB.
MATCH_MIN_BYTES = 512 * 1024
# Below this many bytes in all, or this many files, the scan stays in this
# process: forking and starting workers costs more than it saves there.
POOL_MIN_BYTES = 2 * 1024 * 1024
POOL_MIN_FILES = 16
# Chunks per worker: enough that one slow chunk does not leave the others idle.
CHUNKS_PER_WORKER = 8

_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


@dataclass
class FilesResult:
    """What scanning some files found, in file order, and what it could not do."""

    findings: list[Finding] = field(default_factory=list)
    incomplete: list[Incomplete] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0

    def add(self, other: FilesResult) -> None:
        """Append ``other``'s results (a later run of files) to these."""
        self.findings.extend(other.findings)
        self.incomplete.extend(other.incomplete)
        self.errors.extend(other.errors)
        self.files += other.files
        self.bytes += other.bytes


class FileScanner:
    """A detector and the rules' Hyperscan database (None without Hyperscan): file contents in, findings out."""

    def __init__(self, detector: Detector, max_size: int, match: bool = True) -> None:
        self.detector = detector
        self.max_size = max_size
        self.matcher: Any = None
        if match:
            # Imported here, not at the top: a few small files (a pre-commit style call) need
            # neither history's blob reader nor Hyperscan. Built (or loaded from the cache) here,
            # before any fork, so workers share it.
            from scanner.history.blobs import BlobScanner

            self.matcher = BlobScanner.make_matcher(detector)

    def scan_entries(self, entries: Sequence[Entry]) -> FilesResult:
        """Read and scan ``entries`` in order; an unreadable file is an error, a vanished one nothing."""
        result = FilesResult()
        gave_up = self.detector.stats.incomplete
        before = len(gave_up)
        for entry in entries:
            data = read_file(entry.path, self.max_size, result.errors)
            if data is None:
                continue
            result.files += 1
            result.bytes += len(data)
            result.findings.extend(self.scan(entry.path, data))
        result.incomplete = gave_up[before:]
        del gave_up[before:]
        return result

    def scan(self, path: str, data: bytes) -> list[Finding]:
        """Every finding in the file ``path`` holding ``data``, in file order."""
        detector = self.detector
        if self.matcher is not None:
            from scanner.history.blobs import is_binary  # decode_blob's verdict, without decoding

            wide = data[:2] in _WIDE_BOMS or data[:4] in _WIDE_BOMS
            if not wide and is_binary(data):
                return self._binary(path, data)
            # Hyperscan and the windows' line counts see the text the detector's rules read, whose
            # lone CRs are line feeds (it rewrites them the same way, at the same offsets)
            readable = data if wide else lone_cr_as_lf(data)
            if not wide and not detector.reads_path(path) and _windowable(readable):
                found = self._matched(path, readable)
                if found is not None:
                    return found
        text = decode_blob(data)
        if text is None:
            return self._binary(path, data)
        return detector.scan(Fragment(text=text, path=path)) if text else []

    def _binary(self, path: str, data: bytes) -> list[Finding]:
        """Keystores and DER keys are read by the binary rules of their path; other binary files are skipped unread."""
        if not self.detector.reads_binary(path):
            return []
        return self.detector.scan(Fragment(text=data.decode("latin-1"), path=path, binary=True))

    def _matched(self, path: str, data: bytes) -> Optional[list[Finding]]:
        """Findings in windows around the rule matches in ``data`` (each searched for the rules matched
        there; in a text that is not all ASCII, the matches in its shadow); None when the keyword path
        must judge the whole text (too many matches, or bytes Hyperscan cannot vouch for everywhere
        in a text that is not UTF-8)."""
        from scanner.rulematch import text_ok, unvouched_regions
        from scanner.shadow import Shadow

        matcher = self.matcher
        # Non-ASCII bytes (a name, a Unicode test string) leave Hyperscan's word on the text around
        # them unvouched: it searches the text's shadow instead (scanner.shadow), as history does;
        # where there is none (not UTF-8), every rule judges the regions around them.
        view: Optional[Shadow] = None
        regions: Optional[list[tuple[int, int]]] = []
        if not text_ok(data):
            view = Shadow.of(data) if matcher.shadows else None
            if view is None:
                regions = unvouched_regions(data, matcher.max_lines)
                if regions is None and matcher.shadows:
                    data = as_decoded(data)  # not UTF-8 throughout: as the detector reads it
                    view = Shadow.of(data)
                    regions = [] if view is not None else None
                if regions is None:
                    return None
        matcher.path = path  # a whole-text rule whose path condition excludes this file stays out

        def alone(rules: frozenset[int]) -> bool:  # a rule that needs the whole text gets it
            text = (data[3:] if data.startswith(_BOM) else data).decode("utf-8", "replace")
            return bool(self.detector.scan(Fragment(text=text, path=path), rules))

        windows, _ = matcher.search(data, 0, len(data), regions or (), whole=alone, view=view)
        if windows is None:
            return None  # too many matches
        findings: list[Finding] = []
        line, counted = 1, 0
        for lo, hi, rules in windows:  # line-aligned, in file order, not overlapping
            line += data.count(b"\n", counted, lo)
            counted = lo
            window = data[lo:hi]
            if lo == 0 and window.startswith(_BOM):
                window = window[3:]  # decode_blob drops the BOM: columns on line 1 must agree
            # a window starts after a line feed, which no UTF-8 sequence holds: decoding it alone
            # gives the characters (and U+FFFD for invalid bytes) that decoding the whole file gives
            text = window.decode("utf-8", "replace")
            findings.extend(self.detector.scan(Fragment(text=text, path=path, start_line=line), rules))
        return findings


_BOM = b"\xef\xbb\xbf"


def _windowable(data: bytes) -> bool:
    """True when windows find what the detector finds in the whole text (with no lone CR: see
    ``FileScanner.scan``)."""
    return not may_decode_base64(data)  # Kubernetes values are decoded only when the manifest is seen whole


# -- worker processes ------------------------------------------------------
_WORKER: Optional[FileScanner] = None


def _init_worker(detector: Detector, max_size: int) -> None:
    global _WORKER
    ignore_interrupts()  # Ctrl-C is the parent's to handle (it terminates the pool and exits 130)
    _WORKER = FileScanner(detector, max_size)  # forked: the parent's matcher is reused, not rebuilt


def _scan_chunk(entries: list[Entry]) -> FilesResult:
    assert _WORKER is not None, "_init_worker was not run"
    return _WORKER.scan_entries(entries)


def chunks(entries: Sequence[Entry], count: int) -> list[list[Entry]]:
    """``entries`` cut into about ``count`` runs of similar size in bytes, in order."""
    total = sum(max(e.size, 0) for e in entries)
    target = max(1, total // max(1, count))
    out: list[list[Entry]] = []
    current: list[Entry] = []
    size = 0
    for entry in entries:
        current.append(entry)
        size += max(entry.size, 0)
        if size >= target:
            out.append(current)
            current, size = [], 0
    if current:
        out.append(current)
    return out


def scan_files(scanner: FileScanner, entries: Sequence[Entry], jobs: Optional[int]) -> Iterator[FilesResult]:
    """Scan ``entries``: results in file order, from up to ``jobs`` processes (default: one per CPU).

    A small input (under POOL_MIN_BYTES or POOL_MIN_FILES) is scanned here.
    """
    total = sum(max(e.size, 0) for e in entries)
    if jobs == 1 or total < POOL_MIN_BYTES or len(entries) < POOL_MIN_FILES:
        yield scanner.scan_entries(entries)
        return
    from scanner.history.pool import worker_limit  # the same cap as history's and sweep's workers

    workers = worker_limit(jobs)
    if workers == 1:
        yield scanner.scan_entries(entries)
        return
    runs = chunks(entries, workers * CHUNKS_PER_WORKER)
    # The first run is scanned here, before the fork: the rules' regexes it compiles (the
    # generic ones, which nearly every text calls for; ~3 ms each) are then shared by every
    # worker instead of compiled again in each.
    yield scanner.scan_entries(runs[0])
    rest = runs[1:]
    if not rest:
        return
    with forked_pool(min(workers, len(rest)), _init_worker, (scanner.detector, scanner.max_size)) as pool:
        # imap, not imap_unordered: the report lists files in walk order, as a single process would
        yield from pool.imap(_scan_chunk, rest)


def scan_source(scanner: FileScanner, source: FilesSource, entries: Sequence[Entry], jobs: Optional[int]) -> FilesResult:
    """Scan ``entries`` (listed by ``source``) in order; standard input is read and scanned in this process."""
    result = FilesResult()
    start = 0
    for index in [i for i, e in enumerate(entries) if e.path == STDIN] + [len(entries)]:
        for part in scan_files(scanner, entries[start:index], jobs):
            result.add(part)
        if index < len(entries):
            data = source.read(entries[index], result.errors)
            if data is not None:
                gave_up = scanner.detector.stats.incomplete
                before = len(gave_up)
                result.files += 1
                result.bytes += len(data)
                result.findings.extend(scanner.scan(source.stdin_name, data))
                result.incomplete.extend(gave_up[before:])
                del gave_up[before:]
        start = index + 1
    return result
