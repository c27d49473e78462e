"""One finding per secret in a history report, with every place it was seen listed under it.

History attribution yields one finding per (secret, path): the right unit for
baselines and ``allow-paths``, which key on paths, but not for the person reading
the report. One key copied to three example directories, or a library vendored at
three paths, is one credential to rotate and one decision to make, so
``mcp-scan history --group secret`` reports it once (as kingfisher does) and
lists its ``locations``. The default, ``--group path``, keeps one finding per
path, as every other command reports.

Grouping runs after suppression: a location under ``allow-paths`` or in the
baseline is dropped before its secret's other locations are grouped.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Optional

from scanner.models import Finding

# Each location carries the fields a per-path finding has about where it is (never the secret).
_WHERE = ("path", "line", "column", "end_line", "end_column", "commit", "author", "date")
_EXTRA = ("blob", "ref", "present_at_head", "commits")


def location(finding: Finding) -> dict[str, Any]:
    """Where one per-path finding is, as a ``locations`` entry of the JSON report."""
    entry: dict[str, Any] = {key: getattr(finding, key) for key in _WHERE}
    entry.update((key, finding.extra[key]) for key in _EXTRA if key in finding.extra)
    return entry


def _when(finding: Finding) -> tuple[int, float, str]:
    """Sort key: dated findings by their date (time zones honoured), then undated ones; then path."""
    try:
        stamp = datetime.fromisoformat(finding.date or "").timestamp()
    except ValueError:
        return (1, 0.0, finding.path)
    return (0, stamp, finding.path)


def by_secret(findings: Sequence[Finding],
              sightings: Optional[Mapping[tuple[str, str], frozenset[str]]] = None) -> list[Finding]:
    """One finding per (repository, rule and secret), headed by its earliest introduction.

    The head keeps its own fields (path, line, commit...) and gains ``locations``: every
    place the secret was found, earliest first, the head included. ``paths`` counts the
    locations, ``commits`` the distinct commits carrying the secret at any of them
    (``sightings`` holds each path's commit ids; a location without them, a commit
    message, adds its own count), and ``present_at_head`` is true when any location is
    still at HEAD. Findings without a secret (nothing to group by) pass through.
    """
    groups: dict[tuple[Any, str], list[Finding]] = {}
    alone: list[Finding] = []
    for finding in findings:
        if finding.secret:
            groups.setdefault((finding.extra.get("repo"), finding.fingerprint), []).append(finding)
        else:
            alone.append(finding)
    grouped = []
    for members in groups.values():
        members.sort(key=_when)
        head = members[0]
        commits: set[str] = set()
        uncounted = 0
        for member in members:
            seen = (sightings or {}).get((member.fingerprint, member.path))
            if seen is not None:
                commits |= seen
            else:
                uncounted += int(member.extra.get("commits", 1))
        extra = dict(head.extra)
        extra["paths"] = len(members)
        extra["commits"] = max(1, len(commits) + uncounted)
        if any("present_at_head" in m.extra for m in members):
            extra["present_at_head"] = any(m.extra.get("present_at_head") is True for m in members)
        extra["locations"] = [location(m) for m in members]
        grouped.append(head.replace(extra=extra))
    return grouped + alone
