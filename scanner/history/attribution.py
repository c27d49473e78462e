"""From per-blob hits to findings: who introduced each secret, where, and is it still there.

Everything comes from the walk already in memory (``Walk``) plus one
``git ls-tree`` of the head commit: no git call per commit or per blob.
The same secret (fingerprint) at the same path is ONE finding, attributed to
the first commit in topological order that added a version carrying it.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Optional

from scanner.detect import rule_finding
from scanner.gitcmd import run_git
from scanner.history.hits import Hit
from scanner.history.walk import Walk
from scanner.models import Finding
from scanner.rules import Rule


@dataclass
class _Group:
    """Every sighting of one (fingerprint, path)."""

    first: int
    oid: str
    hit: Hit
    commits: set[int] = field(default_factory=set)


def head_tree(repo: str, head: str) -> dict[str, str]:
    """``path -> blob id`` at ``head`` (empty when it does not resolve, e.g. an unborn HEAD)."""
    try:
        # no "--" after it: behind --end-of-options, ls-tree would take "--" for a path
        out = run_git(["ls-tree", "-r", "-z", "--full-tree", "--end-of-options", head], cwd=repo)
    except Exception:
        return {}
    tree: dict[str, str] = {}
    for entry in out.split(b"\0"):
        meta, _, path = entry.partition(b"\t")
        parts = meta.split(b" ")
        if len(parts) == 3 and parts[1] == b"blob":
            tree[os.fsdecode(path)] = parts[2].decode("ascii")  # decoded as the walk decodes paths
    return tree


def attribute(walk: Walk, hits: Mapping[str, list[Hit]], key_of: Callable[[str, str], str],
              rules: Mapping[str, Rule], head_blobs: Mapping[str, str],
              sightings: Optional[dict[tuple[str, str], frozenset[str]]] = None) -> list[Finding]:
    """One finding per (fingerprint, path), attributed to the commit that introduced it.

    ``sightings``, when given, receives the ids of every commit carrying each
    (fingerprint, path): grouping a secret's paths into one finding
    (``scanner.history.grouping``) counts the commits of their union, not the sum.

    A version "introduces" a secret at a path when the path's version in the
    commit's parents did not carry it; versions that merely kept it (an edit
    elsewhere in the file) count in ``commits`` but are never the culprit. So
    a range scan (``--since``) does not report a secret that predates it.
    """
    def carries(oid: str, path: str, fingerprint: str) -> bool:
        return any(h.fingerprint == fingerprint and _applies(rules.get(h.rule_id), path)
                   for h in hits.get(key_of(oid, path), ()))

    with_hits = {key.split("/", 1)[0] for key, found in hits.items() if found}
    groups: dict[tuple[str, str], _Group] = {}
    for oid in with_hits:
        for index, path, previous in walk.blobs.get(oid, ()):
            for hit in hits.get(key_of(oid, path), ()):
                if not _applies(rules.get(hit.rule_id), path):
                    continue
                group = groups.get((hit.fingerprint, path))
                if group is None:
                    group = groups[(hit.fingerprint, path)] = _Group(-1, oid, hit)
                group.commits.add(index)
                if any(carries(old, path, hit.fingerprint) for old in previous):
                    continue  # kept, not introduced, by this commit
                if group.first < 0 or index < group.first:
                    group.first, group.oid, group.hit = index, oid, hit
    groups = {k: g for k, g in groups.items() if g.first >= 0}
    paths_per_secret: dict[str, int] = {}
    for fingerprint, _path in groups:
        paths_per_secret[fingerprint] = paths_per_secret.get(fingerprint, 0) + 1
    findings = []
    for (fingerprint, path), group in groups.items():
        rule = group.hit.reported_by(rules[group.hit.rule_id])
        sha, author, date = walk.commits[group.first]
        extra = {
            "present_at_head": _present(head_blobs.get(path), path, fingerprint, hits, key_of),
            "commits": len(group.commits),
            "paths": paths_per_secret[fingerprint],
            "blob": group.oid,
        }
        if sightings is not None:
            sightings[(fingerprint, path)] = frozenset(walk.commits[i][0] for i in group.commits)
        ref = walk.refs.get(group.first)
        if ref is not None:
            # No commit introduced it: the ref's name stands where the commit id would.
            extra["ref"] = ref
        findings.append(rule_finding(
            rule, group.hit.secret, path, group.hit.line, group.hit.column, group.hit.end_line, group.hit.end_column,
            fingerprint=fingerprint,
            commit=sha,
            author=author or None,
            date=date or None,
            extra=extra,
        ))
    return findings


def _applies(rule: Optional[Rule], path: str) -> bool:
    return rule is not None and (rule.path_pattern is None or bool(rule.path_pattern.search(path)))


def previous_keys(walk: Walk, hits: Mapping[str, list[Hit]], key_of: Callable[[str, str], str]) -> dict[str, list[tuple[str, str]]]:
    """Parent versions of blobs with hits that were never scanned (outside the range): oid -> [(key, path)]."""
    wanted: dict[str, dict[str, str]] = {}
    for key, found in hits.items():
        if not found:
            continue
        for _index, path, previous in walk.blobs.get(key.split("/", 1)[0], ()):
            for old in previous:
                old_key = key_of(old, path)
                if old_key not in hits:
                    wanted.setdefault(old, {}).setdefault(old_key, path)
    return {oid: list(pairs.items()) for oid, pairs in wanted.items()}


def _present(oid: Optional[str], path: str, fingerprint: str, hits: Mapping[str, list[Hit]],
             key_of: Callable[[str, str], str]) -> bool:
    if oid is None:
        return False
    return any(h.fingerprint == fingerprint for h in hits.get(key_of(oid, path), ()))
