"""Offline validators: checksums and structural decodings a rule can require."""
from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import pytest

from scanner.detect import Detector
from scanner.errors import ScanError
from scanner.rules import builtin_rules, load_rule_file, rule_from_dict
from scanner.validators import (
    VALIDATORS, base62, base64_bytes, base64_private_key, base64_userpass, github_crc32, jwt_header,
    jwt_service_role, validate,
)
from tests.fakes import fake


def github_token(prefix: str = "ghp_", seed: int = 0) -> str:
    body = fake(30, seed=seed)
    return prefix + body + base62(zlib.crc32(body.encode()))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def make_jwt(header: dict[str, object], payload: dict[str, object]) -> str:
    return ".".join([_b64url(json.dumps(header).encode()), _b64url(json.dumps(payload).encode()), fake(43, seed=3)])


def test_base62_pads_and_uses_digits_upper_lower() -> None:
    assert base62(0) == "000000"
    assert base62(61) == "00000z"
    assert base62(62) == "000010"
    assert base62(36) == "00000a"
    assert base62(10) == "00000A"


@pytest.mark.parametrize("prefix", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_"])
def test_github_crc32_accepts_valid_checksums(prefix: str) -> None:
    for seed in range(20):
        assert github_crc32(github_token(prefix, seed))


def test_github_crc32_rejects_a_changed_character() -> None:
    token = github_token()
    # change one character of the random part, then one of the checksum
    body_changed = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    tail_changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert not github_crc32(body_changed)
    assert not github_crc32(tail_changed)


@pytest.mark.parametrize("value", ["ghp_", "ghp_abc", "ghp_" + "x" * 36, "ghp_" + "é" * 36, "ghp_" + "a-b" * 12])
def test_github_crc32_rejects_malformed(value: str) -> None:
    assert not github_crc32(value)


def test_checksum_failure_means_no_github_pat_finding() -> None:
    rule = next(r for r in builtin_rules() if r.id == "github-pat")
    detector = Detector([rule], engine="python")
    good = github_token(seed=5)
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    found = detector.scan_text(f"GITHUB_TOKEN={good}\n")
    assert [(f.rule_id, f.confidence, f.secret) for f in found] == [("github-pat", "high", good)]
    assert detector.scan_text(f"GITHUB_TOKEN={bad}\n") == []


def test_unverified_github_shape_is_reported_below_the_checksummed_rule() -> None:
    good = github_token(seed=6)
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    # (no secret-named key on the line: generic assignment rules would judge the value on its own)
    findings = Detector(list(builtin_rules()), engine="python").scan_text(f"echo {bad}\n")
    assert [(f.rule_id, f.confidence) for f in findings] == [("github-token-unverified", "medium")]
    # shaped exactly like a live token: the hook's default threshold (medium) blocks it, "high" does not
    assert len(Detector(list(builtin_rules()), engine="python", min_confidence="medium").scan_text(f"echo {bad}\n")) == 1
    assert Detector(list(builtin_rules()), engine="python", min_confidence="high").scan_text(f"echo {bad}\n") == []


def test_jwt_header_requires_json_object() -> None:
    assert jwt_header(make_jwt({"alg": "HS256", "typ": "JWT"}, {"sub": "1"}))
    assert jwt_header(make_jwt({"alg": "none"}, {}))
    assert not jwt_header("eyJ" + fake(30, seed=1) + "." + fake(30, seed=2) + "." + fake(43))
    assert not jwt_header(_b64url(b'["alg"]') + ".e30.")
    assert not jwt_header(_b64url(b"{not json") + ".e30.")


def test_jwt_service_role() -> None:
    assert jwt_service_role(make_jwt({"alg": "HS256"}, {"role": "service_role", "iss": "supabase"}))
    assert not jwt_service_role(make_jwt({"alg": "HS256"}, {"role": "anon", "iss": "supabase"}))
    assert not jwt_service_role("not.a.jwt")


def test_base64_userpass() -> None:
    encode = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    assert base64_userpass(encode("deploy:" + fake(16, seed=4)))
    assert not base64_userpass(encode("deploy:"))  # no password
    assert not base64_userpass(encode(":" + fake(16)))  # no user
    assert not base64_userpass(encode("user:password"))  # placeholder
    assert not base64_userpass(encode("no separator here"))
    assert not base64_userpass(base64.b64encode(bytes(range(200, 232))).decode())  # binary
    assert not base64_userpass("authentication")  # a word that happens to be base64 alphabet


def test_base64_userpass_documentation_values_and_opaque_passwords() -> None:
    encode = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    assert not base64_userpass(encode("admin:admin"))  # a default account: password repeats the user
    assert not base64_userpass(encode("Aladdin:open sesame"))  # RFC 7617's own example
    assert not base64_userpass(encode("scott:tiger"))  # Oracle's demo account
    # an API key sent as the Basic user name with an empty password
    assert base64_userpass(encode(fake(32, seed=41) + ":"))
    assert not base64_userpass(encode("browser:"))  # a plain word with no password is not
    # the protocol treats the password as opaque bytes: a stray non-UTF-8 byte does not hide it
    raw = b"svc-deploy:" + fake(10, seed=42).encode() + b"\x95" + fake(8, seed=43).encode()
    assert base64_userpass(base64.b64encode(raw).decode())


def test_base64_private_key_and_lengths() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + fake(64, seed=9) + "\n-----END RSA PRIVATE KEY-----\n"
    assert base64_private_key(base64.b64encode(pem.encode()).decode())
    cert = pem.replace("RSA PRIVATE KEY", "CERTIFICATE")
    assert not base64_private_key(base64.b64encode(cert.encode()).decode())
    assert base64_bytes(64)(base64.b64encode(bytes(64)).decode())
    assert not base64_bytes(64)(base64.b64encode(bytes(63)).decode())
    assert not base64_bytes(64)("!!!not base64!!!")


def test_validate_dispatches_by_name() -> None:
    assert set(VALIDATORS) >= {"github-crc32", "jwt", "base64-userpass", "base64-private-key", "base64-64-bytes"}
    assert validate("github-crc32", github_token(seed=11))


def test_unknown_validator_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ScanError) as info:
        rule_from_dict({"id": "x-token", "description": "d", "severity": "high", "regex": "(x)", "validate": "luhn-ish"}, "f.toml")
    assert info.value.exit_code == 2
    assert "x-token" in str(info.value) and "luhn-ish" in str(info.value)
    path = tmp_path / "custom.toml"
    path.write_text('[[rules]]\nid = "my-token"\ndescription = "d"\nseverity = "high"\nregex = \'\'\'\\b(myt_[0-9A-Za-z]{36})\\b\'\'\'\n'
                    'validate = "github-crc32"\nkeywords = ["myt_"]\n')
    (rule,) = load_rule_file(path)
    assert rule.validate == "github-crc32"
    detector = Detector([rule], engine="python")
    assert len(detector.scan_text(github_token("myt_", seed=2))) == 1
    assert detector.scan_text("myt_" + fake(36, seed=2)) == []


def test_ruleset_hash_covers_validate() -> None:
    from scanner.rules import ruleset_hash

    base = {"id": "x-token", "description": "d", "severity": "high", "regex": "(x)"}
    assert ruleset_hash([rule_from_dict(base, "f")]) != ruleset_hash([rule_from_dict({**base, "validate": "jwt"}, "f")])


def test_bech32_checksum_follows_bip_173() -> None:
    from scanner.validators import bech32

    # BIP-173's own valid test strings, and one character changed in each
    assert bech32("A12UEL5L")
    assert bech32("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw")
    assert bech32("split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w")
    assert not bech32("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx")
    assert not bech32("split1checkupstagehandshakeupstreamerranterredcaperred2y9e2w")
    assert not bech32("nsec1")  # no data
    assert not bech32("nsec1bbbbbb")  # "b" is no bech32 character


def test_base58check_verifies_the_double_sha256_checksum_and_the_length() -> None:
    import hashlib

    from scanner.validators import BASE58, base58check

    def encode(raw: bytes) -> str:
        number, out = int.from_bytes(raw, "big"), ""
        while number:
            number, digit = divmod(number, 58)
            out = BASE58[digit] + out
        return out

    payload = bytes.fromhex("0488ADE4") + bytes(range(74))
    good = encode(payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4])
    assert good.startswith("xprv") and base58check(78)(good)
    assert not base58check(78)(good[:-1] + ("2" if good[-1] != "2" else "3"))
    assert not base58check(33)(good)  # the wrong payload size
    assert not base58check(78)(good.replace(good[10], "0"))  # 0 is no Base58 digit
