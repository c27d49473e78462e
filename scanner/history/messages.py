"""Commit and annotated-tag messages: where people paste tokens ("tested with sk_live_...").

Each message is a text of its own, scanned under the path ``<commit message>``
(or ``<tag message refs/tags/x>``) and attributed to its commit (or tag). As
for blobs, one secret at one path is one finding: a secret repeated in
several commit messages is attributed to the first commit in the walk's
topological order, with ``commits`` counting them all.

The walk already lists the scanned range's commits, so one streamed
``git cat-file --batch`` reads the messages of those the cache has not
answered, from the commit objects themselves (``_commit_messages``); no git
call per commit, and a range (``--since``, ``--branch``, CI and pre-push
ranges) holds only its own commits' messages. A cold whole history has them
read and scanned by a worker during the walk (``scan_every_message``). Messages
are cached like blobs, keyed by the commit or tag id (``message_key``): redacted
hits only, the message read again when ``--show-secrets`` needs the secret.
"""
from __future__ import annotations

import codecs
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from scanner.detect import Detector, rule_finding
from scanner.errors import ScanError
from scanner.gitcmd import feed, git_failure, run_git, spawn_git
from scanner.history.blobs import BlobScanner, keyword_gate
from scanner.history.delta import MatchedChain
from scanner.history.cache import BlobCache
from scanner.history.hits import Hit
from scanner.history.refs import TagMessage
from scanner.models import Finding, Fragment, Incomplete
from scanner.rules import Rule

COMMIT_MESSAGE = "<commit message>"
_BOM = b"\xef\xbb\xbf"


@dataclass
class MessageResult:
    """Findings in messages, what could not be fully scanned, and the hits to cache (every key scanned)."""

    findings: list[Finding] = field(default_factory=list)
    incomplete: list[Incomplete] = field(default_factory=list)
    hits: dict[str, list[Hit]] = field(default_factory=dict)


@dataclass
class EarlyMessages:
    """Every reachable commit's message, scanned at the start of a cold whole-history scan by a
    pool worker while this process walks the history (``scan_every_message``): hits per commit
    id, the commits a rule could not finish, and those records."""

    hits: dict[str, list[Hit]] = field(default_factory=dict)
    unfinished: set[str] = field(default_factory=set)
    incomplete: list[Incomplete] = field(default_factory=list)


def scan_every_message(repo: str, detector: Detector, suffix: str, commits: Optional[bytes] = None) -> EarlyMessages:
    """The messages of every commit every ref reaches (``commits``, one id per line, else
    ``git rev-list --all``; then one ``git cat-file --batch``), each scanned as ``scan_messages``
    scans it; ``suffix`` ends their cache keys (``message_key``)."""
    early = EarlyMessages()
    scanned = MessageResult()
    gate = keyword_gate(detector)
    chain = _matched_chain(detector)
    clean: list[Hit] = []  # shared by the messages without a hit (pickled once)
    listed = commits.decode("ascii", "replace").split() if commits is not None else None
    for sha, data in _commit_messages(repo, listed):
        key = f"message:{sha}{suffix}"
        hits = _scan_one(detector, gate, data, Fragment(text="", path=COMMIT_MESSAGE, commit=sha), key,
                         scanned, chain)
        early.hits[sha] = hits or clean
        if key not in scanned.hits:
            early.unfinished.add(sha)
    early.incomplete = scanned.incomplete
    return early


def _reread(cache: BlobCache, key: str, need_secrets: bool) -> bool:
    """Whether a cached message must be read again for its real secrets: when the caller needs
    them, and for JWT-shaped ones (reports say whether the token expired), as for blobs."""
    found = cache.hits.get(key)
    return bool(found) and (need_secrets or any(h.secret.startswith("eyJ") for h in found or ()))


def message_key(oid: str, path: str, key_of: Callable[[str, str], str]) -> str:
    """The cache key of a commit's or tag's message: never a blob's key."""
    return key_of(f"message:{oid}", path)


def scan_messages(repo: str, detector: Detector, commits: Sequence[tuple[str, str, str]], tags: Sequence[TagMessage],
                  cache: BlobCache, key_of: Callable[[str, str], str], need_secrets: bool = False,
                  early: Optional[EarlyMessages] = None) -> MessageResult:
    """Scan the messages of ``commits`` (walk order) and ``tags``; ``cache`` answers those it has scanned.

    ``cache`` is the history's ``BlobCache`` (``scanned`` keys, ``hits``). ``early`` answers the
    commits it scanned (``scan_every_message``); any other (a ref moved meanwhile) is read here.
    """
    result = MessageResult()
    rules = {rule.id: rule for rule in detector.rules}
    suffix = key_of("", COMMIT_MESSAGE)  # every commit message has the same path, so the same path class
    found: list[tuple[int, Fragment, list[Hit]]] = []  # (walk order, where, hits)
    todo: dict[str, tuple[int, Fragment]] = {}
    for order, (sha, author, date) in enumerate(commits):
        key = f"message:{sha}{suffix}"
        if key in cache.scanned and not _reread(cache, key, need_secrets):
            hits = cache.hits.get(key, [])
        elif early is not None and sha in early.hits:
            hits = early.hits[sha]
            if sha not in early.unfinished:
                result.hits[key] = hits
        else:
            todo[sha] = (order, Fragment(text="", path=COMMIT_MESSAGE, commit=sha, author=author, date=date))
            continue
        if hits:  # answered (by the cache or the early worker) and holding a finding
            found.append((order, Fragment(text="", path=COMMIT_MESSAGE, commit=sha, author=author, date=date), hits))
    if early is not None:
        walked = {sha for sha, _, _ in commits}
        result.incomplete.extend(r for r in early.incomplete if r.commit in walked)
    gate: Optional[Callable[[bytes], bool]] = None  # built once, only when something is read
    chain: Optional[MatchedChain] = None
    if todo:
        gate = keyword_gate(detector)
        chain = _matched_chain(detector)
        for sha, data in _commit_messages(repo, list(todo)):
            order, where = todo[sha]
            hits = _scan_one(detector, gate, data, where, f"message:{sha}{suffix}", result, chain)
            if hits:
                found.append((order, where, hits))
    for order, tag in enumerate(tags, len(commits)):
        # A tag has no commit id: its ref name stands in for one (and the finding's ``ref`` says so).
        where = Fragment(text="", path=tag.path, commit=tag.ref, author=tag.tagger, date=tag.date)
        key = message_key(tag.oid, tag.path, key_of)
        if key in cache.scanned and not _reread(cache, key, need_secrets):
            if key in cache.hits:
                found.append((order, where, cache.hits[key]))
            continue
        if gate is None:
            gate = keyword_gate(detector)
            chain = _matched_chain(detector)
        hits = _scan_one(detector, gate, tag.text, where, key, result, chain)
        if hits:
            found.append((order, where, hits))
    result.findings = _attribute(found, rules)
    return result


def _attribute(found: Sequence[tuple[int, Fragment, list[Hit]]], rules: Mapping[str, Rule]) -> list[Finding]:
    """One finding per (secret, path), the first in walk order (cached or not), counting where else it is."""
    first: dict[tuple[str, str], tuple[Fragment, Hit]] = {}
    sightings: dict[tuple[str, str], set[int]] = {}
    for order, where, hits in sorted(found, key=lambda entry: entry[0]):
        for hit in hits:
            group = (hit.fingerprint, where.path)
            sightings.setdefault(group, set()).add(order)
            first.setdefault(group, (where, hit))
    per_secret: dict[str, int] = {}
    for fingerprint, _path in first:
        per_secret[fingerprint] = per_secret.get(fingerprint, 0) + 1
    findings = []
    for group, (where, hit) in first.items():
        rule = rules.get(hit.rule_id)
        if rule is None:
            continue
        rule = hit.reported_by(rule)
        extra: dict[str, Any] = {"present_at_head": False, "commits": len(sightings[group]), "paths": per_secret[hit.fingerprint]}
        if where.path != COMMIT_MESSAGE:
            extra["ref"] = where.commit
        findings.append(rule_finding(rule, hit.secret, where.path, hit.line, hit.column, hit.end_line, hit.end_column,
                                     fingerprint=hit.fingerprint, commit=where.commit, author=where.author,
                                     date=where.date, extra=extra))
    return findings


def _matched_chain(detector: Detector) -> Optional[MatchedChain]:
    """The rules' Hyperscan database as a one-text chain (None on the pure-Python path)."""
    matcher = BlobScanner.make_matcher(detector)
    return MatchedChain(matcher, enabled=False) if matcher is not None else None


def _scan_one(detector: Detector, gate: Callable[[bytes], bool], data: bytes, where: Fragment, key: str,
              result: MessageResult, chain: Optional[MatchedChain] = None) -> list[Hit]:
    """The hits in one message, recorded in ``result.hits`` under ``key`` unless a rule could not finish it.

    With ``chain`` (Hyperscan), the detector judges only windows around the rules' matches, as in a
    blob: a message holding "key" or "token" no longer sends every rule with such a keyword over it
    nor compiles their regexes (gin's 6,845 messages: 87 rules compiled, now 42). A message
    starting with a byte-order mark keeps it in its text, so it takes the keyword path like any text
    the windows cannot judge.

    An unfinished message is never cached (the next run reads it again) and goes to ``result.incomplete``.
    """
    if not data.strip() or not gate(data):
        result.hits[key] = []
        return []
    gave_up = detector.stats.incomplete
    before = len(gave_up)
    found: Optional[list[Hit]] = None
    if chain is not None and not data.startswith(_BOM):
        def scan(part: str, start_line: int, only: Optional[frozenset[int]] = None) -> list[Hit]:
            piece = Fragment(text=part, path=where.path, start_line=start_line, commit=where.commit,
                             author=where.author, date=where.date)
            return [Hit.of(f) for f in detector.scan(piece, only)]

        chain.matcher.path = where.path
        found = chain.whole_text(data, scan)
        if found is not None:
            found.sort(key=lambda h: (h.line, h.column))  # text order, as the detector gives them
    if found is None:
        fragment = Fragment(text=data.decode("utf-8", "replace"), path=where.path, commit=where.commit,
                            author=where.author, date=where.date)
        found = [Hit.of(f) for f in detector.scan(fragment)]
    hits = found
    if len(gave_up) > before:
        result.incomplete.extend(gave_up[before:])
        del gave_up[before:]
    else:
        result.hits[key] = hits
    return hits


def _commit_messages(repo: str, shas: Optional[Sequence[str]]) -> Iterator[tuple[str, bytes]]:
    """``(commit id, message)`` for ``shas`` (None: every commit every ref reaches), read from the
    commit objects themselves through one ``git cat-file --batch``.

    Not ``git log --format=%B``: git prints a message only up to its first NUL byte, and a
    commit written by another tool (or ``git hash-object --literally``) can hold text past one,
    which every clone and remote keeps. The message is the object's bytes after its header, in
    UTF-8 (a commit naming another ``encoding`` is decoded from it, as git log does).
    """
    if shas is None:
        shas = run_git(["rev-list", "--all", "--end-of-options"], cwd=repo).decode("ascii", "replace").split()
    if not shas:
        return
    args = ["cat-file", "--batch"]
    proc = spawn_git(args, repo, stdin=True)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(proc.stderr.read() if proc.stderr else b""), daemon=True)
    drain.start()
    feeder = threading.Thread(target=feed, args=(proc.stdin, "".join(f"{s}\n" for s in shas).encode("ascii")),
                              kwargs={"close": True}, daemon=True)
    feeder.start()
    out = proc.stdout
    try:
        for sha in shas:
            header = out.readline().split()
            if len(header) != 3 or header[1] != b"commit":
                # Fail closed: a message never read may hold a secret.
                raise ScanError(f"cannot read the message of commit {sha}: "
                                f"{b' '.join(header).decode('ascii', 'replace') or 'git cat-file stopped'}",
                                "check the repository with `git fsck`")
            data = out.read(int(header[2]))
            out.read(1)  # the newline after the object
            yield sha, _message(data)
    finally:
        out.close()
        feeder.join()
        proc.wait()
        drain.join()
    if proc.returncode != 0:
        raise git_failure(args, b"".join(errors), repo)


def _message(commit: bytes) -> bytes:
    """The message of a raw commit object (what follows the first empty line), in UTF-8."""
    head, blank, message = commit.partition(b"\n\n")
    if not blank:
        return b""
    for line in head.split(b"\n"):
        if line.startswith(b"encoding "):
            name = line[9:].strip().decode("ascii", "replace")
            try:
                if codecs.lookup(name).name != "utf-8":
                    return message.decode(name, "replace").encode("utf-8")
            except (LookupError, ValueError):
                pass  # a name Python does not know: the bytes as they are, decoded as UTF-8 later
            break
    return message
