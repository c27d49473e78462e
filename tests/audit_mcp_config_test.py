"""MCP config lint: credentials, transport, TLS, scopes, lifetimes, parse errors, discovery."""
from __future__ import annotations

import json
import os
from typing import Any

import pytest

from scanner.audit import run_audit
from scanner.audit.mcp_config import is_known_config, lint_config
from scanner.detect import Detector
from scanner.models import Finding
from scanner.rules import builtin_rules
from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo

TOKEN = fake(32, seed=7)  # a literal credential of no particular provider


def _config(server: dict[str, Any]) -> str:
    return json.dumps({"mcpServers": {"srv": server}}, indent=2)


def _rules(findings: list[Finding]) -> list[str]:
    return sorted(f.rule_id for f in findings)


@pytest.mark.parametrize(
    "server",
    [
        {"command": "npx", "env": {"API_KEY": TOKEN}},
        {"command": "npx", "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": TOKEN}},
        {"url": "https://mcp.example.com", "headers": {"Authorization": f"Bearer {TOKEN}"}},
        {"url": "https://mcp.example.com", "headers": {"X-API-Key": TOKEN}},
        {"command": "npx", "args": ["server", f"--api-key={TOKEN}"]},
        {"command": "npx", "args": ["server", "--token", TOKEN]},
        {"command": "docker", "args": ["run", "-e", f"GITHUB_TOKEN={TOKEN}", "img"]},
        {"url": f"https://mcp.example.com/sse?api_key={TOKEN}"},
        {"url": f"https://user:{TOKEN}@mcp.example.com/sse"},
        {"url": f"https://mcp.example.com/mcp/{TOKEN}/sse"},  # hosted servers: the key is the path
        {"serverUrl": f"https://mcp.example.com/s/{TOKEN}"},
        {"command": "npx", "config": {"apiKey": TOKEN}},
        {"command": f"npx server --password {TOKEN}"},
    ],
)
def test_literal_credentials_are_reported_redactable(server: dict[str, Any]) -> None:
    findings = [f for f in lint_config(".mcp.json", _config(server)) if f.rule_id == "mcp-hardcoded-credential"]
    assert len(findings) == 1, findings
    assert findings[0].secret == TOKEN
    assert TOKEN not in findings[0].message
    assert "${" in findings[0].extra["suggestion"]


@pytest.mark.parametrize(
    "server",
    [
        {"command": "npx", "env": {"API_KEY": "${MY_API_KEY}"}},
        {"command": "npx", "env": {"API_KEY": "${env:MY_API_KEY}"}},
        {"command": "npx", "env": {"API_KEY": "${input:api-key}"}},
        {"command": "npx", "env": {"API_KEY": "$MY_API_KEY"}},
        {"command": "npx", "env": {"API_KEY": "{{MY_API_KEY}}"}},
        {"command": "npx", "env": {"API_KEY": "your_api_key_here"}},
        {"command": "npx", "env": {"API_KEY": ""}},
        {"command": "npx", "env": {"MAX_TOKENS": "4096", "LOG_LEVEL": "debug", "TOKEN_FILE": "/run/secrets/token"}},
        {"url": "https://mcp.example.com", "headers": {"Authorization": "Bearer ${MCP_ACCESS_TOKEN}"}},
        {"command": "npx", "args": ["server", "--api-key=${API_KEY}", "--token", "${TOKEN}"]},
        {"command": "docker", "args": ["run", "-e", "GITHUB_TOKEN", "img"]},
        {"url": "https://mcp.example.com/sse?api_key=${API_KEY}&region=eu"},
        {"url": "https://mcp.example.com/mcp/550e8400-e29b-41d4-a716-446655440000/sse"},  # an id, not a key
        {"url": "https://mcp.example.com/servers/github-issues-and-pull-requests/sse"},
        {"url": "https://mcp.example.com/mcp/ConfigureServerAuthentication2024"},
        {"url": "https://mcp.example.com/mcp/3f786850e387550fdab836ed7e6dc881de23001b"},
    ],
)
def test_references_and_non_secrets_pass(server: dict[str, Any]) -> None:
    assert lint_config(".mcp.json", _config(server)) == []


def test_provider_shaped_key_found_by_the_detector_in_any_field() -> None:
    key = stripe_live_key(seed=3)
    detector = Detector(builtin_rules())
    text = _config({"command": "npx", "args": ["server", "--region", "eu", f"--stripe={key}"]})
    findings = lint_config(".mcp.json", text, detector=detector)
    assert [f.rule_id for f in findings] == ["mcp-hardcoded-credential"]
    assert key in findings[0].secret and "stripe" in findings[0].message


@pytest.mark.parametrize(
    ("url", "insecure"),
    [
        ("http://mcp.example.com/v1", True),
        ("http://10.0.0.5:8080/mcp", True),
        ("ws://mcp.example.com/ws", True),
        ("https://mcp.example.com/v1", False),
        ("http://localhost:8080/mcp", False),
        ("http://127.0.0.5:8080/mcp", False),
        ("http://[::1]:8080/mcp", False),
        ("http://app.localhost/mcp", False),
    ],
)
def test_plain_http_only_for_loopback(url: str, insecure: bool) -> None:
    findings = lint_config(".mcp.json", _config({"url": url}))
    assert _rules(findings) == (["mcp-insecure-transport"] if insecure else [])


def test_plain_http_in_args_is_reported() -> None:
    findings = lint_config(".mcp.json", _config({"command": "npx", "args": ["mcp-remote", "http://mcp.example.com/sse"]}))
    assert _rules(findings) == ["mcp-insecure-transport"]


@pytest.mark.parametrize(
    ("server", "disabled"),
    [
        ({"url": "https://x.example.com", "transport": {"rejectUnauthorized": False}}, True),
        ({"url": "https://x.example.com", "transport": {"rejectUnauthorized": True}}, False),
        ({"command": "node", "env": {"NODE_TLS_REJECT_UNAUTHORIZED": "0"}}, True),
        ({"command": "node", "env": {"NODE_TLS_REJECT_UNAUTHORIZED": "1"}}, False),
        ({"command": "python", "env": {"PYTHONHTTPSVERIFY": "0"}}, True),
        ({"url": "https://x.example.com", "verify": False}, True),
        ({"url": "https://x.example.com", "verify": True}, False),
        ({"url": "https://x.example.com", "insecure": True}, True),
        ({"url": "https://x.example.com", "insecure": False}, False),
        ({"command": "mcp-remote", "args": ["https://x.example.com", "--insecure"]}, True),
        ({"command": "curl", "args": ["-k", "https://x.example.com"]}, True),
        ({"command": "npx", "args": ["-y", "server"]}, False),
    ],
)
def test_tls_verification_switches(server: dict[str, Any], disabled: bool) -> None:
    findings = lint_config(".mcp.json", _config(server))
    assert _rules(findings) == (["mcp-tls-verification-disabled"] if disabled else [])


@pytest.mark.parametrize(
    ("scopes", "broad"),
    [
        (["mcp:read", "admin"], ["admin"]),
        ("mcp:read full_access", ["full_access"]),
        ("repo:delete", ["repo:delete"]),
        (["*"], ["*"]),
        ("mcp:read mcp:write", []),
        (["mcp:read"], []),
    ],
)
def test_overbroad_scopes(scopes: Any, broad: list[str]) -> None:
    findings = lint_config(".mcp.json", _config({"url": "https://x.example.com", "oauth": {"scopes": scopes}}))
    assert _rules(findings) == ["oauth-overbroad-scope"] * (1 if broad else 0)
    if broad:
        assert findings[0].evidence == " ".join(broad)


def test_overbroad_scope_in_url_query() -> None:
    findings = lint_config(".mcp.json", _config({"url": "https://x.example.com/authorize?scope=admin+full_access+delete"}))
    assert _rules(findings) == ["oauth-overbroad-scope"]
    assert findings[0].evidence == "admin full_access delete"


@pytest.mark.parametrize(
    ("oauth", "excessive"),
    [
        ({"expires_in": 31536000}, True),
        ({"expires_in": 3600}, False),
        ({"expires_in": 86400}, False),
        ({"expires_in": "2d"}, True),
        ({"refresh_token_expires_in": 100 * 86400}, True),
        ({"refresh_token_expires_in": 30 * 86400}, False),
    ],
)
def test_token_lifetimes(oauth: dict[str, Any], excessive: bool) -> None:
    findings = lint_config(".mcp.json", _config({"url": "https://x.example.com", "oauth": oauth}))
    assert _rules(findings) == (["token-ttl-excessive"] if excessive else [])


def test_jsonc_with_comments_reports_correct_lines() -> None:
    text = (
        "// team MCP servers\n"                      # 1
        "{\n"                                        # 2
        "  /* remote one */\n"                       # 3
        '  "servers": {\n'                           # 4
        '    "remote": {\n'                          # 5
        '      "url": "http://mcp.example.com",\n'   # 6
        '      "headers": {\n'                       # 7
        f'        "Authorization": "Bearer {TOKEN}", // oops\n'  # 8
        "      },\n"                                 # 9
        "    },\n"                                   # 10
        "  },\n"                                     # 11
        "}\n"
    )
    positions = {f.rule_id: (f.line, f.column) for f in lint_config(".vscode/mcp.json", text)}
    assert positions == {"mcp-insecure-transport": (6, 14), "mcp-hardcoded-credential": (8, 26)}


def test_invalid_config_is_a_finding_with_the_position() -> None:
    findings = lint_config(".mcp.json", '{\n  "mcpServers": {\n    "a": {"command": "x",}\n    "b": 1\n}')
    assert len(findings) == 1
    finding = findings[0]
    assert finding.rule_id == "mcp-config-invalid"
    assert (finding.line, finding.column) == (4, 5)
    assert "expected ','" in finding.message


def test_fingerprint_ignores_the_line() -> None:
    server = {"command": "npx", "env": {"API_KEY": TOKEN}}
    first = lint_config(".mcp.json", _config(server))
    moved = lint_config(".mcp.json", "\n\n\n" + _config(server))
    assert first[0].line != moved[0].line
    assert first[0].fingerprint == moved[0].fingerprint


@pytest.mark.parametrize(
    ("path", "known"),
    [
        (".mcp.json", True), ("mcp.json", True), (".cursor/mcp.json", True), (".vscode/mcp.json", True),
        (".claude/mcp/github.json", True), (".claude/settings.local.json", True),
        ("claude_desktop_config.json", True), (".gemini/settings.json", True), (".windsurf/mcp_config.json", True),
        (".roo/mcp.json", True), ("cline_mcp_settings.json", True), (".amazonq/mcp.json", True),
        (".zed/settings.json", True), ("sub/project/.mcp.json", True),
        ("package.json", False), (".claude/commands/x.json", False), ("settings.json", False),
    ],
)
def test_known_config_paths(path: str, known: bool) -> None:
    assert is_known_config(path) is known


def test_audit_discovers_configs_by_path_and_by_shape(git_repo: GitRepo) -> None:
    server = {"command": "npx", "env": {"API_KEY": TOKEN}}
    git_repo.write(".cursor/mcp.json", _config(server))
    git_repo.write("tools/agents.json", json.dumps({"mcpServers": {"a": server}}))
    git_repo.write("tools/other.json", json.dumps({"servers": {"a": {"weight": 1}}, "env": {"API_KEY": TOKEN}}))
    git_repo.write("deploy/hosts.json", json.dumps({"servers": {"db": {"url": "http://db.internal", "type": "postgres"}},
                                                    "env": {"API_KEY": TOKEN}}))
    git_repo.write("tools/vscode-like.json", json.dumps({"mcp": {"servers": {"a": {"type": "stdio", "command": "x",
                                                                                   "env": {"API_KEY": TOKEN}}}}}))
    git_repo.write(".gitignore", "secret-config/\n")
    git_repo.write("secret-config/.mcp.json", _config(server))  # under an ignored directory: not opened (documented)
    result = run_audit(git_repo.path)
    found = {f.path: f for f in result.findings if f.rule_id == "mcp-hardcoded-credential"}
    assert set(found) == {".cursor/mcp.json", "tools/agents.json", "tools/vscode-like.json"}
    assert result.stats["mcp_configs"] == 3


def test_ignored_local_config_is_checked_with_lower_severity(git_repo: GitRepo) -> None:
    git_repo.write(".gitignore", ".mcp.json\n")
    git_repo.write(".mcp.json", _config({"command": "npx", "env": {"API_KEY": TOKEN}}))
    findings = [f for f in run_audit(git_repo.path).findings if f.rule_id == "mcp-hardcoded-credential"]
    assert len(findings) == 1
    assert findings[0].severity == "medium" and "git-ignored" in findings[0].message


def test_token_response_json_elsewhere_in_tree(git_repo: GitRepo) -> None:
    git_repo.write("fixtures/token.json", json.dumps(
        {"access_token": "x", "token_type": "Bearer", "expires_in": 31536000, "scope": "admin"}))
    git_repo.write("fixtures/cache.json", json.dumps({"expires_in": 31536000, "scope": "admin"}))
    rules = {(f.path, f.rule_id) for f in run_audit(git_repo.path).findings}
    assert rules == {("fixtures/token.json", "token-ttl-excessive"), ("fixtures/token.json", "oauth-overbroad-scope")}


def test_symlinked_config_outside_the_repository_is_not_followed(git_repo: GitRepo, tmp_path: Any) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(_config({"command": "npx", "env": {"API_KEY": TOKEN}}))
    os.symlink(outside, git_repo.path / ".mcp.json")
    result = run_audit(git_repo.path)
    assert not [f for f in result.findings if f.rule_id == "mcp-hardcoded-credential"]
    assert any("symlink leads outside" in w for w in result.warnings)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything; POSIX modes only")
def test_unreadable_config_is_an_error_not_a_crash(git_repo: GitRepo) -> None:
    path = git_repo.write(".mcp.json", _config({"command": "npx"}))
    path.chmod(0)
    try:
        result = run_audit(git_repo.path)
    finally:
        path.chmod(0o600)
    assert any(".mcp.json" in e for e in result.errors)


def test_huge_config_is_skipped_with_a_warning(git_repo: GitRepo) -> None:
    from scanner.audit import MAX_CONFIG_SIZE

    git_repo.write(".mcp.json", '{"mcpServers": {}, "pad": "' + "x" * MAX_CONFIG_SIZE + '"}')
    result = run_audit(git_repo.path)
    assert any("over the" in w for w in result.warnings)
