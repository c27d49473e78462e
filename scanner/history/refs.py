"""What refs reach without a commit: tags (and custom refs) of blobs and trees, and annotated tags.

``git log --all`` walks commits only, so a blob that a tag points at
directly (``git tag key $(git hash-object -w key.txt)``), the blobs of a
tagged tree, and the message of an annotated tag are never in the walk,
yet a clone or a push carries them like any other object. This module lists
them so the history scan can read them like blobs of the walk:

* a blob a ref reaches is scanned under the ref's name as its path
  (``refs/tags/key``), a tree's blobs under ``<ref>:<path>`` (git's own
  spelling: ``git show refs/tags/t:config.env`` prints it);
* an annotated tag's message is a text of its own (``TagMessage``), on every
  tag of a chain (a tag of a tag).

Git calls: one ``for-each-ref``, then per nesting level of tags one
``cat-file --batch-check`` and one ``cat-file --batch`` (tag objects are
small), and one ``ls-tree`` per tagged tree (tags of trees are rare).
"""
from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from scanner.errors import ScanError
from scanner.gitcmd import run_git
from scanner.history.walk import GITLINK_MODE, SYMLINK_MODE


@dataclass(frozen=True)
class TagMessage:
    """The message of one annotated tag object, as the ref that reaches it names it."""

    ref: str
    oid: str
    tagger: Optional[str]
    date: Optional[str]
    text: bytes

    @property
    def path(self) -> str:
        return f"<tag message {self.ref}>"


@dataclass
class RefObjects:
    """Blobs only refs reach, as ``(ref, path, blob id)``, and annotated tags' messages.

    ``tips`` are the objects the refs point at, where a partial clone's missing blobs are looked for.
    """

    tips: list[str] = field(default_factory=list)
    blobs: list[tuple[str, str, str]] = field(default_factory=list)
    tags: list[TagMessage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def non_commit_refs(repo: str) -> list[tuple[str, str]]:
    """``(ref name, object id)`` of every ref whose object is not a commit (a tag object, blob or tree)."""
    out = run_git(["for-each-ref", "--format=%(objectname) %(objecttype) %(refname)"], cwd=repo)
    refs = []
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        oid, _, rest = line.partition(" ")
        kind, _, name = rest.partition(" ")
        if kind and kind != "commit" and name:
            refs.append((name, oid))
    return refs


def named_objects(repo: str, revs: Sequence[str]) -> list[tuple[str, str]]:
    """``(rev, object id)`` for the revisions in ``revs`` that name a tag object, blob or tree.

    Range expressions (``a..b``, ``^a``) name no single object and are skipped. A rev that is a
    ref is named by its full name.
    """
    wanted = [r for r in revs if r and "\n" not in r and ".." not in r and not r.startswith(("^", "-"))]
    found = []
    for rev, (oid, kind) in zip(wanted, object_types(repo, wanted)):
        if kind in ("tag", "blob", "tree"):
            # named as a full scan names it (refs/tags/x), so findings match between the two
            full = run_git(["rev-parse", "--verify", "--quiet", "--symbolic-full-name", rev], cwd=repo, check=False)
            found.append((full.decode("utf-8", "surrogateescape").strip() or rev, oid))
    return found


def reach(repo: str, refs: Sequence[tuple[str, str]]) -> RefObjects:
    """Follow each ``(ref, object id)`` through its tags to the blobs and tag messages it reaches.

    A chain that ends at a commit adds only its tags' messages: the commit
    and what it holds are the walk's.
    """
    result = RefObjects(tips=[oid for _ref, oid in refs])
    level: list[tuple[str, str, Optional[str]]] = [(ref, oid, None) for ref, oid in refs]
    while level:
        unknown = [oid for _ref, oid, kind in level if kind is None]
        kinds = dict(zip(unknown, (kind for _oid, kind in object_types(repo, unknown))))
        tags: list[tuple[str, str]] = []
        for ref, oid, kind in level:
            kind = kind or kinds.get(oid)
            if kind == "tag":
                tags.append((ref, oid))
            elif kind == "blob":
                result.blobs.append((ref, ref, oid))
            elif kind == "tree":
                result.blobs.extend((ref, f"{ref}:{path}", blob) for path, blob in _tree_blobs(repo, oid))
            elif kind != "commit":
                result.errors.append(f"cannot read {oid}, which {ref} points at: the object is missing")
        level = []
        bodies = _read(repo, [oid for _ref, oid in tags])
        for ref, oid in tags:
            target, kind, tagger, date, text = _parse_tag(bodies[oid])
            result.tags.append(TagMessage(ref, oid, tagger, date, text))
            if target:
                level.append((ref, target, kind))
    return result


def object_types(repo: str, oids: Sequence[str]) -> list[tuple[str, Optional[str]]]:
    """``(object id, type)`` per entry of ``oids`` (type None when it does not resolve)."""
    if not oids:
        return []
    request = "".join(f"{oid}\n" for oid in oids).encode("utf-8", "surrogateescape")
    out = run_git(["cat-file", "--batch-check=%(objectname) %(objecttype)"], cwd=repo, input=request)
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) != len(oids):
        raise ScanError(f"git cat-file --batch-check answered {len(lines)} lines for {len(oids)} objects",
                        "check the repository with `git fsck`")
    answers: list[tuple[str, Optional[str]]] = []
    for line in lines:
        oid, _, kind = line.partition(" ")
        answers.append((oid, kind) if kind in ("commit", "tag", "blob", "tree") else (oid, None))
    return answers


def _read(repo: str, oids: Sequence[str]) -> dict[str, bytes]:
    """The contents of (small) objects through one ``git cat-file --batch``."""
    if not oids:
        return {}
    out = run_git(["cat-file", "--batch"], cwd=repo, input="".join(f"{oid}\n" for oid in oids).encode("ascii"))
    bodies: dict[str, bytes] = {}
    pos = 0
    for oid in oids:
        end = out.index(b"\n", pos)
        parts = out[pos:end].split(b" ")
        if len(parts) != 3:
            raise ScanError(f"cannot read tag object {oid}: {out[pos:end].decode('ascii', 'replace')}",
                            "check the repository with `git fsck`")
        size = int(parts[2])
        bodies[oid] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return bodies


def _parse_tag(body: bytes) -> tuple[Optional[str], Optional[str], Optional[str], Optional[str], bytes]:
    """A tag object's target id and type, its tagger and date, and its message."""
    header, _, message = body.partition(b"\n\n")
    target = kind = tagger = date = None
    for line in header.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"object":
            target = value.decode("ascii", "replace")
        elif key == b"type":
            kind = value.decode("ascii", "replace")
        elif key == b"tagger":
            tagger, date = _ident(value.decode("utf-8", "replace"))
    return target, kind, tagger, date, message


def _ident(value: str) -> tuple[str, Optional[str]]:
    """``Name <email> 1700000000 +0100`` -> (``Name <email>``, ISO 8601 date like ``%aI``)."""
    who, _, when = value.rpartition("> ")
    if not who:
        return value, None
    try:
        stamp, zone = when.split(" ")
        sign = -1 if zone.startswith("-") else 1
        offset = datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign
        date = datetime.datetime.fromtimestamp(int(stamp), datetime.timezone(offset)).isoformat()
    except (ValueError, OverflowError, OSError):
        date = None
    return who + ">", date


def _tree_blobs(repo: str, tree: str) -> list[tuple[str, str]]:
    """``(path, blob id)`` of every file of ``tree``, recursively (symlinks and submodules left out, as in the walk)."""
    out = run_git(["ls-tree", "-r", "-z", "--full-tree", tree, "--"], cwd=repo)
    blobs = []
    for entry in out.split(b"\0"):
        meta, _, path = entry.partition(b"\t")
        parts = meta.split(b" ")
        if len(parts) == 3 and parts[1] == b"blob" and parts[0] not in (SYMLINK_MODE, GITLINK_MODE):
            blobs.append((path.decode("utf-8", "replace"), parts[2].decode("ascii")))
    return blobs
