"""Vendored third-party trees (issue 14, item 5): context rules stay out, provider formats stay in.

A committed virtualenv or ``node_modules/`` carries other projects' tests and
docs: a ``password = "..."`` there is their fixture, not this repository's
credential, so the rules that say ``vendored = false`` (generic assignments,
auth headers, URL passwords) do not run there. A provider-format token there
is still a leak, and the same generic password in the project's own files is
still reported. Each case runs ``mcp-scan history`` / ``scan`` on a real
temporary git repository.
"""
from __future__ import annotations

import json
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scanner.rules import builtin_rules
from scanner.vendored import is_vendored
from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo

PASSWORD = fake(14, seed=501) + "#7"
AWS_KEY = "AKIA" + fake(16, alphabet=string.ascii_uppercase + "234567", seed=502)
STRIPE = stripe_live_key(seed=503)

# What a vendored library's own test file holds: its fixtures, and (the case a
# user must still hear about) a real token someone pasted into it.
LIBRARY_TEST = (
    f'DB_PASSWORD = "{PASSWORD}"\n'
    f'DSN = "postgresql://svc:{PASSWORD}@db.internal.corp:5432/app"\n'
    f'HEADERS = {{"X-Api-Key": "{fake(32, seed=504)}"}}\n'
    f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n'
    f'STRIPE_KEY = "{STRIPE}"\n'
)
CONTEXT_RULES = {"generic-password", "database-connection-string", "api-key-header"}
PROVIDER_RULES = {"aws-access-key-id", "stripe-live-secret-key"}


@pytest.mark.parametrize("path", [
    "venv/lib/python3.12/site-packages/lib/tests/test_auth.py",
    ".venv/Lib/site-packages/lib/conf.py",
    "usr/lib/python3/dist-packages/lib/conf.py",
    "env/lib/python3.9/unittest/test/test_case.py",
    "node_modules/some-lib/test/fixtures.js",
    "web/node_modules/@scope/pkg/index.js",
    "vendor/github.com/org/lib/client_test.go",
    "pip/_vendor/urllib3/util.py",
    "third_party/boringssl/src/config.h",
])
def test_third_party_trees_are_vendored(path: str) -> None:
    assert is_vendored(path)


@pytest.mark.parametrize("path", [
    "app/settings.py", "packages/api/.env", "lib/config.py", "build/lib/app/settings.py",
    "src/vendors.py", "src/vendors/acme.py", "docs/vendor.md", "my_node_modules.js", "sitepackages/x.py",
])
def test_the_projects_own_trees_are_not_vendored(path: str) -> None:
    assert not is_vendored(path)


def test_only_context_rules_stay_out_of_vendored_trees() -> None:
    rules = {r.id: r for r in builtin_rules()}
    assert all(not rules[i].vendored for i in CONTEXT_RULES | {"generic-secret", "basic-auth-credentials",
                                                               "authorization-basic-credentials", "url-credentials"})
    assert all(rules[i].vendored for i in PROVIDER_RULES | {"private-key-rsa", "github-pat", "gcp-api-key"})


def _history(repo: GitRepo, *args: str) -> list[dict[str, Any]]:
    # --group path: these cases judge each path (the default groups a secret's paths into one finding)
    proc = repo.run_mcp_scan("history", "--format", "json", "--group", "path", *args)
    assert proc.returncode in (0, 1), proc.stderr
    findings: list[dict[str, Any]] = json.loads(proc.stdout)["findings"]
    return findings


def test_history_reports_provider_tokens_in_vendored_trees_and_generic_ones_only_in_the_projects_own(
        git_repo: GitRepo) -> None:
    git_repo.stage("venv/lib/python3.12/site-packages/lib/tests/test_auth.py", LIBRARY_TEST)
    git_repo.stage("node_modules/lib/test/fixtures.js", LIBRARY_TEST)
    git_repo.stage("app/settings.py", LIBRARY_TEST)  # the project's own config: everything counts
    git_repo.commit("vendored libraries and settings")
    found = {(f["path"].split("/")[0], f["rule_id"]) for f in _history(git_repo, "--no-cache")}
    for tree in ("venv", "node_modules"):
        assert {(tree, rule) for rule in PROVIDER_RULES} <= found
        assert not {(tree, rule) for rule in CONTEXT_RULES} & found
    assert {("app", rule) for rule in CONTEXT_RULES | PROVIDER_RULES} <= found


def test_a_blob_at_a_vendored_and_an_own_path_is_judged_at_each(git_repo: GitRepo) -> None:
    """One blob, two paths: the history scans it once per path class, and the warm cache keeps them apart."""
    git_repo.stage("vendor/lib/conf.py", LIBRARY_TEST)
    git_repo.stage("conf/prod.py", LIBRARY_TEST)
    git_repo.commit("same file twice")
    for args in (("--no-cache",), (), ()):  # cold, filling the cache, warm
        found = {(f["path"], f["rule_id"]) for f in _history(git_repo, *args)}
        assert ("conf/prod.py", "generic-password") in found
        assert ("vendor/lib/conf.py", "generic-password") not in found
        assert ("vendor/lib/conf.py", "aws-access-key-id") in found


def test_file_scans_and_the_hook_skip_context_rules_in_vendored_trees_only(git_repo: GitRepo) -> None:
    git_repo.stage("node_modules/lib/test/fixtures.js", f'const password = "{PASSWORD}";\n')
    proc = git_repo.run_mcp_scan("staged")
    assert proc.returncode == 0, proc.stdout
    git_repo.stage("node_modules/lib/test/keys.js", f'const key = "{STRIPE}";\n')
    proc = git_repo.run_mcp_scan("staged")
    assert proc.returncode == 1 and b"stripe-live-secret-key" in proc.stdout
    git_repo.write("src/db.js", f'const password = "{PASSWORD}";\n')
    proc = git_repo.run_mcp_scan("scan", "src", "node_modules", "--format", "json")
    rules = {(f["path"], f["rule_id"]) for f in json.loads(proc.stdout)["findings"]}
    assert ("src/db.js", "generic-password") in rules
    assert not any(path.endswith("fixtures.js") for path, _ in rules)


def test_a_user_rule_file_may_keep_a_rule_out_of_vendored_trees(tmp_path: Path, git_repo: GitRepo) -> None:
    rules = tmp_path / "house.toml"
    rules.write_text(
        '[[rules]]\nid = "house-secret"\ndescription = "House secret"\nseverity = "high"\n'
        'vendored = false\n'
        "regex = '''house_secret\\s*=\\s*\"(?P<secret>[A-Za-z0-9]{20})\"'''\nkeywords = [\"house_secret\"]\n"
    )
    value = fake(20, seed=505)
    git_repo.write("vendor/x/a.py", f'house_secret = "{value}"\n')
    git_repo.write("app/a.py", f'house_secret = "{value}"\n')
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", ".", "--rules", str(rules), "--format", "json"],
                          cwd=git_repo.path, capture_output=True)
    paths = {f["path"] for f in json.loads(proc.stdout)["findings"] if f["rule_id"] == "house-secret"}
    assert paths == {"app/a.py"}
    rules.write_text(rules.read_text().replace("vendored = false", 'vendored = "no"'))
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", ".", "--rules", str(rules)],
                          cwd=git_repo.path, capture_output=True)
    assert proc.returncode == 2 and b"vendored" in proc.stderr


def test_a_warm_history_cache_is_rescanned_when_disable_rules_changes(git_repo: GitRepo) -> None:
    """Disabling a rule, then enabling it again, brings its findings back from a cached history.

    Each rule set has its own cache (the disabled rule is part of the key), so
    the first run with a new ``disable-rules`` rescans rather than reusing
    blobs judged without the rule, and a later run with a set seen before
    reuses that set's cache.
    """
    git_repo.stage("app/settings.py", f'DB_PASSWORD = "{PASSWORD}"\nSTRIPE_KEY = "{STRIPE}"\n')
    git_repo.commit("settings")
    config = git_repo.path / ".mcp-scan.toml"
    caches = git_repo.path / ".git" / "mcp-scan"

    def run(disabled: bool) -> set[str]:
        config.write_text('disable-rules = ["generic-password"]\n' if disabled else "")
        return {f["rule_id"] for f in _history(git_repo)}

    assert run(disabled=True) == {"stripe-live-secret-key"}  # the cache is filled without the rule
    assert len(list(caches.glob("history-*.cache"))) == 1
    assert run(disabled=False) == {"generic-password", "stripe-live-secret-key"}  # rescanned, not reused
    assert len(list(caches.glob("history-*.cache"))) == 2
    assert run(disabled=True) == {"stripe-live-secret-key"}  # warm: the disabled set's cache
    assert run(disabled=False) == {"generic-password", "stripe-live-secret-key"}  # warm: the full set's cache
    assert len(list(caches.glob("history-*.cache"))) == 2
