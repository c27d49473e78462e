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
        try:
            info = os.lstat(full)
        except OSError:
            continue  # vanished or unreadable directory: nothing to tighten
        if stat.S_ISLNK(info.st_mode):
            continue
        is_dir = stat.S_ISDIR(info.st_mode)
        if not is_dir and not stat.S_ISREG(info.st_mode):
            continue
        mode = stat.S_IMODE(info.st_mode)
        if not mode & 0o077:
            continue
        want = DIR_MODE if is_dir else FILE_MODE
        who = "group and others" if mode & 0o070 and mode & 0o007 else ("group" if mode & 0o070 else "others")
        findings.append(make_finding(
            "insecure-file-permissions", secret.target,
            f"{'directory' if is_dir else 'file'} {secret.target} is accessible by {who} (mode {mode:04o})",
            secret=f"mode {mode:04o}", key=secret.target,
            remediation=f"chmod {want:o} {secret.target} (mcp-scan audit --fix does).",
            extra={"mode": f"{mode:04o}", "want_mode": f"{want:04o}", "fix": f"chmod {want:o} {secret.target}"},
        ))
    return findings
