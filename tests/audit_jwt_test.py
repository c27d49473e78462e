"""Offline JWT analysis: alg none, lifetimes, expiry state, and tokens found in the work tree."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from scanner.audit import run_audit
from scanner.audit.jwt import analyse_jwt, enrich_jwt_message, expiry_state, human_duration
from scanner.models import Finding
from tests.fakes import fake
from tests.git_helpers import GitRepo

NOW = 1_800_000_000.0
HOUR = 3600
DAY = 86400


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def make_jwt(payload: dict[str, Any], alg: str = "HS256") -> str:
    signature = "" if alg == "none" else fake(43, alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
    return f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(payload)}.{signature}"


def _rules(token: str) -> list[str]:
    return [p.rule_id for p in analyse_jwt(token, now=NOW)]


def test_short_lived_signed_token_is_fine() -> None:
    assert _rules(make_jwt({"sub": "1", "iat": NOW - 60, "exp": NOW + HOUR})) == []


def test_alg_none_is_reported_with_expiry_state() -> None:
    problems = analyse_jwt(make_jwt({"sub": "1", "iat": NOW - 60, "exp": NOW + 2 * HOUR}, alg="none"), now=NOW)
    assert [p.rule_id for p in problems] == ["jwt-alg-none"]
    assert "expires in 2 h" in problems[0].message


def test_lifetime_over_24_hours_is_long_lived() -> None:
    problems = analyse_jwt(make_jwt({"iat": NOW - DAY, "exp": NOW - DAY + 30 * DAY}), now=NOW)
    assert [p.rule_id for p in problems] == ["jwt-long-lived"]
    assert "30 days" in problems[0].message and "expires in 29 days" in problems[0].message
    assert problems[0].severity == "medium"


def test_expired_long_lived_token_says_so_at_low_severity() -> None:
    problems = analyse_jwt(make_jwt({"iat": NOW - 10 * DAY, "exp": NOW - 3 * DAY}), now=NOW)
    assert [p.rule_id for p in problems] == ["jwt-long-lived"]
    assert "expired 3 days ago" in problems[0].message
    assert problems[0].severity == "low"


def test_missing_exp_never_expires() -> None:
    problems = analyse_jwt(make_jwt({"sub": "1", "iat": NOW}), now=NOW)
    assert [p.rule_id for p in problems] == ["jwt-long-lived"]
    assert "never expires" in problems[0].message


def test_exactly_24_hours_is_allowed() -> None:
    assert _rules(make_jwt({"iat": NOW, "exp": NOW + DAY})) == []


def test_no_iat_uses_remaining_validity() -> None:
    assert _rules(make_jwt({"exp": NOW + 2 * DAY})) == ["jwt-long-lived"]
    assert _rules(make_jwt({"exp": NOW + HOUR})) == []


def test_alg_none_and_long_lived_together() -> None:
    assert sorted(_rules(make_jwt({"sub": "1"}, alg="none"))) == ["jwt-alg-none", "jwt-long-lived"]


@pytest.mark.parametrize("token", ["not.a.jwt", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig", "abc", ""])
def test_non_tokens_are_ignored(token: str) -> None:
    assert analyse_jwt(token, now=NOW) == []


def test_expiry_state_and_durations() -> None:
    assert expiry_state({"exp": NOW - 3 * DAY}, NOW) == "expired 3 days ago"
    assert expiry_state({"exp": NOW + 2 * HOUR}, NOW) == "expires in 2 h"
    assert expiry_state({}, NOW).startswith("never expires")
    assert human_duration(30) == "30 s" and human_duration(600) == "10 min" and human_duration(800 * DAY) == "2 years"


def test_enrich_jwt_message_adds_expiry_state_once() -> None:
    token = make_jwt({"iat": NOW - 4 * DAY, "exp": NOW - 3 * DAY})
    finding = Finding(rule_id="jwt", severity="high", message="JSON Web Token", path="a", line=1, column=1,
                      secret=token, fingerprint="x")
    enriched = enrich_jwt_message(finding, now=NOW)
    assert enriched.message == "JSON Web Token (expired 3 days ago)"
    assert enrich_jwt_message(enriched, now=NOW).message == enriched.message
    other = finding.replace(secret="ghp_" + fake(36))
    assert enrich_jwt_message(other, now=NOW) is other


def test_tokens_in_the_work_tree_are_found_with_positions(git_repo: GitRepo) -> None:
    none_token = make_jwt({"sub": "1", "exp": 4_000_000_000, "iat": 4_000_000_000 - 60}, alg="none")
    forever = make_jwt({"sub": "2"})
    git_repo.stage("app/config.py", f"# config\nAUTH = 'Bearer {none_token}'\n")
    git_repo.commit()
    git_repo.write("notes.txt", f"{forever}\n")  # untracked, not ignored
    git_repo.write(".gitignore", "private/\n")
    git_repo.write("private/tok.txt", f"{forever}\n")  # ignored: not the audit's business
    findings = [f for f in run_audit(git_repo.path).findings if f.rule_id.startswith("jwt-")]
    where = {(f.rule_id, f.path, f.line, f.column) for f in findings}
    assert where == {("jwt-alg-none", "app/config.py", 2, 16), ("jwt-long-lived", "notes.txt", 1, 1)}
    assert all(f.secret in (none_token, forever) for f in findings)
