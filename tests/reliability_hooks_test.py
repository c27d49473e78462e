"""Hook safety (issue 7, item 4): real ``git commit`` runs through installed hooks.

``mcp-scan install`` must keep whatever hook was there runnable (its output
still shows, its failure still blocks), honour ``core.hooksPath`` and the
pre-commit framework's hook, and ``uninstall`` must put the original back
byte for byte with the same mode. A scanner error inside the hook blocks.
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo
from tests.reliability_support import git, run_scan

KEY = stripe_live_key(seed=21)


def commit(repo: Path, message: str = "try") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, capture_output=True)


def head(repo: Path) -> str:
    proc = subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=repo, capture_output=True)
    return proc.stdout.decode().strip()


def install(repo: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    proc = run_scan("install", *extra, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return proc


def snapshot(path: Path) -> tuple[bytes, int, bool, str]:
    """Bytes, permission bits, symlink-ness and link target of a hook file."""
    info = os.lstat(path)
    link = os.readlink(path) if stat.S_ISLNK(info.st_mode) else ""
    data = b"" if link else path.read_bytes()
    return data, stat.S_IMODE(info.st_mode), bool(link), link


def write_hook(path: Path, body: str, mode: int = 0o755) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body.encode())
    path.chmod(mode)


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    git_repo.stage("README", "hi\n")
    git_repo.commit("root")
    return git_repo


def test_fresh_install_blocks_secrets_and_passes_clean_commits(repo: GitRepo) -> None:
    install(repo.path)
    repo.stage("ok.txt", "fine\n")
    assert commit(repo.path).returncode == 0
    before = head(repo.path)
    repo.stage("leak.env", f"KEY={KEY}\n")
    blocked = commit(repo.path)
    assert blocked.returncode != 0
    assert head(repo.path) == before
    assert KEY.encode() not in blocked.stdout + blocked.stderr


def test_existing_hook_still_runs_and_its_failure_still_blocks(repo: GitRepo) -> None:
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    original = "#!/bin/sh\necho legacy-ran >> \"$(git rev-parse --git-dir)/legacy.log\"\n[ ! -e BLOCK ] || { echo legacy-says-no >&2; exit 7; }\n"
    write_hook(hook, original, 0o750)
    before = snapshot(hook)
    install(repo.path)
    log = repo.path / ".git" / "legacy.log"

    repo.stage("a.txt", "a\n")
    assert commit(repo.path).returncode == 0
    assert log.read_text().count("legacy-ran") == 1

    repo.stage("BLOCK", "x\n")  # the legacy hook fails: the commit must stay blocked
    blocked = commit(repo.path)
    assert blocked.returncode != 0 and b"legacy-says-no" in blocked.stderr
    repo.git("rm", "-q", "--cached", "BLOCK")
    (repo.path / "BLOCK").unlink()

    repo.stage("leak.env", f"KEY={KEY}\n")  # legacy passes, mcp-scan blocks
    blocked = commit(repo.path)
    assert blocked.returncode != 0 and b"stripe" in blocked.stdout + blocked.stderr
    repo.git("rm", "-q", "--cached", "leak.env")

    proc = run_scan("uninstall", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert snapshot(hook) == before
    assert not (hook.parent / "pre-commit.mcp-scan-orig").exists()


def test_non_executable_existing_hook_keeps_being_ignored(repo: GitRepo) -> None:
    # git skips a hook without the execute bit; installing must not turn it
    # into a "permission denied" that blocks every commit.
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    write_hook(hook, "#!/bin/sh\nexit 1\n", 0o644)
    before = snapshot(hook)
    install(repo.path)
    repo.stage("a.txt", "a\n")
    result = commit(repo.path)
    assert result.returncode == 0, result.stderr
    assert run_scan("uninstall", cwd=repo.path).returncode == 0
    assert snapshot(hook) == before


def test_symlinked_existing_hook_is_restored_as_the_same_link(repo: GitRepo, tmp_path: Path) -> None:
    shared = tmp_path / "shared-hook"
    write_hook(shared, "#!/bin/sh\necho shared-ran >&2\n")
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.symlink_to(shared)
    before = snapshot(hook)
    install(repo.path)
    repo.stage("a.txt", "a\n")
    result = commit(repo.path)
    assert result.returncode == 0 and b"shared-ran" in result.stderr
    assert run_scan("uninstall", cwd=repo.path).returncode == 0
    assert snapshot(hook) == before
    assert shared.read_bytes() == b"#!/bin/sh\necho shared-ran >&2\n"


def test_install_twice_and_stale_backup_never_lose_a_hook(repo: GitRepo) -> None:
    hooks = repo.path / ".git" / "hooks"
    write_hook(hooks / "pre-commit", "#!/bin/sh\necho mine >&2\n")
    original = snapshot(hooks / "pre-commit")
    install(repo.path)
    install(repo.path)  # idempotent: the backup is not overwritten with our own hook
    assert snapshot(hooks / "pre-commit.mcp-scan-orig") == original
    assert run_scan("uninstall", cwd=repo.path).returncode == 0
    assert snapshot(hooks / "pre-commit") == original

    # A leftover backup plus a different hook: refuse, touch nothing.
    write_hook(hooks / "pre-commit.mcp-scan-orig", "#!/bin/sh\necho stale >&2\n")
    stale = snapshot(hooks / "pre-commit.mcp-scan-orig")
    proc = run_scan("install", cwd=repo.path)
    assert proc.returncode == 3 and b"Traceback" not in proc.stderr
    assert snapshot(hooks / "pre-commit") == original
    assert snapshot(hooks / "pre-commit.mcp-scan-orig") == stale


def test_uninstall_without_install_changes_nothing(repo: GitRepo) -> None:
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    write_hook(hook, "#!/bin/sh\nexit 0\n")
    before = snapshot(hook)
    proc = run_scan("uninstall", cwd=repo.path)
    assert proc.returncode == 0
    assert snapshot(hook) == before


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_core_hooks_path_is_honoured(repo: GitRepo, tmp_path: Path, where: str) -> None:
    hooks = Path(".githooks") if where == "relative" else tmp_path / "shared-hooks"
    repo.git("config", "core.hooksPath", str(hooks))
    hook_dir = hooks if hooks.is_absolute() else repo.path / hooks
    write_hook(hook_dir / "pre-commit", "#!/bin/sh\necho team-hook >&2\n")
    before = snapshot(hook_dir / "pre-commit")
    (repo.path / "sub").mkdir()
    install(repo.path / "sub")  # from a subdirectory: still the configured directory
    assert not (repo.path / ".git" / "hooks" / "pre-commit").exists()
    assert not (repo.path / "sub" / ".githooks").exists()
    repo.stage("leak.env", f"KEY={KEY}\n")
    blocked = commit(repo.path)
    assert blocked.returncode != 0 and b"team-hook" in blocked.stderr
    assert run_scan("uninstall", cwd=repo.path).returncode == 0
    assert snapshot(hook_dir / "pre-commit") == before


def test_pre_commit_framework_hook_and_mcp_scan_both_run(repo: GitRepo) -> None:
    pytest.importorskip("pre_commit")
    config = (
        "repos:\n"
        "- repo: local\n"
        "  hooks:\n"
        "  - id: marker\n"
        "    name: marker\n"
        "    entry: sh -c 'echo framework-ran >> \"$(git rev-parse --git-dir)/framework.log\"'\n"
        "    language: system\n"
        "    pass_filenames: false\n"
        "    always_run: true\n"
    )
    repo.stage(".pre-commit-config.yaml", config)
    repo.commit("config")
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo.path, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    framework_hook = snapshot(hook)
    install(repo.path)
    log = repo.path / ".git" / "framework.log"

    repo.stage("ok.txt", "fine\n")
    result = commit(repo.path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert log.read_text().count("framework-ran") == 1

    repo.stage("leak.env", f"KEY={KEY}\n")
    blocked = commit(repo.path)
    assert blocked.returncode != 0
    assert log.read_text().count("framework-ran") == 2  # the framework ran, then mcp-scan blocked
    assert KEY.encode() not in blocked.stdout + blocked.stderr

    assert run_scan("uninstall", cwd=repo.path).returncode == 0
    assert snapshot(hook) == framework_hook


def test_a_scanner_error_inside_the_hook_blocks_the_commit(repo: GitRepo) -> None:
    install(repo.path)
    # A UTF-16 file whose blob is gone: the scan cannot read what is being committed.
    repo.stage("wide.txt", f"KEY={KEY}\n".encode("utf-16"))
    oid = repo.git("rev-parse", ":wide.txt").strip()
    (repo.path / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    before = head(repo.path)
    blocked = commit(repo.path)
    assert blocked.returncode != 0
    assert b"mcp-scan: error:" in blocked.stderr and b"Traceback" not in blocked.stderr
    assert head(repo.path) == before


def test_hook_in_a_linked_worktree_uses_the_shared_hooks(repo: GitRepo, tmp_path: Path) -> None:
    worktree = tmp_path / "wt"
    repo.git("worktree", "add", "-q", str(worktree), "-b", "side")
    install(worktree)
    (worktree / "leak.env").write_text(f"KEY={KEY}\n")
    git(worktree, "add", "leak.env")
    assert commit(worktree).returncode != 0
    repo.stage("leak.env", f"KEY={KEY}\n")
    assert commit(repo.path).returncode != 0


def test_repository_path_with_spaces_and_quotes(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "it's a \"repo\" dir")
    repo.stage("a.txt", "a\n")
    repo.commit("root")
    install(repo.path)
    repo.stage("leak.env", f"KEY={KEY}\n")
    assert commit(repo.path).returncode != 0
    repo.git("rm", "-q", "--cached", "leak.env")
    repo.stage("ok.txt", "ok\n")
    assert commit(repo.path).returncode == 0
