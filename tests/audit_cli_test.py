"""`mcp-scan audit` end to end: exit codes, every format, and secrets redacted in the output."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.audit_jwt_test import make_jwt
from tests.fakes import fake
from tests.git_helpers import GitRepo

TOKEN = fake(40, seed=11)

ALL_RULES = {
    "gitignore-missing", "secret-file-tracked", "secret-file-in-history", "mcp-hardcoded-credential",
    "mcp-insecure-transport", "mcp-tls-verification-disabled", "oauth-overbroad-scope", "token-ttl-excessive",
    "jwt-alg-none", "jwt-long-lived", "insecure-file-permissions",
}


def _messy_repo(repo: GitRepo) -> None:
    """One repository that trips every audit rule once."""
    repo.stage("old.pem", "k\n")
    repo.commit("key")
    repo.git("rm", "-q", "old.pem")
    repo.stage(".env.production", "A=1\n")  # tracked secret file
    repo.commit("env")
    config = {
        "mcpServers": {
            "remote": {
                "url": "http://mcp.example.com/v1",
                "headers": {"Authorization": f"Bearer {TOKEN}"},
                "transport": {"rejectUnauthorized": False},
                "oauth": {"scopes": ["admin"], "expires_in": 31536000},
            }
        }
    }
    repo.write(".mcp.json", json.dumps(config, indent=2))
    os.chmod(repo.path / ".mcp.json", 0o644)
    repo.write("auth.txt", make_jwt({"sub": "1"}, alg="none") + "\n")


def _json(result: "object") -> dict[str, object]:
    return json.loads(result.stdout)  # type: ignore[attr-defined,no-any-return]


def test_clean_repository_exits_0(git_repo: GitRepo) -> None:
    git_repo.stage("README.md", "hi\n")
    git_repo.stage(".mcp.json.example", "{}\n")
    git_repo.commit()
    result = git_repo.run_mcp_scan("audit", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert _json(result)["findings"] == []


@pytest.mark.skipif(os.name != "posix", reason="the permission rule needs POSIX modes")
def test_every_rule_fires_and_exit_is_1(git_repo: GitRepo) -> None:
    _messy_repo(git_repo)
    result = git_repo.run_mcp_scan("audit", "--format", "json")
    assert result.returncode == 1, result.stderr
    data = _json(result)
    rules = {f["rule_id"] for f in data["findings"]}  # type: ignore[index,union-attr]
    assert rules == ALL_RULES
    history = [f for f in data["findings"] if f["rule_id"] == "secret-file-in-history"]  # type: ignore[index,union-attr]
    # .env.production is still tracked: its history finding folds into secret-file-tracked.
    assert {f["path"] for f in history} == {"old.pem"}
    assert all(f["commit"] for f in history)


def test_secrets_are_redacted_unless_show_secrets(git_repo: GitRepo) -> None:
    _messy_repo(git_repo)
    token = make_jwt({"sub": "1"}, alg="none")
    for fmt in ("json", "jsonl", "text", "sarif"):
        result = git_repo.run_mcp_scan("audit", "--format", fmt)
        assert result.returncode == 1, result.stderr
        assert TOKEN.encode() not in result.stdout, fmt
        assert token.encode() not in result.stdout, fmt
    shown = git_repo.run_mcp_scan("audit", "--format", "json", "--show-secrets")
    assert TOKEN.encode() in shown.stdout


def test_text_output_explains_the_fix(git_repo: GitRepo) -> None:
    _messy_repo(git_repo)
    out = git_repo.run_mcp_scan("audit").stdout.decode()
    assert ".mcp.json:6:26: literal credential in header Authorization" in out  # the header's value
    assert "git rm --cached -- .env.production" in out
    assert "Bearer ${REMOTE_TOKEN}" in out


def test_output_file_and_repo_argument(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write(".env", "A=1\n")
    report = tmp_path / "audit.json"
    from scanner.cli import main

    code = main(["audit", str(git_repo.path), "--format", "json", "-o", str(report), "-q"])
    assert code == 1
    data = json.loads(report.read_text())
    assert data["version"] == 1
    assert any(f["rule_id"] == "gitignore-missing" and f["path"] == ".env" for f in data["findings"])


def test_usage_error_exits_2(git_repo: GitRepo) -> None:
    assert git_repo.run_mcp_scan("audit", "--format", "nope").returncode == 2


def test_not_a_repository_exits_3(tmp_path: Path) -> None:
    from scanner.cli import main

    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["audit", str(plain), "-q"]) == 3
    assert main(["audit", str(tmp_path / "missing"), "-q"]) == 3


def test_min_confidence_filters_audit_findings(git_repo: GitRepo) -> None:
    git_repo.write(".mcp.json", json.dumps({"mcpServers": {"a": {"url": "https://x.example.com",
                                                                   "oauth": {"scopes": ["admin"]}}}}))
    git_repo.write(".gitignore", ".mcp.json\n")
    os.chmod(git_repo.path / ".mcp.json", 0o600)
    low = git_repo.run_mcp_scan("audit", "--format", "json")
    assert [f["rule_id"] for f in _json(low)["findings"]] == ["oauth-overbroad-scope"]  # type: ignore[union-attr,index]
    high = git_repo.run_mcp_scan("audit", "--format", "json", "--min-confidence", "high")
    assert high.returncode == 0 and _json(high)["findings"] == []
