"""``mcp-scan audit --fix``: append missing .gitignore entries, tighten permissions.

The only writes are an append to the top-level ``.gitignore`` (under one
commented block, in the file's own line endings, lines already present are
never repeated, so a second run adds nothing) and ``chmod`` on files the audit
flagged. Nothing is deleted, untracked or rewritten: ``git rm --cached`` and
history rewrites stay the user's decision.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from scanner.audit.gitignore import ENV_TEMPLATES
from scanner.audit.inventory import check_ignored
from scanner.errors import ScanError
from scanner.models import Finding

BLOCK_HEADER = "# Added by mcp-scan audit --fix: files that hold secrets (MCP security guide)"


def wanted_entries(findings: Sequence[Finding]) -> list[str]:
    """The .gitignore lines the findings call for, in first-seen order."""
    entries: list[str] = []
    for finding in findings:
        if finding.rule_id not in ("gitignore-missing", "secret-file-tracked"):
            continue
        entry = finding.extra.get("entry")
        if entry and entry not in entries:
            entries.append(entry)
    return entries


def _present_lines(text: str) -> set[str]:
    # git ignores trailing spaces on a pattern line (unless escaped), so compare stripped lines.
    return {line.strip() for line in text.splitlines()}


def append_gitignore(root: Path, entries: Sequence[str]) -> list[str]:
    """Append the entries missing from ``root/.gitignore``; return the lines added."""
    if not entries:
        return []
    path = root / ".gitignore"
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise ScanError(f"{path} is not a regular file; not touching it", "add the entries by hand")
    data = path.read_bytes() if path.exists() else b""
    text = data.decode("utf-8", "surrogateescape")
    present = _present_lines(text)
    lines = [e for e in entries if e not in present]
    if ".env.*" in lines:
        # `.env.*` would newly hide the committed templates; keep each one that is visible today visible.
        hidden = check_ignored(root, ENV_TEMPLATES)
        lines += [f"!{t}" for t in ENV_TEMPLATES if t not in hidden and f"!{t}" not in present]
    if not lines:
        return []
    eol = "\r\n" if b"\r\n" in data else "\n"
    block = ""
    if data and not data.endswith((b"\n", b"\r")):
        block += eol  # finish the user's last line rather than gluing our entry onto it
    if data.strip():
        block += eol
    block += BLOCK_HEADER + eol + "".join(line + eol for line in lines)
    with open(path, "ab") as handle:
        handle.write(block.encode("utf-8", "surrogateescape"))
    return lines


def tighten_permissions(root: Path, findings: Sequence[Finding]) -> list[str]:
    """chmod 600/700 every path an ``insecure-file-permissions`` finding names; return what changed."""
    changed: list[str] = []
    for finding in findings:
        if finding.rule_id != "insecure-file-permissions":
            continue
        # One finding covers every tracked file a checkout left readable (``path_list``).
        wanted = finding.extra.get("want_modes") or {finding.path: finding.extra.get("want_mode")}
        for shown, want_mode in wanted.items():
            change = _tighten(root, shown, want_mode)
            if change:
                changed.append(change)
    return changed


def _tighten(root: Path, shown: str, want_mode: Optional[str]) -> Optional[str]:
    full = root / shown.rstrip("/")
    try:
        info = os.lstat(full)
    except OSError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return None  # never chmod through a symlink
    want = int(want_mode or ("0700" if stat.S_ISDIR(info.st_mode) else "0600"), 8)
    old = stat.S_IMODE(info.st_mode)
    if old == want:
        return None
    try:
        os.chmod(full, want)
    except OSError as exc:
        raise ScanError(f"cannot chmod {shown}: {exc.strerror}", "fix the permissions by hand") from None
    return f"chmod {want:o} {shown} (was {old:04o})"


def apply_fixes(root: Path, findings: Sequence[Finding]) -> tuple[list[str], list[str]]:
    """Apply both fixes; return (one line per change, one line per fix that could not be made).

    One failed fix does not stop the other: permissions are still tightened
    when ``.gitignore`` cannot be edited, and the audit still reports.
    """
    changes: list[str] = []
    problems: list[str] = []
    try:
        added = append_gitignore(root, wanted_entries(findings))
    except ScanError as exc:
        problems.append(str(exc))
        added = []
    if added:
        changes.append(f"appended to .gitignore: {', '.join(added)}")
    try:
        changes.extend(tighten_permissions(root, findings))
    except ScanError as exc:
        problems.append(str(exc))
    return changes, problems
