"""Repository states that break scanners (issue 7, item 2): real git, real clones, real corruption.

Detached HEAD, worktrees, bare/shallow/partial clones, submodules, merges in
progress, corrupt and missing objects. The staged scan either answers
correctly or fails closed (exit 3, one error line); ``history`` is covered
once it exists (skipped with the reason while it is a stub).
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo
from tests.reliability_support import assert_fails_closed, assert_no_traceback, git, run_scan

KEY = stripe_live_key(seed=11)


def staged_positions(cwd: Path) -> set[tuple[str, int]]:
    proc = run_scan("staged", "--format", "json", cwd=cwd)
    assert_no_traceback(proc)
    assert proc.returncode in (0, 1), proc.stderr.decode("utf-8", "replace")
    return {(f["path"], f["line"]) for f in json.loads(proc.stdout)["findings"]}


def history(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    proc = run_scan("history", "--no-cache", "--format", "json", *args, ".", cwd=cwd)
    if b"not implemented yet" in proc.stderr:
        pytest.skip("history is not implemented yet")
    assert_no_traceback(proc)
    return proc


def history_paths(proc: subprocess.CompletedProcess[bytes]) -> set[str]:
    assert proc.returncode in (0, 1), proc.stderr.decode("utf-8", "replace")
    return {f["path"] for f in json.loads(proc.stdout)["findings"]}


@pytest.fixture
def origin(tmp_path: Path) -> GitRepo:
    """A repository with a secret in its first commit and clean commits after it."""
    repo = GitRepo.init(tmp_path / "origin")
    repo.stage("config.env", f"KEY={KEY}\n")
    repo.commit("leak")
    for i in range(3):
        repo.stage(f"notes{i}.txt", f"note {i}\n")
        repo.commit(f"note {i}")
    git(repo.path, "config", "uploadpack.allowFilter", "true")
    git(repo.path, "config", "uploadpack.allowAnySHA1InWant", "true")
    return repo


def test_no_commits_yet(git_repo: GitRepo) -> None:
    git_repo.stage("a.env", f"KEY={KEY}\n")
    assert staged_positions(git_repo.path) == {("a.env", 1)}


def test_detached_head(git_repo: GitRepo) -> None:
    git_repo.stage("a.txt", "one\n")
    git_repo.commit("one")
    git_repo.git("checkout", "-q", "--detach")
    git_repo.stage("a.txt", f"one\nKEY={KEY}\n")
    assert staged_positions(git_repo.path) == {("a.txt", 2)}


def test_linked_worktree(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.stage("a.txt", "one\n")
    git_repo.commit("one")
    worktree = tmp_path / "wt"
    git_repo.git("worktree", "add", "-q", str(worktree), "-b", "side")
    (worktree / "sub").mkdir()
    (worktree / "sub" / "b.env").write_text(f"KEY={KEY}\n")
    git(worktree, "add", "sub/b.env")
    assert staged_positions(worktree) == {("sub/b.env", 1)}
    assert staged_positions(worktree / "sub") == {("sub/b.env", 1)}  # from a subdirectory too
    assert staged_positions(git_repo.path) == set()  # the main worktree has its own index


def test_staged_in_a_bare_repository_is_a_usage_error(origin: GitRepo, tmp_path: Path) -> None:
    # Not a silent exit 0: a bare repository has no index to scan (issue 11).
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(origin.path), str(bare))
    proc = run_scan("staged", cwd=bare)
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert b"bare repository" in proc.stderr


def test_history_of_a_bare_clone(origin: GitRepo, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(origin.path), str(bare))
    assert history_paths(history(bare)) == {"config.env"}


def test_shallow_clone_staged_works_and_history_warns(origin: GitRepo, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin.path}", str(clone))
    (clone / "new.env").write_text(f"KEY={KEY}\n")
    git(clone, "add", "new.env")
    assert staged_positions(clone) == {("new.env", 1)}
    git(clone, "reset", "-q")
    proc = history(clone)
    assert b"shallow" in proc.stderr.lower(), proc.stderr
    # the file is still present at HEAD, so even partial history finds it
    assert "config.env" in history_paths(proc)


def test_partial_clone_blob_none(origin: GitRepo, tmp_path: Path) -> None:
    clone = tmp_path / "partial"
    git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{origin.path}", str(clone))
    assert git(clone, "config", "remote.origin.promisor").strip() == "true"
    (clone / "config.env").write_text(f"KEY={KEY}\nMORE={stripe_live_key(seed=12)}\n")
    git(clone, "add", "config.env")
    assert staged_positions(clone) == {("config.env", 2)}
    git(clone, "reset", "-q", "--hard")
    assert history_paths(history(clone)) == {"config.env"}


def test_partial_clone_with_its_promisor_gone_fails_closed(origin: GitRepo, tmp_path: Path) -> None:
    clone = tmp_path / "partial"
    git(tmp_path, "clone", "-q", "--no-checkout", "--filter=blob:none", f"file://{origin.path}", str(clone))
    git(clone, "remote", "set-url", "origin", f"file://{tmp_path}/gone")
    # HEAD's blobs were never fetched; staging a change needs the old blob to diff against.
    git(clone, "read-tree", "HEAD")
    (clone / "config.env").write_text(f"KEY={KEY}\nMORE={stripe_live_key(seed=12)}\n")
    git(clone, "update-index", "--add", "config.env")
    proc = run_scan("staged", cwd=clone)
    assert_fails_closed(proc)
    assert KEY.encode() not in proc.stderr


def test_submodule_pointer_is_skipped_and_the_submodule_scans_itself(origin: GitRepo, git_repo: GitRepo) -> None:
    git_repo.stage("a.txt", "one\n")
    git_repo.commit("one")
    git_repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(origin.path), "vendor/lib")
    assert staged_positions(git_repo.path) == set()
    sub = git_repo.path / "vendor" / "lib"
    (sub / "inner.env").write_text(f"KEY={stripe_live_key(seed=13)}\n")
    git(sub, "add", "inner.env")
    assert staged_positions(sub) == {("inner.env", 1)}
    assert staged_positions(git_repo.path) == set()


def test_merge_conflict_in_progress(git_repo: GitRepo) -> None:
    git_repo.start_conflicting_merge("c.txt", "base\n", "theirs\n", "ours\n", branch="other")
    git_repo.stage("other.env", f"KEY={KEY}\n")
    assert ("other.env", 1) in staged_positions(git_repo.path)


def _object_file(repo: Path, oid: str) -> Path:
    return repo / ".git" / "objects" / oid[:2] / oid[2:]


def test_corrupt_staged_object_fails_closed(git_repo: GitRepo) -> None:
    git_repo.stage("a.txt", "hello\n")
    git_repo.commit("one")
    git_repo.stage("a.txt", f"hello\nKEY={KEY}\n")
    git_repo.write("a.txt", "changed in the work tree\n")  # git must read the index blob
    obj = _object_file(git_repo.path, git_repo.git("rev-parse", ":a.txt").strip())
    obj.chmod(0o644)
    obj.write_bytes(b"this is not zlib")
    assert_fails_closed(git_repo.run_mcp_scan("staged"), mentions=["git"])


def test_missing_staged_object_fails_closed(git_repo: GitRepo) -> None:
    git_repo.stage("a.txt", "hello\n")
    git_repo.commit("one")
    git_repo.stage("a.txt", f"hello\nKEY={KEY}\n")
    git_repo.write("a.txt", "changed in the work tree\n")
    _object_file(git_repo.path, git_repo.git("rev-parse", ":a.txt").strip()).unlink()
    assert_fails_closed(git_repo.run_mcp_scan("staged"))


def test_missing_utf16_object_fails_closed(git_repo: GitRepo) -> None:
    # UTF-16 is "binary" to git, so its blob is read separately: a missing one must not pass.
    # The work tree is left stat-clean, so `git diff` itself reads the file
    # from disk and succeeds; only the separate blob read can notice.
    git_repo.stage("wide.txt", f"KEY={KEY}\n".encode("utf-16"))
    _object_file(git_repo.path, git_repo.git("rev-parse", ":wide.txt").strip()).unlink()
    assert_fails_closed(git_repo.run_mcp_scan("staged"), mentions=["wide.txt"])
    git_repo.write("wide.txt", "changed\n")
    assert_fails_closed(git_repo.run_mcp_scan("staged"))


def test_missing_head_commit_fails_closed(git_repo: GitRepo) -> None:
    git_repo.stage("a.txt", "hello\n")
    head = git_repo.commit("one")
    _object_file(git_repo.path, head).unlink()
    git_repo.write("b.env", f"KEY={KEY}\n")
    subprocess.run(["git", "update-index", "--add", "b.env"], cwd=git_repo.path, check=True)
    proc = git_repo.run_mcp_scan("staged", "--format", "json")
    assert_no_traceback(proc)
    # git 2.39 diffs the index against the empty tree when HEAD's commit is
    # unreadable: a superset of what is staged, so failing or finding are both closed.
    if proc.returncode != 3:
        assert proc.returncode == 1, proc.stderr
        assert {f["path"] for f in json.loads(proc.stdout)["findings"]} == {"b.env"}


def test_history_on_a_corrupt_repository_fails_closed(origin: GitRepo) -> None:
    first = origin.git("rev-list", "--max-parents=0", "HEAD").strip()
    blob = origin.git("rev-parse", f"{first}:config.env").strip()
    _object_file(origin.path, blob).unlink()
    proc = history(origin.path)
    assert proc.returncode == 3, proc.stderr
    assert b"missing" in proc.stderr and blob.encode() in proc.stderr
    assert KEY.encode() not in proc.stderr + proc.stdout
    # the report, not only stderr, says what was not read, where, and since when
    report = json.loads(proc.stdout)
    assert report["stats"]["missing_blobs"] == 1
    [gap] = report["incomplete"]
    assert (gap["reason"], gap["blob"], gap["path"], gap["commit"]) == ("missing-blob", blob, "config.env", first)


def test_history_not_a_repository(tmp_path: Path) -> None:
    history_proc = run_scan("history", "--no-cache", ".", cwd=tmp_path)
    if b"not implemented yet" in history_proc.stderr:
        pytest.skip("history is not implemented yet")
    assert_fails_closed(history_proc, mentions=["not a git repository"])


def test_history_git_missing(origin: GitRepo, tmp_path: Path) -> None:
    from tests.reliability_support import env_without_git

    proc = run_scan("history", "--no-cache", ".", cwd=origin.path, env=env_without_git(tmp_path))
    if b"not implemented yet" in proc.stderr:
        pytest.skip("history is not implemented yet")
    assert_fails_closed(proc, mentions=["git"])


def test_empty_repository_history(git_repo: GitRepo) -> None:
    proc = history(git_repo.path)
    assert proc.returncode in (0, 3), proc.stderr
    if proc.returncode == 0:
        assert json.loads(proc.stdout)["findings"] == []


def test_hostile_git_config_does_not_change_parsing(git_repo: GitRepo) -> None:
    # A user's config may ask for colour, external diff drivers, mnemonic
    # prefixes or quoted paths: none of it may reach the parser.
    for key, value in (("color.ui", "always"), ("color.diff", "always"), ("diff.mnemonicPrefix", "true"),
                       ("diff.noprefix", "true"), ("core.quotePath", "true"), ("diff.external", "false"),
                       ("diff.renames", "false"), ("diff.relative", "true"), ("core.pager", "false")):
        git_repo.git("config", key, value)
    git_repo.stage("naïve dir/a b.env", f"KEY={KEY}\n")
    assert staged_positions(git_repo.path) == {("naïve dir/a b.env", 1)}
    assert os.path.exists(git_repo.path / "naïve dir")


@pytest.mark.parametrize("change", ["file-to-symlink", "symlink-to-file", "file-to-submodule"])
def test_type_change_next_to_a_secret_is_not_misread(git_repo: GitRepo, origin: GitRepo, change: str) -> None:
    # A type change is one raw entry but two patch sections; pairing them by
    # order used to shift every later file onto the wrong section, so a
    # secret in the next file (or in the new regular file) went unseen.
    if change == "symlink-to-file":
        (git_repo.path / "a").symlink_to("b.txt")
    else:
        git_repo.write("a", "target\n")
    git_repo.stage("b.txt", "b\n")
    git_repo.git("add", "-A")
    git_repo.commit("base")
    (git_repo.path / "a").unlink()
    if change == "file-to-symlink":
        (git_repo.path / "a").symlink_to("b.txt")
        git_repo.git("add", "-A")
    elif change == "symlink-to-file":
        git_repo.write("a", f"one\nKEY={stripe_live_key(seed=14)}\n")
        git_repo.git("add", "-A")
    else:
        git_repo.git("rm", "-q", "--cached", "a")
        git_repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(origin.path), "a")
    git_repo.stage("z.env", f"KEY={KEY}\n")
    expected = {("z.env", 1)} | ({("a", 2)} if change == "symlink-to-file" else set())
    assert staged_positions(git_repo.path) == expected


def test_history_of_a_partial_clone_whose_promisor_is_gone_warns_and_never_hangs(origin: GitRepo, tmp_path: Path) -> None:
    origin.stage("config.env", "KEY=rotated\n")  # the leaked version is now only in history
    origin.commit("rotate")
    clone = tmp_path / "partial"
    git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{origin.path}", str(clone))
    git(clone, "remote", "set-url", "origin", f"file://{tmp_path}/gone")
    proc = run_scan("history", "--no-cache", ".", cwd=clone, timeout=120)
    if b"not implemented yet" in proc.stderr:
        pytest.skip("history is not implemented yet")
    assert_no_traceback(proc)
    # The leaked blob was never fetched: history must say its audit is partial, not claim a clean bill.
    assert proc.returncode in (0, 1, 3)
    assert b"partial" in proc.stderr.lower(), proc.stderr


def test_history_decodes_utf16_latin1_and_crlf_blobs(git_repo: GitRepo) -> None:
    git_repo.stage("wide.txt", f"a\nb\nKEY={stripe_live_key(seed=15)}\n".encode("utf-16"))
    git_repo.stage("legacy.txt", f"café\nKEY={stripe_live_key(seed=16)}\n".encode("latin-1"))
    git_repo.stage("dos.txt", f"a\r\nb\r\nc\r\nKEY={stripe_live_key(seed=17)}\r\n".encode())
    git_repo.commit("encodings")
    proc = history(git_repo.path)
    assert proc.returncode == 1, proc.stderr
    found = {(f["path"], f["line"], f["column"]) for f in json.loads(proc.stdout)["findings"]}
    assert found == {("wide.txt", 3, 5), ("legacy.txt", 2, 5), ("dos.txt", 4, 5)}
