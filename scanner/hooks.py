"""Native git hooks for people without the pre-commit framework.

``install`` writes a small shell hook into the directory git really uses
(``git rev-parse --git-path hooks`` honours ``core.hooksPath``). An existing
hook - hand-written or pre-commit-managed - is moved aside byte for byte and
still runs first; ``uninstall`` moves it back.

The installed hook carries a SHA-256 of its own text, so ``uninstall`` can
tell an edited hook from the one it wrote and refuse to throw the edits away
(``--force`` keeps the edited file aside instead).
"""
from __future__ import annotations

import hashlib
import os
import re
import shlex
import sys
from pathlib import Path

from scanner.errors import ScanError, config_error
from scanner.gitcmd import run_git

MARKER = "# mcp-scan hook: installed by `mcp-scan install`"
BACKUP_SUFFIX = ".mcp-scan-orig"
EDITED_SUFFIX = ".mcp-scan-edited"
DIGEST_PREFIX = "# mcp-scan hook sha256: "
HOOK_COMMANDS = {"pre-commit": "staged", "pre-push": "pre-push", "pre-receive": "pre-receive"}

_TEMPLATE = """#!/bin/sh
{marker}; remove with `mcp-scan uninstall --hook {hook}`.
# A hook that was here before is kept as {hook}{suffix} and runs first
# (only when executable: git itself ignores a hook without the x bit).
hook_dir=$(dirname "$0")
{run_kept}
if [ -x {python} ]; then
    exec {python} -c {bootstrap} {command} "$@"
fi
exec mcp-scan {command} "$@"
"""

# Not `python -m scanner`: -m puts the working directory - the repository
# being committed to - first on sys.path, so a file such as `typing.py` or
# `re/` in the repository would be imported instead of the standard library
# (broken hooks at best, code from the repository run by the hook at worst).
# -c also puts it first, but nothing is imported before it is removed.
_BOOTSTRAP = "import sys; del sys.path[0]; from scanner import main; raise SystemExit(main(sys.argv[1:]))"

_RUN_KEPT = """if [ -x "$hook_dir/{hook}{suffix}" ]; then
    "$hook_dir/{hook}{suffix}" "$@" || exit $?
fi"""

# git writes a pre-push (or pre-receive) hook's ref updates on stdin once; a kept hook that
# reads them (git-lfs's does) would leave mcp-scan nothing to scan, so both
# read a copy. The copy is unlinked before exec; the open descriptor keeps it.
_RUN_KEPT_WITH_STDIN = """if [ -x "$hook_dir/{hook}{suffix}" ]; then
    refs=$(mktemp "${{TMPDIR:-/tmp}}/mcp-scan-push.XXXXXX") || exit 1
    cat > "$refs"
    "$hook_dir/{hook}{suffix}" "$@" < "$refs" || {{ status=$?; rm -f "$refs"; exit $status; }}
    exec < "$refs"
    rm -f "$refs"
fi"""


def hooks_dir(repo: str) -> Path:
    """The hooks directory git uses for ``repo``."""
    out = run_git(["rev-parse", "--git-path", "hooks"], cwd=repo).decode("utf-8", "surrogateescape").strip()
    path = Path(out)
    return path if path.is_absolute() else Path(repo) / path


def _script(hook: str, python: str) -> str:
    """The hook text ``install`` writes for ``python`` (without its digest line)."""
    chain = _RUN_KEPT_WITH_STDIN if hook in ("pre-push", "pre-receive") else _RUN_KEPT
    return _TEMPLATE.format(marker=MARKER, hook=hook, suffix=BACKUP_SUFFIX,
                            python=shlex.quote(python), bootstrap=shlex.quote(_BOOTSTRAP), command=HOOK_COMMANDS[hook],
                            run_kept=chain.format(hook=hook, suffix=BACKUP_SUFFIX))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sealed(script: str) -> str:
    """``script`` with a digest line after the marker: the hash of everything else."""
    shebang, marker, rest = script.split("\n", 2)
    return f"{shebang}\n{marker}\n{DIGEST_PREFIX}{_digest(script)}\n{rest}"


def _pristine(path: Path, hook: str) -> bool:
    """True when ``path`` is exactly what ``install`` wrote (by this or an earlier version)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(DIGEST_PREFIX):
            rest = "\n".join(lines[:index] + lines[index + 1:])
            return line[len(DIGEST_PREFIX):].strip() == _digest(rest)
    # Installed before hooks carried a digest: compare with what that version wrote. Only the
    # interpreter varies, so try the one the hook names (a different one today is not an edit).
    for match in re.finditer(r"^if \[ -x (.+) \]; then$", text, re.MULTILINE):
        try:
            words = shlex.split(match.group(1))
        except ValueError:
            continue
        if len(words) == 1 and text == _script(hook, words[0]):
            return True
    return False


def _free_name(path: Path) -> Path:
    """``path``, or ``path.1``, ``path.2``... whichever does not exist yet (nothing is overwritten)."""
    candidate, number = path, 0
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = path.with_name(f"{path.name}.{number}")
    return candidate


def _is_ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text("utf-8", "replace")
    except OSError:
        return False


def install(repo: str, hook: str = "pre-commit") -> str:
    """Install the hook; returns a sentence saying what was done."""
    directory = hooks_dir(repo)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / hook
    backup = directory / f"{hook}{BACKUP_SUFFIX}"
    if _is_ours(target):
        return f"mcp-scan {hook} hook already installed at {target}"
    if target.exists() or target.is_symlink():
        if backup.exists() or backup.is_symlink():
            raise ScanError(f"{backup} already exists", f"move it or {target} away, then install again")
        os.replace(target, backup)  # a rename keeps bytes, mode and symlinks exactly
        kept = f"; the existing hook was kept as {backup.name} and runs first"
    else:
        kept = ""
    target.write_text(_sealed(_script(hook, sys.executable)), encoding="utf-8")
    target.chmod(0o755)
    return f"installed mcp-scan {hook} hook at {target}{kept}"


def uninstall(repo: str, hook: str = "pre-commit", force: bool = False) -> str:
    """Remove our hook and put back whatever was there before.

    A hook edited since ``install`` is not deleted: without ``force`` this
    refuses (a usage error), with ``force`` the edited file is kept as
    ``<hook>.mcp-scan-edited`` (or ``.1``, ``.2``... if that exists).
    """
    directory = hooks_dir(repo)
    target = directory / hook
    backup = directory / f"{hook}{BACKUP_SUFFIX}"
    if not _is_ours(target):
        if backup.exists():
            raise ScanError(f"{target} is not mcp-scan's hook but {backup.name} exists", "restore it by hand")
        return f"no mcp-scan {hook} hook installed in {directory}"
    kept = ""
    if _pristine(target, hook):
        target.unlink()
    elif not force:
        raise config_error(
            f"{target} was edited after `mcp-scan install` wrote it; uninstalling would lose those edits",
            f"copy what you need out of it, or run `mcp-scan uninstall --hook {hook} --force` to keep it as "
            f"{hook}{EDITED_SUFFIX} and uninstall")
    else:
        aside = _free_name(directory / f"{hook}{EDITED_SUFFIX}")
        os.replace(target, aside)
        kept = f"; your edited hook was kept as {aside}"
    if backup.exists() or backup.is_symlink():
        os.replace(backup, target)
        return f"removed mcp-scan {hook} hook and restored the previous hook{kept}"
    return f"removed mcp-scan {hook} hook{kept}"
