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


def check_permissions(root: Path, paths: Iterable[str], *, tracked: Iterable[str] = (),
                      skip: Iterable[str] = ()) -> list[Finding]:
    """Secret files and ``*-secrets/`` directories with group/other access.

    Git stores no permission bits, so every clone checks tracked files out
    with the umask's mode (0644): those are one finding for the repository,
    not one per file per clone. A file the user made (untracked or ignored)
    is its own finding. ``skip`` holds targets with nothing secret in them.
    """
    if not supported():
        return []
    findings: list[Finding] = []
    clone_modes: list[Finding] = []
    seen: set[str] = set(skip)
    tracked_set = set(tracked)
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
        if finding is None:
            continue
        is_tracked = path in tracked_set or (secret.target.endswith("/") and
                                             any(p.startswith(secret.target) for p in tracked_set))
        (clone_modes if is_tracked else findings).append(finding)
    if clone_modes:
        findings.insert(0, _clone_finding(clone_modes))
    return findings


def _clone_finding(per_file: list[Finding]) -> Finding:
    """One finding for every tracked secret file left readable by the checkout's umask."""
    shown = [f.path for f in per_file]
    listed = ", ".join(f"{f.path} ({f.extra['mode']})" for f in per_file[:10])
    more = f" and {len(per_file) - 10} more" if len(per_file) > 10 else ""
    fixes = [f.extra["fix"] for f in per_file]
    return make_finding(
        "insecure-file-permissions", ".",
        f"{len(per_file)} tracked secret file(s) are readable by group or others: {listed}{more}; git does not "
        "store the mode, so every clone checks them out with the umask's mode (usually 0644)",
        evidence=f"{len(per_file)} files", key="tracked-files",
        remediation="Run " + "; ".join(f"`{fix}`" for fix in fixes[:10]) + (" (and the rest)" if more else "")
                    + " (mcp-scan audit --fix does), and clone with `umask 077` so new clones start private; "
                    "better still, stop tracking secret files.",
        extra={"paths": len(shown), "path_list": shown, "modes": {f.path: f.extra["mode"] for f in per_file},
               "want_modes": {f.path: f.extra["want_mode"] for f in per_file}, "fix": "; ".join(fixes)},
    )


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
