"""Secrets that reached a remote, or escaped ``history``, by a side door (issue 12, defects 3 and 5).

- A push by URL must not trust what *other* remotes have: only the remote
  the URL names (a configured remote's URL) or the update lines themselves.
- Blobs and trees that only a tag or a custom ref reaches, and the messages
  of commits and annotated tags, are scanned by ``history`` and by the
  pre-push hook.

Everything runs through the real CLI: real repositories, real bare remotes,
real ``git push`` through the installed hook.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ci_test import CI_NAMES, CI_PREFIXES
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo
from tests.prepush_test import remote_with_one_commit


def install_pre_push(work: GitRepo) -> None:
    proc = subprocess.run([sys.executable, "-m", "scanner", "install", "--hook", "pre-push"], cwd=work.path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def push(work: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "push", *args], cwd=work.path, capture_output=True, text=True)


def ref_in(remote: GitRepo, ref: str) -> str:
    proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", ref], cwd=remote.path, capture_output=True,
                          text=True)
    return proc.stdout.strip()


def history(repo: GitRepo, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    """``mcp-scan history --format json --group path``: exit code, findings (one per secret and path:
    these cases judge where each ref's blobs are reported), stderr."""
    proc = repo.run_mcp_scan("history", "--format", "json", "--group", "path", "-q", *args)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in (0, 1), err
    return proc.returncode, json.loads(proc.stdout)["findings"], err


def blob(repo: GitRepo, text: str) -> str:
    return repo.git("hash-object", "-w", "--stdin", input=text.encode("utf-8")).strip()


@pytest.fixture
def work(tmp_path: Path) -> GitRepo:
    """A repository with one clean commit on main and a private bare ``origin`` that has it."""
    _origin, repo = remote_with_one_commit(tmp_path)
    return repo


# -- defect 3: pushing by URL ----------------------------------------------

def test_push_by_url_scans_commits_that_only_another_remote_has(tmp_path: Path, work: GitRepo) -> None:
    public = GitRepo.init(tmp_path / "public.git", "--bare")
    secret = stripe_live_key(seed=301)
    work.stage("deploy/.env", f"STRIPE_KEY={secret}\n")
    work.commit("secret, private remote only")
    assert push(work, "--no-verify", "origin", "main").returncode == 0
    install_pre_push(work)
    # origin/main has the secret; the public repository has never seen it.
    proc = push(work, str(public.path), "main")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "deploy/.env" in output and secret not in output
    assert ref_in(public, "main") == ""
    # The named remote does have it: a push of new, clean work there scans only that.
    work.stage("app.py", "print('ok')\n")
    work.commit("clean")
    proc = push(work, "origin", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    work.git("checkout", "-q", "-b", "feature")
    work.stage("feature.py", "x = 1\n")
    work.commit("clean feature")
    proc = push(work, "origin", "feature")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_push_by_the_url_of_a_configured_remote_uses_that_remotes_refs(work: GitRepo) -> None:
    origin_url = work.git("remote", "get-url", "origin").strip()
    work.stage("old.env", f"KEY={stripe_live_key(seed=302)}\n")
    work.commit("bypassed")
    assert push(work, "--no-verify", "origin", "main").returncode == 0
    install_pre_push(work)
    work.git("checkout", "-q", "-b", "feature")
    work.stage("feature.py", "x = 1\n")
    work.commit("clean feature")
    # A new branch pushed by origin's URL (spelled differently): origin has the old commits.
    for url in (origin_url, origin_url + "/", "file://" + origin_url):
        proc = push(work, "--dry-run", url, "feature")
        assert proc.returncode == 0, (url, proc.stdout + proc.stderr)
    assert push(work, origin_url, "feature").returncode == 0
    # ... but a secret in the new commits is still caught.
    work.stage("feature.env", f"KEY={stripe_live_key(seed=303)}\n")
    work.commit("secret on the branch")
    proc = push(work, origin_url, "feature")
    assert proc.returncode != 0 and "feature.env" in proc.stdout + proc.stderr
    assert "old.env" not in proc.stdout + proc.stderr


def test_push_by_url_trusts_what_the_update_lines_say_the_remote_has(tmp_path: Path, work: GitRepo) -> None:
    public = GitRepo.init(tmp_path / "public.git", "--bare")
    work.stage("old.env", f"KEY={stripe_live_key(seed=304)}\n")
    work.commit("bypassed")
    assert push(work, "--no-verify", str(public.path), "main").returncode == 0
    install_pre_push(work)
    work.stage("app.py", "print('ok')\n")
    tip = work.commit("clean")
    # public's main (named in the update line, present here) already has the old secret.
    proc = push(work, str(public.path), "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ref_in(public, "main") == tip


def test_url_spellings_of_one_repository_normalise_alike(tmp_path: Path) -> None:
    from scanner.pushrange import normalise_url

    repo = str(tmp_path)
    (tmp_path / "r.git").mkdir()
    same = [f"{tmp_path}/r.git", f"{tmp_path}/r.git/", "r.git", "./r.git", f"file://{tmp_path}/r.git"]
    assert len({normalise_url(u, repo) for u in same}) == 1
    assert normalise_url("r", repo) != normalise_url("r.git", repo)  # two local directories
    hosted = ["https://Git.Example.com/org/repo.git", "https://git.example.com/org/repo/", "https://git.example.com/org/repo"]
    assert len({normalise_url(u, repo) for u in hosted}) == 1
    assert normalise_url("git@Example.com:org/repo.git", repo) == normalise_url("git@example.com:org/repo", repo)
    assert normalise_url("https://example.com/org/other", repo) != normalise_url("https://example.com/org/repo", repo)


# -- defect 5: objects only refs reach, commit and tag messages --------------

def test_history_scans_blobs_and_trees_only_refs_reach(work: GitRepo) -> None:
    keys = {name: stripe_live_key(seed=310 + i) for i, name in enumerate(("blob", "tree", "annotated", "custom", "nested"))}
    work.git("tag", "blobtag", blob(work, f"k='{keys['blob']}'\n"))
    inner = blob(work, f"STRIPE_KEY={keys['tree']}\n")
    sub = work.git("mktree", input=f"100644 blob {inner}\tconfig.env\n".encode()).strip()
    tree = work.git("mktree", input=f"040000 tree {sub}\tdeploy\n".encode()).strip()
    work.git("tag", "treetag", tree)
    work.git("tag", "-a", "-m", "a tag of a blob", "atag", blob(work, f"k='{keys['annotated']}'\n"))
    work.git("update-ref", "refs/custom/x", blob(work, f"k='{keys['custom']}'\n"))
    work.git("tag", "-a", "-m", "inner", "inner", blob(work, f"k='{keys['nested']}'\n"))
    work.git("tag", "-a", "-m", "outer", "outer", "inner")  # a tag of a tag of a blob
    code, findings, err = history(work)
    assert code == 1, err
    by_path = {f["path"]: f for f in findings}
    # Each ref is a place to clean up: the blob both tags reach is reported under each.
    assert sorted(by_path) == ["refs/custom/x", "refs/tags/atag", "refs/tags/blobtag", "refs/tags/inner",
                               "refs/tags/outer", "refs/tags/treetag:deploy/config.env"], findings
    assert len(findings) == 6
    for path, finding in by_path.items():
        ref = path.split(":", 1)[0]
        assert finding["commit"] == ref and finding["ref"] == ref
        assert finding["author"] is None and finding["line"] == 1
    assert not any(k in json.dumps(findings) for k in keys.values())


def test_history_scans_commit_and_tag_messages_cold_and_warm(work: GitRepo) -> None:
    in_commit, in_tag = stripe_live_key(seed=320), stripe_live_key(seed=321)
    work.stage("app.py", "print('ok')\n")
    leaky = work.commit(f"deploy\n\ntested with {in_commit}\n")
    work.commit("later, clean")
    work.git("tag", "-a", "-m", f"release\n\nkey: {in_tag}", "v1", leaky)
    work.git("tag", "light", leaky)  # a lightweight tag has no message of its own
    work.git("tag", "blobtag", blob(work, f"k='{stripe_live_key(seed=322)}'\n"))
    runs = [history(work) for _ in range(2)]
    (code, findings, err), (warm_code, warm, _) = runs
    assert code == warm_code == 1, err
    assert findings == warm  # identical cold and warm
    messages = {f["path"]: f for f in findings if f["path"].startswith("<")}
    assert set(messages) == {"<commit message>", "<tag message refs/tags/v1>"}, findings
    assert messages["<commit message>"]["commit"] == leaky and messages["<commit message>"]["line"] == 3
    assert messages["<commit message>"]["author"] == "Test Author <author@example.com>"
    assert messages["<tag message refs/tags/v1>"]["commit"] == "refs/tags/v1"
    assert messages["<tag message refs/tags/v1>"]["line"] == 3
    assert len(findings) == 3
    # --show-secrets on a warm cache still shows the real values.
    shown = work.run_mcp_scan("history", "--format", "json", "-q", "--show-secrets")
    assert {stripe_live_key(seed=s) for s in (320, 321, 322)} <= {f["secret"] for f in json.loads(shown.stdout)["findings"]}
    # A range holds only its own commits' messages.
    code, ranged, _ = history(work, "--since", leaky)
    assert "<commit message>" not in {f["path"] for f in ranged}
    code, ranged, _ = history(work, "--since", f"{leaky}~1")
    assert "<commit message>" in {f["path"] for f in ranged}
    code, branch, _ = history(work, "--no-cache", "--branch", "main")
    assert [f["path"] for f in branch] == ["<commit message>"]


def test_other_whole_history_commands_see_what_only_refs_reach(tmp_path: Path, work: GitRepo) -> None:
    work.git("tag", "blobtag", blob(work, f"k='{stripe_live_key(seed=330)}'\n"))
    # Outside CI (the suite itself may run in CI) `ci` scans the whole history.
    local = {k: v for k, v in os.environ.items() if not (k.startswith(CI_PREFIXES) or k in CI_NAMES)}
    ci = subprocess.run([sys.executable, "-m", "scanner", "ci", "--no-sarif", "--format", "json"], cwd=work.path,
                        capture_output=True, env=local)
    assert ci.returncode == 1, ci.stderr
    assert [f["path"] for f in json.loads(ci.stdout)["findings"]] == ["refs/tags/blobtag"]
    sweep = subprocess.run([sys.executable, "-m", "scanner", "sweep", str(tmp_path), "--format", "json"],
                           capture_output=True, text=True)
    assert sweep.returncode == 1, sweep.stderr
    assert "refs/tags/blobtag" in {f["path"] for f in json.loads(sweep.stdout)["findings"]}


def test_pre_push_blocks_tags_of_blobs_and_trees(work: GitRepo) -> None:
    install_pre_push(work)
    origin = GitRepo(Path(work.git("remote", "get-url", "origin").strip()))
    secret = stripe_live_key(seed=340)
    work.git("tag", "blobtag", blob(work, f"k='{secret}'\n"))
    proc = push(work, "origin", "blobtag")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "refs/tags/blobtag" in output and secret not in output
    assert ref_in(origin, "refs/tags/blobtag") == ""
    inner = blob(work, f"STRIPE_KEY={stripe_live_key(seed=341)}\n")
    work.git("tag", "treetag", work.git("mktree", input=f"100644 blob {inner}\tconfig.env\n".encode()).strip())
    proc = push(work, "origin", "treetag")
    assert proc.returncode != 0 and "refs/tags/treetag:config.env" in proc.stdout + proc.stderr
    work.git("update-ref", "refs/custom/x", inner)
    proc = push(work, "origin", "refs/custom/x")
    assert proc.returncode != 0 and "refs/custom/x" in proc.stdout + proc.stderr
    work.git("tag", "cleantag", blob(work, "nothing to see\n"))
    proc = push(work, "origin", "cleantag")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ref_in(origin, "refs/tags/cleantag") != ""


def test_pre_push_scans_commit_and_tag_messages(work: GitRepo) -> None:
    install_pre_push(work)
    # An annotated tag of a commit the remote already has: only its message is new.
    work.git("tag", "-a", "-m", f"release\n\nkey: {stripe_live_key(seed=342)}", "v1", "main")
    proc = push(work, "origin", "v1")
    assert proc.returncode != 0 and "<tag message refs/tags/v1>" in proc.stdout + proc.stderr
    work.git("tag", "-a", "-m", "release 2, clean", "v2", "main")
    assert push(work, "origin", "v2").returncode == 0
    # A commit message carrying a token.
    work.commit(f"debugging\n\ncurl -u {stripe_live_key(seed=343)}: https://api.stripe.com\n")
    proc = push(work, "origin", "main")
    assert proc.returncode != 0 and "<commit message>" in proc.stdout + proc.stderr
    # Once on the remote anyway, later pushes do not rescan it.
    assert push(work, "--no-verify", "origin", "main").returncode == 0
    work.commit("clean")
    proc = push(work, "origin", "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_history_branch_naming_a_tag_of_a_blob_scans_it(work: GitRepo) -> None:
    work.git("tag", "blobtag", blob(work, f"k='{stripe_live_key(seed=350)}'\n"))
    code, findings, err = history(work, "--branch", "blobtag")
    assert code == 1, err
    assert [(f["path"], f["commit"]) for f in findings] == [("refs/tags/blobtag", "refs/tags/blobtag")]


def test_a_tagged_blob_a_rule_cannot_finish_fails_closed_cold_and_warm(work: GitRepo) -> None:
    from tests.incomplete_scan_test import VICTIM, assert_incomplete, write_config

    write_config(work.path)
    work.git("add", ".mcp-scan.toml", "team.gitleaks.toml")
    work.commit("rules")
    work.git("tag", "blobtag", blob(work, VICTIM))
    for _run in ("cold", "warm"):
        proc = work.run_mcp_scan("history", "-q")
        assert_incomplete(proc, "refs/tags/blobtag")


def test_a_message_a_rule_cannot_finish_fails_closed_cold_and_warm(work: GitRepo) -> None:
    from tests.incomplete_scan_test import VICTIM, assert_incomplete, write_config

    write_config(work.path)
    work.git("add", ".mcp-scan.toml", "team.gitleaks.toml")
    work.commit("rules")
    leaky = work.commit(f"debug output\n\n{VICTIM}")
    for _run in ("cold", "warm"):
        proc = work.run_mcp_scan("history", "-q")
        assert_incomplete(proc, "<commit message>", commit=leaky)


def test_reports_name_a_ref_only_finding_by_its_whole_ref(tmp_path: Path) -> None:
    # A finding with no commit carries the ref name where the commit id goes:
    # reports cut commit ids to 12 digits, but never a ref name.
    repo = GitRepo.init(tmp_path / "repo")
    repo.stage("README.md", "hi\n")
    repo.commit("init")
    blob = repo.git("hash-object", "-w", "--stdin", input=f"k = '{stripe_live_key(seed=93)}'\n".encode()).strip()
    repo.git("tag", "release-notes-blob", blob)
    text = subprocess.run([sys.executable, "-m", "scanner", "history"], cwd=repo.path, capture_output=True, text=True)
    assert text.returncode == 1, text.stderr
    assert "refs/tags/release-notes-blob" in text.stdout
    sarif = subprocess.run([sys.executable, "-m", "scanner", "history", "--format", "sarif"], cwd=repo.path,
                           capture_output=True, text=True)
    [result] = json.loads(sarif.stdout)["runs"][0]["results"]
    assert "refs/tags/release-notes-blob" in result["message"]["text"]
