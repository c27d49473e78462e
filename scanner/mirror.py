"""Bare mirrors of the clone URLs a sweep lists: cloned once, then fetched.

``sync_mirror`` clones a URL ``--bare`` (never a working tree) into the
mirror directory, or, when the mirror is already there (a self-hosted
runner, a restored CI cache, last night's run), fetches only what changed
since its tips: branches and tags, force pushes and deletions included
(``--prune``). The history cache then scans only the blobs it has not seen.

Credentials never leave the URL they came in: the mirror's ``origin`` is the
URL without them (so they are not stored in a cache that CI uploads), every
fetch passes the URL as listed, and git's messages are redacted before
anyone sees them. Git never prompts (``GIT_TERMINAL_PROMPT=0``, ssh in batch
mode): a repository that wants a password fails, and the sweep goes on.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from scanner.gitcmd import git_env
from scanner.history.identity import display_url, normalise_url, redact_url
from scanner.paths import remove_dead_temporaries

_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
# A fetch that runs git's automatic gc does so before we scan, not behind our back.
# Only real transports: a list line is data, never a command (``ext::``, ``fd::``).
_CONFIG = ("-c", "gc.autoDetach=false", "-c", "core.quotePath=false", "-c", "color.ui=false",
           "-c", "protocol.ext.allow=never", "-c", "protocol.fd.allow=never")


@dataclass
class MirrorResult:
    """What one sync did: ``fetched`` bytes added to the mirror, ``cloned`` when it was new."""

    fetched: int = 0
    cloned: bool = False
    error: Optional[str] = None


def mirror_path(mirror_dir: Path, url: Optional[str]) -> Path:
    """The mirror of ``url``: ``<last path part>-<hash of the normalised URL>.git``."""
    key = normalise_url(url or "")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", key.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])[:40] or "repo"
    return mirror_dir / f"{slug}-{hashlib.sha256(key.encode('utf-8', 'surrogateescape')).hexdigest()[:12]}.git"


def _env() -> dict[str, str]:
    env = git_env()
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")  # ssh never asks either
    return env


def _size(directory: Path) -> int:
    from scanner.paths import tree_size

    return tree_size(directory / "objects")


def _git(args: list[str], cwd: Optional[Path], url: str) -> Optional[str]:
    """Run git; None on success, else its message with ``url``'s credentials removed."""
    try:
        proc = subprocess.run(["git", *_CONFIG, *args], cwd=cwd, env=_env(), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        return f"cannot run git: {exc}"
    if proc.returncode == 0:
        return None
    text = proc.stderr.decode("utf-8", "replace").replace(url, display_url(url))
    lines = [line.strip() for line in redact_url(text).splitlines() if line.strip()]
    return "; ".join(lines[-3:]) or f"git {args[0]} failed (exit {proc.returncode})"


def sync_mirror(url: str, path: Path) -> MirrorResult:
    """Clone ``url`` bare into ``path``, or fetch what changed into the mirror already there."""
    shown = display_url(url)
    if path.exists():
        if not (path / "objects").is_dir():
            return MirrorResult(error=f"mirror {path} of {shown} is not a bare repository (remove it to clone again)")
        before = _size(path)
        error = _git(["fetch", "--quiet", "--prune", "--no-write-fetch-head", "--end-of-options", url, *_REFSPECS],
                     path, url)
        return MirrorResult(fetched=max(0, _size(path) - before), error=f"fetch {shown}: {error}" if error else None)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_temporaries(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        error = _git(["clone", "--bare", "--quiet", "--no-hardlinks", "--", url, str(tmp)], None, url)
        if error is None:
            # The stored origin has no credentials: the mirror may end up in a CI cache.
            error = _git(["config", "remote.origin.url", shown], tmp, url)
        if error is not None:
            return MirrorResult(error=f"clone {shown}: {error}")
        os.rename(tmp, path)  # a clone killed halfway never looks like a mirror
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return MirrorResult(fetched=_size(path), cloned=True)
