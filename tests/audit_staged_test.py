"""check_staged_file: what the hook blocks when a secret file or MCP config is committed."""
from __future__ import annotations

import json

from scanner.audit.staged import check_staged_file
from tests.fakes import fake

TOKEN = fake(32, seed=5)


def test_staging_env_or_key_files_is_blocked() -> None:
    for path in (".env", "app/.env.local", "certs/server.key", "ops-secrets/token"):
        findings = check_staged_file(path, "A=1\n")
        assert [f.rule_id for f in findings] == ["secret-file-tracked"], path
        assert "git restore --staged" in findings[0].remediation


def test_templates_and_ordinary_files_pass() -> None:
    assert check_staged_file(".env.example", "A=\n") == []
    assert check_staged_file("src/app.py", "print(1)\n") == []


def test_mcp_config_with_literal_key_shows_the_reference_form() -> None:
    text = json.dumps({"mcpServers": {"api": {"command": "npx", "env": {"API_KEY": TOKEN}}}}, indent=2)
    findings = check_staged_file(".claude/mcp/server.json", text)
    assert [f.rule_id for f in findings] == ["mcp-hardcoded-credential"]
    assert '"API_KEY": "${API_KEY}"' in findings[0].message
    assert findings[0].line == 6


def test_mcp_config_with_references_passes_and_shape_is_recognised() -> None:
    good = json.dumps({"mcpServers": {"api": {"command": "npx", "env": {"API_KEY": "${API_KEY}"}}}})
    assert check_staged_file(".mcp.json", good) == []
    bad = json.dumps({"mcpServers": {"api": {"url": "http://mcp.example.com"}}})
    assert [f.rule_id for f in check_staged_file("tools/agents.json", bad)] == ["mcp-insecure-transport"]
    assert check_staged_file("tools/data.json", json.dumps({"url": "http://mcp.example.com"})) == []
