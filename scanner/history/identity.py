"""Who a repository is, wherever it is cloned: its root commits and its remote URL.

A portable cache (``--cache-dir``) is keyed by this identity, so two clones
of one repository in different directories (tonight's CI runner, last
night's) find the same cache, and two different repositories never share
one. The identity is the SHA-256 of the sorted root commits reachable from
HEAD (from every ref when HEAD is unborn) and the normalised ``origin`` URL
(``normalise_url``: no credentials, no ``.git``, scp-style and ssh/https
spellings of one repository alike).

Finding the roots walks the history once (``git rev-list --max-parents=0 HEAD``:
0.26-0.29 s on sqlalchemy, 13,864 first-parent commits), so the answer is
remembered in the repository (``mcp-scan/identity.json``) with the HEAD it
was computed at: the next run costs 4-16 ms when HEAD has not moved, and
30-80 ms when it has (one ``merge-base --is-ancestor``, then a walk of the
new commits only).
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit, urlunsplit

from scanner.gitcmd import run_git
from scanner.paths import atomic_write

# ``user@host:path`` (git's scp-like syntax): a host part before the colon, no slash before it.
_SCP = re.compile(r"^(?:(?P<user>[A-Za-z0-9_~][A-Za-z0-9._~-]*)@)?(?P<host>[A-Za-z0-9_][A-Za-z0-9._-]*):(?P<path>(?!//).+)$")
_URL_SCHEMES = ("https://", "http://", "ssh://", "git://", "file://", "git+ssh://", "ssh+git://")
_HEX = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


def is_url(entry: str) -> bool:
    """A clone URL rather than a local path: ``scheme://...`` or ``user@host:path``."""
    lowered = entry.lower()
    if lowered.startswith(_URL_SCHEMES):
        return True
    match = _SCP.match(entry)
    return bool(match and match.group("user"))  # "C:foo" or "dir:name" stay paths


def redact_url(text: str) -> str:
    """``text`` with the credentials of any URL in it removed (``https://tok@host/x`` -> ``https://host/x``)."""
    return _USERINFO.sub(r"\1", text)


def normalise_url(url: str) -> str:
    """One spelling per repository: ``host/path`` lowercase host, no credentials, ``.git`` or ``/``.

    ``git@github.com:org/repo.git``, ``ssh://git@github.com/org/repo`` and
    ``https://user:token@GitHub.com/org/repo/`` all give ``github.com/org/repo``.
    Local paths and ``file://`` URLs keep their path (``file:///srv/x.git`` -> ``file:/srv/x``).
    """
    url = url.strip()
    if not url:
        return ""
    scp = _SCP.match(url) if "://" not in url else None
    if scp and not url.startswith(("/", ".")):  # git: a colon before any slash means ssh
        host, path, port = scp.group("host"), scp.group("path"), None
        scheme = "ssh"
    elif "://" in url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host, path = (parts.hostname or ""), parts.path
        try:
            port = parts.port
        except ValueError:
            port = None
    else:
        scheme, host, path, port = "file", "", url, None
    path = path.rstrip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    path = path.rstrip("/")
    if scheme == "file" or not host:
        return "file:" + path
    default_ports = {"https": 443, "http": 80, "ssh": 22, "git": 9418}
    netloc = host.lower()
    if port and port != default_ports.get(scheme):
        netloc += f":{port}"
    return netloc + "/" + path.lstrip("/")


def display_url(url: str) -> str:
    """How a URL appears in reports and messages: as given, minus any credentials."""
    if "://" in url:
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port
        except ValueError:
            port = None
        netloc = host + (f":{port}" if port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    scp = _SCP.match(url)
    if scp and scp.group("user"):
        return f"{scp.group('host')}:{scp.group('path')}"  # the user of git@host is no secret, but no use either
    return url


def origin_url(repo: str) -> str:
    """``remote.origin.url`` of ``repo``, or "" when it has none."""
    return run_git(["config", "--get", "remote.origin.url"], cwd=repo, check=False).decode("utf-8", "replace").strip()


def _head(repo: str) -> Optional[str]:
    out = run_git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd=repo, check=False).strip()
    return out.decode("ascii") if out else None


def _roots(repo: str, revs: list[str]) -> set[str]:
    out = run_git(["rev-list", "--max-parents=0", *revs, "--"], cwd=repo, check=False)
    return {line for line in out.decode("ascii", "replace").split() if line}


def root_commits(repo: str, common_dir: Path) -> list[str]:
    """The root commits reachable from HEAD (every ref when HEAD is unborn), sorted; remembered."""
    head = _head(repo)
    if head is None:
        return sorted(_roots(repo, ["--all"]))
    memo = common_dir / "mcp-scan" / "identity.json"
    known: Optional[tuple[str, list[str]]] = None
    try:
        data = json.loads(memo.read_bytes())
        known = (str(data["head"]), [str(r) for r in data["roots"]])
    except Exception:  # missing or damaged: walk everything
        known = None
    if known and known[0] == head:
        return known[1]
    roots: Optional[set[str]] = None
    if known and known[1]:
        old_head = known[0]
        # HEAD only moved forward: the old roots still count, plus any root the new commits brought in.
        if _HEX.fullmatch(old_head) and _is_ancestor(repo, old_head, head):
            roots = set(known[1]) | _roots(repo, [head, f"^{old_head}"])
    if roots is None:
        roots = _roots(repo, [head])
    result = sorted(roots)
    try:
        atomic_write(memo, json.dumps({"head": head, "roots": result}).encode("ascii"))
    except OSError:
        pass  # a read-only repository walks again next time
    return result


def _is_ancestor(repo: str, old: str, new: str) -> bool:
    import subprocess

    from scanner.gitcmd import git_env

    proc = subprocess.run(["git", "merge-base", "--is-ancestor", old, new], cwd=repo, env=git_env(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc.returncode == 0


def repository_identity(repo: str, common_dir: Path) -> str:
    """The hex identity of ``repo``: SHA-256 of its root commits and its normalised ``origin`` URL."""
    roots = root_commits(repo, common_dir)
    remote = normalise_url(origin_url(repo))
    text = "mcp-scan-identity 1\n" + "\n".join(roots) + "\n\n" + remote
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
