"""`--fix` and permissions: append-only .gitignore edits, idempotence, line endings, chmod."""
from __future__ import annotations

import os
import stat
import subprocess

import pytest

from scanner.audit import run_audit
from scanner.audit.fix import BLOCK_HEADER
from tests.fakes import fake
from tests.git_helpers import GitRepo

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def _mode(path: os.PathLike[str]) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _audit(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[bytes]:
    return repo.run_mcp_scan("audit", *args)


def _ignored(repo: GitRepo, path: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", path], cwd=repo.path).returncode == 0


def test_fix_appends_only_missing_entries_and_is_idempotent(git_repo: GitRepo) -> None:
    original = b"# mine\nnode_modules/\n.env\n"
    git_repo.write(".gitignore", original)
    git_repo.write(".env", "A=1\n")
    git_repo.write(".mcp.json", "{}\n")
    git_repo.write("tls.pem", "k\n")
    (git_repo.path / ".env").chmod(0o600)
    (git_repo.path / ".mcp.json").chmod(0o600)
    (git_repo.path / "tls.pem").chmod(0o600)
    first = _audit(git_repo, "--fix")
    assert first.returncode == 0, first.stdout + first.stderr
    data = (git_repo.path / ".gitignore").read_bytes()
    assert data.startswith(original)
    assert data[len(original):] == f"\n{BLOCK_HEADER}\n.mcp.json\n*.pem\n".encode()
    assert b"appended to .gitignore: .mcp.json, *.pem" in first.stderr
    second = _audit(git_repo, "--fix")
    assert second.returncode == 0
    assert (git_repo.path / ".gitignore").read_bytes() == data
    assert b"nothing to change" in second.stderr


def test_fix_keeps_crlf_and_handles_missing_final_newline(git_repo: GitRepo) -> None:
    git_repo.write(".gitignore", b"build/\r\n*.log")
    git_repo.write(".env", "A=1\n")
    (git_repo.path / ".env").chmod(0o600)
    assert _audit(git_repo, "--fix").returncode == 0
    data = (git_repo.path / ".gitignore").read_bytes()
    assert data == f"build/\r\n*.log\r\n\r\n{BLOCK_HEADER}\r\n.env\r\n".encode()
    assert _ignored(git_repo, ".env") and _ignored(git_repo, "x.log")


def test_fix_creates_gitignore_when_there_is_none(git_repo: GitRepo) -> None:
    git_repo.write("deploy-secrets/token", "x\n")
    (git_repo.path / "deploy-secrets").chmod(0o700)
    (git_repo.path / "deploy-secrets" / "token").chmod(0o600)
    assert _audit(git_repo, "--fix").returncode == 0
    assert (git_repo.path / ".gitignore").read_text() == f"{BLOCK_HEADER}\n*-secrets/\n"


def test_env_star_keeps_visible_templates_visible(git_repo: GitRepo) -> None:
    git_repo.write(".env.local", "A=1\n")
    git_repo.write(".env.example", "A=\n")
    (git_repo.path / ".env.local").chmod(0o600)
    assert _audit(git_repo, "--fix").returncode == 0
    lines = (git_repo.path / ".gitignore").read_text().splitlines()
    assert ".env.*" in lines and "!.env.example" in lines
    assert _ignored(git_repo, ".env.local") and not _ignored(git_repo, ".env.example")


def test_fix_never_untracks_or_deletes(git_repo: GitRepo) -> None:
    git_repo.stage(".env", "A=1\n")
    git_repo.commit()
    (git_repo.path / ".env").chmod(0o600)
    result = _audit(git_repo, "--fix", "--format", "json")
    assert result.returncode == 1  # still tracked (and in history): the user decides on git rm --cached
    assert (git_repo.path / ".env").read_text() == "A=1\n"
    assert git_repo.git("ls-files").split() == [".env"]
    assert ".env" in (git_repo.path / ".gitignore").read_text().splitlines()


@posix_only
def test_insecure_permissions_reported_and_tightened(git_repo: GitRepo) -> None:
    git_repo.write(".gitignore", ".env\n*-secrets/\n*.key\n.claude/mcp/*.json\n")
    env = git_repo.write(".env", "API_TOKEN=%s\n" % fake(32, seed=4))  # a .env with nothing secret has no mode to fix
    key = git_repo.write("certs/server.key", "k\n")
    # A literal credential: an MCP config with only ${VAR} references has nothing to protect.
    mcp = git_repo.write(".claude/mcp/github.json",
                         '{"mcpServers": {"g": {"env": {"GITHUB_TOKEN": "%s"}}}}\n' % fake(36, seed=3))
    secrets = git_repo.path / "ops-secrets"
    git_repo.write("ops-secrets/token", "t\n")
    template = git_repo.write(".env.example", "A=\n")
    env.chmod(0o644)
    key.chmod(0o640)
    mcp.chmod(0o604)
    secrets.chmod(0o755)
    template.chmod(0o644)
    findings = {f.path: f for f in run_audit(git_repo.path).findings if f.rule_id == "insecure-file-permissions"}
    assert set(findings) == {".env", "certs/server.key", ".claude/mcp/github.json", "ops-secrets/"}
    assert findings[".env"].extra["mode"] == "0644"
    assert "group and others" in findings[".env"].message
    result = _audit(git_repo, "--fix")
    assert result.returncode == 1, result.stdout + result.stderr  # the config's literal credential is left
    assert b"insecure-file-permissions" not in result.stdout
    assert (_mode(env), _mode(key), _mode(mcp), _mode(secrets)) == (0o600, 0o600, 0o600, 0o700)
    assert _mode(template) == 0o644  # templates hold no secrets: left alone
    assert b"chmod 600 .env (was 0644)" in result.stderr


@posix_only
def test_owner_only_files_and_symlinks_are_fine(git_repo: GitRepo, tmp_path: os.PathLike[str]) -> None:
    git_repo.write(".gitignore", ".env\n.env.*\n")
    env = git_repo.write(".env", "A=1\n")
    env.chmod(0o600)
    os.symlink(env, git_repo.path / ".env.link")
    assert [f for f in run_audit(git_repo.path).findings if f.rule_id == "insecure-file-permissions"] == []


def test_symlinked_gitignore_is_not_touched(git_repo: GitRepo, tmp_path: os.PathLike[str]) -> None:
    outside = os.path.join(tmp_path, "shared-ignore")
    with open(outside, "w") as handle:
        handle.write("*.log\n")
    os.symlink(outside, git_repo.path / ".gitignore")
    git_repo.write(".env", "A=1\n")
    result = _audit(git_repo, "--fix")
    assert result.returncode == 1  # the audit still reports what it found
    assert b"could not fix" in result.stderr and b"not a regular file" in result.stderr
    with open(outside) as handle:
        assert handle.read() == "*.log\n"


@posix_only
def test_symlinked_directory_outside_the_repository_is_neither_read_nor_chmodded(
        git_repo: GitRepo, tmp_path: os.PathLike[str]) -> None:
    outside = os.path.join(tmp_path, "elsewhere")
    os.makedirs(os.path.join(outside, "mcp"))
    config = os.path.join(outside, "mcp", "server.json")
    with open(config, "w") as handle:
        handle.write('{"mcpServers": {"a": {"command": "x", "env": {"API_KEY": "Zq8Wm3Lp0Rt5Yb7Nc2Kd"}}}}')
    os.chmod(config, 0o644)
    os.symlink(outside, git_repo.path / ".claude")
    git_repo.write(".gitignore", ".claude\n")
    result = run_audit(git_repo.path)
    assert [f for f in result.findings if f.rule_id in ("mcp-hardcoded-credential", "insecure-file-permissions")] == []
    assert any("outside the repository" in w for w in result.warnings)
    assert _audit(git_repo, "--fix").returncode == 0
    assert _mode(config) == 0o644
