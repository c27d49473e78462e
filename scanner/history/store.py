"""The portable cache: many repositories' history caches in one directory (``--cache-dir``).

Without it, a repository's caches live in its own ``<git-common-dir>/mcp-scan/``
and die with the clone; a CI runner starts from nothing every night. With
``--cache-dir DIR`` (or ``cache-dir`` in the config) they live in
``DIR/<identity>/``, where ``<identity>`` (``scanner.history.identity``) is the
same for every clone of one repository. The files are those of the
repository's own directory: ``history-<key>.cache`` (scanned blobs and their
redacted hits, one per rule-set and options key) and ``walk-<key>.json`` (the
commit walk: object ids and paths). Neither holds a secret. ``DIR`` is what a
CI system saves and restores (``actions/cache``, GitLab ``cache:``).

``prune`` runs after a sweep: files unused for ``max_age`` go first, then the
least recently used until the directory fits in ``max_size``. Loading a cache
file marks it used (its mtime).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

DEFAULT_MAX_AGE = 30 * 24 * 3600  # seconds: a repository not swept for a month
DEFAULT_MAX_SIZE = 2 * 1024**3    # bytes: a fifth of GitHub Actions' 10 GB per cache
_PATTERNS = ("history-*.cache", "walk-*.json")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class Store:
    """A portable cache directory and its pruning limits."""

    root: Path
    max_age: float = DEFAULT_MAX_AGE
    max_size: int = DEFAULT_MAX_SIZE

    def base(self, identity: str) -> Path:
        """The directory holding one repository's caches."""
        return self.root / identity[:32]


def parse_age(value: object) -> float:
    """Seconds from an integer number of days or a string such as ``"30d"``, ``"12h"``, ``"2w"``.

    Raises ValueError saying what is accepted.
    """
    syntax = "must be a positive number of days or a duration such as 30d, 12h or 2w"
    if isinstance(value, bool):
        raise ValueError(syntax)
    if isinstance(value, int):
        seconds = float(value) * 86400
    elif isinstance(value, str):
        text = value.strip().lower()
        unit = text[-1:] if text[-1:] in _AGE_UNITS else "d"
        number = text[:-1] if text[-1:] in _AGE_UNITS else text
        if not number.isdigit():
            raise ValueError(syntax)
        seconds = float(int(number) * _AGE_UNITS[unit])
    else:
        raise ValueError(syntax)
    if seconds <= 0:
        raise ValueError(syntax)
    return seconds


def age_arg(text: str) -> float:
    """``parse_age`` as an argparse ``type`` (a bad value is a usage error naming the flag)."""
    import argparse

    try:
        return parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} {exc}") from None


@dataclass
class PruneResult:
    """What ``prune`` removed and what is left."""

    removed: int = 0
    freed: int = 0
    kept: int = 0
    size: int = 0


def _entries(root: Path) -> list[tuple[float, int, Path]]:
    found = []
    for directory in root.iterdir() if root.is_dir() else ():
        if not directory.is_dir() or directory.is_symlink():
            continue
        for pattern in _PATTERNS:
            for path in directory.glob(pattern):
                try:
                    info = path.lstat()
                except OSError:
                    continue
                found.append((info.st_mtime, info.st_size, path))
    return found


def prune(store: Store, now: Optional[float] = None) -> PruneResult:
    """Delete cache files unused for ``max_age``, then the least recently used until under ``max_size``.

    Only mcp-scan's own cache files directly under ``DIR/<identity>/`` are
    considered; anything else in ``DIR`` (mirrors, the user's files) is left alone.
    """
    now = time.time() if now is None else now
    result = PruneResult()
    entries = sorted(_entries(store.root), key=lambda e: e[0])  # oldest first
    keep: list[tuple[float, int, Path]] = []
    for mtime, size, path in entries:
        if now - mtime > store.max_age:
            _remove(path, size, result)
        else:
            keep.append((mtime, size, path))
    total = sum(size for _, size, _ in keep)
    while keep and total > store.max_size:
        _, size, path = keep.pop(0)
        _remove(path, size, result)
        total -= size
    for directory in {path.parent for _, _, path in entries}:
        try:
            directory.rmdir()  # only when now empty
        except OSError:
            pass
    result.kept, result.size = len(keep), total
    return result


def _remove(path: Path, size: int, result: PruneResult) -> None:
    try:
        os.unlink(path)
    except OSError:
        return  # another run pruned it first, or read-only: nothing lost
    result.removed += 1
    result.freed += size
