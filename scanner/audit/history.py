"""The audit's view of history: secret-shaped files ever added, and what their versions held.

``collect`` walks history: one ``git log --diff-filter=A`` for additions,
one ``git log --raw`` for the versions of the few secret-shaped paths, one
``git cat-file --batch`` to judge them. ``cached`` does the same for the
commit hook, where walking tens of thousands of commits on every commit is
too slow: the facts are stored in ``<git-common-dir>/mcp-scan/audit-<key>.json``
with the ref tips they cover (the same tips as ``history.walkcache``). Same
tips: reused as is. History only grew: only the new commits are walked and
merged in. Anything else (a force-push, a deleted branch): walked from scratch.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from scanner.audit import content
from scanner.audit.gitignore import classify, history_rows
from scanner.errors import ScanError
from scanner.gitcmd import run_git
from scanner.history.walk import rev_args
from scanner.history.walkcache import tips
from scanner.paths import atomic_write, prune, touch

VERSION = 1
Row = tuple[str, str, str, str]  # commit, author, date, path


@dataclass
class Facts:
    """History rows (newest first), the blobs of each secret-shaped path and each blob's verdict."""

    rows: list[Row] = field(default_factory=list)
    versions: dict[str, set[str]] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)
    walked: int = 0  # history walks done for this result: 0 means the cache answered

    def target_verdicts(self) -> dict[str, str]:
        """Each history target's worst verdict over every version of every path under it."""
        per_target: dict[str, list[str]] = {}
        for path, oids in self.versions.items():
            secret = classify(path)
            if secret is not None:
                per_target.setdefault(secret.target, []).extend(self.verdicts.get(o, content.SECRET) for o in oids)
        return {target: content.worst(found) for target, found in per_target.items()}


def _grow(root: Path, facts: Facts, revs: list[str], detector: Any) -> None:
    """Add what the commits of ``revs`` (git revision arguments) contribute."""
    rows = history_rows(root, revs)
    kinds = {path: secret.kind for path in {r[3] for r in rows}
             if (secret := classify(path)) is not None and secret.kind in content.JUDGED_KINDS}
    # Paths already known get their new versions too (a .env edited after it was added).
    kinds.update({path: secret.kind for path in facts.versions if (secret := classify(path)) is not None})
    new_versions = content.path_versions(root, kinds, revs)
    unseen = {path: {o for o in oids if o not in facts.verdicts} for path, oids in new_versions.items()}
    facts.verdicts.update(content.blob_verdicts(root, kinds, unseen, detector))
    for path, oids in new_versions.items():
        facts.versions.setdefault(path, set()).update(oids)
    facts.rows = rows + facts.rows  # git log lists newest first
    facts.walked += 1


def collect(root: Path, detector: Any = None) -> Facts:
    """Walk all of history (every ref)."""
    facts = Facts()
    _grow(root, facts, ["--all"], detector)
    return facts


def _cache_file(common_dir: Path, detector: Any) -> Path:
    from scanner.rules import ruleset_hash

    rules = ruleset_hash(detector.rules, detector.claim_rules) if detector is not None else "-"
    key = hashlib.sha256(f"{VERSION}\0{rules}".encode()).hexdigest()[:24]
    return common_dir / "mcp-scan" / f"audit-{key}.json"


def _load(path: Path) -> Optional[tuple[list[str], Facts]]:
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
        if data.get("version") != VERSION:
            return None
        touch(path)
        facts = Facts(rows=[(r[0], r[1], r[2], r[3]) for r in data["rows"]],
                      versions={p: set(o) for p, o in data["versions"].items()}, verdicts=dict(data["verdicts"]))
        return list(data["tips"]), facts
    except Exception:  # missing, damaged or foreign: walk from scratch
        return None


def _save(path: Path, tip_ids: list[str], facts: Facts) -> None:
    # Paths, commit ids and verdicts only: never file content.
    data = {"version": VERSION, "tips": tip_ids, "rows": facts.rows,
            "versions": {p: sorted(o) for p, o in facts.versions.items()}, "verdicts": facts.verdicts}
    try:
        atomic_write(path, json.dumps(data, separators=(",", ":")).encode("utf-8", "surrogateescape"))
        prune(path.parent, "audit-*.json")
    except (OSError, UnicodeError):
        pass  # a read-only repository only costs the next run a full walk


def common_dir(root: Path) -> Path:
    out = run_git(["rev-parse", "--git-common-dir"], str(root)).decode("utf-8", "surrogateescape").strip()
    path = Path(out)
    return (path if path.is_absolute() else root / path).resolve()


def cached(root: Path, detector: Any = None) -> Facts:
    """``collect``'s answer, from the cache when the ref tips allow it."""
    repo = str(root)
    try:
        now = tips(repo, None)
    except ScanError:
        return collect(root, detector)
    if not now:
        return Facts()
    path = _cache_file(common_dir(root), detector)
    stored = _load(path)
    if stored is not None:
        old_tips, facts = stored
        if old_tips == now:
            return facts
        gone = run_git(["rev-list", "--count", *rev_args(old_tips, now), "--"], cwd=repo, check=False).strip()
        if gone == b"0":
            _grow(root, facts, rev_args(now, old_tips), detector)
            _save(path, now, facts)
            return facts
    facts = Facts()
    _grow(root, facts, rev_args(now), detector)
    _save(path, now, facts)
    return facts
