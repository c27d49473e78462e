"""``mcp-scan pre-receive``: a real bare "server" with the hook installed, real clones pushing to it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scanner.errors import EXIT_USAGE
from scanner.pushrange import parse_received, receive_range
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo
from tests.prepush_test import push, remote_sha

ZERO = "0" * 40


def install(server: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scanner", "install", "--hook", "pre-receive", *args],
                          cwd=server.path, capture_output=True, text=True)


@pytest.fixture
def server_and_clone(tmp_path: Path) -> tuple[GitRepo, GitRepo]:
    """A bare server with the hook installed and one clean commit on main, and a clone without hooks."""
    server = GitRepo.init(tmp_path / "server.git", "--bare")
    installed = install(server)
    assert installed.returncode == 0, installed.stderr
    assert (server.path / "hooks" / "pre-receive").is_file()
    work = GitRepo.init(tmp_path / "work")
    work.git("remote", "add", "origin", str(server.path))
    work.stage("README.md", "hello\n")
    work.commit("initial")
    first = push(work, "origin", "main")
    assert first.returncode == 0, first.stderr
    return server, work


def receive(server: GitRepo, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``mcp-scan pre-receive`` by hand in the server, as git would run the hook."""
    return subprocess.run([sys.executable, "-m", "scanner", "pre-receive", *args], cwd=server.path, input=stdin,
                          capture_output=True, text=True)


def test_push_adding_a_secret_is_rejected_and_the_pusher_is_told_why(server_and_clone: tuple[GitRepo, GitRepo]) -> None:
    server, work = server_and_clone
    before = remote_sha(server, "main")
    secret = stripe_live_key(seed=31)
    work.stage("deploy/.env", f"STRIPE_KEY={secret}\n")
    leak = work.commit("add secret")
    work.stage("notes.txt", "unrelated\n")
    work.commit("later clean commit")  # the key is in an older pushed commit, not the tip
    proc = push(work, "origin", "main")
    assert proc.returncode != 0
    assert remote_sha(server, "main") == before  # the server's ref did not move
    relayed = [line for line in proc.stderr.splitlines() if line.startswith("remote: ")]
    told = "\n".join(relayed)
    assert "deploy/.env" in told and leak[:12] in told
    assert "push rejected" in told and "Rotate" in told and "push again" in told
    assert "pre-receive hook declined" in proc.stderr
    assert secret not in proc.stderr + proc.stdout


def test_clean_push_passes(server_and_clone: tuple[GitRepo, GitRepo]) -> None:
    server, work = server_and_clone
    work.stage("app.py", "print('ok')\n")
    tip = work.commit("clean")
    proc = push(work, "origin", "main")
    assert proc.returncode == 0, proc.stderr
    assert remote_sha(server, "main") == tip


def test_new_branch_at_a_commit_the_server_has_scans_nothing(server_and_clone: tuple[GitRepo, GitRepo]) -> None:
    server, work = server_and_clone
    # Put a key on the server behind the hook's back: it is history's job, not a reason to reject every
    # later push that merely names a commit the server already has.
    hook = server.path / "hooks" / "pre-receive"
    hook.rename(hook.with_suffix(".off"))
    work.stage("old.env", f"KEY={stripe_live_key(seed=32)}\n")
    bypassed = work.commit("got in before the hook")
    assert push(work, "origin", "main").returncode == 0
    hook.with_suffix(".off").rename(hook)
    work.git("branch", "release", bypassed)
    proc = push(work, "origin", "release")
    assert proc.returncode == 0, proc.stderr
    assert remote_sha(server, "release") == bypassed
    # New commits on top are scanned alone: the server's own history below them is not rescanned.
    work.git("checkout", "-q", "release")
    work.stage("app.py", "print('ok')\n")
    tip = work.commit("clean on top")
    on_top = push(work, "origin", "release")
    assert on_top.returncode == 0, on_top.stderr
    assert remote_sha(server, "release") == tip
    # The same update line, read the way the hook reads it, leaves no commit to scan.
    scan = receive_range(str(server.path), parse_received(f"{ZERO} {bypassed} refs/heads/other\n"))
    assert scan.empty and scan.revs == [] and scan.objects == []


def test_pushed_lightweight_tag_of_a_blob_with_a_key_is_rejected(server_and_clone: tuple[GitRepo, GitRepo]) -> None:
    server, work = server_and_clone
    secret = stripe_live_key(seed=33)
    blob = work.git("hash-object", "-w", "--stdin", input=f"STRIPE_KEY={secret}\n".encode()).strip()
    work.git("tag", "keys", blob)
    proc = push(work, "origin", "refs/tags/keys")
    assert proc.returncode != 0
    assert remote_sha(server, "refs/tags/keys") == ""
    assert "refs/tags/keys" in proc.stderr and "push rejected" in proc.stderr
    assert secret not in proc.stderr + proc.stdout


def test_deleting_a_branch_passes(server_and_clone: tuple[GitRepo, GitRepo]) -> None:
    server, work = server_and_clone
    work.git("branch", "topic")
    assert push(work, "origin", "topic").returncode == 0
    proc = push(work, "origin", "--delete", "topic")
    assert proc.returncode == 0, proc.stderr
    assert remote_sha(server, "topic") == ""


@pytest.mark.parametrize("stdin", [
    "garbage\n",
    f"{ZERO} {'a' * 40}\n",                             # no ref name
    f"{'a' * 40} {'b' * 39} refs/heads/main\n",           # not a whole object id
    f"{ZERO} --all refs/heads/main\n",                   # an option where an object id goes
    f"{ZERO} {'a' * 40} --output=/tmp/x\n",              # a ref name git would read as an option
    f"{'a' * 40} {'b' * 40} refs/heads/main extra\n",
])
def test_malformed_input_is_a_usage_error(server_and_clone: tuple[GitRepo, GitRepo], stdin: str) -> None:
    server, _work = server_and_clone
    proc = receive(server, stdin)
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert "pre-receive input line 1" in proc.stderr and "Traceback" not in proc.stderr


def test_an_existing_hook_is_chained_with_the_same_input_and_restored_on_uninstall(tmp_path: Path) -> None:
    server = GitRepo.init(tmp_path / "server.git", "--bare")
    seen = tmp_path / "seen-by-kept-hook.txt"
    kept = server.path / "hooks" / "pre-receive"
    original = f"#!/bin/sh\ncat > '{seen}'\n"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(original, encoding="utf-8")
    kept.chmod(0o755)
    installed = install(server)
    assert installed.returncode == 0 and "kept as pre-receive.mcp-scan-orig" in installed.stdout
    work = GitRepo.init(tmp_path / "work")
    work.git("remote", "add", "origin", str(server.path))
    work.stage("leak.env", f"KEY={stripe_live_key(seed=34)}\n")
    tip = work.commit("leak")
    proc = push(work, "origin", "main")
    assert proc.returncode != 0 and "leak.env" in proc.stderr
    assert f"{ZERO} {tip} refs/heads/main" in seen.read_text()
    removed = subprocess.run([sys.executable, "-m", "scanner", "uninstall", "--hook", "pre-receive"], cwd=server.path,
                             capture_output=True, text=True)
    assert removed.returncode == 0, removed.stderr
    assert kept.read_text(encoding="utf-8") == original


def test_an_incomplete_scan_rejects_the_push(server_and_clone: tuple[GitRepo, GitRepo]) -> None:
    from tests.incomplete_scan_test import RULE, VICTIM, write_config

    server, work = server_and_clone
    write_config(server.path)  # a bare repository reads its config from its own directory
    before = remote_sha(server, "main")
    work.stage("victim.txt", VICTIM)
    tip = work.commit("victim")
    proc = push(work, "origin", "main")
    assert proc.returncode != 0
    assert "incomplete scan" in proc.stderr and RULE in proc.stderr and "victim.txt" in proc.stderr
    assert "push is rejected to be safe" in proc.stderr
    assert remote_sha(server, "main") == before
    # The same update run by hand, with the objects fetched into the server but on no ref: exit 3.
    server.git("fetch", "-q", str(work.path), "main")
    direct = receive(server, f"{before} {tip} refs/heads/main\n")
    assert direct.returncode == 3, direct.stderr
    assert "Traceback" not in direct.stderr
