"""A rule's message is true of every match, whatever other rules are disabled (issue 14, item 6).

``github-token-unverified`` says "checksum does not verify": it must never
report a token whose checksum does verify, also when ``github-pat`` (the rule
that owns verified tokens) is turned off with ``disable-rules``. More
generally, a disabled rule still owns the text it matches: its matches are
not handed to a weaker rule whose message would misdescribe them.
"""
from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

from scanner.detect import Detector
from scanner.rules import builtin_rules
from scanner.validators import base62
from tests.fakes import fake

ROOT = Path(__file__).resolve().parent.parent


def checksummed(prefix: str, seed: int) -> str:
    body = fake(30, seed=seed)
    return prefix + body + base62(zlib.crc32(body.encode()))


def broken(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def scan(tmp_path: Path, text: str, disable: list[str]) -> tuple[int, list[dict[str, str]]]:
    """``mcp-scan scan`` over one file with ``disable-rules`` in the project's config file."""
    (tmp_path / ".mcp-scan.toml").write_text(f"disable-rules = {json.dumps(disable)}\n")
    (tmp_path / "deploy.sh").write_text(text)
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", str(tmp_path), "--format", "json"],
                          capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"]


def test_disabling_github_pat_does_not_report_a_verified_token_as_unverified(tmp_path: Path) -> None:
    good = checksummed("ghp_", seed=21)
    code, findings = scan(tmp_path, f"echo {good}\n", ["github-pat"])
    assert [(f["rule_id"], f["message"]) for f in findings] == []
    assert code == 0


def test_an_unverified_token_is_still_reported_with_github_pat_disabled(tmp_path: Path) -> None:
    bad = broken(checksummed("ghp_", seed=22))
    code, findings = scan(tmp_path, f"echo {bad}\n", ["github-pat"])
    assert [f["rule_id"] for f in findings] == ["github-token-unverified"]
    assert code == 1


def test_disabling_the_npm_rule_does_not_report_a_verified_npm_token_as_unverified(tmp_path: Path) -> None:
    good = checksummed("npm_", seed=23)
    _, findings = scan(tmp_path, f"echo {good}\n", ["npm-access-token"])
    assert [f["rule_id"] for f in findings] == []


def test_unverified_rules_fire_only_where_the_checksum_fails() -> None:
    """On their own (no stronger rule to win the overlap), the unverified rules skip verified tokens."""
    rules = [r for r in builtin_rules() if r.id in ("github-token-unverified", "npm-access-token-unverified")]
    assert len(rules) == 2
    detector = Detector(rules, engine="python")
    for prefix in ("ghp_", "gho_", "ghs_", "npm_"):
        good = checksummed(prefix, seed=len(prefix) + ord(prefix[2]))
        assert detector.scan_text(f"echo {good}\n") == [], prefix
        assert len(detector.scan_text(f"echo {broken(good)}\n")) == 1, prefix


def test_a_disabled_block_rule_is_not_rerouted_to_the_header_rule(tmp_path: Path) -> None:
    """``private-key-header`` says "body truncated, split or not recognised": with the block rule
    disabled, a whole key block is still not reported as a truncated one."""
    body = "\n".join(fake(64, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", seed=30 + i)
                     for i in range(12))
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"
    (tmp_path / "id_rsa.pem").write_text(pem)
    _, findings = scan(tmp_path, "", ["private-key-rsa"])
    assert [f["rule_id"] for f in findings if f["path"].endswith("id_rsa.pem")] == []
    _, findings = scan(tmp_path, "", [])
    assert [f["rule_id"] for f in findings if f["path"].endswith("id_rsa.pem")] == ["private-key-rsa"]


def test_disabling_github_pat_holds_in_history_windows_too(tmp_path: Path) -> None:
    """History judges windows with only the rules Hyperscan matched there (a disabled rule is
    no Hyperscan candidate): on both engines a verified token is still never "unverified"."""
    from tests.git_helpers import GitRepo

    repo = GitRepo.init(tmp_path / "repo")
    good, bad = checksummed("ghp_", seed=31), broken(checksummed("ghp_", seed=32))
    filler = "".join(f"step_{i}() {{ run {i}; }}\n" for i in range(200))
    repo.stage("deploy.sh", filler + f"echo {good}\n" + filler)
    repo.commit("a verified token")
    repo.stage("deploy.sh", filler + f"echo {good}\n# tweak\n" + filler + f"echo {bad}\n")
    repo.commit("and an unverified one")
    (repo.path / ".mcp-scan.toml").write_text('disable-rules = ["github-pat"]\n')
    for extra in ((), ("--engine", "python")):
        run = repo.run_mcp_scan("history", "--no-cache", "--format", "json", *extra)
        assert run.returncode == 1, run.stderr
        found = json.loads(run.stdout)["findings"]
        assert [(f["rule_id"], f["line"]) for f in found] == [("github-token-unverified", 403)], extra
