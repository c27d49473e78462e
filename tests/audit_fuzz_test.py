"""Property tests: the MCP config lint never crashes on odd but valid JSON, and never leaks values in messages."""
from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.audit.findings import RULES
from scanner.audit.mcp_config import lint_config
from scanner.audit.staged import check_staged_file

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_KEYS = st.sampled_from(["mcpServers", "servers", "env", "headers", "args", "url", "command", "oauth", "scopes",
                         "scope", "expires_in", "refresh_token_expires_in", "rejectUnauthorized", "verify",
                         "insecure", "API_KEY", "Authorization", "NODE_TLS_REJECT_UNAUTHORIZED", "type", "x"]) | \
    st.text(max_size=10)
_STRINGS = st.sampled_from(["http://example.com/?api_key=abcdefgh123", "Bearer abcdefghijk123", "${VAR}", "0",
                            "--token", "-k", "admin", "30d", "user:pw@", "http://[::1", "", "eyJ.eyJ."]) | \
    st.text(max_size=30)
_SCALARS = st.none() | st.booleans() | st.integers(-10**15, 10**15) | _STRINGS | \
    st.floats(allow_nan=False, allow_infinity=False)
_DOCS = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5),
                     max_leaves=30)


@FUZZ
@given(_DOCS)
def test_lint_never_crashes_and_uses_known_rule_ids(doc: Any) -> None:
    text = json.dumps({"mcpServers": {"s": doc}} if not isinstance(doc, dict) else doc)
    for finding in lint_config(".mcp.json", text):
        assert finding.rule_id in RULES or finding.rule_id.startswith("jwt-")
        assert finding.line >= 1 and finding.column >= 1
        if finding.rule_id == "mcp-hardcoded-credential" and len(finding.secret) >= 8:
            assert finding.secret not in finding.message


@FUZZ
@given(st.text(max_size=300), st.sampled_from([".mcp.json", ".env", "a/b.json", "x.txt"]))
def test_staged_check_never_crashes(text: str, path: str) -> None:
    for finding in check_staged_file(path, text):
        assert finding.rule_id in RULES
