"""Reuse the history walk between runs: ``<git-common-dir>/mcp-scan/walk-<key>.json``.

Re-walking tens of thousands of commits costs more than the whole re-run
budget, and between two runs history usually only grew. The walk is stored
with the ref tips it covered. Next time, when the tips are the same it is
reused as is; when history only grew (every old commit still reachable from
the new tips: one ``git rev-list --count`` says so) just the new commits are
walked and appended, which keeps the topological order (no old commit can
descend from a new one). Anything else (force-pushed or deleted refs) walks
from scratch. Written atomically; a damaged file is ignored.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Optional

from scanner.errors import ScanError
from scanner.gitcmd import run_git
from scanner.history.walk import Walk, rev_args
from scanner.paths import atomic_write, prune, touch

# 2: paths decoded with os.fsdecode (version 1 turned non-UTF-8 bytes into U+FFFD).
VERSION = 2


def tips(repo: str, revs: Optional[Sequence[str]]) -> list[str]:
    """The commits the walk starts from (sorted, duplicates removed; tags peeled, non-commits ignored)."""
    out = run_git(["log", "--no-walk=unsorted", "--format=%H", *rev_args(revs), "--"], cwd=repo)
    return sorted({line.strip() for line in out.decode("ascii", "replace").splitlines() if line.strip()})


def _path(common_dir: Path, revs: Optional[Sequence[str]]) -> Path:
    key = hashlib.sha256("\0".join(revs or ["--all"]).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return common_dir / "mcp-scan" / f"walk-{key}.json"


def _load(path: Path) -> Optional[tuple[list[str], Walk]]:
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
        if data.get("version") != VERSION:
            return None
        touch(path)
        paths: list[str] = data["paths"]
        walk = Walk(commits=[(c[0], c[1], c[2]) for c in data["commits"]],
                    blobs={oid: [(o[0], paths[o[1]], tuple(o[2:])) for o in occ] for oid, occ in data["blobs"].items()})
        return list(data["tips"]), walk
    except Exception:  # missing, damaged or foreign: walk from scratch
        return None


def _save(path: Path, tip_ids: list[str], walk: Walk) -> None:
    index: dict[str, int] = {}
    blobs = {}
    for oid, occ in walk.blobs.items():
        blobs[oid] = [[i, index.setdefault(p, len(index)), *prev] for i, p, prev in occ]
    data = {"version": VERSION, "tips": tip_ids, "paths": list(index), "commits": walk.commits, "blobs": blobs}
    try:
        atomic_write(path, json.dumps(data, separators=(",", ":")).encode("utf-8", "surrogateescape"))
        prune(path.parent, "walk-*.json")
    except (OSError, UnicodeError):
        pass  # a read-only repository only costs the next run a full walk


def cached_walk(repo: str, common_dir: Path, revs: Optional[Sequence[str]],
                walk_fn: Callable[[Optional[Sequence[str]], Sequence[str]], Walk]) -> Walk:
    """The walk over ``revs`` (default all refs), reusing and extending the stored one.

    ``walk_fn(revs, exclude)`` performs an actual walk.
    """
    path = _path(common_dir, revs)
    try:
        now = tips(repo, revs)
    except ScanError:
        return walk_fn(revs, [])  # let the real walk report the bad revision
    if not now:
        return walk_fn(revs, [])
    stored = _load(path)
    if stored is not None:
        old_tips, walk = stored
        if old_tips == now:
            return walk
        gone = b""
        if old_tips:  # read from a file in the repository: behind --end-of-options like any revision
            gone = run_git(["rev-list", "--count", *rev_args(old_tips, now), "--"], cwd=repo, check=False).strip()
        if gone == b"0":
            walk.extend(walk_fn(now, old_tips))
            _save(path, now, walk)
            return walk
    walk = walk_fn(now, [])  # exactly the tips recorded, even if a ref moves meanwhile
    _save(path, now, walk)
    return walk
