"""Which commits a push (or a CI event) adds: git's pre-push protocol to revisions.

git feeds a pre-push hook one line per ref it is about to update::

    <local ref> SP <local sha> SP <remote ref> SP <remote sha> LF

A local sha of all zeros is a deletion (nothing to scan); a remote sha of
all zeros is a new ref. The commits to scan are those reachable from the
new values and not from anything the remote already has: the old remote
values we know locally, plus, when an old value is missing (a new branch, or
a force push over commits we never fetched), the remote-tracking refs of the
destination if it is a configured remote (by name, or by one of its URLs).
A push to any other URL trusts only its own update lines: other remotes'
refs say nothing about what an unknown repository has.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Optional

from scanner.errors import ScanError, config_error
from scanner.gitcmd import run_git


def is_zero(sha: str) -> bool:
    """True for git's null object id (40 or 64 zeros): no such ref."""
    return bool(sha) and set(sha) == {"0"}


@dataclass(frozen=True)
class RefUpdate:
    """One line of the pre-push protocol."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str

    @property
    def deletion(self) -> bool:
        return is_zero(self.local_sha)

    @property
    def new_ref(self) -> bool:
        return is_zero(self.remote_sha)


@dataclass
class ScanRange:
    """Commits to scan: reachable from ``revs`` but not from ``exclude``; plus ``objects``.

    ``revs`` None means every ref (a full-history scan); an empty list means
    no commit to scan. ``objects`` are ``(ref name, object id)`` of pushed
    refs that are not commits (tags, and the blobs or trees a tag or custom
    ref may point at): what they reach is scanned too. None leaves it to the
    history scan (every such ref of a full-history scan).
    """

    revs: Optional[list[str]]
    exclude: list[str] = field(default_factory=list)
    description: str = ""
    objects: Optional[list[tuple[str, str]]] = None

    @property
    def empty(self) -> bool:
        """Nothing to scan (only deletions were pushed)."""
        return self.revs is not None and not self.revs and not self.objects


# git writes whole object ids (SHA-1 or SHA-256) on the hook's stdin, never names.
_OBJECT_ID = re.compile(r"(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})\Z")


def parse_updates(text: str) -> list[RefUpdate]:
    """Parse pre-push stdin; a malformed line is a usage error.

    Malformed includes an object id that is not one (a name, an option such
    as ``--all``) and a ref that starts with '-': git never writes those, and
    passing them on could make git read an option.
    """
    updates = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        # Ref names cannot contain spaces, but split from the right like
        # pre-commit does, so the local side ("HEAD", "refs/..") stays whole.
        parts = line.rsplit(" ", 3)
        if (len(parts) != 4 or not all(parts) or not all(_OBJECT_ID.match(parts[i]) for i in (1, 3))
                or parts[0].startswith("-") or parts[2].startswith("-")):
            raise config_error(f"pre-push input line {number} is not '<local ref> <local sha> <remote ref> <remote sha>': {line!r}",
                               "mcp-scan pre-push is meant to be run by git as a pre-push hook")
        updates.append(RefUpdate(*parts))
    return updates


def commit_exists(repo: str, rev: str) -> bool:
    """True when ``rev`` names a commit present in ``repo`` (shallow clones may lack it)."""
    return resolve(repo, rev) is not None


def resolve(repo: str, rev: str) -> Optional[str]:
    """The full commit id for ``rev`` (a short sha, branch, tag), or None."""
    if not rev or is_zero(rev):
        return None
    out = run_git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], cwd=repo, check=False)
    return out.decode("ascii", "replace").strip() or None


def remote_tips(repo: str, remote: Optional[str], url: Optional[str] = None) -> list[str]:
    """Commit ids the destination of a push is known to have: its remote-tracking refs.

    git names the destination ``remote`` (a configured remote's name, or the
    URL itself when pushing by URL) and ``url``. A URL is trusted only as far
    as it is the URL of a configured remote (fetch or push URL, compared after
    ``normalise_url``): then that remote's refs count. Anything else is an
    unknown repository: what other remotes have says nothing about it (a
    public mirror lacks what a private origin has), so nothing is returned.
    """
    remotes = run_git(["remote"], cwd=repo).decode("utf-8", "replace").split()
    if remote in remotes:
        names = [remote]
    else:
        wanted = {normalise_url(u, repo) for u in (remote, url) if u}
        names = [name for name in remotes if wanted & _remote_urls(repo, name)]
    if not names:
        return []
    out = run_git(["for-each-ref", "--format=%(objectname) %(objecttype)", *(f"refs/remotes/{n}/" for n in names)],
                  cwd=repo)
    tips = set()
    for line in out.decode("ascii", "replace").splitlines():
        sha, _, kind = line.partition(" ")
        if kind == "commit":
            tips.add(sha)
    return sorted(tips)


def _remote_urls(repo: str, name: str) -> set[str]:
    """Every fetch and push URL of remote ``name``, normalised (``insteadOf`` rewrites applied, as git does)."""
    urls: set[str] = set()
    for push in ([], ["--push"]):
        out = run_git(["remote", "get-url", *push, "--all", name], cwd=repo, check=False)
        urls.update(normalise_url(u, repo) for u in out.decode("utf-8", "surrogateescape").splitlines() if u.strip())
    return urls


def normalise_url(url: str, repo: str) -> str:
    """One spelling per repository for the URLs git may pass or have configured.

    Local paths (plain or ``file://``) become absolute and resolved, relative
    to ``repo`` (git runs hooks and resolves relative remote paths at the
    top of the work tree). For remote URLs the scheme and host are case-blind,
    and a trailing ``/`` or ``.git`` does not change the repository. Spellings
    not recognised stay distinct: a missed match only scans more.
    """
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() == "file":
        return _local_path(rest, repo)
    if sep:
        host, slash, path = rest.partition("/")
        user, at, hostname = host.rpartition("@")
        return f"{scheme.lower()}://{user}{at}{hostname.lower()}{slash}{_repo_path(path)}"
    colon, slash_at = url.find(":"), url.find("/")
    if colon > 0 and (slash_at < 0 or colon < slash_at):
        # scp-like "[user@]host:path": git treats it as ssh
        host, path = url[:colon], url[colon + 1 :]
        user, at, hostname = host.rpartition("@")
        return f"scp:{user}{at}{hostname.lower()}:{_repo_path(path)}"
    return _local_path(url, repo)


def _repo_path(path: str) -> str:
    path = path.rstrip("/")
    return path[: -len(".git")] if path.endswith(".git") else path


def _local_path(path: str, repo: str) -> str:
    return "file://" + os.path.realpath(os.path.join(os.path.abspath(repo), path))


def push_range(repo: str, updates: Iterable[RefUpdate], remote: Optional[str], url: Optional[str] = None) -> ScanRange:
    """The commits a push adds, for every ref it updates at once, and the pushed refs that are not commits."""
    from scanner.history.refs import object_types

    revs: list[str] = []
    exclude: set[str] = set()
    objects: list[tuple[str, str]] = []
    need_tips = False
    names = []
    pushed = [update for update in updates if not update.deletion]
    kinds = dict(object_types(repo, [update.local_sha for update in pushed]))
    for update in pushed:
        if kinds.get(update.local_sha) in ("tag", "blob", "tree"):
            # An annotated tag's message, a tagged blob or tree: scanned whole, whatever the remote has
            # (git sends no line for a ref the remote already has at this value).
            objects.append((update.remote_ref, update.local_sha))
            names.append(update.remote_ref)
        local = resolve(repo, update.local_sha)
        if local is None:
            if _object_exists(repo, update.local_sha):
                continue  # a tag of a tree or blob: no commits to walk (scanned as an object above)
            # git pushes only what it has: an object it lacks would be skipped unscanned
            raise ScanError(f"the pushed object {update.local_sha} ({update.local_ref}) is not in this repository",
                            "run mcp-scan pre-push from the repository being pushed (git runs it there as a hook)")
        revs.append(local)
        names.append(update.remote_ref)
        old = None if update.new_ref else resolve(repo, update.remote_sha)
        if old is not None:
            # Covers fast-forwards and force pushes alike: commits in the new
            # value that the old one does not have.
            exclude.add(old)
        else:
            need_tips = True
    if need_tips and revs:
        exclude.update(remote_tips(repo, remote, url))
    description = f"push of {', '.join(sorted(set(names)))}" if names else "push with nothing to scan"
    return ScanRange(revs=sorted(set(revs)), exclude=sorted(exclude), description=description, objects=objects)


def pre_commit_range(repo: str, env: Mapping[str, str]) -> Optional[ScanRange]:
    """The range pre-commit's framework passes in the environment (it consumes stdin).

    ``PRE_COMMIT_FROM_REF``/``PRE_COMMIT_TO_REF`` bound the push; when pre-commit
    found the push reaches the root commit it sets neither and runs "all
    files", so the local branch is scanned minus what the remote has.
    """
    # The older PRE_COMMIT_ORIGIN/PRE_COMMIT_SOURCE pair is not read: their
    # meaning differs between pre-commit versions, and every version since
    # 2.2 sets FROM/TO as well.
    # ``pre-commit run --from-ref X --to-ref Y`` passes what the user typed:
    # names are resolved here, and only commit ids go on to git.
    for name in ("PRE_COMMIT_TO_REF", "PRE_COMMIT_FROM_REF", "PRE_COMMIT_LOCAL_BRANCH"):
        if env.get(name, "").startswith("-"):
            raise config_error(f"{name}={env[name]!r} is not a revision: it starts with '-', so git would read it as an option",
                               "pre-commit sets it from the push; check the --from-ref/--to-ref given to pre-commit run")
    to_ref = env.get("PRE_COMMIT_TO_REF")
    from_ref = env.get("PRE_COMMIT_FROM_REF")
    remote = env.get("PRE_COMMIT_REMOTE_NAME")
    zero = "0" * 40
    url = env.get("PRE_COMMIT_REMOTE_URL")
    if to_ref:
        to_sha = resolve(repo, to_ref)
        if to_sha is None:
            if not _object_exists(repo, to_ref):
                raise config_error(f"PRE_COMMIT_TO_REF={to_ref!r} does not name a commit in this repository",
                                   "check the --to-ref given to pre-commit run")
            to_sha = to_ref  # a tag of a tree or blob: push_range scans the object itself
        update = RefUpdate(env.get("PRE_COMMIT_LOCAL_BRANCH", "HEAD"), to_sha,
                           env.get("PRE_COMMIT_REMOTE_BRANCH", "HEAD"), resolve(repo, from_ref or zero) or zero)
        return push_range(repo, [update], remote, url)
    local = env.get("PRE_COMMIT_LOCAL_BRANCH")
    if local and remote is not None:
        sha = resolve(repo, local)
        if sha is None:
            return ScanRange(revs=[], description="push with nothing to scan")
        return push_range(repo, [RefUpdate(local, sha, env.get("PRE_COMMIT_REMOTE_BRANCH", local), zero)],
                          remote, url)
    return None


def _object_exists(repo: str, rev: str) -> bool:
    """True when ``rev`` names any object here (a commit, or a tree or blob a tag may point to)."""
    out = run_git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{object}}"], cwd=repo, check=False)
    return bool(out.strip())



@dataclass(frozen=True)
class ReceivedUpdate:
    """One line of the pre-receive protocol: ``<old sha> <new sha> <ref name>``."""

    old_sha: str
    new_sha: str
    ref: str

    @property
    def deletion(self) -> bool:
        return is_zero(self.new_sha)


def parse_received(text: str) -> list[ReceivedUpdate]:
    """Parse pre-receive stdin; a malformed line is a usage error (same rules as ``parse_updates``)."""
    updates = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(" ")
        if (len(parts) != 3 or not all(_OBJECT_ID.match(part) for part in parts[:2])
                or not parts[2] or parts[2].startswith("-")):
            raise config_error(f"pre-receive input line {number} is not '<old sha> <new sha> <ref name>': {line!r}",
                               "mcp-scan pre-receive is meant to be run by git as a pre-receive hook "
                               "(install it with: mcp-scan install --hook pre-receive)")
        updates.append(ReceivedUpdate(*parts))
    return updates


def receive_range(repo: str, updates: Iterable[ReceivedUpdate]) -> ScanRange:
    """What a push received by ``repo`` adds: commits no existing ref reaches, and pushed non-commit refs.

    During pre-receive the refs still hold their old values and the pushed
    objects sit in git's quarantine, which git exposes to the hook's children
    through the environment, so ``rev-list <new> --not --all`` is exactly the
    new commits. The boundary of that walk (existing parents of new commits)
    becomes ``exclude``: the scan then walks the same commits without putting
    every ref of a large server on one command line.
    """
    from scanner.history.refs import object_types

    pushed = [update for update in updates if not update.deletion]
    if not pushed:
        return ScanRange(revs=[], description="push with nothing to scan")
    objects: list[tuple[str, str]] = []
    tips: set[str] = set()
    names: list[str] = []
    kinds = dict(object_types(repo, [update.new_sha for update in pushed]))
    for update in pushed:
        kind = kinds.get(update.new_sha)
        if kind is None:
            # git checked connectivity before running the hook: a missing object means we are not looking
            # at the repository (or quarantine) git is receiving into
            raise ScanError(f"the pushed object {update.new_sha} ({update.ref}) is not in this repository",
                            "run mcp-scan pre-receive from the receiving repository (git runs it there as a hook)")
        if kind in ("tag", "blob", "tree"):
            # An annotated tag's message, a tagged blob or tree: scanned whole (they are small and rare).
            objects.append((update.ref, update.new_sha))
            names.append(update.ref)
        commit = resolve(repo, update.new_sha)
        if commit is not None:
            tips.add(commit)
            names.append(update.ref)
    revs: list[str] = []
    exclude: list[str] = []
    if tips:
        # --not --all before the tips, then --not again: git reads pseudo-options only before --end-of-options
        out = run_git(["rev-list", "--boundary", "--not", "--all", "--not", "--end-of-options", *sorted(tips), "--"],
                      cwd=repo)
        new: set[str] = set()
        for line in out.decode("ascii", "replace").split():
            if line.startswith("-"):
                exclude.append(line[1:])
            else:
                new.add(line)
        revs = sorted(tips & new)
    description = f"push of {', '.join(sorted(set(names)))}" if names else "push with nothing to scan"
    return ScanRange(revs=revs, exclude=sorted(set(exclude)), description=description, objects=objects)
