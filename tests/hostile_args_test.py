"""Hostile arguments (issue 12): revisions that look like git options, and ``--jobs`` far beyond the work.

Everything runs the real CLI (``python -m scanner``) in a subprocess against
real temporary repositories. Worker processes are counted exactly: the CLI
runs under an audit hook that logs every ``os.fork`` (the multiprocessing
fork start method), from any process of the tree, to a file. Nothing here
depends on timing.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

ZERO = "0" * 40
CI_PREFIXES = ("GITHUB_", "GITLAB_", "CI_", "BITBUCKET_", "BUILD_", "SYSTEM_", "RUNNER_", "PRE_COMMIT")
CI_NAMES = ("CI", "TF_BUILD", "GITLAB_CI", "GITHUB_ACTIONS")
NOTES = "my own notes: do not overwrite\n"


def run(cwd: Path, *args: str, input: str = "", env: "dict[str, str] | None" = None) -> subprocess.CompletedProcess[str]:
    """``mcp-scan args`` as a user runs it, outside any CI or pre-commit environment unless ``env`` says so."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(CI_PREFIXES) and k not in CI_NAMES}
    return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=cwd, input=input, capture_output=True,
                          text=True, env={**base, **(env or {})}, timeout=600)


def assert_usage_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2, one error line naming what was wrong, a hint, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "mcp-scan: error:" in proc.stderr and "hint:" in proc.stderr, proc.stderr
    for word in words:
        assert word in proc.stderr, (word, proc.stderr)


@pytest.fixture
def leaky(git_repo: GitRepo) -> GitRepo:
    """main: clean base (tagged ``base``) -> a commit adding a live key; plus a notes file we own."""
    git_repo.stage("README.md", "hello\n")
    git_repo.commit("base")
    git_repo.git("tag", "base")
    git_repo.stage("deploy/.env", f"STRIPE_KEY={stripe_live_key(seed=121)}\n")
    git_repo.commit("add key")
    (git_repo.path / "notes.txt").write_text(NOTES)
    return git_repo


# -- 6. option injection through revisions -----------------------------------

HOSTILE_REVS = ("--output=notes.txt", "--output=fresh.txt", "--all", "--", "-p")


@pytest.mark.parametrize("cache", [[], ["--no-cache"]], ids=["cached", "no-cache"])
@pytest.mark.parametrize("flag", ["--branch", "--since"])
@pytest.mark.parametrize("rev", HOSTILE_REVS)
def test_history_revision_that_looks_like_an_option_is_a_usage_error(leaky: GitRepo, flag: str, rev: str,
                                                                     cache: list[str]) -> None:
    proc = run(leaky.path, "history", f"{flag}={rev}", *cache)
    assert_usage_error(proc, flag)
    # git never saw it as an option: no file written, ours untouched
    assert (leaky.path / "notes.txt").read_text() == NOTES
    assert not (leaky.path / "fresh.txt").exists()


@pytest.mark.parametrize("flag", ["--branch", "--since"])
def test_history_revision_that_does_not_resolve_is_a_usage_error(leaky: GitRepo, flag: str) -> None:
    assert_usage_error(run(leaky.path, "history", flag, "no-such-branch"), flag, "no-such-branch")


def test_history_valid_revisions_still_scan(leaky: GitRepo) -> None:
    assert run(leaky.path, "history", "--since", "base").returncode == 1
    assert run(leaky.path, "history", "--since", "HEAD").returncode == 0
    assert run(leaky.path, "history", "--branch", "main", "--no-cache").returncode == 1
    assert run(leaky.path, "history", "--branch", "base").returncode == 0


@pytest.mark.parametrize("flag", ["--base", "--head"])
@pytest.mark.parametrize("rev", ["--all", "--output=fresh.txt", "-p", "--"])
def test_ci_revision_flag_that_looks_like_an_option_is_a_usage_error(leaky: GitRepo, flag: str, rev: str) -> None:
    proc = run(leaky.path, "ci", f"{flag}={rev}", "--no-sarif")
    assert_usage_error(proc, flag)
    assert not (leaky.path / "fresh.txt").exists()


def test_ci_head_that_does_not_resolve_is_a_usage_error(leaky: GitRepo) -> None:
    # It used to scan HEAD instead, silently: a different range from the one asked for.
    assert_usage_error(run(leaky.path, "ci", "--head", "no-such-commit", "--no-sarif"), "--head", "no-such-commit")


def test_ci_event_revision_that_looks_like_an_option_is_never_passed_as_one(leaky: GitRepo) -> None:
    env = {"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BEFORE_SHA": "--output=fresh.txt",
           "CI_COMMIT_SHA": "--all", "CI_COMMIT_BRANCH": "main"}
    proc = run(leaky.path, "ci", "--no-sarif", env=env)
    # Neither names a commit: HEAD, full history (the documented fallback), and the key is found.
    assert proc.returncode == 1, proc.stderr
    assert not (leaky.path / "fresh.txt").exists()


@pytest.fixture
def pushed(tmp_path: Path) -> tuple[GitRepo, str, str]:
    """A clone whose main is pushed at a clean base, then gains a commit adding a key: (work, base, tip)."""
    remote = GitRepo.init(tmp_path / "remote.git", "--bare")
    work = GitRepo.init(tmp_path / "work")
    work.git("remote", "add", "origin", str(remote.path))
    work.stage("README.md", "hello\n")
    base = work.commit("base")
    work.git("push", "-q", "origin", "main")
    work.stage("deploy/.env", f"STRIPE_KEY={stripe_live_key(seed=122)}\n")
    tip = work.commit("add key")
    return work, base, tip


PUSH_LINES = {
    "local sha": "refs/heads/main --all refs/heads/main {zero}",
    "remote sha": "refs/heads/main {tip} refs/heads/main --all",
    "local ref": "--output=fresh.txt {tip} refs/heads/main {base}",
    "remote ref": "refs/heads/main {tip} --delete {base}",
    "sha named by ref": "refs/heads/main HEAD refs/heads/main {base}",
    "missing object": "refs/heads/main {missing} refs/heads/main {base}",
}


@pytest.mark.parametrize("line", list(PUSH_LINES.values()), ids=list(PUSH_LINES))
def test_pre_push_line_with_an_option_or_bad_object_fails_closed(pushed: tuple[GitRepo, str, str], line: str) -> None:
    work, base, tip = pushed
    text = line.format(zero=ZERO, tip=tip, base=base, missing="1" * 40) + "\n"
    proc = run(work.path, "pre-push", "origin", str(work.path.parent / "remote.git"), input=text)
    assert proc.returncode in (2, 3), (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "mcp-scan: error:" in proc.stderr, proc.stderr
    assert not (work.path / "fresh.txt").exists()


@pytest.mark.parametrize("variable", ["PRE_COMMIT_TO_REF", "PRE_COMMIT_FROM_REF", "PRE_COMMIT_LOCAL_BRANCH"])
def test_pre_commit_environment_revision_that_looks_like_an_option_fails_closed(
        pushed: tuple[GitRepo, str, str], variable: str) -> None:
    work, base, tip = pushed
    env = {"PRE_COMMIT": "1", "PRE_COMMIT_REMOTE_NAME": "origin", "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main"}
    if variable != "PRE_COMMIT_LOCAL_BRANCH":
        env.update(PRE_COMMIT_FROM_REF=base, PRE_COMMIT_TO_REF=tip)
    env[variable] = "--all"
    proc = run(work.path, "pre-push", env=env)
    assert proc.returncode in (2, 3), (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and variable in proc.stderr, proc.stderr


def test_pre_commit_to_ref_that_does_not_resolve_fails_closed(pushed: tuple[GitRepo, str, str]) -> None:
    work, base, _ = pushed
    env = {"PRE_COMMIT": "1", "PRE_COMMIT_REMOTE_NAME": "origin", "PRE_COMMIT_FROM_REF": base,
           "PRE_COMMIT_TO_REF": "no-such-ref"}
    proc = run(work.path, "pre-push", env=env)
    assert proc.returncode in (2, 3), (proc.returncode, proc.stdout, proc.stderr)
    assert "PRE_COMMIT_TO_REF" in proc.stderr


def test_pre_commit_environment_names_still_resolve(pushed: tuple[GitRepo, str, str]) -> None:
    # ``pre-commit run --from-ref X --to-ref Y`` passes whatever the user typed.
    work, _, _ = pushed
    env = {"PRE_COMMIT": "1", "PRE_COMMIT_REMOTE_NAME": "origin", "PRE_COMMIT_FROM_REF": "origin/main",
           "PRE_COMMIT_TO_REF": "HEAD"}
    assert run(work.path, "pre-push", env=env).returncode == 1
    assert run(work.path, "pre-push", env=dict(env, PRE_COMMIT_FROM_REF="HEAD")).returncode == 0


# -- 11. --jobs bounded by the work and the machine --------------------------

_COUNT_FORKS = r"""
import os, runpy, sys
log = sys.argv[1]
def hook(event, args):
    if event == "os.fork":  # in whichever process forks: a sweep worker's own pool counts too
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(fd, b"%d\n" % os.getpid())
        os.close(fd)
sys.addaudithook(hook)
sys.argv = ["mcp-scan", *sys.argv[2:]]
runpy.run_module("scanner", run_name="__main__", alter_sys=True)
"""


def forks_of(cwd: Path, tmp_path: Path, *args: str) -> tuple[int, int, str]:
    """Run the CLI and return (exit code, processes forked by the whole process tree, stderr)."""
    log = tmp_path / "forks.log"
    log.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-c", _COUNT_FORKS, str(log), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)
    forks = len(log.read_text().splitlines()) if log.exists() else 0
    return proc.returncode, forks, proc.stderr


def cpu_cap() -> int:
    return 4 * (os.cpu_count() or 1)


def many_blobs(repo: GitRepo, count: int) -> GitRepo:
    """One commit of ``count`` distinct small files (history scans them in chunks of 512) and a key."""
    for n in range(count):
        repo.write(f"data/f{n:05d}.txt", f"value {n}\n")
    repo.write("deploy/.env", f"STRIPE_KEY={stripe_live_key(seed=123)}\n")
    repo.git("add", "-A")
    repo.commit("many files")
    return repo


def test_history_starts_no_pool_for_one_chunk(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.stage("deploy/.env", f"STRIPE_KEY={stripe_live_key(seed=124)}\n")
    git_repo.commit("one blob")
    code, forks, err = forks_of(git_repo.path, tmp_path, "history", "--jobs", "64", "--no-cache")
    assert code == 1, err
    assert forks == 0


def test_history_workers_are_capped_by_the_chunks(git_repo: GitRepo, tmp_path: Path) -> None:
    many_blobs(git_repo, 1200)  # 1201 blobs: 3 chunks
    code, forks, err = forks_of(git_repo.path, tmp_path, "history", "--jobs", "64", "--no-cache")
    assert code == 1, err
    assert forks == min(3, cpu_cap())
    code, forks, err = forks_of(git_repo.path, tmp_path, "history", "--jobs", "2", "--no-cache")
    assert code == 1, err
    assert forks == 2


def test_history_workers_are_capped_by_the_machine(git_repo: GitRepo, tmp_path: Path) -> None:
    many_blobs(git_repo, 5000)  # 5001 blobs: 10 chunks
    code, forks, err = forks_of(git_repo.path, tmp_path, "history", "--jobs", "64", "--no-cache")
    assert code == 1, err
    assert forks == min(10, cpu_cap())


def test_sweep_processes_are_capped(tmp_path: Path) -> None:
    root = tmp_path / "repos"
    for n in range(10):
        repo = GitRepo.init(root / f"r{n}")
        repo.stage("README.md", f"repo {n}\n")
        repo.commit("init")
    code, forks, err = forks_of(tmp_path, tmp_path, "sweep", "repos", "--jobs", "64", "-q")
    assert code == 0, err
    # at most one process per repository and per 1/4 CPU; none of these one-blob histories needs a pool
    assert 1 <= forks <= min(10, cpu_cap())


@pytest.mark.parametrize("command", [["history"], ["ci", "--no-sarif"], ["sweep", "."], ["baseline", "create"]])
@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_jobs_below_one_is_a_usage_error(git_repo: GitRepo, command: list[str], jobs: str) -> None:
    git_repo.stage("README.md", "hello\n")
    git_repo.commit("init")
    assert_usage_error(run(git_repo.path, *command, f"--jobs={jobs}"), "--jobs")
