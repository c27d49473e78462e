"""Fail closed on incomplete scans (issue 11, item 2): every command, cold and warm.

A rule that cannot finish scanning a text (its regex backtracks) leaves that
text unscanned, so the scan is not clean: exit 3 (1 when it found secrets
anyway), an error line naming the rule, path and commit, ``"incomplete"`` in
JSON and ``executionSuccessful: false`` in SARIF. The rule comes the way it
realistically would: a team's gitleaks config imported with
``--gitleaks-config`` (RE2 never backtracks; Python's ``regex`` does).
Everything runs the real CLI in subprocesses against real repositories.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scanner.history.cache import BlobCache
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

# Exponential in Python's regex on "evil_" + many "a" + a non-matching end; linear in RE2.
GITLEAKS_CONFIG = r"""
title = "a team's rules"

[[rules]]
id = "team-backtracking-rule"
description = "team rule with a nested quantifier"
regex = '''evil_(a|aa)+$'''
keywords = ["evil_"]
"""
VICTIM = "evil_" + "a" * 64 + "!\n"
RULE = "team-backtracking-rule"


def mcp_scan(cwd: Path, *args: str, input: "bytes | None" = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=cwd, input=input, capture_output=True)


def write_config(directory: Path) -> Path:
    """The gitleaks config, plus an mcp-scan config that imports it (how hooks pick it up)."""
    (directory / "team.gitleaks.toml").write_text(GITLEAKS_CONFIG)
    (directory / ".mcp-scan.toml").write_text('gitleaks-config = "team.gitleaks.toml"\n')
    return directory / "team.gitleaks.toml"


def assert_incomplete(proc: subprocess.CompletedProcess[bytes], path: str, *, code: int = 3,
                      commit: "str | None" = None) -> str:
    """Exit ``code``, no traceback, and an error line naming the rule, the path (and the commit)."""
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == code, (proc.returncode, err, proc.stdout[-1500:])
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("mcp-scan: error: incomplete scan:")]
    assert lines, err
    assert any(RULE in line and path in line for line in lines), err
    if commit:
        assert any(commit[:12] in line for line in lines), err
    assert "hint:" in err
    return err


def json_gaps(proc: subprocess.CompletedProcess[bytes]) -> list[dict[str, Any]]:
    gaps: list[dict[str, Any]] = json.loads(proc.stdout)["incomplete"]
    return gaps


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A repository whose second commit adds the victim file; the config is committed too."""
    repo = GitRepo.init(tmp_path / "repo")
    write_config(repo.path)
    repo.stage("README.md", "hello\n")
    repo.git("add", ".mcp-scan.toml", "team.gitleaks.toml")
    repo.commit("initial")
    repo.stage("data/victim.txt", VICTIM)
    repo.commit("add victim")
    return repo


def test_scan_files(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    (tmp_path / "victim.txt").write_text(VICTIM)
    proc = mcp_scan(tmp_path, "scan", "--no-config", "--gitleaks-config", str(config), "--format", "json", "victim.txt")
    assert_incomplete(proc, "victim.txt")
    [gap] = json_gaps(proc)
    assert (gap["reason"], gap["rule_id"], gap["path"]) == ("regex-timeout", RULE, "victim.txt")
    assert json.loads(proc.stdout)["findings"] == []
    # -q silences warnings, never this error
    quiet = mcp_scan(tmp_path, "scan", "-q", "--no-config", "--gitleaks-config", str(config), "victim.txt")
    err = assert_incomplete(quiet, "victim.txt")
    assert quiet.stdout == b""  # -q: findings only, and there are none; never "no secrets found"
    assert "warning" not in err
    loud = mcp_scan(tmp_path, "scan", "--no-config", "--gitleaks-config", str(config), "victim.txt")
    assert "not a clean result" in loud.stdout.decode() and "no secrets found.\n" not in loud.stdout.decode()


def test_findings_make_it_1_and_the_gap_is_still_reported(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    (tmp_path / "victim.txt").write_text(VICTIM)
    (tmp_path / "settings.py").write_text(f'STRIPE = "{stripe_live_key(seed=71)}"\n')
    proc = mcp_scan(tmp_path, "scan", "--gitleaks-config", str(config), "--format", "json", ".")
    assert_incomplete(proc, "victim.txt", code=1)
    report = json.loads(proc.stdout)
    assert [f["rule_id"] for f in report["findings"]] == ["stripe-live-secret-key"]
    assert [g["rule_id"] for g in report["incomplete"]] == [RULE]


def test_sarif_and_html_say_the_run_did_not_succeed(tmp_path: Path) -> None:
    from tests.sarif_test import validate

    config = write_config(tmp_path)
    (tmp_path / "victim.txt").write_text(VICTIM)
    proc = mcp_scan(tmp_path, "scan", "--gitleaks-config", str(config), "--format", "sarif", "victim.txt")
    assert_incomplete(proc, "victim.txt")
    log = json.loads(proc.stdout)
    validate(log)
    [invocation] = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["associatedRule"]["id"] == RULE
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "victim.txt"
    clean = mcp_scan(tmp_path, "scan", "--no-config", "--format", "sarif", "victim.txt")
    assert clean.returncode == 0
    assert json.loads(clean.stdout)["runs"][0]["invocations"][0]["executionSuccessful"] is True

    html = mcp_scan(tmp_path, "scan", "--gitleaks-config", str(config), "--format", "html", "victim.txt")
    assert_incomplete(html, "victim.txt")
    page = html.stdout.decode()
    assert 'id="incomplete"' in page and RULE in page
    assert 'id="clean"' not in page


def test_staged(repo: GitRepo) -> None:
    repo.stage("more/victim.txt", VICTIM)
    for _run in ("first", "second"):
        proc = repo.run_mcp_scan("staged", "--format", "json")
        assert_incomplete(proc, "more/victim.txt")
        assert [g["path"] for g in json_gaps(proc)] == ["more/victim.txt"]
    text = repo.run_mcp_scan("staged")
    assert "the commit is blocked" in assert_incomplete(text, "more/victim.txt")


def test_history_cold_and_warm(repo: GitRepo) -> None:
    added = repo.git("log", "-1", "--format=%H").strip()
    for run, args in (("cold", ["--no-cache"]), ("first cached", []), ("warm", []), ("one job", ["--jobs", "1"])):
        proc = repo.run_mcp_scan("history", *args, "--format", "json")
        assert_incomplete(proc, "data/victim.txt", commit=added)
        [gap] = json_gaps(proc)
        assert (gap["rule_id"], gap["path"], gap["commit"]) == (RULE, "data/victim.txt", added), run
    # The cache holds every other blob as scanned, never the victim's.
    victim_blob = repo.git("rev-parse", "HEAD:data/victim.txt").strip()
    readme_blob = repo.git("rev-parse", "HEAD:README.md").strip()
    caches = list((repo.path / ".git" / "mcp-scan").glob("history-*.cache"))
    assert caches
    for cache in caches:
        key = cache.read_bytes().split(b"\n")[1].decode()
        loaded = BlobCache(cache, key).load()
        scanned = {key.split("/")[0] for key in loaded.scanned}  # blob id, then the path class
        assert readme_blob in scanned and victim_blob not in scanned
    sarif = repo.run_mcp_scan("history", "--format", "sarif")
    assert_incomplete(sarif, "data/victim.txt")
    assert json.loads(sarif.stdout)["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_history_later_versions_of_an_unfinished_file_are_scanned_whole(repo: GitRepo) -> None:
    # The version chain scans a file's next version only where it changed; a
    # version whose scan did not finish cannot vouch for its unchanged lines.
    repo.stage("data/victim.txt", VICTIM + f"k = '{stripe_live_key(seed=72)}'\n")
    repo.commit("append a key")
    proc = repo.run_mcp_scan("history", "--no-cache", "--jobs", "1", "--format", "json")
    assert_incomplete(proc, "data/victim.txt", code=1)
    assert len(json_gaps(proc)) == 2  # both versions, each named
    assert [f["rule_id"] for f in json.loads(proc.stdout)["findings"]] == ["stripe-live-secret-key"]


def test_ci_range_writes_sarif_that_says_so(repo: GitRepo, tmp_path: Path) -> None:
    base = repo.git("rev-parse", "HEAD~1").strip()
    sarif = tmp_path / "out.sarif"
    for _run in ("cold", "warm"):
        proc = repo.run_mcp_scan("ci", "--base", base, "--head", "HEAD", "--format", "json", "--sarif", str(sarif))
        assert_incomplete(proc, "data/victim.txt")
        assert [g["rule_id"] for g in json_gaps(proc)] == [RULE]
        log = json.loads(sarif.read_text())
        assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_pre_push_blocks_the_push(tmp_path: Path) -> None:
    remote = GitRepo.init(tmp_path / "remote.git", "--bare")
    work = GitRepo.init(tmp_path / "work")
    write_config(work.path)
    work.git("remote", "add", "origin", str(remote.path))
    work.stage("README.md", "hello\n")
    work.git("add", ".mcp-scan.toml", "team.gitleaks.toml")
    work.commit("initial")
    work.git("push", "-q", "origin", "main")
    install = work.run_mcp_scan("install", "--hook", "pre-push")
    assert install.returncode == 0, install.stderr
    work.stage("victim.txt", VICTIM)
    work.commit("victim")
    for _run in ("cold", "warm"):
        proc = subprocess.run(["git", "push", "origin", "main"], cwd=work.path, capture_output=True)
        assert proc.returncode != 0
        err = proc.stderr.decode()
        assert "incomplete scan" in err and RULE in err and "victim.txt" in err
        assert "push is blocked" in err
        assert remote.git("rev-parse", "main").strip() != work.git("rev-parse", "main").strip()


def test_sweep_and_merge(tmp_path: Path, repo: GitRepo) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{repo.path}\n")
    config = repo.path / "team.gitleaks.toml"
    for _run in ("cold", "warm"):
        proc = mcp_scan(tmp_path, "sweep", "--gitleaks-config", str(config), "--format", "json", "-o", "shard.json",
                        str(listing))
        assert_incomplete(proc, "data/victim.txt")
        [gap] = json.loads((tmp_path / "shard.json").read_text())["incomplete"]
        assert gap["rule_id"] == RULE and gap["repo"]
    merged = mcp_scan(tmp_path, "merge", "shard.json", "--format", "sarif")
    assert_incomplete(merged, "data/victim.txt")
    assert json.loads(merged.stdout)["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_baseline_is_not_written_from_an_incomplete_scan(repo: GitRepo) -> None:
    for source in ("history", "worktree"):
        proc = repo.run_mcp_scan("baseline", "create", "--source", source, "-o", "baseline.json")
        err = proc.stderr.decode()
        assert proc.returncode == 3, err
        assert "incomplete scan" in err and RULE in err and "data/victim.txt" in err
        assert not (repo.path / "baseline.json").exists()


def test_audit_of_an_mcp_config(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    write_config(repo.path)
    (repo.path / ".gitignore").write_text(".env\n.mcp.json\n")
    config = repo.write(".mcp.json", json.dumps({"mcpServers": {"x": {"command": "x", "env": {"X": VICTIM.strip()}}}}))
    config.chmod(0o600)
    proc = repo.run_mcp_scan("audit", "--format", "json")
    assert_incomplete(proc, ".mcp.json")
    assert [g["rule_id"] for g in json_gaps(proc)] == [RULE]
