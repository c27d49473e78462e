"""The scanning processes: blobs packed into chunks, scanned here or by a pool of forked workers.

``pack_chunks`` packs the blobs to read (all versions of a path together, each
next to the version it was edited from, newest first along a line of history, so
git's delta-base cache and the line-delta scan work); ``Workers``
scans them with ``scanner.history.blobs``, in this process when one worker is
enough, else in a pool forked once the chunks are counted, or, for a cold whole
history that fills it, before the walk (one worker scans the commit messages then).
"""
from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Iterator
from typing import Any, Optional

from scanner.detect import Detector
from scanner.history.blobs import BlobScanner, ChunkResult, Task, init_worker, scan_chunk, worker_scanner
from scanner.history.messages import EarlyMessages, scan_every_message
from scanner.history.progress import Progress
from scanner.history.walk import Walk

# Chunk bounds: small enough to balance two workers and report progress
# often, large enough that per-chunk IPC is noise.
CHUNK_BLOBS = 512
CHUNK_BYTES = 8 * 1024 * 1024
_chunk_blobs = CHUNK_BLOBS  # tests lower it to exercise several chunks and workers


def pack_chunks(tasks: list[Task], walk: Walk) -> list[list[Task]]:
    """Group all versions of a path together, each after its parent or child (``_by_lineage``), then
    pack groups into bounded chunks.

    A chunk boundary inside a path's versions costs a whole-file scan of the
    next version (see ``scanner.history.delta``), so groups are split only
    when one alone is several chunks long.
    """
    first = {oid: occ[0][0] for oid, occ in walk.blobs.items()}
    ordered = sorted(tasks, key=lambda t: (t[2][0][1], -first.get(t[0], 0)))
    groups: list[list[Task]] = []
    for task in ordered:
        if groups and groups[-1][0][2][0][1] == task[2][0][1]:
            groups[-1].append(task)
        else:
            groups.append([task])
    groups = [_by_lineage(group, walk) if len(group) > 2 else group for group in groups]
    packed: list[list[Task]] = []
    current: list[Task] = []
    size = 0
    for group in groups:
        group_size = sum(t[1] for t in group)
        if current and (len(current) + len(group) > _chunk_blobs or size + group_size > CHUNK_BYTES):
            packed.append(current)
            current, size = [], 0
        if len(group) > 4 * _chunk_blobs or group_size > 4 * CHUNK_BYTES:
            for task in group:  # a huge group: cut it like a plain list
                if current and (len(current) >= 4 * _chunk_blobs or size + task[1] > 4 * CHUNK_BYTES):
                    packed.append(current)
                    current, size = [], 0
                current.append(task)
                size += task[1]
            continue
        current.extend(group)
        size += group_size
    if current:
        packed.append(current)
    return packed


def _by_lineage(group: list[Task], walk: Walk) -> list[Task]:
    """A path's versions (newest first) reordered so that each follows a version it was edited
    from or into wherever the history allows: the chain (``scanner.history.delta``) searches only
    what changed since the version before it, and two branches' versions interleaved by commit
    order differ in far more than either's own edits (sqlalchemy's changed spans 1.23 -> 1.08 GB).

    The order is a depth-first walk of the versions' tree (each version's parent: the version the
    path had in the parent commit of the commit that introduced it there), reversed, so a line of
    history still comes newest first, as git's delta-base cache wants it. A parent must be
    introduced before its child, so the tree has no cycle (a revert reintroduces an older id)."""
    path = group[0][2][0][1]
    born: dict[str, int] = {}  # version -> index of the commit that introduced it at this path
    parent: dict[str, str] = {}
    for task in group:
        for index, where, previous in walk.blobs.get(task[0], ()):
            if where == path:
                born[task[0]] = index
                if previous:  # (a merge's: its first parent's)
                    parent[task[0]] = previous[0]
                break
    children: dict[str, list[Task]] = {}
    roots: list[Task] = []
    for task in group:  # newest first: siblings and roots keep that order
        up = parent.get(task[0])
        if up is not None and up in born and born[up] < born.get(task[0], -1):
            children.setdefault(up, []).append(task)
        else:
            roots.append(task)
    order: list[Task] = []
    stack = roots[::-1]
    while stack:
        task = stack.pop()
        order.append(task)
        stack.extend(children.get(task[0], ())[::-1])
    order.reverse()
    return order if len(order) == len(group) else group


# More workers than a few per core only add memory and contention (each holds
# a detector and a git cat-file): --jobs is capped at this many per CPU.
WORKERS_PER_CPU = 4


def worker_limit(jobs: Optional[int]) -> int:
    """The processes ``jobs`` (default: the CPU count) may really use: 1 to WORKERS_PER_CPU per CPU."""
    cpus = os.cpu_count() or 1
    return max(1, min(jobs or cpus, WORKERS_PER_CPU * cpus))


class Workers:
    """The scanning processes: this process alone, or a pool of forked workers, at most one per chunk.

    The pool starts once the chunks are known: a scan with one chunk forks
    nothing, and no scan forks more workers than it has chunks or than
    ``worker_limit`` allows. (A cold whole history whose objects fill every
    worker with chunks forks them all before the walk instead: ``prestart``;
    they share none of the walk.) This process holds the walk by then, and the
    workers share its pages copy-on-write. To keep them shared: everything is
    frozen out of the garbage collector until the pool stops (a collection,
    here or in a worker, writes to every object), the chunks are pickled
    before the fork (pickling touches the walk's strings), and the pool stops
    as soon as the chunks are done, before attribution reads the walk again.
    Measured on a 100,000-commit history: the same process-tree PSS as
    forking before the walk (bench/README.md, soak).
    """

    def __init__(self, repo: str, detector: Detector, line_delta: bool, jobs: Optional[int],
                 warm: bool = False) -> None:
        self.repo, self.detector, self.line_delta = repo, detector, line_delta
        self.jobs = worker_limit(jobs)
        self.pool: Any = None
        self.frozen = False
        # A whole history (``warm``) on several CPUs forks its pool before the walk (``prestart``):
        # the workers compile the context rules' large regexes while this process walks, and one
        # of them reads and scans the commit messages (``every_message``). A short range (a push,
        # a pull request) may need neither, and may fit one chunk: its pool waits for the chunks.
        self.early = warm and self.jobs > 1

    def fills_pool(self, objects: int) -> bool:
        """Would a history of ``objects`` objects (blobs among them) give every worker a chunk?
        Only then is the whole pool forked before the walk: a smaller one waits for its chunks,
        and forks no more workers than it has chunks (none for one)."""
        return objects >= self.jobs * _chunk_blobs

    def prestart(self) -> None:
        """Fork the pool now (before the walk, which starts threads; see ``early``)."""
        BlobScanner.make_matcher(self.detector)  # compiled (or loaded) once, before the fork
        self._start(self.jobs, warm=True)

    def every_message(self, suffix: str) -> "EarlyMessageTask":
        """The task of scanning every reachable commit's message in a worker (``scan_every_message``);
        the pool must be started."""
        return EarlyMessageTask(self.pool, suffix)

    def _start(self, count: int, warm: bool = False) -> None:
        import gc

        from scanner.forking import start_pool

        self.frozen = gc.get_freeze_count() == 0  # else a caller froze objects of its own: leave them so
        gc.freeze()
        self.pool = start_pool(count, init_worker, (self.repo, self.detector, self.line_delta, warm))

    def close(self) -> None:
        """Stop the workers (at once: called after the results are in, or on an error or Ctrl-C)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None
        if self.frozen:
            import gc

            gc.unfreeze()
            self.frozen = False

    def start(self, chunks: list[list[Task]], progress: Optional[Progress], total_blobs: int,
              total_bytes: int) -> Iterator[ChunkResult]:
        """Start scanning ``chunks`` and return their results (in any order), reporting progress
        after each. A pool's workers begin at once, so the caller can do work of its own (the
        commit messages) before reading the results; in this process, nothing runs until then."""
        if progress:
            progress(0, total_blobs, 0, total_bytes)
        if not chunks:
            return iter(())
        sizes = {id(c): (len(c), sum(t[1] for t in c)) for c in chunks}

        def reported(results: Iterable[tuple[ChunkResult, int]]) -> Iterator[ChunkResult]:
            done_blobs = done_bytes = 0
            for res, chunk_id in results:
                done_blobs += sizes[chunk_id][0]
                done_bytes += sizes[chunk_id][1]
                if progress:
                    progress(done_blobs, total_blobs, done_bytes, total_bytes)
                yield res

        if self.pool is None:
            BlobScanner.make_matcher(self.detector)  # compiled (or loaded) once, before any fork
            if min(self.jobs, len(chunks)) == 1:
                return reported(self._here(chunks))
        payloads: Iterable[tuple[bytes, int]] = ((pickle.dumps(c, pickle.HIGHEST_PROTOCOL), id(c)) for c in chunks)
        if self.pool is None:
            payloads = list(payloads)  # pickled before the fork (see the class comment)
            self._start(min(self.jobs, len(chunks)))
        # (A pool forked before the walk shares none of it: the pool's feeder pickles as it sends,
        # and the first chunks are scanned while the last are pickled.)
        return reported(self._collected(self.pool.imap_unordered(_scan_pickled, payloads)))

    def _here(self, chunks: list[list[Task]]) -> Iterator[tuple[ChunkResult, int]]:
        scanner = BlobScanner(self.repo, self.detector, self.line_delta)
        try:
            for chunk in chunks:
                yield scanner.scan(chunk), id(chunk)
        finally:
            scanner.close()

    def _collected(self, results: Iterator[tuple[ChunkResult, int]]) -> Iterator[tuple[ChunkResult, int]]:
        """The pool's results; the pool stops once the last is in (see the class comment)."""
        try:
            yield from results
        finally:
            self.close()


class EarlyMessageTask:
    """Every reachable commit's message, scanned by one pool worker while this process walks.

    It starts as soon as the walk has listed the commits (``listed``: ``git rev-list`` over
    every ref, which the walk runs first anyway), else once the walk is done (``start``: the
    worker lists them itself). ``get()`` its result before the chunks' last one: the pool stops
    then.
    """

    def __init__(self, pool: Any, suffix: str) -> None:
        self.pool, self.suffix = pool, suffix
        self.pending: Any = None

    def listed(self, commits: bytes) -> None:
        """Start on ``commits`` (one id per line: every commit every ref reaches)."""
        if self.pending is None:
            self.pending = self.pool.apply_async(_every_message, (self.suffix, commits))

    def start(self) -> None:
        """Start, listing the commits in the worker, unless ``listed`` started it."""
        if self.pending is None:
            self.pending = self.pool.apply_async(_every_message, (self.suffix, None))

    def get(self) -> EarlyMessages:
        self.start()
        result: EarlyMessages = self.pending.get()
        return result


def _every_message(suffix: str, commits: Optional[bytes]) -> EarlyMessages:
    """A worker's task: every reachable commit's message (see ``EarlyMessageTask``)."""
    scanner = worker_scanner()
    return scan_every_message(scanner.repo, scanner.detector, suffix, commits)


def _scan_pickled(item: tuple[bytes, int]) -> tuple[ChunkResult, int]:
    """A worker's task: one chunk, pickled before the fork (see ``Workers``), and its id."""
    return scan_chunk(pickle.loads(item[0])), item[1]
