"""Helpers shared by the reliability tests (issue 7): run the real CLI, check it failed closed.

Everything here drives real processes: ``python -m scanner`` in a subprocess,
real git, real file systems. Nothing is mocked.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Union

import pytest

PathLike = Union[str, Path]

# Root ignores file modes; dropping these two capabilities from the bounding
# set makes a root child process obey them again (used for chmod 000 tests).
_DROP_DAC = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")


def scanner_cmd(*args: str) -> list[str]:
    """The command line a user would run: this interpreter, ``-m scanner``."""
    return [sys.executable, "-m", "scanner", *args]


def run_scan(*args: str, cwd: PathLike, env: Optional[dict[str, str]] = None,
             input: Optional[bytes] = None, prefix: Sequence[str] = (), timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    """Run ``mcp-scan args`` in ``cwd`` as a subprocess and capture everything."""
    return subprocess.run([*prefix, *scanner_cmd(*args)], cwd=str(cwd), env=env if env is not None else dict(os.environ),
                          input=input, capture_output=True, timeout=timeout)


def assert_fails_closed(proc: subprocess.CompletedProcess[bytes], *, mentions: Sequence[str] = ()) -> str:
    """Exit 3, no traceback, an error line that says what failed and a hint that says what to do."""
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 3, (proc.returncode, err, proc.stdout[-2000:])
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("mcp-scan: error:") or line.startswith("mcp-scan: internal error:")]
    assert errors, err
    assert any(line.strip().startswith("hint:") for line in lines) or ":" in errors[0], err
    for word in mentions:
        assert word.lower() in err.lower(), (word, err)
    return err


def assert_no_traceback(proc: subprocess.CompletedProcess[bytes]) -> None:
    """Whatever the outcome, a user never sees a Python traceback."""
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in proc.stdout


def env_without_git(tmp: Path) -> dict[str, str]:
    """The current environment with a PATH that holds no ``git`` at all."""
    empty = tmp / "empty-path"
    empty.mkdir(exist_ok=True)
    env = dict(os.environ)
    env["PATH"] = str(empty)
    return env


def as_unprivileged() -> list[str]:
    """A command prefix under which file modes are enforced, even when the tests run as root.

    Returns ``[]`` for a normal user; skips the test when running as root
    without ``setpriv`` (root ignores chmod 000 otherwise).
    """
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv is missing: root ignores file modes")
    probe = subprocess.run([*_DROP_DAC, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"running as root and setpriv cannot drop capabilities: {probe.stderr!r}")
    return list(_DROP_DAC)


def git(cwd: PathLike, *args: str, env: Optional[dict[str, str]] = None) -> str:
    """Run real git (raises on failure) and return stdout as text."""
    proc = subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, check=True, env=env)
    return proc.stdout.decode("utf-8", "replace")


def peak_rss_kib(command: Sequence[str], cwd: PathLike) -> tuple[int, int, bytes]:
    """Run ``command`` in a fresh interpreter and return (exit code, peak RSS of the child in KiB, stderr).

    The measuring interpreter is separate so its own memory is not counted:
    ``RUSAGE_CHILDREN`` reports the largest child only. The command runs once unmeasured first: a
    first run on a machine compiles the rule databases and regexes into the cache (165-190 MB), and
    whether an earlier test in the same worker had done so decided the outcome (a 64 MiB history
    scan alone: 183 MB cold, 79 MB warm).
    """
    subprocess.run(list(command), cwd=str(cwd), capture_output=True, timeout=600)  # fills the caches
    code = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "sys.stderr.buffer.write(p.stderr)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *command], cwd=str(cwd), capture_output=True, timeout=600)
    rc, rss = proc.stdout.split()
    return int(rc), int(rss), proc.stderr
