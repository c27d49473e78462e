"""What the audit's checks share: the result they add to, the bounded file reader, dedupe, and the
current content verdicts. ``run_audit`` (the package) and the hook and user audits import it;
it imports none of them.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from scanner.models import Finding

MAX_CONFIG_SIZE = 2 * 1024 * 1024
# Markers that make a JSON file worth parsing for OAuth scopes and token lifetimes.
TOKEN_MARKERS = (b"expires_in", b"xpiresIn", b"scope", b"_ttl", b"TTL", b"token_lifetime", b"TokenLifetime")


@dataclass
class AuditResult:
    """Findings plus what could not be read (``errors``, exit 3) or was skipped (``warnings``)."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def inside(path: str, real_root: str) -> bool:
    """True when ``path`` resolves (symlinks and all) to a place under ``real_root``."""
    return os.path.commonpath([os.path.realpath(path), real_root]) == real_root


class Reader:
    """Reads repository files without leaving the repository or reading huge ones."""

    def __init__(self, root: Path, result: AuditResult) -> None:
        self.root_str = str(root)
        self.real_root = os.path.realpath(root)
        self.result = result

    def __call__(self, rel: str, *, required: bool = False) -> Optional[bytes]:
        full = os.path.join(self.root_str, rel)
        try:
            # realpath, not just lstat: a symlinked parent directory (`.claude -> ~/x`) leaves too.
            if not inside(full, self.real_root):
                self.result.warnings.append(f"{rel}: symlink leads outside the repository; not read")
                return None
            info = os.stat(full)
            if not stat.S_ISREG(info.st_mode):
                return None  # directories, fifos, devices: never read (a fifo would block)
            if info.st_size > MAX_CONFIG_SIZE:
                self.result.warnings.append(
                    f"{rel}: {info.st_size} bytes is over the {MAX_CONFIG_SIZE}-byte limit; not checked")
                return None
            with open(full, "rb") as handle:
                return handle.read(MAX_CONFIG_SIZE + 1)
        except FileNotFoundError:
            return None  # vanished mid-audit: nothing left to check
        except OSError as exc:
            if required:
                self.result.errors.append(f"{rel}: {exc.strerror or exc}")
            else:
                self.result.warnings.append(f"{rel}: {exc.strerror or exc}; not checked")
            return None


def dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, int, str]] = set()
    kept = []
    for finding in findings:
        key = (finding.rule_id, finding.path, finding.line, finding.fingerprint)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


def current_verdicts(paths: list[str], read: Any, detector: Any) -> dict[str, str]:
    """The content verdict of every secret-shaped file among ``paths`` whose kind is judged by content."""
    from scanner.audit import content
    from scanner.audit.gitignore import classify

    verdicts: dict[str, str] = {}
    for path in paths:
        secret = classify(path)
        if secret is None or secret.kind not in content.JUDGED_KINDS or secret.target in verdicts:
            continue
        verdicts[secret.target] = content.judge(secret.kind, path, read(path), detector)
    return verdicts
