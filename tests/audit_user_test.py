"""``mcp-scan audit --user``: the user's own MCP client configs, in a temporary HOME, outside any repository."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import stripe_live_key

KEY = stripe_live_key(77)


def audit_user(tmp_path: Path, home: Path, *args: str, prefix: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    env.pop("APPDATA", None)
    # cwd is not a git repository: --user must not need one.
    return subprocess.run([*prefix, sys.executable, "-m", "scanner", "audit", "--user", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True)


def write(path: Path, data: Any, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    # Claude Desktop (Linux place): a literal Stripe key in env.
    write(home / ".config/Claude/claude_desktop_config.json",
          {"mcpServers": {"billing": {"command": "npx", "args": ["stripe-mcp"], "env": {"STRIPE_SECRET_KEY": KEY}}}})
    # Cursor: references only, and owner-only: nothing to report.
    write(home / ".cursor/mcp.json",
          {"mcpServers": {"gh": {"command": "gh-mcp", "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}"}}}})
    # VS Code user mcp.json: a remote server over plain http.
    write(home / ".config/Code/User/mcp.json", {"servers": {"remote": {"type": "http", "url": "http://mcp.example.com/mcp"}}})
    # Windsurf: clean content, but readable by everyone.
    write(home / ".codeium/windsurf/mcp_config.json",
          {"mcpServers": {"docs": {"command": "docs-mcp", "env": {"DOCS_TOKEN": "${DOCS_TOKEN}"}}}}, mode=0o644)
    # Claude Code user state: TLS verification off.
    write(home / ".claude.json",
          {"mcpServers": {"intranet": {"command": "x", "env": {"NODE_TLS_REJECT_UNAUTHORIZED": "0"}}}})
    return home


def test_user_configs_are_audited_outside_a_repository(tmp_path: Path, home: Path) -> None:
    proc = audit_user(tmp_path, home, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    found = {(f["rule_id"], f["path"]) for f in report["findings"]}
    assert found == {
        ("mcp-hardcoded-credential", "~/.config/Claude/claude_desktop_config.json"),
        ("mcp-insecure-transport", "~/.config/Code/User/mcp.json"),
        ("insecure-file-permissions", "~/.codeium/windsurf/mcp_config.json"),
        ("mcp-tls-verification-disabled", "~/.claude.json"),
    }
    credential = next(f for f in report["findings"] if f["rule_id"] == "mcp-hardcoded-credential")
    assert credential["line"] > 0
    assert KEY not in proc.stdout and KEY not in proc.stderr  # redacted
    assert "REDACTED" in credential["secret"]
    assert str(home) not in proc.stdout  # paths use ~
    assert "~/.cursor/mcp.json" in report["stats"]["configs"]
    assert len(report["stats"]["configs"]) == 5

    shown = audit_user(tmp_path, home, "--format", "json", "--show-secrets")
    assert KEY in shown.stdout


def test_text_and_sarif_reports(tmp_path: Path, home: Path) -> None:
    text = audit_user(tmp_path, home)
    assert text.returncode == 1
    assert "~/.config/Claude/claude_desktop_config.json" in text.stdout and KEY not in text.stdout
    sarif = audit_user(tmp_path, home, "--format", "sarif")
    assert sarif.returncode == 1
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"mcp-hardcoded-credential", "insecure-file-permissions"}
    assert KEY not in sarif.stdout


def test_clean_and_empty_home(tmp_path: Path, home: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = audit_user(tmp_path, empty, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["findings"] == []
    assert "no MCP client configs found" in proc.stderr

    clean = tmp_path / "clean"
    write(clean / ".cursor/mcp.json", {"mcpServers": {"gh": {"command": "gh-mcp", "env": {"T": "${T}"}}}})
    proc = audit_user(tmp_path, clean, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "no MCP client configs found" not in proc.stderr


def test_other_platform_places(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write(home / "Library/Application Support/Claude/claude_desktop_config.json",
          {"mcpServers": {"s": {"url": "http://mcp.example.com/sse"}}})
    appdata = tmp_path / "appdata"
    write(appdata / "Code/User/settings.json",
          {"mcp": {"servers": {"s": {"type": "stdio", "command": "x", "env": {"STRIPE_KEY": KEY}}}}})
    env = dict(os.environ, HOME=str(home), APPDATA=str(appdata))
    env.pop("XDG_CONFIG_HOME", None)
    proc = subprocess.run([sys.executable, "-m", "scanner", "audit", "--user", "--format", "json"], cwd=tmp_path,
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    found = {(f["rule_id"], f["path"]) for f in json.loads(proc.stdout)["findings"]}
    assert ("mcp-insecure-transport", "~/Library/Application Support/Claude/claude_desktop_config.json") in found
    assert ("mcp-hardcoded-credential", str(appdata / "Code/User/settings.json")) in found


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_unreadable_config_exits_3(tmp_path: Path) -> None:
    from tests.reliability_support import as_unprivileged

    home = tmp_path / "home"
    write(home / ".cursor/mcp.json", {"mcpServers": {}}, mode=0o000)
    # as root, without the capabilities that let root read any file
    proc = audit_user(tmp_path, home, "--format", "json", prefix=as_unprivileged())
    assert proc.returncode == 3
    assert "~/.cursor/mcp.json" in proc.stderr


def test_usage_errors(tmp_path: Path, home: Path) -> None:
    assert audit_user(tmp_path, home, "--fix").returncode == 2
    assert audit_user(tmp_path, home, "somerepo").returncode == 2


def test_disable_rules_and_config_apply(tmp_path: Path, home: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('disable-rules = ["insecure-file-permissions", "mcp-insecure-transport"]\n')
    proc = audit_user(tmp_path, home, "--format", "json", "--config", str(config))
    assert proc.returncode == 1, proc.stderr
    rules = {f["rule_id"] for f in json.loads(proc.stdout)["findings"]}
    assert rules == {"mcp-hardcoded-credential", "mcp-tls-verification-disabled"}


def test_audit_outside_a_repository_points_to_user(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "scanner", "audit"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 3
    assert "not a git repository" in proc.stderr and "mcp-scan audit --user" in proc.stderr
