"""Secrets one encoding away: Kubernetes Secret data, docker auths, %XX escapes.

Findings must point at the encoded text (line and column of the base64 or
percent-encoded run), because that is what a person finds in the file.
"""
from __future__ import annotations

import base64
import json
import zlib

import pytest

from scanner.decode import MAX_DEPTH, decoded_hits
from scanner.encodings import decode_base64, decode_percent, decode_value
from scanner.detect import Detector
from scanner.errors import ScanError
from scanner.rules import builtin_rules, rule_from_dict
from scanner.validators import base62
from tests.fakes import fake
from tests.git_helpers import GitRepo


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def detector() -> Detector:
    return Detector(list(builtin_rules()), engine="python")


def github_token(seed: int = 0) -> str:
    body = fake(30, seed=seed)
    return "ghp_" + body + base62(zlib.crc32(body.encode()))


def k8s_secret(data: dict[str, str], kind: str = "Secret") -> str:
    lines = ["apiVersion: v1", f"kind: {kind}", "metadata:", "  name: app", "type: Opaque", "data:"]
    lines += [f"  {key}: {value}" for key, value in data.items()]
    return "\n".join(lines) + "\n"


def test_decoders() -> None:
    assert decode_base64(b64("hello world!")) == "hello world!"
    assert decode_base64("aGVsbG8gd29ybGQh") == "hello world!"  # padding optional
    assert decode_base64("not base64 at all") is None
    assert decode_base64(base64.b64encode(bytes(range(256))).decode()) is None  # binary
    assert decode_base64("abc") is None  # too short to bother
    assert decode_percent("p%40ss%3Aword") == "p@ss:word"
    assert decode_percent("no-escapes") is None
    assert decode_value(b64("s3cr3t-value"), ("percent", "base64")) == "s3cr3t-value"
    assert decode_value("plain", ("base64",)) is None


def test_kubernetes_secret_data_is_decoded_and_points_at_encoded_value() -> None:
    password = fake(18, seed=21)
    encoded_pw = b64(password)
    url = b64(f"postgres://app:{fake(20, seed=22)}@db.prod.internal:5432/app")
    text = k8s_secret({"username": b64("app"), "password": encoded_pw, "DATABASE_URL": url})
    findings = {f.rule_id: f for f in detector().scan_text(text, "k8s/secret.yaml")}
    assert set(findings) == {"generic-password-unquoted", "database-connection-string"}
    pw = findings["generic-password-unquoted"]
    assert (pw.line, pw.column) == (8, len("  password: ") + 1)
    assert pw.secret == encoded_pw  # the text in the file, not the decoded value
    assert (pw.end_line, pw.end_column) == (8, len("  password: ") + len(encoded_pw) + 1)
    assert findings["database-connection-string"].line == 9


def test_base64_outside_a_secret_manifest_is_not_decoded() -> None:
    # the cheap gate: no "kind: Secret", no decoding (a ConfigMap is not a Secret)
    text = k8s_secret({"password": b64(fake(18, seed=23))}, kind="ConfigMap")
    assert decoded_hits(detector(), text, "cm.yaml") == []


def test_json_secret_manifest_and_nested_docker_config() -> None:
    auth = b64("robot$ci:" + fake(24, seed=24))
    dockerconfig = b64(json.dumps({"auths": {"registry.corp.io": {"auth": auth}}}))
    manifest = json.dumps({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                           "data": {".dockerconfigjson": dockerconfig}}, indent=2)
    findings = detector().scan_text(manifest, "pull-secret.json")
    assert [f.rule_id for f in findings] == ["docker-config-auth"]
    line = manifest.splitlines()[findings[0].line - 1]
    assert line[findings[0].column - 1:].startswith(dockerconfig)
    assert findings[0].secret == dockerconfig


def test_percent_encoded_values_are_decoded() -> None:
    token = github_token(seed=25)
    text = f"redirect = https://ci.corp.io/hook?next=%2Fbuild&access_token%3D{token}%26x%3D1\n"
    findings = detector().scan_text(text, "app.ini")
    assert "github-pat" in [f.rule_id for f in findings]
    hit = next(f for f in findings if f.rule_id == "github-pat")
    # the whole encoded run is what is reported
    assert token in hit.secret and "%3D" in hit.secret
    assert hit.line == 1


def test_plain_hits_are_not_replaced_by_decoded_ones() -> None:
    password = fake(16, seed=26)
    text = f"DATABASE_URL=postgres://app:{password}@db.prod.internal:5432/app%3Fsslmode%3Drequire\n"
    findings = detector().scan_text(text, ".env")
    assert [(f.rule_id, f.secret) for f in findings] == [("database-connection-string", password)]


def test_depth_is_bounded() -> None:
    text = k8s_secret({"password": b64(fake(18, seed=27))})
    assert decoded_hits(detector(), text, "s.yaml", depth=MAX_DEPTH) == []
    assert decoded_hits(detector(), text, "s.yaml", depth=0) != []


def test_rule_level_decode_judges_the_decoded_value() -> None:
    rule = rule_from_dict({
        "id": "b64-thing", "description": "d", "severity": "high", "regex": r"thing=(?P<secret>[A-Za-z0-9+/=]{8,})",
        "keywords": ["thing="], "decode": ["base64"], "min_entropy": 3.0,
    }, "test.toml")
    d = Detector([rule], engine="python")
    real = b64(fake(20, seed=28))
    assert [f.secret for f in d.scan_text(f"thing={real}")] == [real]
    assert d.scan_text("thing=" + b64("aaaaaaaaaaaaaaaa")) == []  # decodes to a low-entropy value
    assert d.scan_text("thing=" + b64("changeme-please")) == []  # decodes to a placeholder
    assert d.scan_text("thing=!!!!notbase64") == []


def test_unknown_decoder_is_a_config_error() -> None:
    with pytest.raises(ScanError) as info:
        rule_from_dict({"id": "x", "description": "d", "severity": "high", "regex": "(x)", "decode": ["rot13"]}, "f.toml")
    assert info.value.exit_code == 2


def test_staged_kubernetes_secret_is_blocked_at_the_encoded_value(git_repo: GitRepo) -> None:
    encoded = b64(fake(20, seed=29))
    git_repo.stage("deploy/secret.yaml", k8s_secret({"username": b64("svc"), "password": encoded}))
    result = git_repo.run_mcp_scan("staged", "--format", "json")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["path"], f["line"], f["column"]) for f in findings] == [("deploy/secret.yaml", 8, len("  password: ") + 1)]


@pytest.mark.parametrize("value", ["changeme", "REPLACE_ME", "placeholder", "${DB_PASSWORD}", "password"])
def test_secret_data_that_decodes_to_a_placeholder_is_not_a_finding(value: str) -> None:
    # the base64 text alone looks random; only its decoding tells it is a filler
    text = k8s_secret({"password": b64(value), "api_token": b64(value)})
    assert detector().scan_text(text, "secret.yaml") == []
