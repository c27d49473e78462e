"""``sweep`` over clone URLs (issue 16): bare mirrors, incremental fetches, credentials never shown,
git never prompting, exit codes kept. Real git over ``file://`` URLs of local bare repositories."""
from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scanner.paths import STALE_AFTER
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

OLD_KEY = stripe_live_key(seed=171)
NEW_KEY = stripe_live_key(seed=172)


def mcp_scan(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def upstream(root: Path, name: str, secret: str = "") -> tuple[GitRepo, str]:
    """A work repository pushing to ``root/origins/<name>.git``; returns it and the bare one's file:// URL."""
    work = GitRepo.init(root / "work" / name)
    for i in range(5):
        work.stage(f"src/module{i}.py", f"VALUE_{i} = {i}\n" * 50)
        work.commit(f"module {i}")
    if secret:
        work.stage("deploy/.env", f"STRIPE_KEY={secret}\n")
        work.commit("deploy settings")
    bare = root / "origins" / f"{name}.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work.path), str(bare)], check=True)
    work.git("remote", "add", "up", str(bare))
    return work, bare.as_uri()


def sweep(cwd: Path, listing: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    proc = mcp_scan(cwd, "sweep", "--repos", str(listing), "--cache-dir", str(cwd / "cache"), "--mirror-dir", str(cwd / "mirrors"),
                    "--format", "json", "--jobs", "1", *extra)
    return proc, json.loads(proc.stdout) if proc.stdout.startswith("{") else {}


def test_urls_are_mirrored_bare_then_fetched_incrementally(tmp_path: Path) -> None:
    leaky, leaky_url = upstream(tmp_path, "leaky", OLD_KEY)
    _, clean_url = upstream(tmp_path, "clean")
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{leaky_url}\n{clean_url}\n")
    proc, first = sweep(tmp_path, listing)
    assert proc.returncode == 1, proc.stderr
    assert {(f["repo"], f["path"]) for f in first["findings"]} == {(leaky_url, "deploy/.env")}
    assert first["stats"]["cloned"] == 2 and first["stats"]["fetched_bytes"] > 0
    mirrors = sorted((tmp_path / "mirrors").iterdir())
    assert len(mirrors) == 2 and all(m.name.endswith(".git") for m in mirrors)
    for mirror in mirrors:  # bare: no work tree, ever
        assert subprocess.run(["git", "rev-parse", "--is-bare-repository"], cwd=mirror, capture_output=True,
                              text=True).stdout.strip() == "true"
        assert not (mirror / "deploy").exists()

    # Nothing changed upstream: nothing fetched, nothing scanned.
    proc, quiet = sweep(tmp_path, listing)
    assert proc.returncode == 1, proc.stderr
    assert quiet["stats"]["cloned"] == 0 and quiet["stats"]["fetched_bytes"] == 0 and quiet["stats"]["scanned"] == 0

    # Upstream gains a commit with a new key: only it is fetched, only its blob scanned.
    leaky.stage("deploy/prod.env", f"STRIPE_KEY={NEW_KEY}\n")
    leaky.commit("prod settings")
    leaky.git("push", "-q", "up", "HEAD")
    proc, next_night = sweep(tmp_path, listing)
    assert proc.returncode == 1, proc.stderr
    stats = next_night["stats"]
    assert stats["cloned"] == 0 and 0 < stats["fetched_bytes"] < first["stats"]["fetched_bytes"]
    assert stats["scanned"] == 1 and stats["cached"] == first["stats"]["blobs"]
    assert sorted(f["path"] for f in next_night["findings"]) == ["deploy/.env", "deploy/prod.env"]
    # ... and the same findings as a cold sweep of fresh mirrors without a cache.
    cold = mcp_scan(tmp_path, "sweep", str(listing), "--mirror-dir", str(tmp_path / "cold-mirrors"),
                    "--format", "json", "--jobs", "1")
    key = lambda f: (f["repo"], f["path"], f["fingerprint"], f["commit"])  # noqa: E731
    assert sorted(map(key, json.loads(cold.stdout)["findings"])) == sorted(map(key, next_night["findings"]))
    for secret in (OLD_KEY, NEW_KEY):
        assert secret not in proc.stdout + proc.stderr
        for path in (tmp_path / "cache").rglob("*"):
            assert not path.is_file() or secret.encode() not in path.read_bytes()


def test_force_push_and_deleted_branch_are_followed(tmp_path: Path) -> None:
    work, url = upstream(tmp_path, "app")
    work.git("checkout", "-q", "-b", "topic")
    work.stage("topic.env", f"STRIPE_KEY={OLD_KEY}\n")
    work.commit("topic")
    work.git("push", "-q", "up", "topic")
    listing = tmp_path / "repos.txt"
    listing.write_text(url + "\n")
    proc, first = sweep(tmp_path, listing)
    assert [f["path"] for f in first["findings"]] == ["topic.env"], proc.stderr
    work.git("push", "-q", "up", "--delete", "topic")
    proc, second = sweep(tmp_path, listing)
    assert proc.returncode == 0 and second["findings"] == [], proc.stderr


class _AuthRequired(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def auth_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AuthRequired)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_credentials_in_urls_never_shown_and_git_never_prompts(tmp_path: Path, auth_server: str) -> None:
    _, good_url = upstream(tmp_path, "good", OLD_KEY)
    token = "tok" + "Zq9" * 8
    listing = tmp_path / "repos.txt"
    listing.write_text(f"http://ci-bot:{token}@{auth_server}/org/private.git\nhttp://{auth_server}/org/nopass.git\n{good_url}\n")
    proc, document = sweep(tmp_path, listing)  # a prompt would hang: mcp_scan() times out instead
    assert proc.returncode == 3, proc.stderr
    everything = proc.stdout + proc.stderr
    assert token not in everything and "ci-bot" not in everything
    assert f"http://{auth_server}/org/private.git" in proc.stderr
    assert sorted(e["repo"] for e in document["stats"]["errors"]) == [
        f"http://{auth_server}/org/nopass.git", f"http://{auth_server}/org/private.git"]
    # The other repository was still scanned.
    assert [f["repo"] for f in document["findings"]] == [good_url]
    for path in tmp_path.joinpath("mirrors").rglob("*"):
        assert not path.is_file() or token.encode() not in path.read_bytes()
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "mirrors").iterdir()) == ["good"]  # no half clones


def test_stored_origin_has_no_credentials(tmp_path: Path) -> None:
    # file:// takes no userinfo, but the clone must not store what the list had: check the stored origin.
    _, url = upstream(tmp_path, "app", OLD_KEY)
    listing = tmp_path / "repos.txt"
    listing.write_text(url + "\n")
    sweep(tmp_path, listing)
    (mirror,) = (tmp_path / "mirrors").iterdir()
    origin = subprocess.run(["git", "config", "remote.origin.url"], cwd=mirror, capture_output=True, text=True).stdout.strip()
    assert origin == url


def test_damaged_cache_keeps_exit_code_and_findings(tmp_path: Path) -> None:
    _, url = upstream(tmp_path, "app", OLD_KEY)
    listing = tmp_path / "repos.txt"
    listing.write_text(url + "\n")
    sweep(tmp_path, listing)
    for path in (tmp_path / "cache").rglob("history-*.cache"):
        path.write_bytes(path.read_bytes()[:100])
    proc, document = sweep(tmp_path, listing)
    assert proc.returncode == 1 and "damaged history cache" in proc.stderr
    assert [f["path"] for f in document["findings"]] == ["deploy/.env"]


class _Hang(http.server.BaseHTTPRequestHandler):
    started = threading.Event()

    def do_GET(self) -> None:  # noqa: N802
        type(self).started.set()
        threading.Event().wait(60)  # never answers in time

    def log_message(self, *args: Any) -> None:
        pass


def test_ctrl_c_during_a_clone_exits_130_and_leaves_no_half_mirror(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hang)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    listing = tmp_path / "repos.txt"
    listing.write_text(f"http://127.0.0.1:{server.server_address[1]}/org/slow.git\n")
    proc = subprocess.Popen([sys.executable, "-m", "scanner", "sweep", str(listing), "--mirror-dir",
                             str(tmp_path / "mirrors"), "--jobs", "1"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert _Hang.started.wait(60), "git never connected"
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        server.shutdown()
        server.server_close()
    assert proc.returncode == 130, err
    assert b"Traceback" not in err
    assert not list((tmp_path / "mirrors").iterdir()) if (tmp_path / "mirrors").exists() else True


def test_a_killed_sweeps_half_clone_is_removed_by_the_next_clone(tmp_path: Path) -> None:
    # SIGKILL leaves a clone's temporary directory (no process can clean up after it): the next
    # sweep that clones the same mirror removes it, and keeps a running sweep's.
    _, url = upstream(tmp_path, "repo", OLD_KEY)
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{url}\n")
    proc, first = sweep(tmp_path, listing)
    assert proc.returncode == 1, proc.stderr
    (mirror,) = [p for p in (tmp_path / "mirrors").iterdir() if not p.name.startswith(".")]
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id nobody holds now
    dead = mirror.with_name(f".{mirror.name}.{gone.pid}.tmp")
    alive = mirror.with_name(f".{mirror.name}.{os.getpid()}.tmp")
    old = time.time() - STALE_AFTER - 60
    for half in (dead, alive):
        (half / "objects").mkdir(parents=True)
        for entry in (half / "objects", half):
            os.utime(entry, (old, old))
    shutil.rmtree(mirror)  # cloned again below
    proc, second = sweep(tmp_path, listing)
    assert proc.returncode == 1, proc.stderr
    assert second["stats"]["cloned"] == 1
    assert not dead.exists(), "a dead sweep's half clone is left"
    assert alive.exists(), "a running sweep's clone was removed"


def test_a_failed_fetch_still_scans_the_mirror_and_exits_3(tmp_path: Path) -> None:
    _, url = upstream(tmp_path, "gone", OLD_KEY)
    listing = tmp_path / "repos.txt"
    listing.write_text(url + "\n")
    proc, _ = sweep(tmp_path, listing)
    assert proc.returncode == 1, proc.stderr
    import shutil

    shutil.rmtree(tmp_path / "origins" / "gone.git")  # the upstream disappears (renamed, deleted, network down)
    proc, document = sweep(tmp_path, listing)
    assert proc.returncode == 3, proc.stderr
    assert [f["path"] for f in document["findings"]] == ["deploy/.env"]  # what the mirror has is still reported
    assert [e["repo"] for e in document["stats"]["errors"]] == [url] and "fetch" in document["stats"]["errors"][0]["error"]


def test_list_lines_are_data_not_commands(tmp_path: Path) -> None:
    from scanner.history.identity import is_url

    marker = tmp_path / "pwned"
    listing = tmp_path / "repos.txt"
    listing.write_text(f"ext::touch%20{marker}@host:x\n-oProxyCommand=touch@host:x\n")
    assert not any(is_url(line) for line in listing.read_text().splitlines())
    proc, document = sweep(tmp_path, listing)
    assert proc.returncode == 3 and not marker.exists()  # listed as missing paths, nothing run
    assert {e["error"].split(": ")[-1] for e in document["stats"]["errors"]} == {"no such directory"}


def test_repos_takes_list_files_only(tmp_path: Path) -> None:
    (tmp_path / "somedir").mkdir()
    for args in (["--repos", str(tmp_path / "somedir")], ["--repos", str(tmp_path / "absent.txt")], []):
        proc = mcp_scan(tmp_path, "sweep", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
