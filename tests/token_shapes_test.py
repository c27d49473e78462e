"""Token shapes read from their formats (issue 14): a JWT whose header was edited by hand, a
make-style ``:::=`` assignment before a provider key name's value."""
from __future__ import annotations

import base64
import json
import string

import pytest

from scanner.detect import Detector
from scanner.rules import builtin_rules
from tests.fakes import fake

HEX = "0123456789abcdef"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(list(builtin_rules()), engine="python")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(header: str, seed: int) -> str:
    payload = _b64url(json.dumps({"sub": fake(12, seed=seed), "iat": 1700000000 + seed}).encode())
    return f"{header}.{payload}.{fake(43, alphabet=string.ascii_letters + string.digits + '-_', seed=seed + 1)}"


def test_a_jwt_with_a_hand_edited_header_is_reported_at_low_confidence(detector: Detector) -> None:
    header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
    edited = header[:10] + fake(4, seed=3) + header[14:]  # still opens with '{"alg":' (eyJhbGciOi)
    found = detector.scan_text(f'SESSION = "{_jwt(edited, 4)}"\n', "app/settings.py")
    assert [(f.rule_id, f.confidence) for f in found] == [("jwt-malformed-header", "low")]
    assert "does not decode" in found[0].message
    # a well-formed one is the jwt rule's, at its own confidence, and only once
    found = detector.scan_text(f'SESSION = "{_jwt(header, 5)}"\n', "app/settings.py")
    assert [(f.rule_id, f.confidence) for f in found] == [("jwt", "high")]


def test_random_text_opening_like_a_jwt_header_is_not_one(detector: Detector) -> None:
    # no JSON payload segment: not the JWS compact form
    value = "eyJhbGciOi" + fake(20, seed=6) + "." + fake(30, seed=7) + "." + fake(30, seed=8)
    assert [f for f in detector.scan_text(f"value = {value}\n", "data.txt") if f.rule_id.startswith("jwt")] == []


@pytest.mark.parametrize("operator", ["=", ":=", "::=", ":::=", "?="])
def test_make_assignment_operators_before_a_provider_key_name(detector: Detector, operator: str) -> None:
    # POSIX make (2024) and GNU make 4.4 have :::=, immediately expanded
    token = "-".join(fake(n, alphabet=HEX, seed=9 + n) for n in (8, 4, 4, 4, 12))
    found = detector.scan_text(f'SNYK_TOKEN {operator} "{token}"\n', "Makefile")
    assert [(f.rule_id, f.secret) for f in found] == [("snyk-api-token", token)]
