"""Many repositories at once: discovery, sharding, mirrors, and merging shard reports.

``discover`` finds every git repository under the given directories (work
trees and bare repositories; it does not look for more repositories inside
one it found) or listed in files, one path or clone URL per line.
``in_shard`` picks a stable slice: a repository's shard depends only on its
identity (``shard_key``), so shards are disjoint, together cover everything
even if machines list them in a different order, and adding a repository
moves no other one. ``sync_mirror`` keeps a bare mirror of a URL entry
(``scanner.mirror``). ``merge_reports`` turns shards' JSON reports back into
findings; secrets that were redacted in a report stay redacted.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from scanner.errors import ScanError, config_error
from scanner.gitcmd import run_git
from scanner.history.identity import display_url, is_url, normalise_url
from scanner.models import REDACTION_MARK, Finding, Incomplete, redact

_FINDING_FIELDS = ("rule_id", "severity", "confidence", "message", "path", "line", "column", "end_line",
                   "end_column", "commit", "author", "date", "secret", "evidence", "fingerprint",
                   "remediation")


@dataclass(frozen=True)
class RepoTarget:
    """A repository to scan: ``name`` is how reports refer to it.

    A URL entry has ``url`` (as listed, possibly with credentials: never
    printed; ``name`` is the URL without them) and ``path`` is its mirror,
    set once the mirror directory is known.
    """

    name: str
    path: str
    problem: Optional[str] = None  # set when a listed path is not a repository
    url: Optional[str] = None


def is_repository(path: str) -> bool:
    """A work tree (has ``.git``, a directory or a worktree/submodule file) or a bare repository."""
    if os.path.exists(os.path.join(path, ".git")):
        return True
    return (os.path.isfile(os.path.join(path, "HEAD")) and os.path.isdir(os.path.join(path, "objects"))
            and os.path.isdir(os.path.join(path, "refs")))


def _name(path: str) -> str:
    return Path(os.path.normpath(path)).as_posix()


def _walk(root: str) -> Iterable[RepoTarget]:
    if is_repository(root):
        yield RepoTarget(_name(root), os.path.abspath(root))
        return
    for dirpath, dirnames, _ in os.walk(root):  # symlinked directories are not followed
        dirnames.sort()
        keep = []
        for name in dirnames:
            child = os.path.join(dirpath, name)
            if is_repository(child):
                yield RepoTarget(_name(child), os.path.abspath(child))
            elif name != ".git":
                keep.append(name)
        dirnames[:] = keep


def _listed(list_file: str) -> Iterable[RepoTarget]:
    base = os.path.dirname(os.path.abspath(list_file))
    try:
        with open(list_file, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise config_error(f"cannot read repository list {list_file}: {exc}") from None
    for line in lines:
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if is_url(entry):
            yield RepoTarget(display_url(entry), "", url=entry)
            continue
        # Relative entries are relative to the list file, so a list travels with its checkout.
        path = os.path.join(base, os.path.expanduser(entry))
        problem = None if is_repository(path) else "not a git repository"
        if not os.path.isdir(path):
            problem = "no such directory"
        yield RepoTarget(_name(entry), os.path.abspath(path), problem)


def discover(targets: Sequence[str]) -> list[RepoTarget]:
    """Every repository under or listed in ``targets``, each once, sorted by name."""
    found: dict[str, RepoTarget] = {}
    for target in targets:
        if os.path.isdir(target):
            entries: Iterable[RepoTarget] = _walk(target)
        elif os.path.isfile(target):
            entries = _listed(target)
        else:
            raise config_error(f"{target}: no such directory or repository list file")
        for entry in entries:
            found.setdefault("url:" + normalise_url(entry.url) if entry.url else os.path.realpath(entry.path), entry)
    return sorted(found.values(), key=lambda t: (t.name, t.path))


def with_mirrors(targets: Sequence[RepoTarget], mirror_dir: Path) -> list[RepoTarget]:
    """``targets`` with each URL entry's ``path`` set to its mirror in ``mirror_dir``."""
    from dataclasses import replace

    from scanner.mirror import mirror_path

    return [replace(t, path=str(mirror_path(mirror_dir, t.url))) if t.url else t for t in targets]


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` with 1 <= i <= n (GitLab's CI_NODE_INDEX/CI_NODE_TOTAL convention)."""
    index, _, total = text.partition("/")
    try:
        i, n = int(index), int(total)
    except ValueError:
        raise config_error(f"--shard {text!r} is not i/n", "e.g. --shard 1/4 ... --shard 4/4") from None
    if n < 1 or not 1 <= i <= n:
        raise config_error(f"--shard {text!r}: i must be between 1 and n", "shards are numbered 1/n to n/n")
    return i, n


def shard_of(key: str, total: int) -> int:
    """The 1-based shard of a repository: a stable hash of its key, not of its position."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % total + 1


def shard_key(target: RepoTarget) -> str:
    """What a repository's shard is a hash of: the identity part every machine can know without cloning.

    That is the normalised remote URL (what a URL entry names, or a local
    repository's ``origin``), so every clone of one repository lands in the
    same shard; a repository without a remote is known by its root commits.
    Never its position in a list or the directory it was cloned to.
    """
    from scanner.history.identity import normalise_url, origin_url, root_commits

    if target.url:
        return "url:" + normalise_url(target.url)
    if target.problem:
        return "name:" + target.name
    try:
        remote = origin_url(target.path)
        if remote:
            return "url:" + normalise_url(remote)
        out = run_git(["rev-parse", "--git-common-dir"], cwd=target.path).decode("utf-8", "replace").strip()
        common = Path(target.path, out) if not os.path.isabs(out) else Path(out)
        roots = root_commits(target.path, common.resolve())
    except ScanError:
        roots = []
    return "roots:" + ",".join(roots) if roots else "name:" + target.name


def in_shard(targets: Sequence[RepoTarget], index: int, total: int) -> list[RepoTarget]:
    """The targets of shard ``index`` of ``total``."""
    return [t for t in targets if shard_of(shard_key(t), total) == index]


# -- merging shard reports ----------------------------------------------------

def finding_from_dict(data: dict[str, Any], show_secrets: bool = False) -> Finding:
    """Rebuild a Finding from the JSON contract.

    The raw secret is gone when the report was redacted; a report written
    with ``--show-secrets`` is redacted now unless ``show_secrets``.
    """
    secret = str(data.get("secret") or "")
    if secret and REDACTION_MARK not in secret and not show_secrets:
        secret = redact(secret)
    message = str(data.get("message") or data.get("rule_id") or "")
    extra = {k: v for k, v in data.items() if k not in _FINDING_FIELDS}

    def number(key: str, default: Optional[int]) -> Optional[int]:
        value = data.get(key, default)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    return Finding(
        rule_id=str(data["rule_id"]),
        severity=str(data.get("severity") or "medium"),
        confidence=str(data.get("confidence") or "high"),
        message=message,
        description=message[: -len(" detected")] if message.endswith(" detected") else message,
        path=str(data.get("path") or ""),
        line=number("line", 1) or 1,
        column=number("column", 1) or 1,
        end_line=number("end_line", None),
        end_column=number("end_column", None),
        commit=data.get("commit") or None,
        author=data.get("author") or None,
        date=data.get("date") or None,
        secret=secret,
        evidence=str(data.get("evidence") or ""),
        fingerprint=str(data.get("fingerprint") or ""),
        remediation=str(data.get("remediation") or ""),
        extra=extra,
    )


def _merge_stats(total: dict[str, Any], part: dict[str, Any]) -> None:
    for key, value in part.items():
        if key not in total:
            total[key] = json.loads(json.dumps(value))  # a deep copy of plain JSON
            continue
        have = total[key]
        if isinstance(value, bool) or isinstance(have, bool):
            total[key] = bool(have) or bool(value)
        elif isinstance(value, (int, float)) and isinstance(have, (int, float)):
            total[key] = have + value
        elif isinstance(value, list) and isinstance(have, list):
            have.extend(value)
        elif isinstance(value, dict) and isinstance(have, dict):
            _merge_stats(have, value)
        elif have != value:
            total[key] = (have if isinstance(have, list) else [have]) + [value]


def _dedupe_key(finding: Finding) -> tuple[Any, ...]:
    return (finding.extra.get("repo"), finding.rule_id, finding.path, finding.line, finding.column,
            finding.commit, finding.fingerprint)


def merge_reports(paths: Sequence[str], show_secrets: bool = False) -> tuple[list[Finding], dict[str, Any], list[Incomplete]]:
    """Findings (identical ones once), summed stats, and every part any report could not fully scan."""
    findings: dict[tuple[Any, ...], Finding] = {}
    stats: dict[str, Any] = {}
    incomplete: list[Incomplete] = []
    read = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
        except OSError as exc:
            raise config_error(f"cannot read report {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise config_error(f"{path} is not a JSON report: {exc}", "merge takes reports written with --format json") from None
        if not isinstance(document, dict) or document.get("version") != 1 or not isinstance(document.get("findings"), list):
            raise config_error(f"{path} is not an mcp-scan JSON report (version 1)",
                               "merge takes reports written with --format json")
        for number, item in enumerate(document["findings"], 1):
            if not isinstance(item, dict) or "rule_id" not in item:
                raise config_error(f"{path}: finding {number} has no rule_id")
            finding = finding_from_dict(item, show_secrets)
            findings.setdefault(_dedupe_key(finding), finding)
            read += 1
        if isinstance(document.get("stats"), dict):
            _merge_stats(stats, document["stats"])
        # A shard that did not finish leaves the merged report incomplete too.
        parts = document.get("incomplete", [])
        if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
            raise config_error(f"{path}: \"incomplete\" is not a list of objects")
        incomplete.extend(Incomplete.from_dict(p) for p in parts)
    stats["reports"] = len(paths)
    stats["duplicates"] = read - len(findings)
    stats["findings"] = len(findings)
    return list(findings.values()), stats, incomplete
