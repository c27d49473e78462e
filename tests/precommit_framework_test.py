"""The real pre-commit framework installs this checkout as a hook repository.

`pre-commit try-repo` clones the checkout, builds a virtualenv and runs
`pip install .` exactly as users' hook installs do, so this also proves the
wheel ships the rule registry (patterns/ is read back from the package).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

CHECKOUT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(repo: GitRepo, home: Path) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(CHECKOUT), "mcp-scan", "--verbose"],
        cwd=repo.path, env=env, capture_output=True, timeout=900,
    )


def test_framework_blocks_a_staged_stripe_key(git_repo: GitRepo, pre_commit_home: Path) -> None:
    key = stripe_live_key(seed=11)
    git_repo.stage("settings.py", f"STRIPE_SECRET_KEY = '{key}'\n")
    proc = try_repo(git_repo, pre_commit_home)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output.decode(errors="replace")
    assert b"stripe-live-secret-key" in output
    assert b"settings.py:1:22" in output
    assert key.encode() not in output


def test_framework_passes_a_clean_change(git_repo: GitRepo, pre_commit_home: Path) -> None:
    git_repo.stage("README.md", "# hello\n\nNothing secret here. Set STRIPE_SECRET_KEY=${STRIPE_SECRET_KEY}.\n")
    proc = try_repo(git_repo, pre_commit_home)
    assert proc.returncode == 0, (proc.stdout + proc.stderr).decode(errors="replace")
    assert b"Passed" in proc.stdout
