"""Credential files found by kind and structure, end to end: staged commits, history, files.

Key material is generated at run time with the real tools (openssl, ssh-keygen,
keytool) into the test's temporary directory; other values are generated fakes
of the documented shape. Nothing here is a real credential.
"""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.errors import ScanError
from scanner.rules import load_rules
from tests.fakes import fake
from tests.git_helpers import GitRepo

CRYPT = "./" + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(list(args), cwd=cwd, check=True, capture_output=True)


def openssl_rsa(tmp: Path) -> Path:
    """A throwaway 2048-bit RSA key and self-signed certificate (PEM) in ``tmp``."""
    openssl = _tool("openssl")
    if not (tmp / "key.pem").exists():
        _run(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
             "-subj", "/CN=mcp-scan test", "-days", "1", cwd=tmp)
    return tmp / "key.pem"


def der_key(tmp: Path) -> bytes:
    openssl_rsa(tmp)
    _run(_tool("openssl"), "pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out", "key.der",
         cwd=tmp)
    return (tmp / "key.der").read_bytes()


def pkcs12(tmp: Path) -> bytes:
    openssl_rsa(tmp)
    _run(_tool("openssl"), "pkcs12", "-export", "-inkey", "key.pem", "-in", "cert.pem", "-passout", "pass:" + fake(12),
         "-out", "client.p12", cwd=tmp)
    return (tmp / "client.p12").read_bytes()


def jks(tmp: Path) -> bytes:
    password = fake(12, seed=3)
    _run(_tool("keytool"), "-genkeypair", "-keystore", "server.jks", "-storetype", "JKS", "-storepass", password,
         "-keypass", password, "-alias", "server", "-dname", "CN=mcp-scan test", "-keyalg", "EC", cwd=tmp)
    return (tmp / "server.jks").read_bytes()


def jks_truststore(tmp: Path) -> bytes:
    openssl_rsa(tmp)
    _run(_tool("keytool"), "-importcert", "-noprompt", "-keystore", "trust.jks", "-storetype", "JKS",
         "-storepass", fake(12, seed=4), "-alias", "root", "-file", "cert.pem", cwd=tmp)
    return (tmp / "trust.jks").read_bytes()


def openssh_key(tmp: Path) -> bytes:
    _run(_tool("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", "id_ed25519", cwd=tmp)
    return (tmp / "id_ed25519").read_bytes()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# path, content (text, or bytes built in a temporary directory), the rule that must find it
KINDS: list[tuple[str, Callable[[Path], "str | bytes"], str]] = [
    (".pgpass", lambda _: f"db.corp.io:5432:shop:app:{fake(18)}\n", "pgpass-password"),
    (".git-credentials", lambda _: f"https://deploy:{fake(24, seed=1)}@git.corp.io\n", "git-credentials-file"),
    ("conf/.htpasswd", lambda _: f"admin:$apr1${fake(8, CRYPT)}${fake(22, CRYPT, 1)}\n", "password-hash-line"),
    ("etc/shadow", lambda _: f"root:$6${fake(16, CRYPT)}${fake(86, CRYPT)}:19000:0:99999:7:::\n", "password-hash-line"),
    (".netrc", lambda _: f"machine api.corp.io\n  login deploy\n  password {fake(20, seed=2)}\n", "netrc-password"),
    ("config/master.key", lambda _: fake(32, HEX) + "\n", "rails-master-key"),
    ("db/dump.sql", lambda _: f"INSERT INTO `users` VALUES (1,'alice','$2y$10${fake(53, CRYPT)}');\n",
     "sql-dump-password-hash"),
    ("db/roles.sql", lambda _: f"CREATE ROLE app LOGIN PASSWORD 'md5{fake(32, HEX)}';\n", "sql-role-password-hash"),
    ("sitemanager.xml", lambda _: f'<Pass encoding="base64">{_b64(fake(14))}</Pass>\n', "filezilla-password"),
    ("k8s/db-secret.yaml", lambda _: f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n"
                                     f"  dsn-part: {_b64(fake(20))}\n", "kubernetes-secret-data"),
    ("wg0.conf", lambda _: "[Interface]\nAddress = 10.8.0.2/24\nPrivateKey = "
                           f"{base64.b64encode(fake(32).encode()).decode()}\n", "wireguard-private-key"),
    ("keys/deploy.der", der_key, "private-key-der"),
    ("certs/client.p12", pkcs12, "pkcs12-keystore"),
    ("src/main/resources/server.jks", jks, "java-keystore"),
    ("deploy/id_ed25519", openssh_key, "private-key-openssh"),
]


def _json(proc: subprocess.CompletedProcess[bytes]) -> list[dict]:
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


@pytest.mark.parametrize(("path", "build", "rule_id"), KINDS, ids=[k[0] for k in KINDS])
def test_staged_credential_file_blocks_the_commit(git_repo: GitRepo, tmp_path: Path, path: str,
                                                  build: Callable[[Path], "str | bytes"], rule_id: str) -> None:
    work = tmp_path / "material"
    work.mkdir()
    content = build(work)
    git_repo.stage(path, content)
    proc = git_repo.run_mcp_scan("staged", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    findings = _json(proc)
    assert [(f["path"], f["rule_id"]) for f in findings if f["rule_id"] == rule_id] == [(path, rule_id)]
    # redacted: no finding carries the secret itself (audit findings about the file carry none at all)
    secrets = [f["secret"] for f in findings if f["rule_id"] == rule_id]
    assert all(s and (s.endswith("*") or len(s) <= 8) for s in secrets), secrets


def test_history_finds_deleted_keystore_and_pgpass(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.stage("README.md", "service\n")
    git_repo.stage("ops/.pgpass", "db.corp.io:5432:shop:app:*\n")
    git_repo.commit("start")
    store = pkcs12(tmp_path)
    git_repo.stage("certs/client.p12", store)
    # a later version of the file: history scans only its changed lines (no keyword to find them by)
    git_repo.stage("ops/.pgpass", f"db.corp.io:5432:shop:app:*\n*:5432:*:replicator:{fake(20, seed=5)}\n")
    git_repo.commit("add credentials")
    git_repo.git("rm", "-q", "certs/client.p12", "ops/.pgpass")
    git_repo.commit("remove credentials")
    for _run in ("cold", "warm"):  # the second run answers from the scanned-blob cache
        findings = _json(git_repo.run_mcp_scan("history", "--format", "json"))
        assert sorted((f["path"], f["rule_id"]) for f in findings) == [
            ("certs/client.p12", "pkcs12-keystore"), ("ops/.pgpass", "pgpass-password")], _run
    # --show-secrets on a warm run re-reads the keystore's blob: the bytes come back exactly
    shown = _json(git_repo.run_mcp_scan("history", "--format", "json", "--show-secrets"))
    assert [base64.b64decode(f["secret"]) for f in shown if f["rule_id"] == "pkcs12-keystore"] == [store]


@pytest.mark.parametrize(("path", "text"), [
    (".netrc", "machine api.corp.io\n  login deploy\n  password\n"),
    (".netrc", "machine api.corp.io login deploy password ${NETRC_PASSWORD}\n"),
    (".pgpass", "db.corp.io:5432:shop:app:*\n"),
    ("etc/shadow", "daemon:*:19000:0:99999:7:::\nbackup:!:19000:0:99999:7:::\nops:!!:19000::::::\n"),
    ("k8s/secret.yaml", "apiVersion: v1\nkind: Secret\ndata:\n  password: {{ .Values.password | b64enc }}\n"),
])
def test_credential_file_without_a_credential_passes(git_repo: GitRepo, path: str, text: str) -> None:
    git_repo.stage(path, text)
    proc = git_repo.run_mcp_scan("staged")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_binary_rules_read_only_their_file_kinds(git_repo: GitRepo, tmp_path: Path) -> None:
    store = pkcs12(tmp_path)
    git_repo.stage("assets/logo.png", store)  # the same bytes at a path no binary rule reads
    git_repo.stage("certs/trust.jks", jks_truststore(tmp_path))  # certificates only: nothing secret
    proc = git_repo.run_mcp_scan("staged")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_files_scan_reports_binary_secret_redacted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = pkcs12(tmp_path)
    target = tmp_path / "tree"
    target.mkdir()
    (target / "client.pfx").write_bytes(store)
    assert main(["scan", str(target), "--format", "json"]) == 1
    out = capsys.readouterr().out
    findings = json.loads(out)["findings"]
    assert [f["rule_id"] for f in findings] == ["pkcs12-keystore"]
    assert base64.b64encode(store).decode() not in out
    assert main(["scan", str(target), "--format", "json", "--show-secrets"]) == 1
    shown = json.loads(capsys.readouterr().out)["findings"][0]["secret"]
    assert base64.b64decode(shown) == store  # --show-secrets gives back exactly the bytes found


@pytest.mark.parametrize(("extra", "message"), [
    ('content = "binary"\n', "needs a 'path'"),
    ('content = "octets"\npath = "x"\n', "content 'octets'"),
])
def test_binary_rule_schema_errors(tmp_path: Path, extra: str, message: str) -> None:
    rule = tmp_path / "user.toml"
    rule.write_text('[[rules]]\nid = "acme-store"\ndescription = "Acme store"\nseverity = "high"\n'
                    "regex = '''\\A\\xac\\xed(?P<secret>.{8,})'''\n" + extra, encoding="utf-8")
    with pytest.raises(ScanError, match=message):
        load_rules([rule])


def test_user_binary_rule_runs_in_scans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule = tmp_path / "user.toml"
    rule.write_text('[[rules]]\nid = "acme-store"\ndescription = "Acme store"\nseverity = "high"\n'
                    'content = "binary"\npath = \'\'\'\\.acme$\'\'\'\n'
                    "regex = '''(?s)\\A\\xac\\xed\\x00(?P<secret>.{8,})'''\n", encoding="utf-8")
    (tmp_path / "a.acme").write_bytes(b"\xac\xed\x00" + fake(24).encode() + b"\x00\x01")
    (tmp_path / "a.bin").write_bytes(b"\xac\xed\x00" + fake(24).encode() + b"\x00\x01")
    assert main(["scan", "--rules", str(rule), str(tmp_path / "a.acme"), str(tmp_path / "a.bin")]) == 1
    out = capsys.readouterr().out
    assert "a.acme" in out and "a.bin" not in out


def test_private_key_header_stays_linear_on_escaped_pem_in_json(tmp_path: Path) -> None:
    # A key inside JSON ("\n" escapes, as in a service-account file): the header rule's
    # look-ahead for an elided or prose body once backtracked exponentially here.
    from scanner.detect import Detector
    from scanner.rules import builtin_rules

    rule = next(r for r in builtin_rules() if r.id == "private-key-header")
    body = "\\n".join(fake(64, seed=i) for i in range(26))
    text = json.dumps({"type": "service_account", "private_key_id": fake(40, HEX)})[:-1] + (
        ', "private_key": "-----BEGIN PRIVATE KEY-----\\n' + body + '\\n-----END PRIVATE KEY-----\\n"}')
    detector = Detector([rule], engine="python")
    detector.scan_text(text, "service-account.json")
    assert detector.stats.incomplete == []


@pytest.mark.parametrize("block", ["data", "stringData"])
def test_kubernetes_secret_rules_stay_linear_on_long_data_blocks(block: str) -> None:
    # A Secret whose data lines never hold a value the rules take: the skipped lines once
    # matched two ways each (indent vs. rest of line), 2^n attempts for n lines.
    from scanner.detect import Detector
    from scanner.rules import builtin_rules

    rules = [r for r in builtin_rules() if r.id.startswith("kubernetes-secret")]
    text = f"apiVersion: v1\nkind: Secret\n{block}:\n" + "".join(f"  key{i}: v\n" for i in range(400))
    detector = Detector(rules, engine="python")
    assert detector.scan_text(text, "secret.yaml") == []
    assert detector.stats.incomplete == []


def test_rules_list_names_file_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list", "--format", "json", "--no-config"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)["rules"]}
    assert rows["pkcs12-keystore"]["content"] == "binary" and "p12" in rows["pkcs12-keystore"]["path"]
    assert rows["pgpass-password"]["content"] == "text" and "pgpass" in rows["pgpass-password"]["path"]
    assert rows["stripe-live-secret-key"]["path"] is None
