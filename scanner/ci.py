"""CI providers: which one we run under, and which commits its event adds.

Each provider describes its event in environment variables (GitHub also in
the event JSON at ``$GITHUB_EVENT_PATH``). ``detect`` reads them into a
``CIContext``; ``plan`` turns that into a ``ScanRange`` against the clone:
the pull/merge request's commits, else the pushed commits, else (on the
default branch, or when nothing better is known) the full history.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from scanner.gitcmd import run_git, verify_commit
from scanner.pushrange import ScanRange, commit_exists, is_zero, resolve

PR_EVENTS = ("pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment")


@dataclass
class CIContext:
    """What a CI event tells us. Any field may be unknown (None)."""

    provider: str                       # github, gitlab, bitbucket, azure, generic, local
    event: str = ""                     # pull_request, merge_request, push, schedule, ...
    base: Optional[str] = None          # commit the change starts after (PR base / push "before")
    head: Optional[str] = None          # commit being built
    base_ref: Optional[str] = None      # target branch of a PR/MR, when no base commit is given
    branch: Optional[str] = None        # branch being built
    default_branch: Optional[str] = None
    annotations: str = ""               # "github" / "azure": the log syntax for inline errors
    summary_path: Optional[str] = None  # markdown job summary file (GitHub)

    @property
    def in_ci(self) -> bool:
        return self.provider != "local"

    @property
    def is_change_request(self) -> bool:
        return self.event in ("pull_request", "merge_request")


def _truthy(value: Optional[str]) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _branch_name(ref: Optional[str]) -> Optional[str]:
    if not ref:
        return None
    for prefix in ("refs/heads/", "refs/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def _github_event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _dig(data: Any, *keys: str) -> Optional[str]:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data if isinstance(data, str) and data else None


def _github(env: Mapping[str, str]) -> CIContext:
    name = env.get("GITHUB_EVENT_NAME", "")
    event = _github_event(env)
    ctx = CIContext("github", event=name, head=env.get("GITHUB_SHA"), annotations="github",
                    summary_path=env.get("GITHUB_STEP_SUMMARY") or None,
                    default_branch=_dig(event, "repository", "default_branch"))
    if name in PR_EVENTS:
        ctx.event = "pull_request"
        ctx.base = _dig(event, "pull_request", "base", "sha")
        ctx.head = _dig(event, "pull_request", "head", "sha") or ctx.head
        ctx.base_ref = env.get("GITHUB_BASE_REF") or _dig(event, "pull_request", "base", "ref")
        ctx.branch = env.get("GITHUB_HEAD_REF") or None
    elif name == "merge_group":
        ctx.base = _dig(event, "merge_group", "base_sha")
        ctx.head = _dig(event, "merge_group", "head_sha") or ctx.head
    else:
        if name == "push":
            ctx.base = _dig(event, "before")
            ctx.head = _dig(event, "after") or ctx.head
        ctx.branch = env.get("GITHUB_REF_NAME") if env.get("GITHUB_REF_TYPE", "branch") == "branch" else None
    return ctx


def _gitlab(env: Mapping[str, str]) -> CIContext:
    ctx = CIContext("gitlab", event=env.get("CI_PIPELINE_SOURCE", ""), head=env.get("CI_COMMIT_SHA"),
                    default_branch=env.get("CI_DEFAULT_BRANCH"), branch=env.get("CI_COMMIT_BRANCH"))
    if env.get("CI_MERGE_REQUEST_IID") or ctx.event == "merge_request_event":
        ctx.event = "merge_request"
        # DIFF_BASE_SHA is the merge base GitLab diffs against; TARGET_BRANCH_SHA
        # is set for merged-results pipelines only.
        ctx.base = env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA") or env.get("CI_MERGE_REQUEST_TARGET_BRANCH_SHA")
        ctx.base_ref = env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
        ctx.branch = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") or ctx.branch
    else:
        # All zeros on a new branch's first pipeline: handled like a new branch.
        ctx.base = env.get("CI_COMMIT_BEFORE_SHA")
    return ctx


def _bitbucket(env: Mapping[str, str]) -> CIContext:
    ctx = CIContext("bitbucket", event="push", head=env.get("BITBUCKET_COMMIT"), branch=env.get("BITBUCKET_BRANCH"))
    if env.get("BITBUCKET_PR_ID"):
        ctx.event = "pull_request"
        # A 12-character abbreviated id; ``resolve`` expands it.
        ctx.base = env.get("BITBUCKET_PR_DESTINATION_COMMIT")
        ctx.base_ref = env.get("BITBUCKET_PR_DESTINATION_BRANCH")
    return ctx


def _azure(env: Mapping[str, str]) -> CIContext:
    reason = env.get("BUILD_REASON", "")
    ctx = CIContext("azure", event=reason, head=env.get("BUILD_SOURCEVERSION"), annotations="azure",
                    branch=_branch_name(env.get("BUILD_SOURCEBRANCH")))
    if reason == "PullRequest" or env.get("SYSTEM_PULLREQUEST_TARGETBRANCH"):
        ctx.event = "pull_request"
        ctx.base_ref = _branch_name(env.get("SYSTEM_PULLREQUEST_TARGETBRANCH"))
        ctx.branch = _branch_name(env.get("SYSTEM_PULLREQUEST_SOURCEBRANCH"))
    return ctx


def detect(env: Mapping[str, str]) -> CIContext:
    """The provider and event described by ``env`` (``os.environ`` in real use)."""
    if _truthy(env.get("GITHUB_ACTIONS")):
        return _github(env)
    if _truthy(env.get("GITLAB_CI")):
        return _gitlab(env)
    if env.get("BITBUCKET_BUILD_NUMBER"):
        return _bitbucket(env)
    if _truthy(env.get("TF_BUILD")):
        return _azure(env)
    if _truthy(env.get("CI")):
        return CIContext("generic")
    return CIContext("local")


def _remote_branch(repo: str, name: Optional[str]) -> Optional[str]:
    """The commit of branch ``name`` as this clone knows it (remote-tracking first)."""
    if not name:
        return None
    for ref in (f"refs/remotes/origin/{name}", f"refs/heads/{name}", name):
        sha = resolve(repo, ref)
        if sha:
            return sha
    return None


def default_branch(repo: str, ctx: CIContext) -> Optional[str]:
    """The default branch's name: from the provider, else ``origin/HEAD``."""
    if ctx.default_branch:
        return ctx.default_branch
    out = run_git(["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"], cwd=repo, check=False)
    name = out.decode("utf-8", "replace").strip()
    return name.split("/", 1)[1] if "/" in name else None


def plan(repo: str, ctx: CIContext, *, base: Optional[str] = None, head: Optional[str] = None) -> tuple[ScanRange, list[str]]:
    """The commits to scan for this event, and warnings about fallbacks taken.

    ``base``/``head`` (from ``--base``/``--head``) override what the provider says.
    When given, they must name commits (a usage error otherwise, exit 2): scanning some
    other range than the one asked for would pass or block the wrong change.
    What the provider says is looser: a commit missing from a shallow clone
    widens the scan, with a warning.
    """
    warnings: list[str] = []
    if head:
        head = verify_commit(repo, head, "--head")
    if base and not is_zero(base):  # all zeros: a new branch, as the provider would say it
        base = verify_commit(repo, base, "--base")
    head_sha = resolve(repo, head or ctx.head or "HEAD") or resolve(repo, "HEAD")
    if head_sha is None:
        return ScanRange(revs=[], description="empty repository"), warnings
    if head is None and ctx.head and not commit_exists(repo, ctx.head):
        warnings.append(f"commit {ctx.head[:12]} named by the CI event is not in the clone; scanning HEAD instead")
    base_rev = base or ctx.base
    if base_rev and not is_zero(base_rev):
        base_sha = resolve(repo, base_rev)
        if base_sha:
            kind = "pull request" if ctx.is_change_request else "range"
            return ScanRange(revs=[head_sha], exclude=[base_sha],
                             description=f"{kind} {base_sha[:12]}..{head_sha[:12]}"), warnings
        warnings.append(f"base commit {base_rev[:12]} is not in the clone (shallow clone?); "
                        "fetch full history (GitHub: fetch-depth: 0, GitLab: GIT_DEPTH: 0) to scan only the change")
    if ctx.base_ref:
        target = _remote_branch(repo, ctx.base_ref)
        if target:
            return ScanRange(revs=[head_sha], exclude=[target],
                             description=f"{ctx.base_ref}..{head_sha[:12]}"), warnings
        warnings.append(f"target branch {ctx.base_ref!r} is not in the clone")
    default = default_branch(repo, ctx)
    branch = ctx.branch
    if default and branch and branch != default:
        target = _remote_branch(repo, default)
        if target and target != head_sha:
            return ScanRange(revs=[head_sha], exclude=[target],
                             description=f"branch {branch}: {default}..{head_sha[:12]}"), warnings
    return ScanRange(revs=None, description="full history"), warnings
