"""Commit messages are judged in the windows the rules' Hyperscan database opens, as blobs are.

A message holding a keyword ("token", "key", "password") used to send every rule with that
keyword over it, compiling each one's regex on the way; now only the rules Hyperscan matched
run, and the findings are the keyword path's (parity with ``MCP_SCAN_MATCH=keywords``).
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from scanner.detect import Detector
from scanner.history import pool
from scanner.history.scan import scan_history
from scanner.rules import builtin_rules
from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo

pytest.importorskip("hyperscan")


def _fresh_rules() -> list[Any]:
    """The built-in rules with no regex compiled yet (the registry's own are shared across tests)."""
    rules = []
    for rule in builtin_rules():
        twin = copy.copy(rule)
        vars(twin).pop("pattern", None)
        rules.append(twin)
    return rules


def test_a_message_with_keywords_but_no_candidate_compiles_no_rule_regex(git_repo: GitRepo) -> None:
    git_repo.commit("Rotate the token cache; key handling and password reset docs updated")
    key = stripe_live_key(seed=13)
    introduced = git_repo.commit(f"deploy notes: STRIPE_KEY={key}")
    rules = _fresh_rules()
    result = scan_history(str(git_repo.path), Detector(rules), use_cache=False, jobs=1)

    assert [(f.rule_id, f.path, f.commit) for f in result.findings] == [
        ("stripe-live-secret-key", "<commit message>", introduced)]
    compiled = {rule.id for rule in rules if "pattern" in vars(rule)}
    # The keyword path ran every rule whose keyword the first message holds (the generic
    # secret-named rules among them); Hyperscan matched none of them there.
    assert "stripe-live-secret-key" in compiled
    assert not {"generic-password", "generic-secret", "generic-secret-unquoted"} & compiled


def _findings(repo: GitRepo, **env: str) -> list[tuple[Any, ...]]:
    proc = subprocess.run([sys.executable, "-m", "scanner", "history", ".", "--no-cache", "--no-config",
                           "--format", "json", "--show-secrets"], cwd=repo.path, capture_output=True,
                          env=dict(os.environ, **env))
    assert proc.returncode in (0, 1), proc.stderr.decode()
    report = json.loads(proc.stdout)
    return sorted((f["rule_id"], f["path"], f["commit"], f["secret"], f["line"], f["column"])
                  for f in report["findings"])


def test_messages_through_hyperscan_windows_equal_the_keyword_path(git_repo: GitRepo) -> None:
    token = "ghp_" + fake(36, seed=3)
    messages = [
        f"ci: use STRIPE_KEY={stripe_live_key(seed=1)} for the smoke test",
        f"Größere Änderung: password = \"{fake(20, seed=2)}\" im Test entfernt",  # non-ASCII: unvouched regions
        "\ufeffrelease: api_key: " + fake(32, seed=4),  # a byte-order mark stays in the message's text
        f"kind: Secret\ndata:\n  token: {token}",  # "Secret": the keyword path, as for a manifest
        f"old mac line ends\rpassword={fake(18, seed=5)}\rdone",  # lone CRs
        "refactor: token and key names only, no value",
        "x" * 5000 + f"\nAuthorization: Bearer {fake(40, seed=6)}\n" + "y" * 5000,
    ]
    for message in messages:
        git_repo.commit(message)
    hyperscan = _findings(git_repo)
    assert len({f[2] for f in hyperscan}) >= 4  # most messages hold a finding
    assert hyperscan == _findings(git_repo, MCP_SCAN_MATCH="keywords")


def _raw_commit(repo: GitRepo, message: bytes, encoding: str = "") -> str:
    """A commit written byte for byte (a NUL in its message, which git's own commands refuse; an
    ``encoding`` header), on the current branch."""
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    parent = repo.git("rev-parse", "HEAD").strip()
    named = f"encoding {encoding}\n" if encoding else ""
    body = (f"tree {tree}\nparent {parent}\nauthor A <a@example.com> 1700000000 +0000\n"
            f"committer A <a@example.com> 1700000000 +0000\n{named}\n").encode() + message
    oid = repo.git("hash-object", "-t", "commit", "--literally", "-w", "--stdin", input=body).strip()
    branch = repo.git("symbolic-ref", "HEAD").strip()
    repo.git("update-ref", branch, oid)
    return oid


def test_messages_scanned_while_the_history_is_walked_equal_those_read_after_it(
        git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold whole history on two workers scans every message in a worker during the walk
    (``git log --all``, no list of commits to check the records against); one worker reads the
    walk's commits after it. Messages that look like the start of another record (a commit id
    on a line of its own, after a NUL byte) must not cut a message short there."""
    first = git_repo.commit("first")
    git_repo.commit(f"notes\n{first}\nSTRIPE_KEY={stripe_live_key(seed=21)}")
    _raw_commit(git_repo, f"body\0{first}\nAWS_SECRET_ACCESS_KEY={fake(40, seed=22)}\n".encode())
    git_repo.git("checkout", "-q", "-b", "side", first)
    git_repo.commit(f"side: token=ghp_{fake(36, seed=23)}")
    git_repo.git("checkout", "-q", "-")

    def found(jobs: int) -> list[tuple[Any, ...]]:
        result = scan_history(str(git_repo.path), Detector(_fresh_rules()), use_cache=False, jobs=jobs)
        return sorted((f.rule_id, f.path, f.commit, f.secret, f.line) for f in result.findings)

    monkeypatch.setattr(pool, "_chunk_blobs", 1)  # a chunk per blob: this tiny history fills the pool
    started: list[str] = []
    every_message = pool.Workers.every_message

    def noted(self: pool.Workers, suffix: str) -> Any:
        started.append(suffix)
        return every_message(self, suffix)

    monkeypatch.setattr(pool.Workers, "every_message", noted)
    lists: list[int] = []
    listed = pool.EarlyMessageTask.listed

    def counted(self: pool.EarlyMessageTask, commits: bytes) -> None:
        lists.append(len(commits.split()))
        listed(self, commits)

    monkeypatch.setattr(pool.EarlyMessageTask, "listed", counted)
    during, after = found(2), found(1)
    assert started  # the first scan read the messages during its walk
    assert lists == [4]  # from the walk's own list of the commits, every branch's
    assert during == after
    secrets = {f[3] for f in during}
    assert stripe_live_key(seed=21) in secrets and "ghp_" + fake(36, seed=23) in secrets  # the side branch's
    assert fake(40, seed=22) in secrets  # past the NUL, where git log stops printing a message


def test_messages_scanned_during_a_walk_the_cache_answered_are_listed_by_the_worker(
        git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """A stored walk is not walked again, so no list of commits comes from it: the worker
    lists them itself (``git rev-list --all``), and every message is still read."""
    git_repo.commit("first")
    git_repo.commit(f"deploy: STRIPE_KEY={stripe_live_key(seed=24)}")
    git_repo.git("checkout", "-q", "-b", "side", "HEAD~1")
    git_repo.commit(f"side: token=ghp_{fake(36, seed=25)}")
    git_repo.git("checkout", "-q", "-")
    monkeypatch.setattr(pool, "_chunk_blobs", 1)
    lists: list[int] = []
    unlisted: list[bool] = []
    listed, start = pool.EarlyMessageTask.listed, pool.EarlyMessageTask.start

    def counted(self: pool.EarlyMessageTask, commits: bytes) -> None:
        lists.append(1)
        listed(self, commits)

    def noted(self: pool.EarlyMessageTask) -> None:
        unlisted.append(self.pending is None)
        start(self)

    monkeypatch.setattr(pool.EarlyMessageTask, "listed", counted)
    monkeypatch.setattr(pool.EarlyMessageTask, "start", noted)
    rules = _fresh_rules()
    first = scan_history(str(git_repo.path), Detector(rules), jobs=2, cache_dir=tmp_path)
    assert lists == [1] and unlisted[0] is False  # started from the walk's list
    # Another rule set: the blobs' cache does not answer it, the stored walk does.
    second = scan_history(str(git_repo.path), Detector([r for r in rules if r.id != "aws-access-key-id"]),
                          jobs=2, cache_dir=tmp_path)
    # (each scan calls start() after its walk, and get() again): the second found it unstarted
    assert lists == [1] and unlisted == [False, False, True, False]
    key = sorted((f.rule_id, f.commit, f.secret) for f in first.findings)
    assert key == sorted((f.rule_id, f.commit, f.secret) for f in second.findings)
    assert {stripe_live_key(seed=24), "ghp_" + fake(36, seed=25)} <= {f.secret for f in second.findings}


def test_a_message_in_another_encoding_is_read_as_git_log_shows_it(git_repo: GitRepo) -> None:
    git_repo.commit("first")
    key = stripe_live_key(seed=24)
    oid = _raw_commit(git_repo, "Müller: STRIPE_KEY=".encode("latin-1") + key.encode() + b"\n",
                      encoding="ISO-8859-1")
    shown = git_repo.git("log", "-1", "--format=%B", oid)
    assert shown.startswith("Müller")  # git log decodes it
    result = scan_history(str(git_repo.path), Detector(_fresh_rules()), use_cache=False, jobs=1)
    assert [(f.commit, f.secret, f.line, f.column) for f in result.findings] == [(oid, key, 1, 20)]
