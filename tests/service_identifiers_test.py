"""Account identifiers in SaaS host names and under a provider's key name
(patterns/service_identifiers.toml): listed by a history audit at low confidence, never a
reason to block a commit."""
from __future__ import annotations

import json

from tests.git_helpers import GitRepo

# Generated account names of the documented host formats (no real account).
SETTINGS = (
    "SNOWFLAKE_HOST=qv48211.eu-central-1.snowflakecomputing.com\n"
    "SALESFORCE_INSTANCE_URL=https://northwind-traders.my.salesforce.com\n"
    "ARTIFACTORY_URL=https://globex-eng.jfrog.io/artifactory/api/npm/npm/\n"
    'NEXT_PUBLIC_SUPABASE_URL="https://qmzhrktvwlbpnyeufaxc.supabase.co"\n'
    "PLANETSCALE_USERNAME=w7ktq2m9xrfa\n"
)
RULES = {"snowflake-account-host", "salesforce-my-domain", "jfrog-platform-host", "supabase-project-url",
         "planetscale-username"}


def test_the_hook_lets_identifiers_through(git_repo: GitRepo) -> None:
    git_repo.stage("settings.env", SETTINGS)
    result = git_repo.run_mcp_scan("staged")
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_history_lists_each_account_name_at_low_confidence(git_repo: GitRepo) -> None:
    git_repo.stage("settings.env", SETTINGS)
    commit = git_repo.commit("settings")
    result = git_repo.run_mcp_scan("history", "--no-cache", "--min-confidence", "low", "--format", "json",
                                   "--show-secrets")
    assert result.returncode == 1, result.stderr.decode()
    findings = json.loads(result.stdout)["findings"]
    assert {(f["rule_id"], f["confidence"], f["severity"], f["commit"]) for f in findings} == {
        (rule, "low", "info", commit) for rule in RULES}
    # the account label alone, never the vendor's domain
    assert sorted(f["secret"] for f in findings) == [
        "globex-eng", "northwind-traders", "qmzhrktvwlbpnyeufaxc", "qv48211", "w7ktq2m9xrfa"]

