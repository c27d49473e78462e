"""`mcp-scan audit` judges secret-named files by what they hold (issue 15, item 2), through the real CLI."""
from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.fakes import fake
from tests.git_helpers import GitRepo

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes only")

FILE_RULES = {"gitignore-missing", "secret-file-tracked", "secret-file-in-history", "insecure-file-permissions"}
# Minimal DER structures, shaped like the real thing (the parser only looks at the outer SEQUENCE).
ALG = bytes([0x30, 0x03, 0x06, 0x01, 0x2A])
BITS = bytes([0x03, 0x02, 0x00, 0xFF])
TBS = bytes([0x30, 0x03, 0x02, 0x01, 0x01])


def _seq(body: bytes) -> bytes:
    return bytes([0x30, len(body)]) + body


DER_CERT = _seq(TBS + ALG + BITS)
DER_PUBLIC_KEY = _seq(ALG + BITS)
DER_PKCS8_KEY = _seq(bytes([0x02, 0x01, 0x00]) + ALG + bytes([0x04, 0x02, 0xAA, 0xBB]))
DER_ENCRYPTED_KEY = _seq(ALG + bytes([0x04, 0x02, 0xAA, 0xBB]))
PEM_BUNDLE = "".join(f"# CA {i}\n-----BEGIN CERTIFICATE-----\nMIIB{i}AAAA\n-----END CERTIFICATE-----\n" for i in range(3))
PEM_PRIVATE = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"


def _findings(repo: GitRepo) -> list[dict[str, Any]]:
    result = repo.run_mcp_scan("audit", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return found


def _by_path(repo: GitRepo) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for finding in _findings(repo):
        if finding["rule_id"] in FILE_RULES:
            grouped.setdefault(finding["path"], []).append(finding)
    return grouped


def _chmod_all(repo: GitRepo, mode: int, *names: str) -> None:
    for name in names:
        os.chmod(repo.path / name, mode)


def test_public_pem_and_der_files_are_not_secret_files_in_any_check(git_repo: GitRepo) -> None:
    git_repo.stage("requests/cacert.pem", PEM_BUNDLE)  # tracked
    git_repo.stage("tests/certs/server.pem", DER_CERT)  # a DER certificate with a .pem name
    git_repo.stage("old-ca.pem", PEM_BUNDLE)
    git_repo.commit()
    git_repo.git("rm", "-q", "old-ca.pem")  # in history only
    git_repo.commit()
    git_repo.write("pub.key", DER_PUBLIC_KEY)  # untracked, not ignored
    _chmod_all(git_repo, 0o644, "requests/cacert.pem", "tests/certs/server.pem", "pub.key")
    grouped = _by_path(git_repo)
    for path in ("requests/cacert.pem", "tests/certs/server.pem", "old-ca.pem", "pub.key"):
        assert path not in grouped, grouped.get(path)
    assert not any(path in f["message"] for f in _findings(git_repo) for path in ("cacert.pem", "pub.key"))


@pytest.mark.parametrize("content", [PEM_PRIVATE, DER_PKCS8_KEY, DER_ENCRYPTED_KEY, b"\x30\x82garbage", "k\n"],
                         ids=["pem-private", "der-pkcs8", "der-encrypted", "der-malformed", "unparseable"])
def test_private_or_unparseable_key_files_stay_secret_files(git_repo: GitRepo, content: Any) -> None:
    git_repo.write("client.key", content)
    grouped = _by_path(git_repo)
    assert [f["rule_id"] for f in grouped["client.key"] if f["rule_id"] != "insecure-file-permissions"] == [
        "gitignore-missing"]
    assert grouped["client.key"][0]["severity"] == "high"


def test_history_judges_every_version_of_a_key_file(git_repo: GitRepo) -> None:
    git_repo.stage("server.pem", PEM_BUNDLE)
    git_repo.commit()
    git_repo.stage("server.pem", PEM_BUNDLE + PEM_PRIVATE)  # a later version gained a private key
    git_repo.commit()
    git_repo.git("rm", "-q", "server.pem")
    git_repo.commit()
    grouped = _by_path(git_repo)
    assert [f["rule_id"] for f in grouped["server.pem"]] == ["secret-file-in-history"]
    assert grouped["server.pem"][0]["severity"] == "high"


def test_env_without_credential_is_low_with_a_message_saying_so(git_repo: GitRepo) -> None:
    git_repo.stage(".env", "workon r\n")  # the whole content of requests' 2012 .env
    git_repo.stage("app/.env", f"DEBUG=1\nAPI_TOKEN={fake(32, seed=8)}\n")
    git_repo.stage("svc/.env", "PASSWORD=\nSECRET_KEY=changeme\nTOKEN=${TOKEN}\n")  # empty, placeholder, reference
    git_repo.commit()
    git_repo.write(".env.local", "DEBUG=1\n")
    grouped = _by_path(git_repo)
    assert [(f["rule_id"], f["severity"]) for f in grouped[".env"]] == [("secret-file-tracked", "low")]
    assert "no credential-looking value today" in grouped[".env"][0]["message"]
    assert "otate" not in grouped[".env"][0]["remediation"].replace("nothing to rotate", "")
    assert [(f["rule_id"], f["severity"]) for f in grouped["svc/.env"]] == [("secret-file-tracked", "low")]
    assert [(f["rule_id"], f["severity"]) for f in grouped["app/.env"]] == [("secret-file-tracked", "high")]
    assert [(f["rule_id"], f["severity"]) for f in grouped[".env.local"]] == [("gitignore-missing", "low")]


def test_env_that_held_a_credential_before_keeps_its_history_finding(git_repo: GitRepo) -> None:
    git_repo.stage(".env", f"STRIPE_SECRET_KEY={fake(32, seed=9)}\n")
    git_repo.commit()
    git_repo.stage(".env", "DEBUG=1\n")
    git_repo.commit()
    grouped = _by_path(git_repo)
    assert sorted((f["rule_id"], f["severity"]) for f in grouped[".env"]) == [
        ("secret-file-in-history", "high"), ("secret-file-tracked", "low")]


@posix_only
def test_clean_tracked_mcp_config_gets_one_low_gitignore_missing(git_repo: GitRepo) -> None:
    config = {"mcpServers": {"github": {"command": "npx", "args": ["-y", "server-github"],
                                       "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}"}},
                             "remote": {"url": "https://mcp.example.com/v1",
                                        "headers": {"Authorization": "Bearer ${API_TOKEN}"}}}}
    git_repo.stage(".mcp.json", json.dumps(config, indent=2))
    git_repo.commit()
    os.chmod(git_repo.path / ".mcp.json", 0o644)
    result = git_repo.run_mcp_scan("audit", "--format", "json")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule_id"], f["path"], f["severity"]) for f in findings] == [("gitignore-missing", ".mcp.json", "low")]
    text = findings[0]["message"] + " " + findings[0]["remediation"]
    assert "clean" in text or "only ${VAR} references today" in text
    assert "allow-paths" in text and 'disable-rules = ["gitignore-missing"]' in text
    assert "rotate" not in text.lower()


@posix_only
def test_modes_from_a_fresh_clone_are_one_finding_per_repository(git_repo: GitRepo) -> None:
    git_repo.stage("certs/a.key", PEM_PRIVATE)
    git_repo.stage("certs/b.key", "k\n")
    git_repo.stage("ops-secrets/token", "t\n")
    git_repo.commit()
    _chmod_all(git_repo, 0o644, "certs/a.key", "certs/b.key", "ops-secrets/token")
    perms = [f for f in _findings(git_repo) if f["rule_id"] == "insecure-file-permissions"]
    assert len(perms) == 1
    assert "git does not store the mode" in perms[0]["message"]
    assert "certs/a.key" in perms[0]["message"] and "certs/b.key" in perms[0]["message"]
    assert "chmod 600 certs/a.key" in perms[0]["remediation"] and "umask" in perms[0]["remediation"]
    fixed = git_repo.run_mcp_scan("audit", "--fix")
    assert b"chmod 600 certs/a.key" in fixed.stderr and b"chmod 600 certs/b.key" in fixed.stderr
    assert (os.stat(git_repo.path / "certs/a.key").st_mode & 0o777) == 0o600


@posix_only
def test_a_tracked_key_file_is_reported_once_not_three_times(git_repo: GitRepo) -> None:
    git_repo.stage("tests/keys/server.key", PEM_PRIVATE)
    git_repo.commit()
    os.chmod(git_repo.path / "tests/keys/server.key", 0o644)
    grouped = _by_path(git_repo)
    assert [f["rule_id"] for f in grouped["tests/keys/server.key"]] == ["secret-file-tracked"]
