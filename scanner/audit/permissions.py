"""``insecure-file-permissions``: secret files and directories others can read.

POSIX modes only; on Windows the check is skipped (ACLs are another story).
Symlinks are never followed: their own mode means nothing and their target
may live outside the repository.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Optional

from scanner.audit.findings import make_finding
from scanner.audit.gitignore import classify
from scanner.models import Finding

FILE_MODE = 0o600
DIR_MODE = 0o700
# The guide's list: .env files, MCP configs, *-secrets/ directories, key files (not backups or templates).
_KINDS = frozenset({"env", "mcp", "secrets-dir", "key"})


def supported() -> bool:
    """True where files have POSIX permission bits."""
    return os.name == "posix"


def check_permissions(root: Path, paths: Iterable[str]) -> list[Finding]:
    """One finding per secret file or ``*-secrets/`` directory with group/other access."""
    if not supported():
        return []
    findings: list[Finding] = []
    seen: set[str] = set()
    real_root = os.path.realpath(root)
    for path in paths:
        secret = classify(path)
        if secret is None or secret.kind not in _KINDS or secret.target in seen:
            continue
        seen.add(secret.target)
        full = root / secret.target.rstrip("/")
        if os.path.commonpath([os.path.realpath(full), real_root]) != real_root:
            continue  # under a symlinked directory that leaves the repository: not ours to judge or chmod
        finding = mode_finding(full, secret.target)
        if finding is not None:
            findings.append(finding)
    return findings


def mode_finding(full: Path, shown: str, *, follow_symlinks: bool = False, fixable: bool = True) -> Optional[Finding]:
    """``insecure-file-permissions`` for one file or directory when group or others can access it.

    ``shown`` is the path reports use. A symlink is judged only with
    ``follow_symlinks`` (the user's own configs, often linked from a dotfiles
    checkout); in a repository its target may be anyone's.
    """
    try:
        info = os.stat(full) if follow_symlinks else os.lstat(full)
    except OSError:
        return None  # vanished or unreadable: nothing to tighten
    if stat.S_ISLNK(info.st_mode):
        return None
    is_dir = stat.S_ISDIR(info.st_mode)
    if not is_dir and not stat.S_ISREG(info.st_mode):
        return None
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o077:
        return None
    want = DIR_MODE if is_dir else FILE_MODE
    who = "group and others" if mode & 0o070 and mode & 0o007 else ("group" if mode & 0o070 else "others")
    return make_finding(
        "insecure-file-permissions", shown,
        f"{'directory' if is_dir else 'file'} {shown} is accessible by {who} (mode {mode:04o})",
        evidence=f"mode {mode:04o}", key=shown,
        remediation=f"chmod {want:o} {shown}" + (" (mcp-scan audit --fix does)." if fixable else "."),
        extra={"mode": f"{mode:04o}", "want_mode": f"{want:04o}", "fix": f"chmod {want:o} {shown}"},
    )
