"""``mcp-scan rules list`` shows the rule set a scan would use; audit rule ids can be disabled too."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.git_helpers import GitRepo
from tests.rules_test import GOOD


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=cwd, capture_output=True, text=True)


def listing(cwd: Path, *args: str) -> dict[str, dict[str, Any]]:
    proc = run(cwd, "rules", "list", "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    return {row["id"]: row for row in json.loads(proc.stdout)["rules"]}


def configured(tmp_path: Path) -> Path:
    (tmp_path / "rules").mkdir(parents=True)
    (tmp_path / "rules" / "acme.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / ".mcp-scan.toml").write_text(
        'disable-rules = ["stripe-live-secret-key", "secret-file-tracked"]\nextra-patterns = ["rules/acme.toml"]\n')
    return tmp_path


def test_rules_list_applies_the_config(tmp_path: Path) -> None:
    rows = listing(configured(tmp_path))
    assert rows["stripe-live-secret-key"]["enabled"] is False
    assert rows["stripe-live-secret-key"]["kind"] == "secret"
    assert rows["stripe-live-secret-key"]["source"] == "builtin"
    assert rows["acme-token"]["enabled"] is True
    assert rows["acme-token"]["source"].endswith("acme.toml")
    assert rows["secret-file-tracked"] == {**rows["secret-file-tracked"], "kind": "audit", "enabled": False,
                                           "severity": "high", "confidence": "high"}
    for rule_id in ("gitignore-missing", "secret-file-in-history", "mcp-hardcoded-credential", "mcp-insecure-transport",
                    "mcp-tls-verification-disabled", "oauth-overbroad-scope", "token-ttl-excessive", "jwt-alg-none",
                    "jwt-long-lived", "insecure-file-permissions"):
        assert rows[rule_id]["kind"] == "audit" and rows[rule_id]["enabled"] is True
    assert sum(1 for row in rows.values() if not row["enabled"]) == 2
    # what each rule does with a value of its shape typed by hand (README, "Rules")
    assert rows["stripe-live-secret-key"]["filler"] == "drop"  # named in stripe.toml
    assert rows["aws-appsync-api-key"]["filler"] == "example"  # anchored by its da2- prefix
    assert rows["generic-secret"]["filler"] == "drop"
    assert rows["secret-file-tracked"]["filler"] is None

    text = run(tmp_path, "rules", "list").stdout
    line = next(line for line in text.splitlines() if line.startswith("stripe-live-secret-key "))
    assert line.split()[1:3] == ["secret", "OFF"]
    assert "2 disabled" in text.splitlines()[-1]


def test_rules_list_flags_replace_or_skip_the_config(tmp_path: Path) -> None:
    root = configured(tmp_path / "project")
    rows = listing(root, "--no-config")
    assert "acme-token" not in rows and all(row["enabled"] for row in rows.values())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    rows = listing(elsewhere, "--config", str(root / ".mcp-scan.toml"))
    assert rows["stripe-live-secret-key"]["enabled"] is False and "acme-token" in rows
    rows = listing(elsewhere, "--rules", str(root / "rules"))
    assert rows["acme-token"]["enabled"] is True and rows["stripe-live-secret-key"]["enabled"] is True


def test_unknown_disabled_rule_points_to_rules_list(tmp_path: Path) -> None:
    (tmp_path / ".mcp-scan.toml").write_text('disable-rules = ["no-such-rule"]\n')
    proc = run(tmp_path, "rules", "list")
    assert proc.returncode == 2
    assert "no-such-rule" in proc.stderr and "mcp-scan rules list" in proc.stderr


def test_disabling_an_audit_rule_suppresses_it_in_audit(git_repo: GitRepo) -> None:
    git_repo.stage("old.pem", "k\n")
    git_repo.commit("key")
    git_repo.git("rm", "-q", "old.pem")  # in history only: its own secret-file-in-history finding
    git_repo.stage(".env.production", "A=1\n")
    git_repo.commit("env")
    before = run(git_repo.path, "audit", "--format", "json")
    assert "secret-file-tracked" in {f["rule_id"] for f in json.loads(before.stdout)["findings"]}
    git_repo.write(".mcp-scan.toml", 'disable-rules = ["secret-file-tracked"]\n')
    after = run(git_repo.path, "audit", "--format", "json")
    assert after.returncode == 1, after.stderr  # the history finding is still there
    rules = {f["rule_id"] for f in json.loads(after.stdout)["findings"]}
    assert "secret-file-tracked" not in rules and "secret-file-in-history" in rules
    # A secret scan with the same config accepts the audit id as well.
    assert run(git_repo.path, "scan", ".env.production").returncode == 0
