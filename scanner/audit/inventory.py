"""What is in a work tree, as git sees it: tracked, untracked, ignored.

Every ignore decision comes from git's own engine (``git ls-files
--exclude-standard`` and ``git check-ignore``), so nested ``.gitignore``
files, ``.git/info/exclude``, ``core.excludesFile`` and negations all count
exactly as they do for ``git add``. There is no hand-written matcher here.
"""
from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import ScanError
from scanner.gitcmd import git_env, git_failure, run_git


def _split(output: bytes) -> list[str]:
    return [p for p in output.decode("utf-8", "surrogateescape").split("\0") if p]


@dataclass
class Inventory:
    """The work tree's paths (relative, ``/``-separated) by git status.

    ``ignored`` comes from ``--directory``: an ignored directory is one entry
    ending in ``/`` rather than every file below it (a ``node_modules`` can
    hold a million files nobody needs to audit).
    """

    root: Path
    tracked: list[str] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    tracked_ignored: set[str] = field(default_factory=set)
    head_paths: set[str] = field(default_factory=set)
    has_commits: bool = False

    def visible(self) -> list[str]:
        """Tracked files plus untracked files that are not ignored."""
        return self.tracked + self.untracked


def repo_root(path: Path) -> Path:
    """The top of the work tree containing ``path`` (a ScanError outside git)."""
    if not path.exists():
        raise ScanError(f"{path} does not exist", "pass the path of a git repository")
    out = run_git(["rev-parse", "--show-toplevel"], str(path)).decode("utf-8", "surrogateescape").strip()
    if not out:
        raise ScanError(f"{path} has no work tree (bare repository?)", "run the audit in a checkout")
    return Path(out)


def build_inventory(root: Path) -> Inventory:
    """List the work tree through git: five cheap ``ls-files``/``ls-tree`` calls."""
    cwd = str(root)
    inv = Inventory(root=root)
    inv.tracked = _split(run_git(["ls-files", "-z", "--cached"], cwd))
    inv.untracked = _split(run_git(["ls-files", "-z", "--others", "--exclude-standard"], cwd))
    inv.ignored = _split(run_git(["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"], cwd))
    inv.tracked_ignored = set(_split(run_git(["ls-files", "-z", "--cached", "--ignored", "--exclude-standard"], cwd)))
    head = run_git(["rev-parse", "--verify", "-q", "HEAD^{commit}"], cwd, check=False).strip()
    inv.has_commits = bool(head)
    if inv.has_commits:
        inv.head_paths = set(_split(run_git(["ls-tree", "-r", "-z", "--name-only", "HEAD"], cwd)))
    return inv


def check_ignored(root: Path, paths: Iterable[str]) -> set[str]:
    """The subset of ``paths`` that git's ignore rules exclude (tracked or not).

    ``--no-index`` asks about the patterns alone, so a tracked file that a
    pattern covers still counts as ignored; paths need not exist.
    """
    wanted = [p for p in paths if p]
    if not wanted:
        return set()
    data = "\0".join(wanted).encode("utf-8", "surrogateescape") + b"\0"
    try:
        proc = subprocess.run(["git", "check-ignore", "--stdin", "-z", "--no-index"], cwd=str(root), input=data,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=git_env())
    except OSError as exc:
        raise ScanError(f"cannot run git check-ignore: {exc}", "check that git is installed") from None
    if proc.returncode not in (0, 1):  # 1 means "nothing ignored"
        raise git_failure(["check-ignore"], proc.stderr, str(root))
    return set(_split(proc.stdout)) & set(wanted)
