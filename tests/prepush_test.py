"""``mcp-scan pre-push``: real bare remotes, real ``git push`` through the installed hook."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.errors import EXIT_USAGE, ScanError
from scanner.pushrange import parse_updates, push_range
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

ZERO = "0" * 40


def remote_with_one_commit(tmp_path: Path) -> tuple[GitRepo, GitRepo]:
    """A bare "remote" and a work repository whose one clean commit is pushed to its main."""
    remote = GitRepo.init(tmp_path / "remote.git", "--bare")
    work = GitRepo.init(tmp_path / "work")
    work.git("remote", "add", "origin", str(remote.path))
    work.stage("README.md", "hello\n")
    work.commit("initial")
    work.git("push", "-q", "origin", "main")
    return remote, work


@pytest.fixture
def remote_and_clone(tmp_path: Path) -> tuple[GitRepo, GitRepo]:
    """A bare "remote" with one clean commit on main, and a clone with the native hook."""
    remote, work = remote_with_one_commit(tmp_path)
    install = subprocess.run([sys.executable, "-m", "scanner", "install", "--hook", "pre-push"],
                             cwd=work.path, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    return remote, work


def push(work: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "push", *args], cwd=work.path, capture_output=True, text=True)


def remote_sha(remote: GitRepo, ref: str) -> str:
    proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", ref], cwd=remote.path, capture_output=True, text=True)
    return proc.stdout.strip()


def hook(work: GitRepo, stdin: str, *args: str, env: "dict[str, str] | None" = None) -> subprocess.CompletedProcess[str]:
    """Run ``mcp-scan pre-push`` as git would: remote name and URL as arguments, updates on stdin."""
    return subprocess.run([sys.executable, "-m", "scanner", "pre-push", *args], cwd=work.path, input=stdin,
                          capture_output=True, text=True, env=env)


def test_parse_updates() -> None:
    text = f"refs/heads/main {'a' * 40} refs/heads/main {'b' * 40}\n\nHEAD {'c' * 40} refs/heads/x {ZERO}\n"
    first, second = parse_updates(text)
    assert (first.local_ref, first.local_sha, first.remote_ref, first.remote_sha) == ("refs/heads/main", "a" * 40, "refs/heads/main", "b" * 40)
    assert second.new_ref and not second.deletion
    (deletion,) = parse_updates(f"(delete) {ZERO} refs/heads/gone {'d' * 40}\n")
    assert deletion.deletion
    with pytest.raises(ScanError) as info:
        parse_updates("refs/heads/main abc\n")
    assert info.value.exit_code == EXIT_USAGE


def test_push_adding_a_secret_is_blocked(remote_and_clone: tuple[GitRepo, GitRepo]) -> None:
    remote, work = remote_and_clone
    before = remote_sha(remote, "main")
    secret = stripe_live_key(seed=11)
    work.stage("deploy/.env", f"STRIPE_KEY={secret}\n")
    work.commit("add secret")
    work.stage("notes.txt", "unrelated\n")
    work.commit("later clean commit")  # the secret is in an older pushed commit, not at the tip's diff
    proc = push(work, "origin", "main")
    assert proc.returncode != 0
    assert "deploy/.env" in proc.stderr + proc.stdout
    assert secret not in proc.stderr + proc.stdout
    assert remote_sha(remote, "main") == before  # nothing reached the remote


def test_clean_push_passes_and_already_pushed_secrets_are_not_rescanned(remote_and_clone: tuple[GitRepo, GitRepo]) -> None:
    remote, work = remote_and_clone
    work.stage("app.py", "print('ok')\n")
    work.commit("clean")
    assert push(work, "origin", "main").returncode == 0
    # A secret that got onto the remote anyway (hook bypassed) is history's job,
    # not a reason to block every later push.
    work.stage("old.env", f"KEY={stripe_live_key(seed=12)}\n")
    work.commit("bypassed")
    assert push(work, "--no-verify", "origin", "main").returncode == 0
    work.stage("app.py", "print('ok again')\n")
    work.commit("clean again")
    proc = push(work, "origin", "main")
    assert proc.returncode == 0, proc.stderr
    assert remote_sha(remote, "main") == work.git("rev-parse", "HEAD").strip()


def test_a_kept_hook_that_reads_stdin_does_not_starve_the_scan(tmp_path: Path) -> None:
    # git-lfs's pre-push hook reads the ref updates too; both hooks must see them.
    _remote, work = remote_with_one_commit(tmp_path)
    seen = tmp_path / "seen-by-kept-hook.txt"
    kept = work.path / ".git" / "hooks" / "pre-push"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(f"#!/bin/sh\ncat > '{seen}'\n", encoding="utf-8")
    kept.chmod(0o755)
    installed = subprocess.run([sys.executable, "-m", "scanner", "install", "--hook", "pre-push"], cwd=work.path,
                               check=True, capture_output=True, text=True)
    assert installed.stdout.strip().endswith("the existing hook was kept as pre-push.mcp-scan-orig and runs first")
    work.stage("leak.env", f"KEY={stripe_live_key(seed=23)}\n")
    tip = work.commit("leak")
    proc = push(work, "origin", "main")
    assert proc.returncode != 0 and "leak.env" in proc.stderr + proc.stdout
    assert f"refs/heads/main {tip} refs/heads/main" in seen.read_text()
    kept_failing = work.path / ".git" / "hooks" / "pre-push.mcp-scan-orig"
    kept_failing.write_text("#!/bin/sh\ncat >/dev/null\nexit 7\n", encoding="utf-8")
    assert push(work, "--dry-run", "origin", "main").returncode != 0


def test_new_branch_scans_only_commits_the_remote_lacks(remote_and_clone: tuple[GitRepo, GitRepo]) -> None:
    remote, work = remote_and_clone
    work.stage("old.env", f"KEY={stripe_live_key(seed=13)}\n")
    work.commit("bypassed on main")
    assert push(work, "--no-verify", "origin", "main").returncode == 0
    work.git("checkout", "-q", "-b", "feature")
    work.stage("feature.py", "x = 1\n")
    work.commit("clean feature work")
    proc = push(work, "origin", "feature")
    assert proc.returncode == 0, proc.stderr
    work.stage("feature.env", f"KEY={stripe_live_key(seed=14)}\n")
    work.commit("secret on a new branch")
    work.git("checkout", "-q", "-b", "feature2")
    proc = push(work, "origin", "feature2")
    assert proc.returncode != 0
    assert "feature.env" in proc.stderr + proc.stdout
    assert "old.env" not in proc.stderr + proc.stdout
    assert remote_sha(remote, "feature2") == ""


def test_deleting_a_branch_scans_nothing(remote_and_clone: tuple[GitRepo, GitRepo]) -> None:
    remote, work = remote_and_clone
    work.git("checkout", "-q", "-b", "leaky")
    work.stage("leak.env", f"KEY={stripe_live_key(seed=15)}\n")
    work.commit("leak")
    assert push(work, "--no-verify", "origin", "leaky").returncode == 0
    proc = push(work, "origin", ":leaky")
    assert proc.returncode == 0, proc.stderr
    assert remote_sha(remote, "leaky") == ""


def test_force_push_removing_the_secret_passes_and_adding_one_blocks(remote_and_clone: tuple[GitRepo, GitRepo]) -> None:
    remote, work = remote_and_clone
    work.stage("a.txt", "a\n")
    work.commit("a")
    assert push(work, "origin", "main").returncode == 0
    work.stage("leak.env", f"KEY={stripe_live_key(seed=16)}\n")
    work.commit("leak")
    assert push(work, "origin", "main").returncode != 0
    # Rewrite: drop the leak, diverge from the remote, force push.
    work.git("reset", "-q", "--hard", "HEAD~2")
    work.stage("b.txt", "b\n")
    work.commit("b instead of a")
    proc = push(work, "--force", "origin", "main")
    assert proc.returncode == 0, proc.stderr
    work.stage("leak2.env", f"KEY={stripe_live_key(seed=17)}\n")
    work.commit("leak again")
    work.git("commit", "-q", "--amend", "-m", "leak again, amended")
    proc = push(work, "--force", "origin", "main")
    assert proc.returncode != 0 and "leak2.env" in proc.stderr + proc.stdout


def test_force_push_over_commits_never_fetched(tmp_path: Path, remote_and_clone: tuple[GitRepo, GitRepo]) -> None:
    remote, work = remote_and_clone
    other = GitRepo.init(tmp_path / "other")
    other.git("remote", "add", "origin", str(remote.path))
    other.git("fetch", "-q", "origin")
    other.git("checkout", "-q", "-b", "main", "origin/main")
    other.stage("theirs.txt", "theirs\n")
    other.commit("someone else's commit")
    other.git("push", "-q", "origin", "main")
    unknown = remote_sha(remote, "main")
    assert subprocess.run(["git", "cat-file", "-e", unknown], cwd=work.path).returncode != 0
    work.stage("leak.env", f"KEY={stripe_live_key(seed=18)}\n")
    work.commit("leak")
    # The remote's value is not in our object store: fall back to what the
    # remote-tracking refs say the remote has.
    proc = push(work, "--force", "origin", "main")
    assert proc.returncode != 0 and "leak.env" in proc.stderr + proc.stdout
    assert remote_sha(remote, "main") == unknown


def test_hook_protocol_scans_exactly_the_given_range(remote_and_clone: tuple[GitRepo, GitRepo]) -> None:
    _, work = remote_and_clone
    base = work.git("rev-parse", "HEAD").strip()
    work.stage("leak.env", f"KEY={stripe_live_key(seed=19)}\n")
    leak = work.commit("leak")
    work.stage("clean.txt", "x\n")
    tip = work.commit("clean")
    url = str(work.path.parent / "remote.git")
    assert hook(work, f"refs/heads/main {tip} refs/heads/main {base}\n", "origin", url).returncode == 1
    assert hook(work, f"refs/heads/main {tip} refs/heads/main {leak}\n", "origin", url).returncode == 0
    assert hook(work, f"(delete) {ZERO} refs/heads/main {tip}\n", "origin", url).returncode == 0
    assert hook(work, "", "origin", url).returncode == 0
    # Two refs at once: an up-to-date main and a new branch carrying the leak.
    both = f"refs/heads/main {base} refs/heads/main {base}\nrefs/heads/x {tip} refs/heads/x {ZERO}\n"
    proc = hook(work, both, "origin", url, "--format", "json")
    assert proc.returncode == 1 and '"leak.env"' in proc.stdout
    bad = hook(work, "garbage\n", "origin", url)
    assert bad.returncode == EXIT_USAGE and "pre-push" in bad.stderr


def test_push_range_unions_updates(remote_and_clone: tuple[GitRepo, GitRepo]) -> None:
    _, work = remote_and_clone
    base = work.git("rev-parse", "HEAD").strip()
    tip = work.commit("one")
    scan = push_range(str(work.path), parse_updates(f"refs/heads/main {tip} refs/heads/main {base}\n"), "origin")
    assert scan.revs == [tip] and scan.exclude == [base]
    new = push_range(str(work.path), parse_updates(f"refs/heads/n {tip} refs/heads/n {ZERO}\n"), "origin")
    assert new.revs == [tip] and new.exclude == [base]  # origin/main's tip
    gone = push_range(str(work.path), parse_updates(f"(delete) {ZERO} refs/heads/n {tip}\n"), "origin")
    assert gone.empty


def test_pre_commit_environment_range(remote_and_clone: tuple[GitRepo, GitRepo]) -> None:
    _, work = remote_and_clone
    base = work.git("rev-parse", "HEAD").strip()
    work.stage("leak.env", f"KEY={stripe_live_key(seed=20)}\n")
    leak = work.commit("leak")
    tip = work.commit("clean")
    env = dict(os.environ, PRE_COMMIT="1", PRE_COMMIT_REMOTE_NAME="origin",
               PRE_COMMIT_FROM_REF=base, PRE_COMMIT_TO_REF=tip)
    # stdin was consumed by pre-commit: nothing arrives there.
    assert hook(work, "", env=env).returncode == 1
    assert hook(work, "", env=dict(env, PRE_COMMIT_FROM_REF=leak)).returncode == 0
    # "all files" mode (the push reaches a root commit): only the local branch is named.
    all_files = dict(os.environ, PRE_COMMIT="1", PRE_COMMIT_REMOTE_NAME="origin", PRE_COMMIT_LOCAL_BRANCH="refs/heads/main")
    assert hook(work, "", env=all_files).returncode == 1


def test_through_the_pre_commit_framework(tmp_path: Path, remote_and_clone: tuple[GitRepo, GitRepo]) -> None:
    pre_commit = Path(sys.executable).with_name("pre-commit")
    if not pre_commit.exists():
        pytest.skip("pre-commit is not installed next to this Python (pip install -e .[test])")
    remote, work = remote_and_clone
    (Path(work.path) / ".git" / "hooks" / "pre-push").unlink()  # the framework's hook replaces the native one
    config = (
        "repos:\n"
        "  - repo: local\n"
        "    hooks:\n"
        "      - id: mcp-scan-push\n"
        "        name: mcp-scan-push\n"
        f"        entry: {sys.executable} -m scanner pre-push\n"
        "        language: system\n"
        "        pass_filenames: false\n"
        "        always_run: true\n"
        "        stages: [pre-push]\n"
    )
    work.stage(".pre-commit-config.yaml", config)
    work.commit("pre-commit config")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    installed = subprocess.run([str(pre_commit), "install", "--hook-type", "pre-push"], cwd=work.path,
                               capture_output=True, text=True, env=env)
    assert installed.returncode == 0, installed.stderr
    proc = subprocess.run(["git", "push", "origin", "main"], cwd=work.path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    secret = stripe_live_key(seed=21)
    work.stage("leak.env", f"KEY={secret}\n")
    work.commit("leak")
    work.stage("later.txt", "x\n")
    work.commit("later")
    proc = subprocess.run(["git", "push", "origin", "main"], cwd=work.path, capture_output=True, text=True, env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "leak.env" in output and secret not in output
    assert remote_sha(remote, "main") != work.git("rev-parse", "HEAD").strip()


def test_manifest_hook_mcp_scan_push_via_try_repo(tmp_path: Path, git_repo: GitRepo) -> None:
    """The shipped `.pre-commit-hooks.yaml` entry, installed the way users get it (pip install .)."""
    checkout = Path(__file__).resolve().parent.parent
    git_repo.stage("README.md", "hi\n")
    base = git_repo.commit("base")
    secret = stripe_live_key(seed=22)
    git_repo.stage("deploy.env", f"KEY={secret}\n")
    leak = git_repo.commit("leak")
    git_repo.stage("more.txt", "more\n")
    tip = git_repo.commit("more")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), PRE_COMMIT_COLOR="never")

    def try_repo(from_ref: str, to_ref: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(checkout), "mcp-scan-push", "--verbose",
             "--hook-stage", "pre-push", "--from-ref", from_ref, "--to-ref", to_ref],
            cwd=git_repo.path, env=env, capture_output=True, text=True, timeout=900,
        )

    blocked = try_repo(base, tip)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode == 1, output
    assert "deploy.env" in output and secret not in output
    clean = try_repo(leak, tip)
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_generated_files_pushed_with_no_verify_are_blocked_at_push(remote_and_clone: tuple[GitRepo, GitRepo]) -> None:
    # Issue 12, item 2: a bundle, a lockfile's resolved URL and a source map,
    # committed past the commit hook, used to be skipped unread by pre-push.
    remote, work = remote_and_clone
    token = "ghp_" + "".join(chr(ord("a") + (i * 7) % 26) if i % 3 else str(i % 10) for i in range(36))
    work.stage("dist/app.min.js", f'!function(){{var k="{stripe_live_key(seed=61)}"}}();\n')
    work.stage("package-lock.json", '{"packages": {"node_modules/x": {"resolved": '
               f'"https://x-access-token:{token}@github.com/acme/x/archive/v1.tgz"}}}}}}\n')
    work.stage("routes.map", f'{{"version":3,"sourcesContent":["const key = \\"{stripe_live_key(seed=62)}\\""]}}\n')
    subprocess.run(["git", "commit", "-q", "--no-verify", "-m", "build output"], cwd=work.path, check=True)
    proc = push(work, "origin", "main")
    assert proc.returncode != 0, proc.stderr
    for path in ("dist/app.min.js", "package-lock.json", "routes.map"):
        assert path in proc.stdout, (path, proc.stdout)
    assert remote_sha(remote, "main") != work.git("rev-parse", "main").strip()
