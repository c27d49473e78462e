"""``mcp-scan history`` on real temporary repositories (real git, real subprocesses)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

FILLER = "".join(f"value_{i} = compute({i})\n" for i in range(40))


def scan(repo: GitRepo, *args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any], str]:
    """Run ``mcp-scan history --format json`` and return (exit code, report, stderr)."""
    target = GitRepo(cwd) if cwd else repo
    proc = target.run_mcp_scan("history", *args, "--format", "json")
    stderr = proc.stderr.decode("utf-8", "replace")
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = {}
    return proc.returncode, report, stderr


def by_path(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in report["findings"]}


def settings(secret: str, extra: str = "") -> str:
    return f"{FILLER}{extra}STRIPE_KEY = '{secret}'\n{FILLER}"


def test_secret_added_then_deleted_is_attributed_to_its_commit(git_repo: GitRepo) -> None:
    secret = stripe_live_key(1)
    git_repo.stage("README.md", "hello\n")
    git_repo.commit("init")
    git_repo.stage("app/settings.py", settings(secret))
    introduced = git_repo.commit("add settings", date="2024-03-01T10:00:00+00:00")
    git_repo.git("rm", "-q", "app/settings.py")
    git_repo.commit("remove settings")

    code, report, _ = scan(git_repo, "--show-secrets")
    assert code == 1
    [finding] = report["findings"]
    assert finding["rule_id"] == "stripe-live-secret-key"
    assert finding["commit"] == introduced
    assert finding["author"] == "Test Author <author@example.com>"
    assert finding["date"].startswith("2024-03-01T10:00:00")
    assert finding["path"] == "app/settings.py"
    assert finding["line"] == 41
    assert finding["column"] == 15
    assert finding["secret"] == secret
    assert finding["present_at_head"] is False
    assert finding["commits"] == 1 and finding["paths"] == 1


def test_json_contract_fields_and_redaction(git_repo: GitRepo) -> None:
    secret = stripe_live_key(2)
    git_repo.stage("config.py", settings(secret))
    git_repo.commit("add")
    code, report, _ = scan(git_repo)
    assert code == 1
    assert report["version"] == 1
    [finding] = report["findings"]
    for key in ("rule_id", "severity", "message", "path", "line", "column", "commit", "author", "date", "secret",
                "fingerprint", "present_at_head", "commits", "paths"):
        assert key in finding, key
    assert secret not in json.dumps(report)
    assert finding["secret"].endswith("***REDACTED***")
    assert finding["present_at_head"] is True
    for key in ("commits", "blobs", "scanned", "cached", "skipped_size", "binary", "findings"):
        assert key in report["stats"], key


def test_same_secret_across_many_commits_is_one_finding(git_repo: GitRepo) -> None:
    secret = stripe_live_key(3)
    git_repo.stage("settings.py", settings(secret))
    first = git_repo.commit("add")
    for i in range(6):
        git_repo.stage("settings.py", f"# revision {i}\n" + settings(secret, extra=f"REVISION = {i}\n"))
        git_repo.commit(f"edit {i}")
    code, report, _ = scan(git_repo)
    assert code == 1
    [finding] = report["findings"]
    assert finding["commit"] == first
    assert finding["line"] == 41
    assert finding["commits"] == 7
    assert finding["present_at_head"] is True


def test_secret_only_on_a_non_default_branch(git_repo: GitRepo) -> None:
    git_repo.stage("a.txt", "base\n")
    git_repo.commit("base")
    git_repo.git("checkout", "-q", "-b", "feature")
    git_repo.stage("deploy.sh", f"export STRIPE={stripe_live_key(4)}\n")
    on_branch = git_repo.commit("feature work")
    git_repo.git("checkout", "-q", "main")
    code, report, _ = scan(git_repo)
    assert code == 1
    [finding] = report["findings"]
    assert finding["commit"] == on_branch
    assert finding["present_at_head"] is False  # HEAD is main


def test_rename_reports_each_path_once(git_repo: GitRepo) -> None:
    git_repo.stage("old.py", settings(stripe_live_key(5)))
    first = git_repo.commit("add")
    git_repo.git("mv", "old.py", "new.py")
    renamed = git_repo.commit("rename")
    # --group path: one finding per secret and path (the default groups them, history_grouping_test.py)
    code, report, _ = scan(git_repo, "--group", "path")
    assert code == 1
    found = by_path(report)
    assert set(found) == {"old.py", "new.py"}
    assert found["old.py"]["commit"] == first and found["old.py"]["present_at_head"] is False
    assert found["new.py"]["commit"] == renamed and found["new.py"]["present_at_head"] is True
    assert found["old.py"]["paths"] == found["new.py"]["paths"] == 2


def test_secret_introduced_by_a_merge_resolution(git_repo: GitRepo) -> None:
    git_repo.start_conflicting_merge("conf.py", "A = 1\n", "A = 2\n", "A = 3\n")
    git_repo.stage("conf.py", f"A = 4\nKEY = '{stripe_live_key(6)}'\n")
    merge = git_repo.commit("merge side")
    code, report, _ = scan(git_repo)
    assert code == 1
    [finding] = report["findings"]
    assert finding["commit"] == merge
    assert finding["line"] == 2


def test_since_reports_only_what_later_commits_introduced(git_repo: GitRepo) -> None:
    git_repo.stage("old.py", settings(stripe_live_key(7)))
    git_repo.commit("old secret")
    git_repo.git("branch", "base")
    git_repo.stage("new.py", settings(stripe_live_key(8)))
    later = git_repo.commit("new secret")
    code, report, _ = scan(git_repo, "--since", "base")
    assert code == 1
    assert list(by_path(report)) == ["new.py"]
    assert report["findings"][0]["commit"] == later
    code, report, _ = scan(git_repo, "--since", "HEAD")
    assert code == 0 and report["findings"] == []


def test_branch_limits_the_scan_to_one_ref(git_repo: GitRepo) -> None:
    git_repo.stage("a.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.git("checkout", "-q", "-b", "feature")
    git_repo.stage("f.py", settings(stripe_live_key(9)))
    git_repo.commit("feature secret")
    git_repo.git("checkout", "-q", "main")
    code, report, _ = scan(git_repo, "--branch", "main")
    assert code == 0 and report["findings"] == []
    code, report, _ = scan(git_repo, "--branch", "feature")
    assert code == 1
    assert report["findings"][0]["present_at_head"] is True  # at the tip of the scanned branch


def test_bare_clone_and_worktree(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.stage("s.py", settings(stripe_live_key(10)))
    introduced = git_repo.commit("add")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(git_repo.path), str(bare)], check=True)
    code, report, _ = scan(git_repo, str(bare))
    assert code == 1 and report["findings"][0]["commit"] == introduced
    assert list((bare / "mcp-scan").glob("history-*.cache"))

    worktree = tmp_path / "wt"
    git_repo.git("worktree", "add", "-q", str(worktree), "-b", "wt")
    code, report, _ = scan(git_repo, cwd=worktree)
    assert code == 1 and report["findings"][0]["commit"] == introduced
    # the cache lives in the shared git directory, not in the worktree's private one
    assert list((git_repo.path / ".git" / "mcp-scan").glob("history-*.cache"))


def test_shallow_clone_scans_what_is_there_and_warns(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.stage("gone.py", settings(stripe_live_key(11)))
    git_repo.commit("old secret")
    git_repo.git("rm", "-q", "gone.py")
    git_repo.commit("remove")
    git_repo.stage("kept.py", settings(stripe_live_key(12)))
    git_repo.commit("new secret")
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{git_repo.path}", str(shallow)], check=True)
    code, report, stderr = scan(git_repo, cwd=shallow)
    assert code == 1
    assert "shallow" in stderr
    assert list(by_path(report)) == ["kept.py"]
    assert report["stats"]["shallow"] is True


def test_cache_second_run_reads_no_blob_and_reports_the_same(git_repo: GitRepo) -> None:
    secret = stripe_live_key(13)
    git_repo.stage("s.py", settings(secret))
    git_repo.commit("add")
    git_repo.stage("t.py", "clean = True\n")
    git_repo.commit("more")
    code1, first, _ = scan(git_repo)
    code2, second, _ = scan(git_repo)
    assert code1 == code2 == 1
    assert first["stats"]["scanned"] == 2
    assert second["stats"]["scanned"] == 0 and second["stats"]["cached"] == 2
    assert second["findings"] == first["findings"]
    # the cache never holds the raw secret
    [cache] = (git_repo.path / ".git" / "mcp-scan").glob("history-*.cache")
    assert secret.encode() not in cache.read_bytes()
    # --show-secrets still shows it in full from a warm cache (the blob is re-read)
    _, shown, _ = scan(git_repo, "--show-secrets")
    assert shown["findings"][0]["secret"] == secret
    # a new commit: only its blob is read
    git_repo.stage("u.py", "x = 2\n")
    git_repo.commit("new")
    _, third, _ = scan(git_repo)
    assert third["stats"]["scanned"] == 1 and third["findings"] == first["findings"]
    # --no-cache reads everything again
    _, fresh, _ = scan(git_repo, "--no-cache")
    assert fresh["stats"]["scanned"] == 3 and fresh["stats"]["cached"] == 0
    assert fresh["findings"] == first["findings"]


def test_damaged_cache_is_ignored_and_rebuilt(git_repo: GitRepo) -> None:
    git_repo.stage("s.py", settings(stripe_live_key(14)))
    git_repo.commit("add")
    _, first, _ = scan(git_repo)
    [cache] = (git_repo.path / ".git" / "mcp-scan").glob("history-*.cache")
    data = cache.read_bytes()
    cache.write_bytes(data[: len(data) // 2] + b"garbage")
    code, second, stderr = scan(git_repo)
    assert code == 1
    assert second["findings"] == first["findings"]
    assert second["stats"]["scanned"] == 1
    assert "cache" in stderr
    _, third, _ = scan(git_repo)
    assert third["stats"]["scanned"] == 0 and third["findings"] == first["findings"]


def test_old_cache_files_are_pruned_least_recently_used_first(git_repo: GitRepo) -> None:
    # Each option set (and each rule-set upgrade) gets its own cache file;
    # only the few most recently used stay in .git.
    from scanner.paths import KEEP_FILES

    git_repo.stage("s.py", settings(stripe_live_key(15)))
    git_repo.commit("add")
    folder = git_repo.path / ".git" / "mcp-scan"
    scan(git_repo, "--max-blob-size", "1000000")
    [first] = folder.glob("history-*.cache")
    for n in range(KEEP_FILES + 2):
        scan(git_repo, "--max-blob-size", str(2000 + n))
        if n == 2:
            _, again, _ = scan(git_repo, "--max-blob-size", "1000000")
            assert again["stats"]["cached"] == 1  # still there, and now recently used
    files = set(folder.glob("history-*.cache"))
    # kept: the three newest, and the first one (used after the three before them)
    assert len(files) == KEEP_FILES and first in files
    # walk caches (one per --branch spec) are pruned the same way
    for n in range(KEEP_FILES + 3):
        git_repo.git("branch", f"b{n}")
        scan(git_repo, "--branch", f"b{n}")
    assert len(list(folder.glob("walk-*.json"))) == KEEP_FILES


def test_size_cap_and_generated_files(git_repo: GitRepo) -> None:
    # Lockfiles, minified bundles and source maps used to be skipped unread
    # (issue 12, item 2): they are read and scanned like any blob now.
    git_repo.stage("big.py", "x = 1\n" * 2000 + f"KEY = '{stripe_live_key(15)}'\n")
    git_repo.stage("package-lock.json", f'{{"token": "{stripe_live_key(16)}"}}\n')
    git_repo.stage("dist/app.min.js", f'var k="{stripe_live_key(17)}";\n')
    git_repo.commit("add")
    code, report, _ = scan(git_repo, "--max-blob-size", "1000")
    assert code == 1
    assert set(by_path(report)) == {"package-lock.json", "dist/app.min.js"}
    assert report["stats"]["skipped_size"] == 1
    for args in ((), ("--scan-all-paths",)):  # the old flag still runs, and changes nothing
        code, report, _ = scan(git_repo, *args)
        assert code == 1
        assert set(by_path(report)) == {"big.py", "package-lock.json", "dist/app.min.js"}


def test_binary_blob_is_skipped(git_repo: GitRepo) -> None:
    git_repo.stage("blob.dat", b"\x00\x01\x02" + f"KEY = '{stripe_live_key(18)}'\n".encode())
    git_repo.commit("binary")
    code, report, _ = scan(git_repo)
    assert code == 0 and report["findings"] == []
    assert report["stats"]["binary"] == 1


def test_exit_codes(git_repo: GitRepo, tmp_path: Path) -> None:
    code, report, _ = scan(git_repo)  # no commits yet
    assert code == 0 and report["findings"] == []
    git_repo.stage("a.py", "x = 1\n")
    git_repo.commit("clean")
    code, _, _ = scan(git_repo)
    assert code == 0
    code, _, stderr = scan(git_repo, "--since", "no-such-rev")
    assert code == 2 and "Traceback" not in stderr
    code, _, stderr = scan(git_repo, str(tmp_path / "missing"))
    assert code == 3 and "Traceback" not in stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    code, _, stderr = scan(git_repo, str(plain))
    assert code == 3 and "not a git repository" in stderr
    code, _, _ = scan(git_repo, "--jobs", "0")
    assert code == 2


def test_no_progress_output_when_stderr_is_not_a_terminal(git_repo: GitRepo) -> None:
    git_repo.stage("a.py", "x = 1\n")
    git_repo.commit("clean")
    proc = git_repo.run_mcp_scan("history")
    assert proc.returncode == 0
    assert proc.stderr == b""
    assert b"no secrets found" in proc.stdout


def test_text_report_names_commit_and_presence(git_repo: GitRepo) -> None:
    git_repo.stage("s.py", settings(stripe_live_key(19)))
    commit = git_repo.commit("add")
    proc = git_repo.run_mcp_scan("history")
    out = proc.stdout.decode()
    assert proc.returncode == 1
    assert f"s.py:41:15" in out and commit[:12] in out and "still in the files at HEAD" in out
    assert "True" not in out and "[" not in out  # words, not Python values
    # the advice fits history: rotation and baselines, not inline markers
    assert "baseline" in out and "mcp-scan: allow" not in out
    assert stripe_live_key(19) not in out


def test_walk_cache_follows_new_commits_and_rewritten_history(git_repo: GitRepo) -> None:
    git_repo.stage("a.py", settings(stripe_live_key(20)))
    first = git_repo.commit("first")
    _, report, _ = scan(git_repo)
    assert [f["commit"] for f in report["findings"]] == [first]
    assert list((git_repo.path / ".git" / "mcp-scan").glob("walk-*.json"))
    # history grew: only the new commit is walked, and its secret is attributed to it
    git_repo.stage("b.py", settings(stripe_live_key(21)))
    second = git_repo.commit("second")
    _, report, _ = scan(git_repo)
    assert {f["path"]: f["commit"] for f in report["findings"]} == {"a.py": first, "b.py": second}
    assert report["stats"]["commits"] == 2
    # history rewritten (amend drops b.py): the old commit is no longer reachable, nor reported
    git_repo.git("rm", "-q", "b.py")
    git_repo.git("commit", "-q", "--amend", "--allow-empty", "-m", "second, without the key")
    git_repo.git("reflog", "expire", "--expire=now", "--all")
    _, report, _ = scan(git_repo)
    assert {f["path"] for f in report["findings"]} == {"a.py"}
    assert report["stats"]["commits"] == 2
    # a damaged walk file is ignored
    for walk_file in (git_repo.path / ".git" / "mcp-scan").glob("walk-*.json"):
        walk_file.write_bytes(b"{not json")
    code, again, _ = scan(git_repo)
    assert code == 1 and again["findings"] == report["findings"]


def test_progress_bar_only_on_a_terminal_and_quiet_silences_it(git_repo: GitRepo) -> None:
    import os
    import pty
    import sys

    git_repo.stage("a.py", "x = 1\n")
    git_repo.commit("clean")

    def stderr_on_tty(*args: str) -> bytes:
        master, slave = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "scanner", "history", "--no-cache", *args], cwd=git_repo.path,
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait()
        os.close(master)
        return b"".join(chunks)

    drawn = stderr_on_tty()
    assert b"blobs" in drawn and b"MB/s" in drawn and b"ETA" in drawn
    assert stderr_on_tty("--quiet") == b""


def test_partial_clone_fails_closed_and_does_not_try_to_fetch(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.stage("s.py", settings(stripe_live_key(22)))
    git_repo.commit("add")
    git_repo.stage("t.py", "x = 1\n")
    git_repo.commit("more")
    git_repo.git("config", "uploadpack.allowFilter", "true")
    partial = tmp_path / "partial"
    subprocess.run(["git", "clone", "-q", "--no-checkout", "--filter=blob:none", f"file://{git_repo.path}",
                    str(partial)], check=True)
    # make the promisor unreachable: a lazy fetch would now fail loudly
    subprocess.run(["git", "remote", "set-url", "origin", str(tmp_path / "gone")], cwd=partial, check=True)
    for _run in ("cold", "warm"):
        # The missing blobs were never read: exit 3, counted in the report, twice
        # (nothing about them may be cached as scanned).
        code, report, stderr = scan(git_repo, cwd=partial)
        assert code == 3, stderr
        assert "partial clone" in stderr and "not scanned" in stderr and "git fetch --refetch" in stderr
        assert "Traceback" not in stderr
        assert report["findings"] == []
        assert report["stats"]["missing_blobs"] == 2
        [gap] = report["incomplete"]
        assert (gap["reason"], gap["count"]) == ("missing-blob", 2)


def test_sha256_repository_deleted_files_are_not_missing_blobs(tmp_path: Path) -> None:
    # In a SHA-256 repository git's null id is 64 zeros: a deleted file's
    # "new blob" must not be looked up as a blob (it was: exit 3, "missing").
    repo = GitRepo.init(tmp_path / "repo", "--object-format=sha256")
    secret = stripe_live_key(16)
    repo.stage("s.py", settings(secret))
    added = repo.commit("add")
    repo.git("rm", "-q", "s.py")
    repo.commit("delete")
    for args in (["--no-cache"], ["--no-cache", "--jobs", "1"], []):
        code, report, stderr = scan(repo, *args)
        assert code == 1, stderr
        assert "missing" not in stderr
        [finding] = report["findings"]
        assert finding["commit"] == added and len(added) == 64
        assert finding["present_at_head"] is False
