"""Interruption (issue 7, item 3): Ctrl-C exits 130 without a traceback; killed runs leave files whole.

Ctrl-C in a terminal signals the whole foreground process group, so the
scanner runs in its own session and the test signals that group (workers
included). Files written by a run (``-o`` reports, the history cache) are
checked after SIGINT and after SIGKILL at several points: each is either the
previous complete file or the new complete one, and the next run works.
"""
from __future__ import annotations

import json
import os
import random
import signal
import string
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes import stripe_live_key
from tests.reliability_support import git, scanner_cmd

KEY = stripe_live_key(seed=31)


def _as_in_a_terminal() -> None:
    # A shell without job control starts background jobs (`.ci/run &`) with
    # SIGINT ignored, the child inherits that, and Python then never raises
    # KeyboardInterrupt: restore what a terminal gives every program.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args: str, cwd: Path, stdin: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen(scanner_cmd(*args), cwd=str(cwd), stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, preexec_fn=_as_in_a_terminal)


def ctrl_c(proc: subprocess.Popen[bytes], after: float) -> tuple[int, bytes, bytes]:
    """Send SIGINT to the process group ``after`` seconds in, as a terminal would."""
    time.sleep(after)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def big_tree(root: Path, files: int = 200, size: int = 20_000) -> None:
    rng = random.Random(5)
    alphabet = string.ascii_letters + string.digits + " =:_-\n"
    chunk = "".join(rng.choice(alphabet) for _ in range(size))
    for i in range(files):
        sub = root / f"d{i % 20}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.txt").write_text(f"token = {stripe_live_key(seed=i)}\n" + chunk)


def history_repo(path: Path, commits: int = 3000) -> Path:
    """A repository with ``commits`` commits written by ``git fast-import`` (fast), many distinct blobs."""
    git(path.parent, "init", "-q", str(path))
    rng = random.Random(9)
    lines = []
    for n in range(1, commits + 1):
        body = f"# file {n}\nvalue_{n} = {''.join(rng.choice(string.ascii_letters) for _ in range(4000))}\n"
        if n % 100 == 0:
            body += f"api = {stripe_live_key(seed=n)}\n"
        data = body.encode()
        lines.append(b"commit refs/heads/main\n")
        lines.append(f"committer T <t@example.com> {1700000000 + n} +0000\n".encode())
        lines.append(b"data 4\nmsg\n")  # fast-import chains commits on the same branch by itself
        lines.append(f"M 100644 inline src/f{n % 500}.py\n".encode())
        lines.append(f"data {len(data)}\n".encode() + data + b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(lines), check=True)
    return path


def test_ctrl_c_while_reading_stdin(tmp_path: Path) -> None:
    proc = start("scan", "-", cwd=tmp_path, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(b"still typing...\n")
    proc.stdin.flush()
    code, _out, err = ctrl_c(proc, after=2.0)
    proc.stdin.close()
    assert code == 130, err
    assert b"Traceback" not in err
    assert b"interrupted" in err


def _blocked_reading_stdin(pid: int) -> bool:
    """True once ``pid`` sits in read(0, ...): what it had to scan before stdin, it has scanned."""
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return True  # no /proc/PID/syscall here: the interrupt lands wherever the scan is
    return fields[:2] == ["0", "0x0"]


def test_ctrl_c_during_a_directory_scan(tmp_path: Path) -> None:
    # `scan tree - more`: the tree is scanned (findings in memory), then the
    # scan waits for stdin, which stays open, with `more` still to go. So the
    # interrupt lands mid-run on any machine at any load: the scan cannot
    # finish before it. No reference timing, nothing to skip.
    big_tree(tmp_path / "tree", files=60)
    big_tree(tmp_path / "more", files=5)
    proc = start("scan", "--engine", "python", "tree", "-", "more", cwd=tmp_path, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(b"partial input, still typing...\n")
    proc.stdin.flush()
    for _poll in range(60_000):  # a hang guard (10 minutes), not a time budget
        if proc.poll() is not None or _blocked_reading_stdin(proc.pid):
            break
        time.sleep(0.01)
    assert proc.poll() is None, proc.communicate()
    code, out, err = ctrl_c(proc, after=0)
    proc.stdin.close()
    assert code == 130, err
    assert b"Traceback" not in err + out
    assert b"interrupted" in err
    assert KEY.encode() not in out + err
    assert out == b""  # no half report of the part already scanned


def test_report_file_is_never_half_written(tmp_path: Path) -> None:
    big_tree(tmp_path / "tree", files=100)
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"version": 1, "findings": [], "stats": {"previous": True}}))
    for delay in (0.3, 0.8, 1.5, 3.0):
        proc = start("scan", "--format", "json", "-o", str(report), "tree", cwd=tmp_path)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=120)
        data = json.loads(report.read_text())  # complete, old or new
        assert data["version"] == 1
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report.json.")], "temporary file left behind"


def _cat_file_pids(session: int, blobs_only: bool = False) -> list[int]:
    """The ``git cat-file --batch`` processes of a scanner's session (it has its own:
    start_new_session); with ``blobs_only``, the workers' blob readers alone (the message reader that
    runs during the walk starts its own cat-file without the delta-cache setting)."""
    pattern = "deltaBaseCacheLimit=[^ ]+ cat-file --batch$" if blobs_only else "cat-file --batch$"
    found = subprocess.run(["pgrep", "-s", str(session), "-f", pattern], capture_output=True)
    return [int(pid) for pid in found.stdout.split()]


def _bytes_streamed(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            io = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
        except (OSError, ValueError):
            continue
        total += int(io.get("wchar", "0"))
    return total


def _signal_mid_scan(proc: subprocess.Popen[bytes], sig: int, after_bytes: int) -> None:
    """Send ``sig`` to the scanner's process group once its blob readers have streamed ``after_bytes``.

    The group is frozen (SIGSTOP) while it is inspected, so what is seen is
    still true when the signal is sent: while a ``cat-file --batch`` runs the
    scan has not reached its report, whatever the machine's speed or load.
    """
    def streamed() -> bool:
        pids = _cat_file_pids(proc.pid)
        return bool(pids) and _bytes_streamed(pids) >= after_bytes

    if not _signal_once(proc, streamed, sig):
        raise AssertionError(f"the scan ended (exit {proc.poll()}) before it streamed {after_bytes} bytes of blobs")


def _cache_files(repo: Path) -> list[Path]:
    return sorted((repo / ".git" / "mcp-scan").glob("history-*.cache")) if (repo / ".git" / "mcp-scan").exists() else []


def test_ctrl_c_during_history_and_the_cache_stays_consistent(tmp_path: Path) -> None:
    # 15,000 commits of 4 KB blobs (60 MB): interrupted at set amounts of
    # blob content streamed, not at fractions of a reference run's time.
    repo = history_repo(tmp_path / "repo", commits=15_000)
    reference = subprocess.run(scanner_cmd("history", "--no-cache", "--format", "json", "--jobs", "2", "."),
                               cwd=repo, capture_output=True)
    assert reference.returncode == 1, reference.stderr
    expected = sorted((f["path"], f["fingerprint"]) for f in json.loads(reference.stdout)["findings"])
    assert expected

    for streamed in (0, 4 << 20, 12 << 20):
        proc = start("history", "--format", "json", "--jobs", "2", ".", cwd=repo)
        _signal_mid_scan(proc, signal.SIGINT, streamed)
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 130, err
        assert b"Traceback" not in err + out, err.decode("utf-8", "replace")
        assert KEY.encode() not in err
        for cache in _cache_files(repo):
            assert cache.read_bytes().startswith(b"mcp-scan-history-cache")
    # SIGKILL mid-run too: no cleanup handlers at all.
    proc = start("history", "--format", "json", "--jobs", "2", ".", cwd=repo)
    _signal_mid_scan(proc, signal.SIGKILL, 8 << 20)
    proc.communicate(timeout=600)
    assert proc.returncode == -signal.SIGKILL

    from scanner.history.cache import BlobCache

    for cache in _cache_files(repo):
        key = cache.read_bytes().split(b"\n")[1].decode()
        loaded = BlobCache(cache, key).load()
        assert loaded.status in ("loaded", "new"), loaded.status  # never "corrupt": writes are atomic
    leftovers = [p for p in (repo / ".git" / "mcp-scan").glob("*") if p.suffix == ".tmp"] if (repo / ".git" / "mcp-scan").exists() else []
    assert leftovers == []
    # the next run, with whatever cache survived, reports exactly what a cold run does
    again = subprocess.run(scanner_cmd("history", "--format", "json", "--jobs", "2", "."), cwd=repo, capture_output=True)
    assert again.returncode == 1, again.stderr
    assert sorted((f["path"], f["fingerprint"]) for f in json.loads(again.stdout)["findings"]) == expected
    # and no worker is left running
    assert subprocess.run(["pgrep", "-f", f"scanner history.*{repo}"], capture_output=True).stdout == b""


def test_baseline_file_is_never_half_written(tmp_path: Path) -> None:
    repo = history_repo(tmp_path / "repo", commits=1500)
    baseline = tmp_path / "baseline.json"
    first = subprocess.run(scanner_cmd("baseline", "create", "-o", str(baseline), "."), cwd=repo, capture_output=True)
    if b"invalid choice" in first.stderr or b"not implemented yet" in first.stderr:
        pytest.skip("baseline is not implemented yet")
    assert first.returncode == 0, first.stderr
    good = baseline.read_bytes()
    json.loads(good)
    for delay in (0.2, 0.5, 1.0, 2.0):
        proc = start("baseline", "update", "-o", str(baseline), ".", cwd=repo)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=120)
        json.loads(baseline.read_text())  # the old file or a complete new one, never a torn write
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".baseline.json.")]
    code, _out, err = ctrl_c(start("baseline", "create", "-o", str(baseline), ".", cwd=repo), after=0.5)
    assert code in (0, 130), err
    assert b"Traceback" not in err
    json.loads(baseline.read_text())


def _forked_scanners(session: int) -> list[int]:
    """The scanner's forked processes (its own command line, another pid) in its session."""
    found = subprocess.run(["pgrep", "-s", str(session), "-f", "scanner history"], capture_output=True)
    return [int(pid) for pid in found.stdout.split() if int(pid) != session]


def _signal_once(proc: subprocess.Popen[bytes], seen: Callable[[], bool], sig: int = signal.SIGINT,
                 pause: float = 0.01) -> bool:
    """Send ``sig`` to the scanner's group the first time ``seen()`` holds, the group frozen while
    it is asked (what it sees is still true when the signal lands); False if the scan ended first."""
    for _poll in range(60_000):  # a hang guard (10 minutes), not a time budget
        if proc.poll() is not None:
            return False
        os.killpg(proc.pid, signal.SIGSTOP)
        landed = seen()
        if landed:
            os.killpg(proc.pid, sig)
        os.killpg(proc.pid, signal.SIGCONT)
        if landed:
            return True
        time.sleep(pause)
    return False


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="a first compile forks helpers only with two CPUs or more")
def test_ctrl_c_during_the_first_compile_of_the_rules(tmp_path: Path) -> None:
    # An empty cache directory: the rules' databases are compiled first, by forked helpers, for
    # seconds on any machine. The group is frozen while it is looked at, so the interrupt lands
    # while the helpers run and before any database is written.
    repo = history_repo(tmp_path / "repo", commits=200)
    cache = tmp_path / "cache"
    env = dict(os.environ, MCP_SCAN_CACHE_DIR=str(cache))
    proc = subprocess.Popen(scanner_cmd("history", "--no-cache", "--no-config", str(repo)), cwd=str(tmp_path),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_as_in_a_terminal)
    _signal_once(proc, lambda: bool(_forked_scanners(proc.pid)) and not list(cache.glob("rules-*.hsdb")))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert b"Traceback" not in out + err and b"interrupted" in err
    assert not _forked_scanners(proc.pid)  # no helper left behind
    assert not list(cache.glob("rules-*.hsdb"))  # nothing half written
    again = subprocess.run(scanner_cmd("history", "--no-cache", "--no-config", str(repo)), cwd=str(tmp_path),
                           env=env, capture_output=True, timeout=600)
    assert again.returncode == 1 and b"stripe" in again.stdout.lower(), again.stderr


def test_ctrl_c_during_the_walk_with_the_pool_already_forked(tmp_path: Path) -> None:
    # A cold whole history large enough for every worker forks its pool before the walk, and one
    # worker scans the commit messages meanwhile. The group is frozen while it is looked at, so
    # the interrupt lands while the walk's git log runs, the workers alive, no blob read yet.
    repo = history_repo(tmp_path / "repo", commits=8000)
    proc = start("history", "--no-cache", "--no-config", "--jobs", "2", ".", cwd=repo)
    def walking_with_the_pool() -> bool:
        walking = subprocess.run(["pgrep", "-s", str(proc.pid), "-f", "log --raw"], capture_output=True).stdout
        # (the message worker's own cat-file may already run: it reads commits, not blobs)
        return bool(walking and _forked_scanners(proc.pid) and not _cat_file_pids(proc.pid, blobs_only=True))

    landed = _signal_once(proc, walking_with_the_pool, pause=0.005)
    out, err = proc.communicate(timeout=120)
    assert landed, f"the walk ended (exit {proc.returncode}) before it was seen with the pool forked"
    assert proc.returncode == 130, err
    assert b"Traceback" not in out + err and b"interrupted" in err
    assert not _forked_scanners(proc.pid)  # no worker left behind
    # nor any git for long: a git the scanner no longer reads from ends at its next write (SIGPIPE)
    for _poll in range(6_000):  # a hang guard (60 s), not a time budget
        left = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True).stdout
        if not left:
            break
        time.sleep(0.01)
    assert left == b""
