"""One JSON contract for every command: each ``--format json`` output validates against
scanner/report/schema/report-v1.json, and the same field means the same thing everywhere.

Every command runs through the real CLI on one real repository that has secret-rule
findings (a Stripe key in code), audit findings (a tracked ``.env``, an ``.mcp.json``
with a literal key) and history to attribute them to.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

ZERO = "0" * 40
CODE_KEY = stripe_live_key(seed=151)
MCP_KEY = stripe_live_key(seed=152)
STAGED_KEY = stripe_live_key(seed=153)
USER_KEY = stripe_live_key(seed=154)
# Descriptions that audit findings used to put where the secret goes (and reports then redacted).
PROSE = re.compile(r"^(?:tracked|staged|committed|not ignored): |^mode [0-7]{4}$")
# Variables that would make `ci` think it runs on a CI provider.
_CI_VARS = ("CI", "GITHUB_ACTIONS", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITLAB_CI", "BUILDKITE",
            "CIRCLECI", "JENKINS_URL", "TF_BUILD", "BITBUCKET_BUILD_NUMBER")


def schema() -> dict[str, Any]:
    text = resources.files("scanner.report").joinpath("schema/report-v1.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def _mcp_json(key: str) -> str:
    return json.dumps({"mcpServers": {"payments": {"command": "npx", "args": ["payments-mcp"],
                                                   "env": {"STRIPE_SECRET_KEY": key}}}}, indent=2) + "\n"


def _run(cwd: Path, *args: str, stdin: str = "", env: "dict[str, str] | None" = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in _CI_VARS}
    return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, env={**base, **(env or {})})


def _json(proc: subprocess.CompletedProcess[str], command: str) -> dict[str, Any]:
    assert proc.returncode == 1, f"{command}: exit {proc.returncode}: {proc.stderr}"
    assert "Traceback" not in proc.stderr
    document: dict[str, Any] = json.loads(proc.stdout)
    return document


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """command name -> its JSON report, every command run once on the same repository."""
    top = tmp_path_factory.mktemp("contract")
    repo = GitRepo.init(top / "repos" / "app")
    repo.stage("README.md", "hello\n")
    base = repo.commit("initial")
    repo.stage("settings.py", f'STRIPE_KEY = "{CODE_KEY}"\n')
    repo.stage(".env", "DEBUG=1\n")
    repo.stage(".mcp.json", _mcp_json(MCP_KEY))
    # a secret file committed, then removed: its exposure is a history finding of its own
    repo.stage("old/.env", f"API_TOKEN={stripe_live_key(seed=301)}\n")
    head = repo.commit("add settings")
    repo.git("rm", "-q", "old/.env")
    repo.commit("remove the old env file")
    root = repo.path
    out: dict[str, dict[str, Any]] = {}
    out["scan"] = _json(_run(root, "scan", ".", "--format", "json"), "scan")
    out["history"] = _json(_run(root, "history", ".", "--format", "json"), "history")
    out["audit"] = _json(_run(root, "audit", ".", "--format", "json"), "audit")
    out["ci"] = _json(_run(root, "ci", ".", "--base", base, "--no-sarif", "--no-annotations", "--no-summary",
                           "--format", "json"), "ci")
    out["pre-push"] = _json(_run(root, "pre-push", "--format", "json", "origin", "/nowhere",
                                 stdin=f"refs/heads/main {head} refs/heads/main {ZERO}\n"), "pre-push")
    # A server that has the pushed objects (in FETCH_HEAD only, as during a push) and main at base.
    server = GitRepo.init(top / "server.git", "--bare")
    server.git("fetch", "-q", str(root), "refs/heads/main")
    server.git("update-ref", "refs/heads/main", base)
    out["pre-receive"] = _json(_run(server.path, "pre-receive", "--format", "json",
                                    stdin=f"{base} {head} refs/heads/main\n"), "pre-receive")
    shard = top / "sweep.json"
    sweep = _run(top, "sweep", "repos", "--format", "json", "-o", str(shard))
    assert sweep.returncode == 1, sweep.stderr
    out["sweep"] = json.loads(shard.read_text(encoding="utf-8"))
    out["merge"] = _json(_run(top, "merge", str(shard), "--format", "json"), "merge")
    home = top / "home"
    (home / ".config").mkdir(parents=True)
    (home / ".claude.json").write_text(_mcp_json(USER_KEY), encoding="utf-8")
    out["audit --user"] = _json(_run(top, "audit", "--user", "--format", "json",
                                     env={"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}), "audit --user")
    # Last: staging changes what the work tree holds.
    repo.stage("new.py", f'KEY = "{STAGED_KEY}"\n')
    repo.stage(".env", "DEBUG=0\n")
    out["staged"] = _json(_run(root, "staged", "--format", "json"), "staged")
    yield out


COMMANDS = ("scan", "staged", "history", "audit", "audit --user", "ci", "pre-push", "pre-receive", "sweep", "merge")


def test_every_json_command_is_covered() -> None:
    """A command that gains --format json must be added here (and so checked against the schema)."""
    from scanner.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, __import__("argparse")._SubParsersAction))
    with_json = set()
    for name, command in sub.choices.items():
        for action in command._actions:
            if action.dest == "format" and "json" in (action.choices or ()):
                with_json.add(name)
    assert with_json <= {c.split()[0] for c in COMMANDS}, with_json


@pytest.mark.parametrize("command", COMMANDS)
def test_report_validates_against_the_schema(reports: dict[str, dict[str, Any]], command: str) -> None:
    document = reports[command]
    jsonschema.Draft202012Validator(schema()).validate(document)
    assert document["findings"], f"{command} found nothing: the contract was not exercised"


@pytest.mark.parametrize("command", COMMANDS)
def test_fields_mean_the_same_in_every_command(reports: dict[str, dict[str, Any]], command: str) -> None:
    for finding in reports[command]["findings"]:
        for key in ("commits", "paths"):
            if key in finding:
                assert isinstance(finding[key], int) and not isinstance(finding[key], bool), (command, key, finding)
        if finding["author"] is not None:
            assert re.fullmatch(r".+ <[^<>]*>", finding["author"]), (command, finding["author"])
        secret = finding["secret"]
        assert secret is None or secret.endswith("***REDACTED***"), (command, finding)
        assert secret is None or not PROSE.search(secret), (command, finding)
        text = json.dumps(finding)
        for key in (CODE_KEY, MCP_KEY, STAGED_KEY, USER_KEY):
            assert key not in text


def _one(document: dict[str, Any], rule_id: str, path: str) -> dict[str, Any]:
    found = [f for f in document["findings"] if f["rule_id"] == rule_id and f["path"] == path]
    assert len(found) == 1, [(f["rule_id"], f["path"]) for f in document["findings"]]
    return found[0]


def test_audit_findings_carry_evidence_not_redacted_prose(reports: dict[str, dict[str, Any]]) -> None:
    audit = reports["audit"]
    tracked = _one(audit, "secret-file-tracked", ".env")
    assert tracked["secret"] is None and tracked["evidence"] == "tracked: .env"
    committed = _one(audit, "secret-file-in-history", "old/.env")
    assert committed["secret"] is None and committed["evidence"] == "committed: old/.env"
    credential = _one(audit, "mcp-hardcoded-credential", ".mcp.json")
    assert credential["secret"] == MCP_KEY[:4] + "***REDACTED***" and credential["evidence"] is None
    staged = _one(reports["staged"], "secret-file-tracked", ".env")
    assert staged["secret"] is None and staged["evidence"] == "staged: .env"


def test_history_counts_and_authors_agree_between_history_and_audit(reports: dict[str, dict[str, Any]]) -> None:
    committed = _one(reports["audit"], "secret-file-in-history", "old/.env")
    assert committed["commits"] == 1 and committed["paths"] == 1
    assert len(committed["commit_ids"]) == 1 and committed["path_list"] == ["old/.env"]
    leaked = _one(reports["history"], "stripe-live-secret-key", "settings.py")
    assert leaked["commits"] == 1 and leaked["paths"] == 1
    assert committed["author"] == leaked["author"] == "Test Author <author@example.com>"
    assert committed["commit"] == leaked["commit"]


def test_text_report_shows_evidence_and_no_empty_secret_line(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.stage(".env", "DEBUG=1\n")
    repo.commit()
    proc = _run(repo.path, "audit", ".")
    assert proc.returncode == 1, proc.stderr
    assert "found:    tracked: .env" in proc.stdout
    assert "REDACTED" not in proc.stdout  # nothing in this audit is a secret value


def test_history_cache_keeps_empty_and_short_secrets_apart(tmp_path: Path) -> None:
    """A hit without a secret comes back from the cache without one (not as a redaction marker
    that reads as a hidden value), and a fully redacted short secret does not come back empty."""
    from scanner.history.cache import BlobCache
    from scanner.history.hits import Hit
    from scanner.models import redact

    path = tmp_path / "history-x.cache"
    cache = BlobCache(path, "k" * 64)
    cache.add({"blob1/a": [Hit("r", "f" * 64, 1, 1, None, None, ""), Hit("r", "e" * 64, 2, 1, None, None, "abc")]})
    cache.save()
    (empty, short) = BlobCache(path, "k" * 64).load().hits["blob1/a"]
    assert empty.secret == ""
    assert short.secret and redact(short.secret) == redact("abc") and "abc" not in short.secret
