"""Reuse the history walk between runs: ``<git-common-dir>/mcp-scan/walk-<key>.json``
(or ``<cache-dir>/<identity>/walk-<key>.json``, see ``scanner.history.store``).

Re-walking tens of thousands of commits costs more than the whole re-run
budget, and between two runs history usually only grew. The walk is stored
with the ref tips it covered. Next time, when the tips are the same it is
reused as is; when history only grew (every old commit still reachable from
the new tips: one ``git rev-list --count`` says so) just the new commits are
walked and appended, which keeps the topological order (no old commit can
descend from a new one). Anything else (force-pushed or deleted refs) walks
from scratch. Written atomically, under a header naming the format and the
repository identity and a checksum of the body: a damaged file, or one
written for another repository or format, is ignored (with a warning).
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
# 3: a header line (magic, identity, checksum) before the JSON body.
VERSION = 3
MAGIC = b"mcp-scan-walk-cache 3"


def tips(repo: str, revs: Optional[Sequence[str]]) -> list[str]:
    """The commits the walk starts from (sorted, duplicates removed; tags peeled, non-commits ignored)."""
    out = run_git(["log", "--no-walk=unsorted", "--format=%H", *rev_args(revs), "--"], cwd=repo)
    return sorted({line.strip() for line in out.decode("ascii", "replace").splitlines() if line.strip()})


def _path(base: Path, revs: Optional[Sequence[str]]) -> Path:
    key = hashlib.sha256("\0".join(revs or ["--all"]).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return base / f"walk-{key}.json"


def _load(path: Path, identity: str, warnings: list[str]) -> Optional[tuple[list[str], Walk]]:
    try:
        raw = path.read_bytes()
    except OSError:
        return None  # no walk stored yet
    if raw.startswith(b"{"):  # format 2 and older: plain JSON, no header
        warnings.append(f"ignored a history walk cache written for another repository or format ({path}); "
                        "it will be rebuilt")
        return None
    try:
        header, body = raw.split(b"\n", 1)
        magic, _, rest = header.partition(b" ")
        version, _, rest = rest.partition(b" ")
        stored_identity, _, digest = rest.partition(b" ")
        if magic != b"mcp-scan-walk-cache" or version != str(VERSION).encode() or stored_identity.decode("ascii") != (identity or "-"):
            warnings.append(f"ignored a history walk cache written for another repository or format ({path}); "
                            "it will be rebuilt")
            return None
        if hashlib.sha256(body).hexdigest().encode("ascii") != digest:
            raise ValueError("checksum mismatch")
        data: dict[str, Any] = json.loads(body)
        touch(path)
        paths: list[str] = data["paths"]
        walk = Walk(commits=[(c[0], c[1], c[2]) for c in data["commits"]],
                    blobs={oid: [(o[0], paths[o[1]], tuple(o[2:])) for o in occ] for oid, occ in data["blobs"].items()})
        return list(data["tips"]), walk
    except Exception:  # damaged or truncated: walk from scratch
        warnings.append(f"ignored a damaged history walk cache ({path}); it will be rebuilt")
        return None


def _save(path: Path, tip_ids: list[str], walk: Walk, identity: str) -> None:
    index: dict[str, int] = {}
    blobs = {}
    for oid, occ in walk.blobs.items():
        blobs[oid] = [[i, index.setdefault(p, len(index)), *prev] for i, p, prev in occ]
    data = {"version": VERSION, "tips": tip_ids, "paths": list(index), "commits": walk.commits, "blobs": blobs}
    try:
        body = json.dumps(data, separators=(",", ":")).encode("utf-8", "surrogateescape")
        header = b" ".join([MAGIC, (identity or "-").encode("ascii"), hashlib.sha256(body).hexdigest().encode("ascii")])
        atomic_write(path, header + b"\n" + body)
        prune(path.parent, "walk-*.json")
    except (OSError, UnicodeError):
        pass  # a read-only repository only costs the next run a full walk


def cached_walk(repo: str, base: Path, revs: Optional[Sequence[str]],
                walk_fn: Callable[[Optional[Sequence[str]], Sequence[str]], Walk],
                identity: str = "", warnings: Optional[list[str]] = None) -> Walk:
    """The walk over ``revs`` (default all refs), reusing and extending the one stored in ``base``.

    ``walk_fn(revs, exclude)`` performs an actual walk; ``identity`` is the
    repository's (``scanner.history.identity``, "" in its own git directory);
    why a stored walk was not used goes to ``warnings``.
    """
    warnings = [] if warnings is None else warnings
    path = _path(base, revs)
    try:
        now = tips(repo, revs)
    except ScanError:
        return walk_fn(revs, [])  # let the real walk report the bad revision
    if not now:
        return walk_fn(revs, [])
    stored = _load(path, identity, warnings)
    if stored is not None:
        old_tips, walk = stored
        if old_tips == now:
            return walk
        gone = b""
        if old_tips:  # read from a file in the repository: behind --end-of-options like any revision
            gone = run_git(["rev-list", "--count", *rev_args(old_tips, now), "--"], cwd=repo, check=False).strip()
        if gone == b"0":
            walk.extend(walk_fn(now, old_tips))
            _save(path, now, walk, identity)
            return walk
    walk = walk_fn(now, [])  # exactly the tips recorded, even if a ref moves meanwhile
    _save(path, now, walk, identity)
    return walk
