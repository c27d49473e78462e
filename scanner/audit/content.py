"""Judging secret-named files by what they hold, not only by their name.

A ``*.pem`` is as often a CA bundle as a private key, a ``.env`` may hold a
virtualenv name and nothing else, and a shared ``.mcp.json`` may reference
every credential as ``${VAR}``. Each file (and, for history, each version of
it) gets a verdict:

- ``public``: certificates or public keys only (key files); not a secret file at all.
- ``clean``: no credential-looking value today (``.env`` files, MCP configs).
- ``secret``: anything else, including whatever cannot be read or parsed (fail closed).

A path's history verdict is the worst verdict of its versions.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Optional

from scanner.audit.mcp_config import lint_config, literal_secret, secret_name
from scanner.audit.pem import public_key_material
from scanner.gitcmd import run_git

PUBLIC, CLEAN, SECRET = "public", "clean", "secret"
_RANK = {PUBLIC: 0, CLEAN: 1, SECRET: 2}
# Content is judged only for these kinds; secret directories and backups stay secret by name.
JUDGED_KINDS = frozenset({"key", "env", "mcp"})
# A version bigger than this is not read: it stays a secret file.
MAX_BLOB = 4 * 1024 * 1024
# Lint results that never make an MCP config a credential holder.
_HARMLESS_LINT = frozenset({"oauth-overbroad-scope", "token-ttl-excessive"})
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s*(.*?)\s*$")
_URL_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


def worst(verdicts: Iterable[str]) -> str:
    """The most serious verdict (``secret`` for none at all: nothing was judged)."""
    return max(verdicts, key=_RANK.__getitem__, default=SECRET)


def env_has_credential(text: str, path: str, detector: Any = None) -> bool:
    """True when a ``.env`` text holds a value a rule or the secret-name heuristic flags."""
    if detector is not None and detector.scan_text(text, path):
        return True
    for line in text.splitlines():
        if _URL_PASSWORD.search(line):
            return True
        match = _ASSIGNMENT.match(line)
        if match is None or line.lstrip().startswith("#"):
            continue
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if secret_name(match.group(1)) and value and literal_secret(value) is not None:
            return True
    return False


def mcp_is_clean(text: str, path: str, detector: Any = None) -> bool:
    """True when an MCP config's lint finds no literal credential, plain http, TLS off or parse error."""
    return all(f.rule_id in _HARMLESS_LINT for f in lint_config(path, text, detector=detector))


def judge(kind: str, path: str, data: Optional[bytes], detector: Any = None) -> str:
    """The verdict for one file content of a secret-path ``kind``."""
    if data is None or kind not in JUDGED_KINDS:
        return SECRET
    if kind == "key":
        return PUBLIC if public_key_material(data) else SECRET
    text = data.decode("utf-8-sig", "replace")
    if kind == "env":
        return SECRET if env_has_credential(text, path, detector) else CLEAN
    return CLEAN if mcp_is_clean(text, path, detector) else SECRET


def read_blobs(root: Path, oids: Iterable[str], cap: int = MAX_BLOB) -> dict[str, bytes]:
    """The content of each blob up to ``cap`` bytes; bigger or missing blobs are left out.

    Two ``git cat-file`` calls whatever the number of blobs: sizes first, so
    a huge blob is never read.
    """
    wanted = sorted(set(oids))
    if not wanted:
        return {}
    cwd = str(root)
    checked = run_git(["cat-file", "--batch-check"], cwd, input="".join(o + "\n" for o in wanted).encode("ascii"))
    small = []
    for line in checked.decode("ascii", "replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "blob" and int(parts[2]) <= cap:
            small.append(parts[0])
    if not small:
        return {}
    out = run_git(["cat-file", "--batch"], cwd, input="".join(o + "\n" for o in small).encode("ascii"))
    blobs: dict[str, bytes] = {}
    pos = 0
    while pos < len(out):
        end = out.index(b"\n", pos)
        oid, _, size = out[pos:end].decode("ascii").split()
        start = end + 1
        blobs[oid] = out[start:start + int(size)]
        pos = start + int(size) + 1
    return blobs


def path_versions(root: Path, paths: Iterable[str], revs: Optional[list[str]] = None) -> dict[str, set[str]]:
    """Every blob each of ``paths`` held on any ref (or in ``revs``): one ``git log --raw`` walk."""
    wanted = sorted(set(paths))
    if not wanted:
        return {}
    rev_args = revs if revs is not None else ["--all"]
    # Paths on stdin: a repository with thousands of key files must not overflow the command line.
    paths_in = "".join(f":(literal){p}\n" for p in wanted)
    out = run_git(["log", "--no-renames", "--raw", "--no-abbrev", "-z", "--format=", "--stdin", *rev_args],
                  str(root), input=("--\n" + paths_in).encode("utf-8", "surrogateescape"))
    versions: dict[str, set[str]] = {}
    tokens = out.decode("utf-8", "surrogateescape").split("\0")
    for index, token in enumerate(tokens):
        token = token.strip("\n")
        if not token.startswith(":") or index + 1 >= len(tokens):
            continue
        fields = token.split()
        if len(fields) >= 5 and set(fields[3]) != {"0"}:
            versions.setdefault(tokens[index + 1], set()).add(fields[3])
    return versions


def blob_verdicts(root: Path, kinds: Mapping[str, str], versions: Mapping[str, set[str]],
                  detector: Any = None) -> dict[str, str]:
    """The verdict of every version blob (``kinds`` maps each path to its secret-path kind)."""
    blobs = read_blobs(root, (oid for path, oids in versions.items() if kinds.get(path) in JUDGED_KINDS
                              for oid in oids))
    verdicts: dict[str, str] = {}
    for path, oids in versions.items():
        for oid in oids:
            if oid not in verdicts or verdicts[oid] != SECRET:
                verdicts[oid] = worst([verdicts.get(oid, PUBLIC), judge(kinds.get(path, ""), path, blobs.get(oid),
                                                                        detector)])
    return verdicts
