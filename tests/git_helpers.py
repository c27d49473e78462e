"""Helpers that drive real git in tests (no mocks)."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Union


@dataclass
class GitRepo:
    """A real repository in a temporary directory."""

    path: Path

    @classmethod
    def init(cls, path: Path, *args: str) -> "GitRepo":
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "-q", *args, str(path)], check=True)
        return cls(path)

    def git(self, *args: str, input: Union[bytes, None] = None) -> str:
        """Run git here; return stdout as text (raises on failure)."""
        proc = subprocess.run(["git", *args], cwd=self.path, input=input, capture_output=True, check=True)
        return proc.stdout.decode("utf-8", "replace")

    def write(self, name: str, content: Union[str, bytes]) -> Path:
        """Write a file (creating directories) without staging it."""
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            path.write_bytes(content)
        return path

    def stage(self, name: str, content: Union[str, bytes]) -> Path:
        """Write a file and ``git add`` it."""
        path = self.write(name, content)
        self.git("add", "--", name)
        return path

    def commit(self, message: str = "commit", *, date: Union[str, None] = None) -> str:
        """Commit what is staged (empty commits allowed); return the commit id."""
        env = dict(os.environ)
        if date:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
        subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", message], cwd=self.path, env=env, check=True)
        return self.git("rev-parse", "HEAD").strip()

    def run_mcp_scan(self, *args: str, input: Union[bytes, None] = None) -> subprocess.CompletedProcess[bytes]:
        """Run the installed ``mcp-scan`` as a user would, in this repository."""
        import sys

        return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=self.path, input=input, capture_output=True)

    def start_conflicting_merge(self, path: str, base: str, theirs: str, ours: str, branch: str = "side") -> None:
        """Commit ``base``, change ``path`` differently on ``branch`` and on main, then ``git merge branch``.

        The merge stops on the conflict, leaving main checked out mid-merge.
        """
        self.stage(path, base)
        self.commit("base")
        self.git("checkout", "-q", "-b", branch)
        self.stage(path, theirs)
        self.commit(branch)
        self.git("checkout", "-q", "main")
        self.stage(path, ours)
        self.commit("main")
        subprocess.run(["git", "merge", "-q", branch], cwd=self.path, capture_output=True)
