"""One ``git log --raw`` walk: which commit introduced which blob at which path.

A single streaming pass over ``git log --raw --no-abbrev -z -c`` gives, for
every commit in the range, the blobs it added or changed (merges included:
``-c`` lists the paths whose content differs from every parent, i.e. the blobs
a merge itself introduced). No git call per commit or per blob. Commits come
in topological order with parents first (``--topo-order --reverse``), so the
first occurrence of a blob is the commit that introduced it.

``run_walk`` runs it (split across several ``git log`` processes on a long
history); ``parse_log`` reads its output.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Optional

from scanner.errors import ScanError, config_error
from scanner.gitcmd import DELTA_BASE_CACHE, feed, git_failure, run_git, spawn_git

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


def nul_tokens(stream: IO[bytes], chunk: int = 1 << 20) -> Iterator[bytes]:
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
    tokens = nul_tokens(stream)
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


# Below this many commits one git log is about as fast as several.
PARALLEL_WALK_MIN = 4000


def run_walk(repo: str, revs: Optional[Sequence[str]], exclude: Sequence[str], parts: int = 1,
             listed: Optional[Callable[[bytes], None]] = None) -> Walk:
    """The one history walk, split across ``parts`` git processes on a long history.

    One ``git log`` spends about a second per 25,000 commits diffing trees on
    one core while the workers wait for their first chunk. With ``parts`` > 1,
    ``rev-list`` orders the commits (cheap) and each part's ``git log`` diffs
    one contiguous slice; the parsed slices are joined in order, so the walk is
    the same as one process's. Bad revisions are usage errors (exit 2).

    ``listed`` is handed that list (one commit id per line) before the logs start, when it
    names every commit ``revs`` reach (``exclude`` is empty): what else needs the commits
    (their messages) need not list them again.
    """
    if parts <= 1:
        return _log(repo, log_args(revs, exclude))
    try:
        out = run_git(["rev-list", "--topo-order", "--reverse", *rev_args(revs, exclude), "--"], cwd=repo)
    except ScanError:
        out = b""  # one git log below reports the failure in its own words
    if listed is not None and out and not exclude:
        listed(out)
    # one commit id per line, all of one length (SHA-1 or SHA-256): slices are cut by offset
    line = out.find(b"\n") + 1
    if not line or len(out) % line or len(out) // line < PARALLEL_WALK_MIN:
        # one git log, whose own errors are reported (an unborn HEAD is no error there)
        return _log(repo, log_args(revs, exclude))
    step = -(-len(out) // line // parts) * line
    return _stdin_logs(repo, [out[i : i + step] for i in range(0, len(out), step)])


def _log(repo: str, args: list[str], commits: Optional[bytes] = None) -> Walk:
    """Run one ``git log`` (its commits on stdin when given) and parse its output as it streams."""
    # The walk reads trees only: a small delta-base cache serves it as well
    # as git's 96 MB default, which made git log the scan's largest process.
    proc = spawn_git(["-c", f"core.deltaBaseCacheLimit={DELTA_BASE_CACHE}", *args], repo, stdin=commits is not None)
    assert proc.stdout is not None and proc.stderr is not None
    feeder: Optional[threading.Thread] = None
    try:
        if commits is not None:
            assert proc.stdin is not None
            feeder = threading.Thread(target=feed, args=(proc.stdin, commits), kwargs={"close": True}, daemon=True)
            feeder.start()
        walk = parse_log(proc.stdout)
    finally:
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.wait()
        if feeder is not None:
            feeder.join()  # git is gone, so it returns at once; the workers must fork with no other thread alive
    if proc.returncode != 0:
        _walk_failure(args, stderr, repo)
        return Walk()
    return walk


def _stdin_logs(repo: str, slices: list[bytes]) -> Walk:
    """One ``git log --stdin`` per slice of commits, all at once; their walks joined in order."""
    walks: list[Optional[Walk]] = [None] * len(slices)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            walks[index] = _log(repo, stdin_log_args(), slices[index])
        except Exception as exc:  # re-raised in the caller's thread (Ctrl-C reaches that one directly)
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(1, len(slices))]
    for thread in threads:
        thread.start()
    run(0)
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    walk = walks[0] or Walk()
    for later in walks[1:]:
        walk.extend(later or Walk())
    return walk


def _walk_failure(args: Sequence[str], stderr: bytes, repo: str) -> None:
    """Raise for a failed walk, unless the repository simply has no commits yet (then return)."""
    text = stderr.decode("utf-8", "replace")
    if "does not have any commits yet" in text:
        return
    if "bad revision" in text or "unknown revision" in text or "ambiguous argument" in text:
        first = text.strip().splitlines()[0] if text.strip() else "bad revision"
        raise config_error(f"cannot resolve the revisions to scan: {first}",
                           "check --since/--branch: they must name commits in this repository")
    raise git_failure(list(args), stderr, repo)
