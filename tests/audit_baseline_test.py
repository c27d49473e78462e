"""Accepting audit findings: baselines record them and `audit` honours the baseline;
inline allow markers apply to line-level audit findings as to secrets."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

KEY = stripe_live_key(seed=161)
OTHER = stripe_live_key(seed=162)
_CI_VARS = ("CI", "GITHUB_ACTIONS", "GITLAB_CI")


def mcp_scan(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _CI_VARS}
    return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=cwd, capture_output=True, text=True, env=env)


def _mcp_json(servers: dict[str, str]) -> str:
    return json.dumps({"mcpServers": {name: {"command": "npx", "env": {"STRIPE_SECRET_KEY": key}}
                                      for name, key in servers.items()}}, indent=2) + "\n"


def _audit(repo: GitRepo, *args: str) -> tuple[int, list[tuple[str, str]]]:
    proc = mcp_scan(repo.path, "audit", ".", "--format", "json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    findings: list[dict[str, Any]] = json.loads(proc.stdout)["findings"]
    return proc.returncode, sorted((f["rule_id"], f["path"]) for f in findings)


def _repo_with_audit_findings(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.stage(".env", "DEBUG=1\n")
    repo.stage(".mcp.json", _mcp_json({"payments": KEY}))
    repo.stage("old/.env", f"STRIPE_KEY={OTHER}\n")
    repo.commit("config")
    # removed since: its exposure is a history finding of its own (a tracked file's is folded into
    # its secret-file-tracked finding)
    repo.git("rm", "-q", "old/.env")
    repo.commit("remove the old env file")
    return repo


def test_baseline_create_records_audit_findings_and_audit_honours_it(tmp_path: Path) -> None:
    repo = _repo_with_audit_findings(tmp_path)
    code, before = _audit(repo)
    assert code == 1
    assert {("secret-file-tracked", ".env"), ("secret-file-in-history", "old/.env"),
            ("mcp-hardcoded-credential", ".mcp.json")} <= set(before)
    created = mcp_scan(repo.path, "baseline", "create")
    assert created.returncode == 0, created.stderr
    baseline = repo.path / ".mcp-scan-baseline.json"
    entries = {(e["rule_id"], e["path"]) for e in json.loads(baseline.read_text())["entries"]}
    assert set(before) <= entries
    assert KEY not in baseline.read_text()
    assert _audit(repo, "--baseline", str(baseline)) == (0, [])
    # the config's `baseline` setting works the same
    (repo.path / ".mcp-scan.toml").write_text('baseline = ".mcp-scan-baseline.json"\n')
    assert _audit(repo) == (0, [])
    # a new problem is still reported, and only it
    (repo.path / ".mcp.json").write_text(_mcp_json({"payments": KEY, "billing": OTHER}))
    code, after = _audit(repo)
    assert code == 1 and after == [("mcp-hardcoded-credential", ".mcp.json")]


def test_baseline_check_and_update_keep_audit_entries(tmp_path: Path) -> None:
    repo = _repo_with_audit_findings(tmp_path)
    assert mcp_scan(repo.path, "baseline", "create").returncode == 0
    check = mcp_scan(repo.path, "baseline", "check")
    assert check.returncode == 0 and "stale" not in check.stdout, check.stdout + check.stderr
    # fixing the config makes its entry stale, and update prunes it
    (repo.path / ".mcp.json").write_text(_mcp_json({"payments": "${STRIPE_SECRET_KEY}"}))
    check = mcp_scan(repo.path, "baseline", "check")
    assert check.returncode == 1 and "stale: .mcp.json: mcp-hardcoded-credential" in check.stdout
    assert mcp_scan(repo.path, "baseline", "update").returncode == 0
    rules = {e["rule_id"] for e in json.loads((repo.path / ".mcp-scan-baseline.json").read_text())["entries"]}
    assert "mcp-hardcoded-credential" not in rules and "secret-file-tracked" in rules


def test_a_worktree_baseline_accepts_no_history_exposure(tmp_path: Path) -> None:
    repo = _repo_with_audit_findings(tmp_path)
    created = mcp_scan(repo.path, "baseline", "create", "--source", "worktree")
    assert created.returncode == 0, created.stderr
    rules = {e["rule_id"] for e in json.loads((repo.path / ".mcp-scan-baseline.json").read_text())["entries"]}
    assert "secret-file-tracked" in rules and "secret-file-in-history" not in rules
    assert _audit(repo, "--baseline", ".mcp-scan-baseline.json") == (1, [("secret-file-in-history", "old/.env")])


_JSONC = """{{
  "servers": {{
    "pay": {{
      "command": "npx",
      "env": {{
        "STRIPE_SECRET_KEY": "{key}", // mcp-scan: allow
        // pragma: allowlist nextline secret
        "BILLING_API_KEY": "{key}",
        "REFUNDS_API_KEY": "{other}"
      }}
    }}
  }}
}}
"""


def test_inline_allow_markers_apply_to_mcp_config_findings(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write(".vscode/mcp.json", _JSONC.format(key=KEY, other=OTHER))
    proc = mcp_scan(repo.path, "audit", ".", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    found = [(f["rule_id"], f["line"]) for f in json.loads(proc.stdout)["findings"]]
    assert found == [("mcp-hardcoded-credential", 9)]  # only the unmarked line


def test_inline_allow_marker_lets_the_commit_hook_stage_a_marked_config(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    text = _JSONC.format(key=KEY, other=OTHER)
    repo.stage(".vscode/mcp.json", text)
    blocked = mcp_scan(repo.path, "staged", "--format", "json")
    assert blocked.returncode == 1
    rules = {(f["rule_id"], f["line"]) for f in json.loads(blocked.stdout)["findings"]}
    assert all(line == 9 for _, line in rules) and ("mcp-hardcoded-credential", 9) in rules
    repo.stage(".vscode/mcp.json", text.replace(f'"REFUNDS_API_KEY": "{OTHER}"', '"REFUNDS_API_KEY": "${REFUNDS}"'))
    allowed = mcp_scan(repo.path, "staged")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
