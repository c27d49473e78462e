"""One ``git log --raw`` walk: which commit introduced which blob at which path.

A single streaming pass over ``git log --raw --no-abbrev -z -c`` gives, for
every commit in the range, the blobs it added or changed (merges included:
``-c`` lists the paths whose content differs from every parent, i.e. the blobs
a merge itself introduced). No git call per commit or per blob. Commits come
in topological order with parents first (``--topo-order --reverse``), so the
first occurrence of a blob is the commit that introduced it.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Optional

GITLINK_MODE = b"160000"
SYMLINK_MODE = b"120000"
# git's null object id ("no blob": an added file's old side, a deleted file's
# new side), in SHA-1 and SHA-256 repositories
NULL_OIDS = (b"0" * 40, b"0" * 64)

Occurrence = tuple[int, str, tuple[str, ...]]

# \x01 cannot appear in a hash, and starts each commit header in the stream.
LOG_FORMAT = "--format=%x01%H%x00%an <%ae>%x00%aI"


@dataclass
class Walk:
    """What the walk found.

    ``commits[i]`` is ``(sha, author, date)`` in topological order (parents
    first). ``blobs`` maps a blob id to its occurrences ``(commit index,
    path, previous)`` in walk order, so ``blobs[oid][0]`` is where it was
    introduced; ``previous`` holds the blob ids the path had in the commit's
    parents (empty for an added file), which tells whether a secret in this
    version is new or was already there before the scanned range.

    ``refs`` maps the index of each entry of ``commits`` that stands for a ref
    reaching blobs without a commit (a tag of a blob or tree) to that ref:
    such an entry is ``(ref name, "", "")``, after every real commit.
    """

    commits: list[tuple[str, str, str]] = field(default_factory=list)
    blobs: dict[str, list[Occurrence]] = field(default_factory=dict)
    refs: dict[int, str] = field(default_factory=dict)

    def extend(self, later: "Walk") -> None:
        """Append the walk of commits that come after this one's (their indices follow ours)."""
        offset = len(self.commits)
        self.commits.extend(later.commits)
        for oid, occ in later.blobs.items():
            shifted = [(i + offset, p, prev) for i, p, prev in occ]
            seen = self.blobs.get(oid)
            if seen is None:
                self.blobs[oid] = shifted
            else:
                seen.extend(shifted)


# Per commit: the blobs it changed (merges: combined, -c), whole ids, NUL-separated.
_RAW = ["--raw", "--no-abbrev", "-z", "-c", "--root", "--no-renames", "--no-ext-diff", "--no-textconv",
        "--no-color", LOG_FORMAT]


def rev_args(revs: Optional[Sequence[str]], exclude: Sequence[str] = ()) -> list[str]:
    """``revs`` (default every ref) minus ``exclude``, as arguments git cannot take for options.

    Revisions come from users, CI environments and files in the repository:
    one spelled ``--output=FILE`` must be a bad revision to git, not an
    option that writes a file. So every one follows ``--end-of-options``
    (git >= 2.24), and exclusions are written ``^REV`` because ``--not``
    would itself be read as a revision there. Callers end the list with
    ``--`` where the command takes paths.
    """
    return [*([] if revs else ["--all"]), "--end-of-options", *(revs or ()), *(f"^{rev}" for rev in exclude)]


def log_args(revs: Optional[Sequence[str]], exclude: Sequence[str]) -> list[str]:
    """Arguments for the walk over ``revs`` (default every ref) minus ``exclude``."""
    return ["log", *_RAW, "--topo-order", "--reverse", *rev_args(revs, exclude), "--"]


def stdin_log_args() -> list[str]:
    """Arguments for the same walk output over the commits listed on stdin, in that order.

    A slice of ``git rev-list --topo-order --reverse`` given to each of several
    such processes yields, concatenated, exactly the bytes of ``log_args``'s
    walk: each commit's diff is against its own parents, whoever lists it.
    """
    return ["log", *_RAW, "--no-walk=unsorted", "--stdin"]


def _tokens(stream: IO[bytes], chunk: int = 1 << 20) -> Iterator[bytes]:
    """NUL-separated tokens of ``stream``, read in large chunks."""
    rest = b""
    while True:
        data = stream.read(chunk)
        if not data:
            break
        parts = (rest + data).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def parse_log(stream: IO[bytes]) -> Walk:
    """Parse the walk's output (see ``log_args``) into a ``Walk``."""
    walk = Walk()
    commits = walk.commits
    blobs = walk.blobs
    paths: dict[bytes, str] = {}  # decode (and intern) each distinct path once
    oids: dict[bytes, str] = {}  # likewise for blob ids
    authors: dict[bytes, str] = {}
    tokens = _tokens(stream)
    index = -1
    pending: Optional[bytes] = None  # raw meta waiting for its path token
    for token in tokens:
        if pending is not None:
            meta, pending = pending, None
            colons = len(meta) - len(meta.lstrip(b":"))
            fields = meta[colons:].split(b" ")
            # ":old new oid_old oid_new S" or, for merges, "::m1 m2 m3 o1 o2 o3 SS"
            mode = fields[colons]
            raw_oid = fields[2 * colons + 1]
            if raw_oid in NULL_OIDS or mode in (GITLINK_MODE, SYMLINK_MODE) or index < 0:
                continue
            oid = oids.get(raw_oid)
            if oid is None:
                oid = oids[raw_oid] = raw_oid.decode("ascii")
            path = paths.get(token)
            if path is None:
                # as the staged and file sources do: a non-UTF-8 name keeps its bytes
                # (surrogate escapes), so it round-trips and matches them and baselines
                path = paths[token] = os.fsdecode(token)
            # one str per distinct id: the previous version is usually another key of ``blobs``
            previous = tuple(oids.get(o) or oids.setdefault(o, o.decode("ascii"))
                             for o in fields[colons + 1 : 2 * colons + 1] if o not in NULL_OIDS)
            seen = blobs.get(oid)
            if seen is None:
                blobs[oid] = [(index, path, previous)]
            else:
                seen.append((index, path, previous))
            continue
        token = token.lstrip(b"\n")
        if not token:
            continue
        if token[0] == 1:
            sha = token[1:].decode("ascii")
            raw_author = next(tokens, b"")
            author = authors.get(raw_author)
            if author is None:  # a history has few authors: one str each
                author = authors[raw_author] = raw_author.decode("utf-8", "replace")
            date = next(tokens, b"").decode("ascii", "replace")
            commits.append((sha, author, date))
            index += 1
        elif token[0] == 58:  # ":" raw diff line; the path follows as the next token
            pending = token
    return walk
