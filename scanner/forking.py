"""Worker pools forked from this process, and what their workers do about Ctrl-C.

Forked workers share this process's pages copy-on-write (rules, compiled regexes, the Hyperscan
database): the history scan's and the file scan's workers and the first compile's helpers all
start through ``start_pool``.
"""
from __future__ import annotations

import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def ignore_interrupts() -> None:
    """A pool initializer: Ctrl-C is the parent's to handle (it terminates the pool and exits 130).
    Workers start with SIGINT blocked (``start_pool``): one that landed before this is discarded,
    not raised (no traceback from a worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def start_pool(count: int, initializer: Callable[..., None], initargs: Sequence[Any] = ()) -> Any:
    """A ``multiprocessing`` pool of ``count`` workers, forked where the platform can (spawned
    elsewhere), with SIGINT blocked across the fork: a Ctrl-C between a worker's fork and its
    initializer (``ignore_interrupts``) prints no traceback (here it stays pending and is raised
    once unblocked)."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if hasattr(signal, "pthread_sigmask") else None
    try:
        return ctx.Pool(count, initializer=initializer, initargs=tuple(initargs))
    finally:
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def forked_pool(count: int, initializer: Callable[..., None], initargs: Sequence[Any] = ()) -> Iterator[Any]:
    """A ``multiprocessing`` pool of ``count`` workers, forked where the platform can (spawned elsewhere).

    Forked workers share this process's pages copy-on-write (rules, compiled regexes, the
    Hyperscan database); the garbage collector is frozen until the pool stops, since a
    collection writes to every object. Started by ``start_pool``; terminated on the way out,
    whatever happened.
    """
    import gc

    frozen = gc.get_freeze_count() == 0  # else a caller froze objects of its own: leave them so
    gc.freeze()
    pool = None
    try:
        pool = start_pool(count, initializer, initargs)
        yield pool
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if frozen:
            gc.unfreeze()
