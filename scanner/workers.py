"""Worker processes for scans that split their input: how many, and a pool that shares this process's pages.

``mcp-scan scan`` uses it; ``mcp-scan history`` keeps its own copy of the
same cap (``WORKERS_PER_CPU``) until its orchestrator's move settles.
"""
from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Optional

# More workers than a few per core only add memory and contention (each holds
# a detector and its Hyperscan scratch): --jobs is capped at this many per CPU.
WORKERS_PER_CPU = 4


def worker_limit(jobs: Optional[int]) -> int:
    """The processes ``jobs`` (default: the CPU count) may really use: 1 to WORKERS_PER_CPU per CPU."""
    cpus = os.cpu_count() or 1
    return max(1, min(jobs or cpus, WORKERS_PER_CPU * cpus))


def ignore_interrupts() -> None:
    """In a worker: Ctrl-C is the parent's to handle (it terminates the pool and exits 130).

    Workers start with SIGINT blocked (``forked_pool``), so one that lands
    before this runs is discarded here rather than raised as a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def forked_pool(count: int, initializer: Callable[..., None], initargs: Sequence[Any] = ()) -> Iterator[Any]:
    """A ``multiprocessing`` pool of ``count`` workers, forked where the platform can (spawned elsewhere).

    Forked workers share this process's pages copy-on-write (the rules, their
    compiled regexes, the Hyperscan database); the garbage collector is frozen
    until the pool stops, since a collection writes to every object and would
    copy them all. The pool is terminated on the way out, whatever happened
    (results in, an error, Ctrl-C).
    """
    import gc
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    frozen = gc.get_freeze_count() == 0  # else a caller froze objects of its own: leave them so
    gc.freeze()
    pool = None
    try:
        # Forked with SIGINT blocked (it stays pending here, raised once unblocked): a Ctrl-C
        # between a worker's fork and its initializer must not print that worker's traceback.
        blocked = hasattr(signal, "pthread_sigmask")
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if blocked else None
        try:
            pool = ctx.Pool(count, initializer=initializer, initargs=tuple(initargs))
        finally:
            if old is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
        yield pool
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if frozen:
            gc.unfreeze()
