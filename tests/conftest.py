"""Shared fixtures: real temporary git repositories, isolated from the user's config."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.git_helpers import GitRepo

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the fuzz tests skip themselves without it
    pass
else:
    # Property tests must not depend on the machine's speed or load: no
    # per-example deadline, no "data generation too slow" failure. Tests that
    # set their own settings inherit these unless they say otherwise.
    settings.register_profile("any-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("any-machine")


@pytest.fixture(autouse=True, scope="session")
def _isolated_git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep tests away from $HOME's git config, hooks templates and caches."""
    home = tmp_path_factory.mktemp("home")
    saved = dict(os.environ)
    os.environ.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Test Author",
            "GIT_AUTHOR_EMAIL": "author@example.com",
            "GIT_COMMITTER_NAME": "Test Committer",
            "GIT_COMMITTER_EMAIL": "committer@example.com",
            "GIT_TEMPLATE_DIR": "",
            "MCP_SCAN_CACHE_DIR": str(home / "mcp-scan-cache"),
        }
    )
    os.environ.pop("MCP_SCAN_DEBUG", None)
    subprocess.run(["git", "config", "--global", "init.defaultBranch", "main"], check=True)
    subprocess.run(["git", "config", "--global", "commit.gpgsign", "false"], check=True)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    """An empty repository (no commits yet) in a temporary directory."""
    return GitRepo.init(tmp_path / "repo")
