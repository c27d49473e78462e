"""`mcp-scan audit --hook` (issue 15, item 4): what a commit can change, history from a cache, real CLI."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fakes import fake
from tests.git_helpers import GitRepo

ROOT = Path(__file__).resolve().parent.parent
CREDENTIAL = f"API_TOKEN={fake(32, seed=21)}\n"
# Everything a commit can change: ignore rules, the index, staged configs and token JSON.
COMMIT_RULES = {"gitignore-missing", "secret-file-tracked", "secret-file-in-history", "mcp-hardcoded-credential",
                "mcp-insecure-transport", "mcp-tls-verification-disabled", "oauth-overbroad-scope",
                "token-ttl-excessive", "mcp-config-invalid"}


def _audit(repo: GitRepo, *args: str) -> dict[str, Any]:
    result = repo.run_mcp_scan("audit", *args, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _keys(findings: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    return {(f["rule_id"], f["path"], f["severity"], f["fingerprint"]) for f in findings}


def _history_only(repo: GitRepo, path: str, content: str) -> None:
    repo.stage(path, content)
    repo.commit(f"add {path}")
    repo.git("rm", "-q", path)
    repo.commit(f"remove {path}")


def test_hook_gives_the_full_audits_findings_for_what_a_commit_can_change(git_repo: GitRepo) -> None:
    _history_only(git_repo, "old.key", "k\n")
    git_repo.stage("app/.env", CREDENTIAL)
    git_repo.stage("certs/ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    git_repo.commit()
    git_repo.write(".env.local", CREDENTIAL)  # untracked, not ignored
    config = {"mcpServers": {"r": {"url": "http://mcp.example.com/", "env": {"API_KEY": fake(36, seed=22)}}}}
    git_repo.stage(".mcp.json", json.dumps(config, indent=2))  # staged
    git_repo.stage("oauth.json", json.dumps({"access_token": "${T}", "expires_in": 31536000}))
    full = _audit(git_repo)
    hook = _audit(git_repo, "--hook")
    expected = _keys([f for f in full["findings"] if f["rule_id"] in COMMIT_RULES])
    assert _keys(hook["findings"]) == expected
    rules = {key[0] for key in expected}
    assert {"secret-file-in-history", "secret-file-tracked", "gitignore-missing", "mcp-hardcoded-credential",
            "mcp-insecure-transport", "token-ttl-excessive"} <= rules


def test_second_run_takes_history_from_the_cache(git_repo: GitRepo) -> None:
    _history_only(git_repo, ".env", CREDENTIAL)
    first = _audit(git_repo, "--hook")
    second = _audit(git_repo, "--hook")
    assert first["stats"]["history_walks"] == 1
    assert second["stats"]["history_walks"] == 0
    assert _keys(first["findings"]) == _keys(second["findings"]) != set()
    assert list((git_repo.path / ".git" / "mcp-scan").glob("audit-*.json"))
    cache = next((git_repo.path / ".git" / "mcp-scan").glob("audit-*.json")).read_text()
    assert CREDENTIAL.strip().split("=", 1)[1] not in cache  # paths, commits and verdicts only


def test_new_commits_are_walked_and_reported(git_repo: GitRepo) -> None:
    git_repo.stage("README.md", "x\n")
    git_repo.commit()
    assert _audit(git_repo, "--hook")["findings"] == []
    git_repo.stage("deploy/.env", CREDENTIAL)  # staged: the commit being made
    staged = _audit(git_repo, "--hook")
    assert [(f["rule_id"], f["path"]) for f in staged["findings"]] == [("secret-file-tracked", "deploy/.env")]
    git_repo.commit("add a secret file")
    git_repo.git("rm", "-q", "deploy/.env")
    git_repo.commit("remove it again")
    after = _audit(git_repo, "--hook")
    assert [(f["rule_id"], f["path"]) for f in after["findings"]] == [("secret-file-in-history", "deploy/.env")]
    assert after["stats"]["history_walks"] == 1  # only the new commits were walked


def test_rewritten_history_is_walked_from_scratch(git_repo: GitRepo) -> None:
    git_repo.stage("README.md", "x\n")
    base = git_repo.commit()
    _history_only(git_repo, "server.key", "k\n")
    assert [f["path"] for f in _audit(git_repo, "--hook")["findings"]] == ["server.key"]
    git_repo.git("reset", "-q", "--hard", base)  # the key's commits are gone from every ref
    git_repo.git("reflog", "expire", "--expire=now", "--all")
    assert _audit(git_repo, "--hook")["findings"] == []


def test_pre_commit_hook_entry_uses_hook_mode() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "entry: mcp-scan audit --hook\n" in text


def test_hook_and_user_are_a_usage_error(git_repo: GitRepo) -> None:
    result = git_repo.run_mcp_scan("audit", "--hook", "--user")
    assert result.returncode == 2
    assert b"--hook" in result.stderr and b"Traceback" not in result.stderr
