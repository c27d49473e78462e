"""Reading and scanning blobs: sizes up front, contents through ``git cat-file --batch``.

Each worker process keeps ONE long-lived ``git cat-file --batch`` (started
with ``gitcmd.spawn_git``) and is handed chunks of blob ids. Per blob
the bytes go through a binary check and the Hyperscan keyword prefilter before
anything is decoded, so a blob no rule could match costs git's decompression
and one memory-speed scan, nothing in Python per line.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Optional

from scanner.detect import Detector
from scanner.encodings import decode_blob
from scanner.errors import ScanError
from scanner.forking import ignore_interrupts
from scanner.history.delta import MatchedChain, VersionChain, always
from scanner.history.hits import Hit
from scanner.gitcmd import DELTA_BASE_CACHE, feed, git_failure, run_git, spawn_git
from scanner.models import Fragment, Incomplete

# UTF-16/32 text carries NULs; decode_blob reads it, so the binary check must not skip it.
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")
PIPE_SIZE = 1 << 20


# A unit of work: blob id, size, and the (cache key, path) pairs to scan it as.
Task = tuple[str, int, list[tuple[str, str]]]


@dataclass
class ChunkResult:
    """What a worker sends back for one chunk of tasks."""

    hits: dict[str, list[Hit]] = field(default_factory=dict)  # cache key -> hits (every key, even empty)
    blobs: int = 0
    bytes: int = 0
    binary: int = 0
    errors: list[str] = field(default_factory=list)
    # What a rule could not finish (path and blob named); those keys' hits are
    # reported but never cached as scanned, so the next run tries them again.
    incomplete: list[Incomplete] = field(default_factory=list)
    unfinished: set[str] = field(default_factory=set)
    # The matching stage's counters for this chunk (rule id -> candidate windows, and totals).
    matching: dict[str, int] = field(default_factory=dict)


def blob_sizes(repo: str, oids: Sequence[str]) -> tuple[dict[str, int], list[str]]:
    """Sizes of ``oids`` from one ``git cat-file --batch-check`` (no content read).

    Returns the sizes and the ids git could not find (partial or corrupt clones).
    """
    if not oids:
        return {}, []
    return _parse_sizes(oids, run_git(_SIZES, cwd=repo, input=_size_request(oids)))


# --buffer: one write per buffer, not per object (80,000 sizes: 0.62 s -> 0.26 s)
_SIZES = ["cat-file", "--buffer", "--batch-check=%(objectname) %(objecttype) %(objectsize)"]


class PendingSizes:
    """``blob_sizes`` of ``oids`` asked now and read later (``result``): git sizes the blobs while
    this process does other work. A cold history scan reads every blob of its walk, so it starts
    this before planning them (git's part is most of the 0.28 s it took on sqlalchemy's 86,857
    blobs, with this process waiting). Request and answer go through unnamed temporary files, so
    neither side waits on a pipe."""

    def __init__(self, repo: str, oids: Sequence[str]) -> None:
        import tempfile

        self.repo, self.oids = repo, oids
        self._out: IO[bytes] = tempfile.TemporaryFile()
        self._errors: IO[bytes] = tempfile.TemporaryFile()
        with tempfile.TemporaryFile() as request:
            request.write(_size_request(oids))
            request.seek(0)
            self._proc: Any = spawn_git(_SIZES, repo, files=(request, self._out, self._errors))

    def result(self, wanted: Sequence[str]) -> tuple[dict[str, int], list[str]]:
        """``blob_sizes(repo, wanted)``, for ``wanted`` among the ids asked about."""
        self._proc.wait()
        if self._proc.returncode != 0:
            self._errors.seek(0)
            raise git_failure(_SIZES, self._errors.read(), self.repo)
        self._out.seek(0)
        sizes, missing = _parse_sizes(self.oids, self._out.read())
        if list(wanted) == list(self.oids):
            return sizes, missing  # (a cold scan reads them all: the walk's own id strings, compared by identity)
        return {oid: sizes[oid] for oid in wanted if oid in sizes}, [oid for oid in wanted if oid not in sizes]

    def close(self) -> None:
        """Stop git if it still runs (an error or Ctrl-C before ``result``) and drop the files."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._out.close()
        self._errors.close()


def _size_request(oids: Sequence[str]) -> bytes:
    return "\n".join(oids).encode("ascii") + b"\n"


def _parse_sizes(oids: Sequence[str], out: bytes) -> tuple[dict[str, int], list[str]]:
    """The sizes of ``oids`` in git's ``--batch-check`` answer ``out``, and the ids it could not find."""
    sizes: dict[str, int] = {}
    missing: list[str] = []
    lines = out.decode("ascii", "replace").splitlines()
    if len(lines) != len(oids):
        raise ScanError(f"git cat-file --batch-check answered {len(lines)} lines for {len(oids)} objects",
                        "check the repository with `git fsck`")
    # one answer line per requested id, in order: key the sizes by the caller's
    # id strings (shared with the walk) rather than by a new string per blob
    for oid, line in zip(oids, lines):
        parts = line.split(" ")
        if len(parts) == 3 and parts[1] == "blob":
            sizes[oid] = int(parts[2])
        else:
            missing.append(oid)
    return sizes, missing


def is_binary(data: bytes) -> bool:
    """The same verdict as ``decode_blob(data) is None``, without decoding."""
    if data[:2] in _WIDE_BOMS or data[:4] == b"\x00\x00\xfe\xff":
        return False
    return b"\0" in data[:8003]


class BlobScanner:
    """One ``git cat-file --batch`` stream plus a detector: chunks in, hits out."""

    def __init__(self, repo: str, detector: Detector, delta: bool = True) -> None:
        self.repo = repo
        self.detector = detector
        self._proc: Any = None
        self._prefilter: Any = self._make_prefilter(detector)
        self.matcher: Any = self.make_matcher(detector)
        self.chain = (MatchedChain(self.matcher, enabled=delta) if self.matcher is not None
                      else VersionChain(delta, whole_text_gate(detector)))

    @staticmethod
    def make_matcher(detector: Detector) -> Any:
        """The rules' Hyperscan database (None on the pure-Python path: ``--engine python``,
        ``MCP_SCAN_MATCH=keywords`` or no hyperscan wheel). Built before workers fork, so they share it."""
        import os

        from scanner.prefilter import hyperscan_available

        if detector.engine == "python" or os.environ.get("MCP_SCAN_MATCH") == "keywords":
            return None
        if not (detector.engine == "hyperscan" or hyperscan_available()):
            return None
        from scanner.rulematch import rule_matcher

        return rule_matcher(detector.rules)

    @staticmethod
    def _make_prefilter(detector: Detector) -> Any:
        """Hyperscan for every blob size when available (the detector's own rule would
        send small blobs through the slower Python prefilter)."""
        from scanner.prefilter import HyperscanPrefilter, hyperscan_available

        if detector.engine == "python" or not (detector.engine == "hyperscan" or hyperscan_available()):
            return None
        if detector.needs_every_text:
            return None  # a rule without keywords: every blob is a candidate
        # the detector's candidate pass on text then uses Hyperscan too
        detector.engine = "hyperscan"
        return HyperscanPrefilter(detector.keywords)

    def _start(self) -> Any:
        # Versions of a path arrive together, so a small delta-base cache keeps
        # its hit rate: git's 96 MB default made each cat-file the largest
        # process of the scan (140 MB RSS) for no measurable speed. Started
        # directly, not through GitPython: importing it cost each worker 75 ms.
        proc = spawn_git(["-c", f"core.deltaBaseCacheLimit={DELTA_BASE_CACHE}", "cat-file", "--batch"],
                         self.repo, stdin=True)
        assert proc.stdout is not None
        _widen_pipe(proc.stdout)
        return proc

    def close(self) -> None:
        """Stop the cat-file stream."""
        if self._proc is not None:
            try:
                self._proc.stdin.close()
                self._proc.wait(timeout=5)
            except Exception:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def _might_match(self, data: bytes) -> bool:
        if self._prefilter is not None:
            return bool(self._prefilter.matches(data))
        return self.detector.might_match(data)

    def scan(self, tasks: Sequence[Task]) -> ChunkResult:
        """Read and scan every task's blob; a dead stream is restarted after the blob that killed it."""
        result = ChunkResult()
        start = 0
        before = self._counters()
        while start < len(tasks):
            start = self._scan_from(tasks, start, result)
        after = self._counters()
        result.matching = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        return result

    def _counters(self) -> dict[str, int]:
        chain = self.chain
        counters = {"full_scans": chain.full_scans, "delta_scans": chain.window_scans}
        if isinstance(chain, MatchedChain):
            counters.update({"windows_judged": chain.judged, "windows_reused": chain.reused,
                             "keyword_path": chain.keyword_path, "long_reach": chain.long_reach,
                             "changes_in_pieces": chain.split, "shadowed": chain.shadowed})
            counters.update({f"keyword_path:{k}": v for k, v in chain.reasons.items()})
            counters.update({f"whole_text:{k}": v for k, v in chain.whole_rules.items()})
            counters.update({f"whole_span:{k}": v for k, v in chain.whole_spans.items()})
        if self.matcher is not None:
            counters["searches_without_path_rules"] = self.matcher.common_scans
            names = [r.id for r in self.matcher.rules] + ["decode:percent"]
            counters.update({f"candidates:{names[i]}": n for i, n in enumerate(self.matcher.candidates) if n})
        return counters

    def _scan_from(self, tasks: Sequence[Task], start: int, result: ChunkResult) -> int:
        if self._proc is None:
            self._proc = self._start()
        proc = self._proc
        request = b"".join(t[0].encode("ascii") + b"\n" for t in tasks[start:])
        writer = threading.Thread(target=feed, args=(proc.stdin, request), daemon=True)
        writer.start()
        out: IO[bytes] = proc.stdout
        try:
            for index in range(start, len(tasks)):
                oid, _size, scans = tasks[index]
                header = out.readline()
                if not header:
                    # cat-file died (corrupt object): note it, restart past this blob
                    self._proc = None
                    err = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
                    proc.wait()
                    result.errors.append(f"cannot read blob {oid}: {err.splitlines()[-1] if err else 'git cat-file failed'}")
                    return index + 1
                parts = header.split()
                if len(parts) != 3 or parts[1] != b"blob":
                    result.errors.append(f"cannot read blob {oid}: {header.decode('ascii', 'replace').strip()}")
                    continue
                size = int(parts[2])
                data = out.read(size)
                out.read(1)  # the newline after the content
                result.blobs += 1
                result.bytes += size
                try:
                    self._scan_blob(oid, data, scans, result)
                except (KeyboardInterrupt, MemoryError):
                    raise
                except Exception as exc:  # a detector bug must not lose the whole run: fail closed
                    for key, _ in scans:
                        result.hits.pop(key, None)  # not scanned: never cache it
                    result.errors.append(f"detector failed on blob {oid} ({scans[0][1]}): {type(exc).__name__}: {exc}")
        finally:
            writer.join()
        return len(tasks)

    def _scan_blob(self, oid: str, data: bytes, scans: list[tuple[str, str]], result: ChunkResult) -> None:
        hits = result.hits
        wide = data[:2] in _WIDE_BOMS or data[:4] == b"\x00\x00\xfe\xff"
        if not wide and is_binary(data):
            result.binary += 1
            self.chain.reset()
            for key, path in scans:
                # keystores and DER keys: read by the binary rules of their path, others skipped unread
                hits[key] = self._scan_binary(oid, data, path) if self.detector.reads_binary(path) else []
            return
        gave_up = self.detector.stats.incomplete
        for number, (key, path) in enumerate(scans):
            before = len(gave_up)
            self._scan_as(oid, data, number, key, path, wide, hits)
            if len(gave_up) > before:
                # Not fully scanned: report what was found, never cache the key,
                # and scan the next version of the path whole (its unchanged
                # lines were never fully searched either).
                result.incomplete.extend(gave_up[before:])
                del gave_up[before:]
                result.unfinished.add(key)
                self.chain.reset()

    def _scan_binary(self, oid: str, data: bytes, path: str) -> list[Hit]:
        fragment = Fragment(text=data.decode("latin-1"), path=path, blob=oid, binary=True)
        return [Hit.of(f) for f in self.detector.scan(fragment)]

    def _scan_as(self, oid: str, data: bytes, number: int, key: str, path: str, wide: bool,
                 hits: dict[str, list[Hit]]) -> None:
        """Scan one blob as one path class (``number`` 0 goes through the version chain)."""
        def scan(part: str, start_line: int, only: Optional[frozenset[int]] = None, path: str = path) -> list[Hit]:
            fragment = Fragment(text=part, path=path, start_line=start_line, blob=oid)
            return [Hit.of(f) for f in self.detector.scan(fragment, only)]

        if wide:  # UTF-16/32 text: keywords are not visible in the raw bytes
            text = decode_blob(data)
            hits[key] = VersionChain.unique(scan(text, 1)) if text else []
        elif self.detector.reads_path(path):
            # A rule chosen by path (.pgpass lines, keystores) waits for no keyword or Hyperscan
            # candidate: such files (few, small) are scanned whole, version by version.
            hits[key] = VersionChain(enabled=False).scan(path, data, always, scan)
        elif number == 0:
            hits[key] = self.chain.scan(path, data, self._might_match, scan)
        else:  # another path class of the same blob (rare): whole-file scan
            single = MatchedChain(self.matcher, False) if self.matcher is not None else VersionChain(False)
            hits[key] = single.scan(path, data, self._might_match, scan)


def whole_text_gate(detector: Detector) -> Callable[[bytes], bool]:
    """Could a rule that must see the whole text match in these bytes (one of its keywords
    occurs)? The pure-Python version chain scans such a version whole, never in part."""
    rules = [rule for rule in detector.running_rules if rule.content != "binary" and rule.whole_text]
    if any(not rule.keywords for rule in rules):
        return always
    keywords = tuple(sorted({k.lower().encode("utf-8") for rule in rules for k in rule.keywords}))

    def gate(data: bytes) -> bool:
        lowered = data.lower()
        return any(k in lowered for k in keywords)

    return gate


def keyword_gate(detector: Detector) -> Callable[[bytes], bool]:
    """The test history texts pass before anything is decoded: could any rule fire on these bytes?

    Hyperscan for every size when available, as for blobs (the detector's own
    test sends small texts, such as commit messages, through the slower Python
    prefilter: half a millisecond each with the built-in rules).
    """
    prefilter = BlobScanner._make_prefilter(detector)
    if prefilter is None:
        return detector.might_match
    return lambda data: bool(prefilter.matches(data))


def _widen_pipe(stream: IO[bytes]) -> None:
    """Let the pipe hold 1 MB instead of 64 KB (Linux): all blob content crosses it,
    and fewer, larger transfers cost both processes less (reading the bench corpus
    through it alone: 2.41 s -> 1.94 s)."""
    try:
        import fcntl

        setting = getattr(fcntl, "F_SETPIPE_SZ", 1031 if sys.platform.startswith("linux") else None)
        if setting is not None:
            fcntl.fcntl(stream.fileno(), setting, PIPE_SIZE)
    except (ImportError, OSError, ValueError):
        pass  # another OS, or a lower limit in /proc/sys/fs/pipe-max-size: the default works


# -- worker processes ------------------------------------------------------
_WORKER: Optional[BlobScanner] = None


# A regex this long is compiled by each worker of a whole history as it starts (Workers.prestart):
# the context rules' (secret-named keys with the words that are no secret's name), which most
# histories need and which cost regex 5-70 ms each to parse where no compiled copy is cached.
LARGE_REGEX = 1500


def init_worker(repo: str, detector: Detector, delta: bool = True, warm: bool = False) -> None:
    """Pool initializer: one BlobScanner (one cat-file stream) per worker process; with ``warm``,
    the large regexes compiled up front (the worker forked before the walk has time for it)."""
    global _WORKER
    ignore_interrupts()  # Ctrl-C is the parent's to handle: it terminates the pool and exits 130
    _WORKER = BlobScanner(repo, detector, delta)
    if warm:
        for rule in detector.running_rules:
            if len(rule.regex) > LARGE_REGEX:
                try:
                    rule.pattern
                except Exception:  # a rule regex fails where it is used, in the detector, as before
                    pass


def worker_scanner() -> BlobScanner:
    """This worker's BlobScanner (``init_worker``)."""
    assert _WORKER is not None, "init_worker was not run"
    return _WORKER


def scan_chunk(tasks: Sequence[Task]) -> ChunkResult:
    """Pool task: scan one chunk in this worker's stream."""
    return worker_scanner().scan(tasks)
