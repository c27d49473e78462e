"""``mcp-scan ci``: provider detection and event ranges on real repositories."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from scanner.ci import CIContext, detect, plan
from scanner.cli import main
from scanner.report.github import annotation_lines, github_annotation, job_summary
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo
from tests.sarif_test import validate

ZERO = "0" * 40
CI_PREFIXES = ("GITHUB_", "GITLAB_", "CI_", "BITBUCKET_", "BUILD_", "SYSTEM_", "RUNNER_", "PRE_COMMIT")
CI_NAMES = ("CI", "TF_BUILD", "GITLAB_CI", "GITHUB_ACTIONS")


@pytest.fixture(autouse=True)
def _no_ci_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite itself may run in CI: start every test from a clean slate."""
    for name in list(os.environ):
        if name.startswith(CI_PREFIXES) or name in CI_NAMES:
            monkeypatch.delenv(name)


@pytest.fixture
def history(git_repo: GitRepo) -> dict[str, str]:
    """main: base -> leak -> clean; origin/main at base; a feature branch name."""
    git_repo.stage("README.md", "hi\n")
    base = git_repo.commit("base")
    git_repo.stage("leak.env", f"STRIPE={stripe_live_key(seed=31)}\n")
    leak = git_repo.commit("leak")
    git_repo.stage("clean.txt", "clean\n")
    tip = git_repo.commit("clean")
    git_repo.git("update-ref", "refs/remotes/origin/main", base)
    return {"base": base, "leak": leak, "tip": tip}


def github_env(tmp_path: Path, event_name: str, event: dict[str, Any], **extra: str) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    env = {"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(path)}
    env.update(extra)
    return env


# -- detection ---------------------------------------------------------------

def test_detect_github_pull_request(tmp_path: Path) -> None:
    event = {"pull_request": {"base": {"sha": "b" * 40, "ref": "main"}, "head": {"sha": "h" * 40}},
             "repository": {"default_branch": "trunk"}}
    ctx = detect(github_env(tmp_path, "pull_request", event, GITHUB_BASE_REF="main", GITHUB_HEAD_REF="feat",
                            GITHUB_SHA="m" * 40, GITHUB_STEP_SUMMARY="/tmp/summary.md"))
    assert (ctx.provider, ctx.event, ctx.base, ctx.head) == ("github", "pull_request", "b" * 40, "h" * 40)
    assert (ctx.base_ref, ctx.branch, ctx.default_branch) == ("main", "feat", "trunk")
    assert ctx.annotations == "github" and ctx.summary_path == "/tmp/summary.md"


def test_detect_github_push_and_missing_event_file(tmp_path: Path) -> None:
    ctx = detect(github_env(tmp_path, "push", {"before": "1" * 40, "after": "2" * 40}, GITHUB_REF_NAME="dev"))
    assert (ctx.event, ctx.base, ctx.head, ctx.branch) == ("push", "1" * 40, "2" * 40, "dev")
    broken = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(tmp_path / "missing.json"),
              "GITHUB_SHA": "3" * 40}
    ctx = detect(broken)
    assert ctx.provider == "github" and ctx.base is None and ctx.head == "3" * 40


def test_detect_gitlab() -> None:
    mr = detect({"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7",
                 "CI_MERGE_REQUEST_DIFF_BASE_SHA": "a" * 40, "CI_COMMIT_SHA": "c" * 40,
                 "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_DEFAULT_BRANCH": "main"})
    assert (mr.provider, mr.event, mr.base, mr.head, mr.base_ref) == ("gitlab", "merge_request", "a" * 40, "c" * 40, "main")
    assert mr.annotations == "" and mr.summary_path is None
    push = detect({"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BEFORE_SHA": ZERO,
                   "CI_COMMIT_SHA": "c" * 40, "CI_COMMIT_BRANCH": "feat", "CI_DEFAULT_BRANCH": "main"})
    assert (push.event, push.base, push.branch, push.default_branch) == ("push", ZERO, "feat", "main")


def test_detect_bitbucket_azure_generic_local() -> None:
    bb = detect({"CI": "true", "BITBUCKET_BUILD_NUMBER": "12", "BITBUCKET_COMMIT": "c" * 40, "BITBUCKET_PR_ID": "3",
                 "BITBUCKET_PR_DESTINATION_COMMIT": "abcdef012345", "BITBUCKET_PR_DESTINATION_BRANCH": "main",
                 "BITBUCKET_BRANCH": "feat"})
    assert (bb.provider, bb.event, bb.base, bb.base_ref, bb.branch) == ("bitbucket", "pull_request", "abcdef012345", "main", "feat")
    az = detect({"TF_BUILD": "True", "BUILD_REASON": "PullRequest", "BUILD_SOURCEVERSION": "d" * 40,
                 "SYSTEM_PULLREQUEST_TARGETBRANCH": "refs/heads/main", "SYSTEM_PULLREQUEST_SOURCEBRANCH": "refs/heads/feat"})
    assert (az.provider, az.event, az.base_ref, az.branch, az.annotations) == ("azure", "pull_request", "main", "feat", "azure")
    az_push = detect({"TF_BUILD": "True", "BUILD_REASON": "IndividualCI", "BUILD_SOURCEBRANCH": "refs/heads/dev"})
    assert (az_push.event, az_push.branch) == ("IndividualCI", "dev")
    assert detect({"CI": "true"}).provider == "generic"
    assert detect({}).provider == "local" and not detect({}).in_ci


# -- ranges on real repositories ---------------------------------------------

def test_plan_pull_request_range(git_repo: GitRepo, history: dict[str, str]) -> None:
    ctx = CIContext("github", event="pull_request", base=history["base"], head=history["tip"])
    scan, warnings = plan(str(git_repo.path), ctx)
    assert scan.revs == [history["tip"]] and scan.exclude == [history["base"]] and not warnings


def test_plan_new_branch_push_uses_the_default_branch(git_repo: GitRepo, history: dict[str, str]) -> None:
    ctx = CIContext("github", event="push", base=ZERO, head=history["tip"], branch="feat", default_branch="main")
    scan, _ = plan(str(git_repo.path), ctx)
    assert scan.revs == [history["tip"]] and scan.exclude == [history["base"]]
    on_default = CIContext("github", event="push", base=ZERO, head=history["tip"], branch="main", default_branch="main")
    scan, _ = plan(str(git_repo.path), on_default)
    assert scan.revs is None and scan.description == "full history"


def test_plan_base_missing_from_shallow_clone_warns_and_falls_back(git_repo: GitRepo, history: dict[str, str]) -> None:
    ctx = CIContext("gitlab", event="push", base="f" * 40, head=history["tip"], branch="main", default_branch="main")
    scan, warnings = plan(str(git_repo.path), ctx)
    assert scan.revs is None
    assert any("fetch" in w and "GIT_DEPTH" in w for w in warnings)


def test_plan_target_branch_and_short_sha(git_repo: GitRepo, history: dict[str, str]) -> None:
    azure = CIContext("azure", event="pull_request", base_ref="main", head=history["tip"])
    scan, _ = plan(str(git_repo.path), azure)
    assert scan.exclude == [history["base"]]
    bitbucket = CIContext("bitbucket", event="pull_request", base=history["leak"][:12], head=history["tip"])
    scan, _ = plan(str(git_repo.path), bitbucket)
    assert scan.exclude == [history["leak"]]  # the abbreviated id was expanded
    overridden, _ = plan(str(git_repo.path), CIContext("local"), base=history["leak"], head="HEAD")
    assert overridden.revs == [history["tip"]] and overridden.exclude == [history["leak"]]


def test_plan_on_an_empty_repository(git_repo: GitRepo) -> None:
    scan, _ = plan(str(git_repo.path), CIContext("generic"))
    assert scan.empty


# -- the command end to end ----------------------------------------------------

def _run(monkeypatch: pytest.MonkeyPatch, repo: GitRepo, env: dict[str, str], *args: str) -> int:
    monkeypatch.chdir(repo.path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return main(["ci", *args])


def test_github_pull_request_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                        git_repo: GitRepo, history: dict[str, str]) -> None:
    secret = stripe_live_key(seed=31)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    event = {"pull_request": {"base": {"sha": history["base"], "ref": "main"}, "head": {"sha": history["tip"]}}}
    env = github_env(tmp_path, "pull_request", event, GITHUB_STEP_SUMMARY=str(summary), GITHUB_SHA=history["tip"])
    code = _run(monkeypatch, git_repo, env)
    out, err = capsys.readouterr()
    assert code == 1
    assert "::error file=leak.env,line=1,col=8," in out
    sarif = json.loads((git_repo.path / "mcp-scan.sarif").read_text("utf-8"))
    validate(sarif)
    assert sarif["runs"][0]["automationDetails"]["id"] == "mcp-scan/ci/"
    (result,) = sarif["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "leak.env"
    assert result["properties"]["commit"] == history["leak"]
    text = summary.read_text("utf-8")
    assert text.startswith("earlier step\n") and "1 secret found" in text and "leak.env" in text
    for blob in (out, err, text, json.dumps(sarif)):
        assert secret not in blob


def test_clean_pull_request_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                   git_repo: GitRepo, history: dict[str, str]) -> None:
    summary = tmp_path / "summary.md"
    event = {"pull_request": {"base": {"sha": history["leak"]}, "head": {"sha": history["tip"]}}}
    env = github_env(tmp_path, "pull_request", event, GITHUB_STEP_SUMMARY=str(summary))
    assert _run(monkeypatch, git_repo, env, "--sarif", str(tmp_path / "out.sarif")) == 0
    assert json.loads((tmp_path / "out.sarif").read_text("utf-8"))["runs"][0]["results"] == []
    assert "No secrets found" in summary.read_text("utf-8")
    assert "::error" not in capsys.readouterr().out


def test_gitlab_push_of_a_new_branch(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                     git_repo: GitRepo, history: dict[str, str]) -> None:
    git_repo.git("checkout", "-q", "-b", "feat")
    env = {"CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BEFORE_SHA": ZERO,
           "CI_COMMIT_SHA": history["tip"], "CI_COMMIT_BRANCH": "feat", "CI_DEFAULT_BRANCH": "main"}
    code = _run(monkeypatch, git_repo, env, "--dry-run")
    out = capsys.readouterr().out
    assert code == 0 and "provider: gitlab" in out and f"excluding {history['base']}" in out
    code = _run(monkeypatch, git_repo, env, "--format", "json", "--no-sarif")
    out = capsys.readouterr().out
    assert code == 1
    document = json.loads(out)  # no annotations mixed into the JSON (GitLab has none anyway)
    assert [f["path"] for f in document["findings"]] == ["leak.env"]
    assert not (git_repo.path / "mcp-scan.sarif").exists()


def test_azure_annotations_and_local_defaults(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                              git_repo: GitRepo, history: dict[str, str]) -> None:
    env = {"TF_BUILD": "True", "BUILD_REASON": "PullRequest", "BUILD_SOURCEVERSION": history["tip"],
           "SYSTEM_PULLREQUEST_TARGETBRANCH": "refs/heads/main"}
    assert _run(monkeypatch, git_repo, env) == 1
    out = capsys.readouterr().out
    assert "##vso[task.logissue type=error;sourcepath=leak.env;linenumber=1;columnnumber=8;code=stripe-live-secret-key]" in out
    for key in env:
        monkeypatch.delenv(key)
    # Outside CI: full history, no SARIF file unless asked.
    (git_repo.path / "mcp-scan.sarif").unlink()
    assert _run(monkeypatch, git_repo, {}) == 1
    assert not (git_repo.path / "mcp-scan.sarif").exists()


def test_annotations_escape_hostile_paths(git_repo: GitRepo) -> None:
    from scanner.detect import Detector
    from scanner.rules import builtin_rules

    secret = stripe_live_key(seed=32)
    (finding,) = Detector(builtin_rules()).scan_text(f"k={secret}\n", "a,b:c%d\n::error::x.env")
    line = github_annotation(finding)
    assert "\n" not in line and secret not in line
    assert "file=a%2Cb%3Ac%25d%0A%3A%3Aerror%3A%3Ax.env," in line
    (azure,) = annotation_lines([finding.replace(path="x;y]z")], "azure")
    assert "sourcepath=x%3By%5Dz;" in azure
    assert annotation_lines([finding], "") == []
    summary = job_summary([finding.replace(path="<img src=x onerror=alert(1)>|`x`")], "t", "range")
    assert "<img" not in summary and "&#60;img" in summary and secret not in summary


def test_machine_report_on_stdout_keeps_annotations_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str], git_repo: GitRepo,
                                                        history: dict[str, str]) -> None:
    event = {"before": history["base"], "after": history["tip"]}
    env = github_env(tmp_path, "push", event, GITHUB_REF_NAME="main", GITHUB_SHA=history["tip"])
    assert _run(monkeypatch, git_repo, env, "--format", "sarif", "--no-sarif") == 1
    out, err = capsys.readouterr()
    validate(json.loads(out))  # stdout is exactly one SARIF document
    assert "::error file=leak.env" in err


def test_job_summary_totals_and_truncation() -> None:
    from scanner.detect import Detector
    from scanner.rules import builtin_rules

    findings = [f for seed in range(60, 65) for f in Detector(builtin_rules()).scan_text(
        f"k={stripe_live_key(seed=seed)}\n", f"f{seed}.env")]
    assert len(findings) == 5
    summary = job_summary(findings, "mcp-scan", "pull request abc..def", limit=3)
    assert "**5 secrets found**" in summary and "| critical | 5 |" in summary
    assert sum(1 for line in summary.splitlines() if line.startswith("| critical | stripe-live-secret-key |")) == 3
    assert "and 2 more" in summary and "### What to do" in summary
    for seed in range(60, 65):
        assert stripe_live_key(seed=seed) not in summary
