"""Running git: one place that turns git's failures into ScanErrors.

Every source calls git through ``subprocess`` directly: importing GitPython
costs more than the whole staged scan, and 75 ms in each history worker.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from typing import IO, Optional, Union

from scanner.errors import ScanError, config_error

# Never let the user's config turn diffs into something we cannot parse.
_SAFE_CONFIG = ("-c", "core.quotePath=false", "-c", "diff.noprefix=false", "-c", "color.ui=false")
# git's cache of inflated delta bases, per process, for the history scan's long
# readers (the walk's git log, each cat-file stream): they read the versions of a
# path together, so a small cache keeps its hit rate, and git's 96 MB default made
# each of them the scan's largest process (140 MB RSS) for no measurable speed.
DELTA_BASE_CACHE = "16m"


def git_env() -> dict[str, str]:
    """The environment for git children: no pager, no prompts, C locale messages."""
    env = dict(os.environ)
    env.update({"GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    return env


def run_git(args: Sequence[str], cwd: str, *, input: Optional[bytes] = None, check: bool = True) -> bytes:
    """Run ``git args`` in ``cwd`` and return stdout; a failure becomes a ScanError."""
    try:
        proc = subprocess.run(
            ["git", *_SAFE_CONFIG, *args],
            cwd=cwd,
            input=input,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=git_env(),
        )
    except FileNotFoundError:
        raise ScanError("git is not installed or not on PATH", "install git and retry") from None
    except NotADirectoryError:
        raise ScanError(f"{cwd} is not a directory", "pass the path of a git repository") from None
    if check and proc.returncode != 0:
        raise git_failure(args, proc.stderr, cwd)
    return proc.stdout


def spawn_git(args: Sequence[str], cwd: str, *, stdin: bool = False,
              files: Optional[tuple[IO[bytes], IO[bytes], IO[bytes]]] = None) -> "subprocess.Popen[bytes]":
    """Start ``git args`` in ``cwd``, its stdout and stderr piped, for output read as it streams.

    stdin is a pipe when ``stdin`` is true, else empty. ``files`` (stdin, stdout, stderr) replace
    all three with open files. The caller reads, waits and maps a failure (``git_failure``);
    failing to start is a ScanError here.
    """
    streams: tuple[Union[int, IO[bytes]], ...] = files or (subprocess.PIPE if stdin else subprocess.DEVNULL,
                                                            subprocess.PIPE, subprocess.PIPE)
    try:
        return subprocess.Popen(["git", *_SAFE_CONFIG, *args], cwd=cwd, stdin=streams[0], stdout=streams[1],
                                stderr=streams[2], env=git_env())
    except FileNotFoundError:
        raise ScanError("git is not installed or not on PATH", "install git and retry") from None
    except NotADirectoryError:
        raise ScanError(f"{cwd} is not a directory", "pass the path of a git repository") from None


def run_git_capped(args: Sequence[str], cwd: str, limit: int) -> Optional[bytes]:
    """``run_git`` that reads at most ``limit`` bytes of stdout: None (git killed) when there is more.

    Memory stays bounded however much git would write.
    """
    import threading

    proc = spawn_git(args, cwd)
    assert proc.stdout is not None and proc.stderr is not None
    errors: list[bytes] = []
    drain = threading.Thread(target=lambda: errors.append(proc.stderr.read() if proc.stderr else b""), daemon=True)
    drain.start()
    try:
        out = proc.stdout.read(limit + 1)
        if len(out) > limit:
            proc.kill()
            return None
    finally:
        proc.stdout.close()
        proc.wait()
        drain.join()
    if proc.returncode != 0:
        raise git_failure(args, b"".join(errors), cwd)
    return out


def git_failure(args: Sequence[str], stderr: bytes, cwd: str) -> ScanError:
    """Map git's stderr to an actionable error."""
    text = stderr.decode("utf-8", "replace").strip()
    first = next((line for line in text.splitlines() if line.strip()), "") or "no error message"
    if "not a git repository" in text:
        return ScanError(f"{cwd} is not a git repository", "run inside a repository or pass its path")
    if "detected dubious ownership" in text:
        return ScanError(f"git refuses to use {cwd}: {first}", "git config --global --add safe.directory <path>")
    return ScanError(f"git {args[0] if args else ''} failed: {first}", "check that the repository is readable and not corrupt")


def verify_commit(repo: str, rev: str, what: str, kind: str = "commit") -> str:
    """The full id of the commit a user-supplied ``rev`` names; a usage error (exit 2) otherwise.

    ``what`` names where the revision came from (``--since``, ``PRE_COMMIT_TO_REF``)
    for the message. A revision starting with '-' is refused outright: git
    would read it as an option (``--output=FILE`` writes a file) wherever it
    is not behind ``--end-of-options``. ``kind="object"`` also accepts a ref
    to a tag, tree or blob (``history --branch`` scans what such a ref reaches).
    """
    if rev.startswith("-"):
        raise config_error(f"{what} {rev!r} is not a revision: it starts with '-', so git would read it as an option",
                           "name a branch, tag or commit id")
    if not os.path.isdir(repo):
        raise ScanError(f"{repo} is not a directory", "pass the path of a git repository")
    out = run_git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{{kind}}}"], cwd=repo, check=False)
    sha = out.decode("ascii", "replace").strip()
    if sha:
        return sha
    run_git(["rev-parse", "--git-dir"], cwd=repo)  # not a repository at all: that error (exit 3), not a usage error
    raise config_error(f"{what} {rev!r} does not name a{'n' if kind == 'object' else ''} {kind} in this repository",
                       "check the name (`git branch -a`, `git log --oneline`); in a shallow clone, fetch more history")


def feed(stream: "IO[bytes]", data: bytes, *, close: bool = False) -> None:
    """Write ``data`` to a git child's stdin (from a thread: a full stdout pipe cannot deadlock us).

    ``close`` ends the input (``git log --stdin`` starts only at end of input).
    A stream that died is left to the reader, which notices and reports it.
    """
    try:
        stream.write(data)
        stream.flush()
        if close:
            stream.close()
    except (BrokenPipeError, OSError, ValueError):
        pass
