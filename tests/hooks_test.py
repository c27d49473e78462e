"""Native hook install/uninstall with real `git commit` runs."""
from __future__ import annotations

import os
import subprocess

import pytest

from scanner.cli import main
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

KEY = stripe_live_key()


def commit(repo: GitRepo) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "commit", "-q", "-m", "try"], cwd=repo.path, capture_output=True)


def test_installed_hook_blocks_a_secret_and_passes_clean_commits(git_repo: GitRepo) -> None:
    assert main(["install", "--repo", str(git_repo.path)]) == 0
    git_repo.stage("ok.txt", "fine\n")
    assert commit(git_repo).returncode == 0
    git_repo.stage("leak.py", f"KEY = '{KEY}'\n")
    blocked = commit(git_repo)
    assert blocked.returncode != 0
    assert b"stripe-live-secret-key" in blocked.stdout + blocked.stderr
    assert KEY.encode() not in blocked.stdout + blocked.stderr


def test_existing_hook_is_chained_and_restored_byte_for_byte(git_repo: GitRepo) -> None:
    hook = git_repo.path / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    original = b"#!/bin/sh\necho original-hook-ran >&2\nexit 0\n"
    hook.write_bytes(original)
    hook.chmod(0o751)
    assert main(["install", "--repo", str(git_repo.path)]) == 0
    git_repo.stage("a.txt", "a\n")
    result = commit(git_repo)
    assert result.returncode == 0 and b"original-hook-ran" in result.stderr
    assert main(["uninstall", "--repo", str(git_repo.path)]) == 0
    assert hook.read_bytes() == original
    assert oct(hook.stat().st_mode & 0o777) == oct(0o751)


def test_failing_existing_hook_still_blocks(git_repo: GitRepo) -> None:
    hook = git_repo.path / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\nexit 7\n")
    hook.chmod(0o755)
    main(["install", "--repo", str(git_repo.path)])
    git_repo.stage("a.txt", "a\n")
    assert commit(git_repo).returncode != 0


def test_core_hooks_path_is_honoured(git_repo: GitRepo) -> None:
    git_repo.git("config", "core.hooksPath", "custom-hooks")
    assert main(["install", "--repo", str(git_repo.path)]) == 0
    assert (git_repo.path / "custom-hooks" / "pre-commit").exists()
    git_repo.stage("leak.env", f"K={KEY}\n")
    assert commit(git_repo).returncode != 0


def test_install_twice_is_idempotent_and_uninstall_without_hook(git_repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    main(["install", "--repo", str(git_repo.path)])
    main(["install", "--repo", str(git_repo.path)])
    assert "already installed" in capsys.readouterr().out
    assert not (git_repo.path / ".git" / "hooks" / "pre-commit.mcp-scan-orig").exists()
    assert main(["uninstall", "--repo", str(git_repo.path)]) == 0
    assert not (git_repo.path / ".git" / "hooks" / "pre-commit").exists()
    assert main(["uninstall", "--repo", str(git_repo.path)]) == 0
    assert "no mcp-scan" in capsys.readouterr().out


def test_hook_refuses_to_clobber_a_backup(git_repo: GitRepo) -> None:
    hooks = git_repo.path / ".git" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    (hooks / "pre-commit.mcp-scan-orig").write_text("#!/bin/sh\nexit 0\n")
    assert main(["install", "--repo", str(git_repo.path)]) == 3
    assert (hooks / "pre-commit").read_text() == "#!/bin/sh\nexit 0\n"
    assert os.access(hooks / "pre-commit", os.R_OK)


def test_hook_never_imports_modules_from_the_repository(git_repo: GitRepo) -> None:
    # A repository with files named like standard-library modules must not
    # hijack the hook's interpreter (python -m would import them).
    for name in ("typing.py", "argparse.py", "warnings.py", "re.py"):
        git_repo.write(name, "raise SystemExit('imported from the repository')\n")
    assert main(["install", "--repo", str(git_repo.path)]) == 0
    git_repo.stage("typing.py", "raise SystemExit('imported from the repository')\n")
    ok = commit(git_repo)
    assert ok.returncode == 0, ok.stderr
    assert b"imported from the repository" not in ok.stderr
    git_repo.stage("leak.py", f"KEY = '{KEY}'\n")
    blocked = commit(git_repo)
    assert blocked.returncode == 1 and b"stripe-live-secret-key" in blocked.stdout + blocked.stderr
