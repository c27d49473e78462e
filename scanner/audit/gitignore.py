"""Secret-file hygiene: .gitignore coverage, tracked secret files, secret files in history.

Which *names* hold secrets is ours to say (the guide's essential entries);
whether a path is *ignored* is always git's answer (see ``inventory``).
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from scanner.audit.findings import make_finding
from scanner.audit.inventory import Inventory
from scanner.gitcmd import run_git
from scanner.models import Finding

# `.env.example` and friends are meant to be committed: they hold names, not values.
ENV_TEMPLATES = (".env.example", ".env.sample", ".env.template", ".env.dist")
KEY_SUFFIXES = (".key", ".pem", ".p12")
BACKUP_SUFFIXES = (".backup", ".bak")


# A shared MCP config holding only ${VAR} references is sometimes committed on purpose
# (Claude Code's project scope); the guide still keeps it out of git, at lower severity.
_SEVERITY = {"env": "high", "key": "high", "secrets-dir": "high", "backup": "medium", "mcp": "medium"}
_MCP_NOTE = {"mcp": " (the guide keeps MCP configs out of git; if it holds only ${VAR} references, "
                    "keeping it tracked can be a deliberate choice)"}


@dataclass(frozen=True)
class SecretPath:
    """A secret-shaped path: what to report (``target``) and the entry that ignores it."""

    target: str  # the file, or the ``*-secrets/`` directory (with a trailing slash)
    entry: str  # the .gitignore line from the guide that covers it
    kind: str  # "env", "mcp", "secrets-dir", "key", "backup"


def is_env_template(name: str) -> bool:
    """True for ``.env.example``-style templates (safe to commit)."""
    return name in ENV_TEMPLATES


# Cheap first pass: most paths in a large tree fail this and skip the detailed checks.
_MAYBE_SECRET = re.compile(r"-secrets(?:/|$)|(?:^|/)\.env(?:\.[^/]*)?$|(?:^|/)\.mcp\.json$|/mcp/[^/]*\.json$"
                           r"|\.(?:key|pem|p12|backup|bak)$|~$")


def classify(path: str) -> Optional[SecretPath]:
    """The guide's classification of a repository-relative path, or None."""
    if not _MAYBE_SECRET.search(path):
        return None
    parts = path.rstrip("/").split("/")
    for index, part in enumerate(parts[:-1] if not path.endswith("/") else parts):
        if part.endswith("-secrets") and len(part) > len("-secrets"):
            return SecretPath("/".join(parts[: index + 1]) + "/", "*-secrets/", "secrets-dir")
    if path.endswith("/"):
        return None
    name = parts[-1]
    if name == ".env":
        return SecretPath(path, ".env", "env")
    if name.startswith(".env.") and not is_env_template(name):
        return SecretPath(path, ".env.*", "env")
    if name == ".mcp.json":
        return SecretPath(path, ".mcp.json", "mcp")
    if len(parts) >= 3 and parts[-3:-1] == [".claude", "mcp"] and name.endswith(".json"):
        entry = ".claude/mcp/*.json" if len(parts) == 3 else "**/.claude/mcp/*.json"
        return SecretPath(path, entry, "mcp")
    for suffix in KEY_SUFFIXES:
        if name.endswith(suffix) and name != suffix:
            return SecretPath(path, f"*{suffix}", "key")
    for suffix in BACKUP_SUFFIXES:
        if name.endswith(suffix) and name != suffix:
            return SecretPath(path, f"*{suffix}", "backup")
    if name.endswith("~") and name != "~":
        return SecretPath(path, "*~", "backup")
    return None


def _grouped(paths: Iterable[str]) -> dict[str, SecretPath]:
    """Secret-shaped paths by target (all files of a ``*-secrets/`` dir become one)."""
    found: dict[str, SecretPath] = {}
    for path in paths:
        secret = classify(path)
        if secret is not None and secret.target not in found:
            found[secret.target] = secret
    return found


def _q(path: str) -> str:
    return shlex.quote(path)


def check_coverage(inv: Inventory) -> list[Finding]:
    """``gitignore-missing`` and ``secret-file-tracked`` for the work tree."""
    findings: list[Finding] = []
    for target, secret in sorted(_grouped(inv.untracked).items()):
        what = "directory" if secret.kind == "secrets-dir" else "file"
        findings.append(make_finding(
            "gitignore-missing", target,
            f"secret {what} {target} is not ignored by git; `git add .` would commit it",
            evidence=f"not ignored: {target}", key=target,
            remediation=f"Add `{secret.entry}` to .gitignore (mcp-scan audit --fix appends it).",
            extra={"entry": secret.entry, "tracked": False, "ignored": False},
        ))
    tracked_secret = _grouped(inv.tracked)
    for target, secret in sorted(tracked_secret.items()):
        if target.endswith("/"):
            ignored = any(p.startswith(target) for p in inv.tracked_ignored)
        else:
            ignored = target in inv.tracked_ignored
        recursive = "-r " if target.endswith("/") else ""
        advice = f"git rm {recursive}--cached -- {_q(target)}"
        also = "" if ignored else f", add `{secret.entry}` to .gitignore"
        findings.append(make_finding(
            "secret-file-tracked", target,
            f"secret {'directory' if target.endswith('/') else 'file'} {target} is tracked by git"
            + (" although .gitignore excludes it" if ignored else "") + _MCP_NOTE.get(secret.kind, ""),
            evidence=f"tracked: {target}", key=target, severity=_SEVERITY[secret.kind],
            remediation=f"Run `{advice}`{also} and commit; then rotate the credentials it held (they are in history).",
            extra={"entry": None if ignored else secret.entry, "tracked": True, "ignored": ignored,
                   "fix": advice},
        ))
    covered = set(tracked_secret)
    for path in sorted(inv.tracked_ignored):
        shaped = classify(path)
        if (shaped is not None and shaped.target in covered) or is_env_template(path.rsplit("/", 1)[-1]):
            continue  # reported above, or a template force-added on purpose past `.env*`
        findings.append(make_finding(
            "secret-file-tracked", path,
            f"{path} is tracked by git although .gitignore excludes it; its changes still get committed",
            evidence=f"tracked: {path}", key=path, severity="low", confidence="low",
            remediation=f"If it holds secrets or local settings, run `git rm --cached -- {_q(path)}` and commit.",
            extra={"entry": None, "tracked": True, "ignored": True, "fix": f"git rm --cached -- {_q(path)}"},
        ))
    return findings


def history_rows(root: Path, revs: Optional[list[str]] = None) -> list[tuple[str, str, str, str]]:
    """(commit, author, date, path) for every secret-shaped file added in any commit, newest first.

    One ``git log --all --diff-filter=A`` walk (or over ``revs``), not one per
    file. Renames are off so a file renamed *to* ``.env`` shows up as added.
    """
    out = run_git(["log", "--diff-filter=A", "--name-only", "-z", "--no-renames",
                   "--format=%x01%H%x1f%an <%ae>%x1f%aI", *(revs if revs is not None else ["--all"]), "--"], str(root))
    rows: list[tuple[str, str, str, str]] = []
    commit = author = date = ""
    for token in out.decode("utf-8", "surrogateescape").split("\0"):
        token = token.lstrip("\n")
        if token.startswith("\x01"):
            commit, author, date = (token[1:].split("\x1f") + ["", "", ""])[:3]
        elif token and commit and classify(token) is not None:
            rows.append((commit, author, date, token))
    return rows


def check_history(inv: Inventory, rows: Optional[list[tuple[str, str, str, str]]] = None) -> list[Finding]:
    """``secret-file-in-history``: one finding per secret path ever committed (``rows``: ``history_rows``)."""
    if not inv.has_commits:
        return []
    if rows is None:
        rows = history_rows(inv.root)
    # git log lists newest first, so the last row seen for a target is where it entered history.
    first: dict[str, tuple[str, str, str]] = {}
    commits: dict[str, list[str]] = {}
    paths: dict[str, set[str]] = {}
    kinds: dict[str, str] = {}
    for commit, author, date, path in rows:
        secret = classify(path)
        if secret is None:
            continue
        first[secret.target] = (commit, author, date)
        kinds[secret.target] = secret.kind
        commits.setdefault(secret.target, [])
        if commit not in commits[secret.target]:
            commits[secret.target].append(commit)
        paths.setdefault(secret.target, set()).add(path)
    findings: list[Finding] = []
    for target in sorted(first):
        commit, author, date = first[target]
        present = any(p in inv.head_paths for p in paths[target])
        shown = sorted(paths[target]) if target.endswith("/") else [target]
        state = "still present at HEAD" if present else "deleted since, but every clone still has it"
        findings.append(make_finding(
            "secret-file-in-history", target,
            f"secret file {target} was committed in {commit[:12]} ({state})",
            evidence=f"committed: {target}", key=target, commit=commit, author=author or None, date=date or None,
            severity=_SEVERITY[kinds[target]],
            # commits/paths are counts in every report (as in history findings); the ids and names go alongside.
            extra={"present_at_head": present, "commits": len(commits[target]), "commit_ids": commits[target][::-1],
                   "paths": len(shown), "path_list": shown},
        ))
    return findings

