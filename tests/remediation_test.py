"""Per-rule remediation: provider tables in rule files, and the built-in rules' texts."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from scanner.detect import DEFAULT_REMEDIATION
from scanner.rules import builtin_rules
from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo
from tests.reliability_support import assert_no_traceback, run_scan

# Rules whose secret has no single provider: their texts fit the kind of secret.
GENERIC_FILES = {"generic.toml", "url_credentials.toml", "auth_headers.toml", "private_keys.toml",
                 "config_files.toml", "jwt.toml"}
# What the built-in registry achieved (issue 15: 371 rules, 260 texts, none on the default).
MIN_DISTINCT_TEXTS = 260

HEX = "0123456789abcdef"
ACME_REMEDIATION = "Revoke the token at Acme > Settings > Tokens, then issue a new one."


def acme_rules(provider_table: str, rule_extra: str = 'provider = "acme"') -> str:
    return f"""
{provider_table}

[[rules]]
id = "acme-token"
{rule_extra}
description = "Acme API token"
severity = "high"
regex = '''\\b(acme_[0-9a-f]{{32}})\\b'''
keywords = ["acme_"]
examples = ["ACME=acme_{fake(32, HEX, 1)}", "token: acme_{fake(32, HEX, 2)}"]
negative_examples = ["acme_0000000000000000000000000000000"]

[[rules]]
id = "acme-legacy-token"
{rule_extra}
description = "Acme legacy token"
severity = "high"
regex = '''\\b(acmeold_[0-9a-f]{{32}})\\b'''
keywords = ["acmeold_"]
examples = ["ACME=acmeold_{fake(32, HEX, 3)}", "token: acmeold_{fake(32, HEX, 4)}"]
negative_examples = ["acmeold_0000000000000000000000000000000"]
"""


PROVIDER = f'[providers.acme]\nremediation = "{ACME_REMEDIATION}"'


def scan_json(tmp_path: Path, rules: str, content: str) -> list[dict[str, object]]:
    repo = GitRepo.init(tmp_path / "repo")
    (tmp_path / "acme.toml").write_text(rules, encoding="utf-8")
    repo.write("app.env", content)
    proc = run_scan("scan", "--rules", str(tmp_path / "acme.toml"), "--format", "json", "app.env", cwd=repo.path)
    assert_no_traceback(proc)
    assert proc.returncode == 1, proc.stderr.decode()
    findings: list[dict[str, object]] = json.loads(proc.stdout)["findings"]
    return findings


def test_rules_inherit_their_provider_remediation(tmp_path: Path) -> None:
    findings = scan_json(tmp_path, acme_rules(PROVIDER),
                         f"A=acme_{fake(32, HEX, 5)}\nB=acmeold_{fake(32, HEX, 6)}\n")
    assert {f["rule_id"]: f["remediation"] for f in findings} == {
        "acme-token": ACME_REMEDIATION, "acme-legacy-token": ACME_REMEDIATION}


def test_a_rules_own_remediation_wins_over_its_provider(tmp_path: Path) -> None:
    rules = acme_rules(PROVIDER).replace('id = "acme-legacy-token"\nprovider = "acme"',
                                         'id = "acme-legacy-token"\nprovider = "acme"\nremediation = "Delete the legacy token."')
    findings = scan_json(tmp_path, rules, f"A=acme_{fake(32, HEX, 5)}\nB=acmeold_{fake(32, HEX, 6)}\n")
    assert {f["rule_id"]: f["remediation"] for f in findings} == {
        "acme-token": ACME_REMEDIATION, "acme-legacy-token": "Delete the legacy token."}


def test_a_rule_without_remediation_gets_the_default(tmp_path: Path) -> None:
    findings = scan_json(tmp_path, acme_rules("", rule_extra=""), f"A=acme_{fake(32, HEX, 5)}\n")
    assert [f["remediation"] for f in findings] == [DEFAULT_REMEDIATION]


@pytest.mark.parametrize("rules, message", [
    (acme_rules(""), "provider 'acme' has no [providers.acme] table"),
    (acme_rules(PROVIDER.replace("acme]", "acmy]")), "provider 'acme' has no [providers.acme] table (one of acmy)"),
    (acme_rules(PROVIDER + '\nurl = "https://acme.example"'), "provider 'acme': unknown key(s) url"),
    (acme_rules('[providers.acme]\nremediation = ""'), "'providers.acme.remediation' must be a non-empty string"),
    (acme_rules(PROVIDER + '\n[providers.other]\nremediation = "x"'), "provider(s) other defined but no rule names them"),
    (acme_rules(PROVIDER.replace("providers.", "provider.")), "unknown top-level key(s) provider"),
    (acme_rules(PROVIDER, rule_extra='provider = "acme"\nremediation = 3'), "'remediation' must be a non-empty string"),
    (acme_rules(PROVIDER, rule_extra='provider = ["acme"]'), "provider ['acme'] has no"),
], ids=["no-table", "misspelt-table", "unknown-key", "empty-text", "unused-table", "misspelt-section",
        "rule-text-not-string", "provider-not-string"])
def test_provider_mistakes_are_config_errors(tmp_path: Path, rules: str, message: str) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(rules, encoding="utf-8")
    proc = run_scan("rules", "check", str(path), cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr.decode()
    assert message in err and str(path) in err, err


def test_provider_rules_pass_rules_check(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(acme_rules(PROVIDER), encoding="utf-8")
    proc = run_scan("rules", "check", str(path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert b"2 rules OK" in proc.stdout


def test_a_builtin_finding_carries_its_providers_steps(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("app.env", f"STRIPE_SECRET_KEY={stripe_live_key(3)}\n")
    proc = run_scan("scan", "--format", "json", "app.env", cwd=repo.path)
    assert proc.returncode == 1, proc.stderr.decode()
    (finding,) = json.loads(proc.stdout)["findings"]
    assert "https://dashboard.stripe.com/apikeys" in finding["remediation"]


def test_every_builtin_rule_has_its_own_remediation() -> None:
    rules = builtin_rules()
    assert all(rule.remediation.strip() for rule in rules), [r.id for r in rules if not r.remediation.strip()]
    provider_rules = [r for r in rules if Path(r.source).name not in GENERIC_FILES]
    assert not [r.id for r in provider_rules if r.remediation == DEFAULT_REMEDIATION]
    assert len({r.remediation for r in rules}) >= MIN_DISTINCT_TEXTS


def test_remediations_are_short_and_not_shared_across_providers() -> None:
    rules = builtin_rules()
    # the text report prints each once and SARIF puts it in the rule's help: one or two sentences
    long = [r.id for r in rules if len(r.remediation) > 300 or r.remediation.count(". ") > 2]
    assert not long
    # a text serves one provider's rules (a provider table is per file), never several files' rules
    files: dict[str, set[str]] = {}
    for rule in rules:
        files.setdefault(rule.remediation, set()).add(Path(rule.source).name)
    assert not {text: names for text, names in files.items() if len(names) > 1}
    # the largest families are one provider's token kinds (Slack's ten) and the
    # private-key formats' shared "new key pair" text; a text pasted across
    # unrelated rules would exceed this
    assert max(Counter(r.remediation for r in rules).values()) <= 12
