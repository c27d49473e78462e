"""Soak benchmark: ``mcp-scan history --no-cache`` as a history grows to 100,000 commits.

Builds one repository with ``git fast-import`` (seconds, not hours), with a
branch at each checkpoint (default 25k, 50k and 100k commits), then scans each
checkpoint's history cold and reports wall time, the peak RSS of the largest
single process (``wait4`` rusage) and the peak RSS of the whole process tree
(PSS sampled from /proc every 0.2 s: workers and ``git`` children included,
shared pages counted once). The question it
answers is whether memory stays bounded as history grows (issue 7, item 7).

The history holds ~1 KB source-like files edited one per commit (a new blob
per commit), every 5,000th commit a 1 MiB file, a few blobs exactly at the
5 MiB whole-read limit and two just above it (streamed in slices since
2026-12-02; skipped before), and a generated fake Stripe
key every 1,000 commits so there is something to find.

    /work/venv/bin/python -m bench.soak                      # full run (~10 min build + scans)
    /work/venv/bin/python -m bench.soak --commits 3000 --checkpoints 1000,2000,3000   # smoke test
"""
from __future__ import annotations

import argparse
import json
import random
import string
import subprocess
import sys
import time
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any, Optional

from bench._common import proc_status_kib, process_tree, sampled_run

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
CAP = 5 * 1024 * 1024  # history's whole-read limit (its default --max-blob-size until 2026-12-02)
WORDS = ["def", "return", "self", "value", "config", "import", "class", "for", "in", "if", "else", "None",
         "items", "data", "path", "result", "logger", "request", "response", "user", "name", "count", "=",
         "(", ")", ":", "+", "[", "]", "0", "1", "42", "'text'", "\"str\"", "#", "todo", "fix", "parse"]


def fake_stripe(rng: random.Random) -> str:
    """A generated fake of the Stripe live key shape (random, never a real key)."""
    return "sk_live_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))


def _text(rng: random.Random, size: int) -> bytes:
    lines = []
    total = 0
    while total < size:
        line = "    " * rng.randint(0, 3) + " ".join(rng.choices(WORDS, k=rng.randint(3, 12)))
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def _big(rng: random.Random, size: int) -> bytes:
    # Large text-like blob built from repeated random lines (cheap to generate).
    block = _text(rng, 64 * 1024)
    data = (block * (size // len(block) + 1))[:size - 1] + b"\n"
    return data


def stream(commits: int, checkpoints: Collection[int], seed: int) -> Iterator[bytes]:
    """The fast-import command stream: one commit per step, a branch at each checkpoint."""
    rng = random.Random(seed)
    files = [f"src/pkg{i % 40}/module_{i}.py" for i in range(1000)]
    caps = {commits // 7 * k for k in range(1, 5)}  # four blobs exactly at the cap
    over = {commits // 3, 2 * commits // 3}  # two just above it
    for n in range(1, commits + 1):
        path = files[rng.randrange(len(files))]
        data = _text(rng, rng.randint(300, 1800))
        if n % 1000 == 0:
            data += f"STRIPE_KEY = '{fake_stripe(rng)}'\n".encode()
        if n % 5000 == 0:
            path, data = f"assets/large_{n}.txt", _big(rng, 1024 * 1024)
        if n in caps:
            path, data = f"assets/at_cap_{n}.txt", _big(rng, CAP)
        if n in over:
            path, data = f"assets/over_cap_{n}.txt", _big(rng, CAP + 1)
        yield (f"commit refs/heads/main\nmark :{n}\n"
               f"committer Soak <soak@example.com> {1_600_000_000 + n * 60} +0000\n"
               f"data 9\ncommit {n % 10}\n"
               f"M 100644 inline {path}\ndata {len(data)}\n").encode() + data + b"\n"
        if n in checkpoints:
            yield f"reset refs/heads/soak-{n}\nfrom :{n}\n\n".encode()


def build(repo: Path, commits: int, checkpoints: Sequence[int], seed: int) -> float:
    """Create ``repo`` with fast-import; returns seconds taken. Reuses a finished build."""
    marker = repo / ".git" / f"soak-{commits}-{seed}.done"
    if marker.exists():
        return 0.0
    if repo.exists():
        subprocess.run(["rm", "-rf", str(repo)], check=True)
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    start = time.perf_counter()
    proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=repo, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for chunk in stream(commits, set(checkpoints), seed):
        proc.stdin.write(chunk)
    proc.stdin.write(b"done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "-C", str(repo), "symbolic-ref", "HEAD", "refs/heads/main"], check=True)
    marker.write_text("ok\n")
    return time.perf_counter() - start


def _tree_rss_kib(root: int) -> int:
    """Sum of PSS (proportional set size) over ``root`` and all its descendants (from /proc)."""
    # PSS, not RSS: forked workers share the parent's pages copy-on-write and
    # `git cat-file` maps the pack files; summing RSS would count those twice.
    return sum(proc_status_kib(pid, [("smaps_rollup", "Pss:"), ("status", "VmRSS:")]) for pid in process_tree(root))


def measure(cmd: Sequence[str], cwd: Path, report: Path) -> dict[str, Any]:
    """Run ``cmd``; wall seconds, peak largest-process RSS, peak tree RSS, exit code, report stats."""
    err_path = report.with_suffix(".stderr")
    with open(err_path, "wb") as err:
        elapsed, max_rss_mb, tree_mb, exit_code = sampled_run(cmd, cwd, _tree_rss_kib, interval=0.2, stderr=err)
    stderr = err_path.read_bytes()
    stats: dict[str, Any] = {}
    if report.exists():
        try:
            stats = json.loads(report.read_text())["stats"]
        except (ValueError, KeyError):
            pass
    return {"seconds": round(elapsed, 1), "max_rss_mb": round(max_rss_mb, 1),
            "tree_pss_mb": round(tree_mb, 1), "exit": exit_code,
            "stats": stats, "stderr_tail": stderr.decode("utf-8", "replace")[-300:]}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--checkpoints", default="25000,50000,100000", help="comma-separated commit counts")
    parser.add_argument("--jobs", type=int, default=None, help="history --jobs (default: its own default)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repo", type=Path, default=None, help=f"where to build (default: {WORK}/soak-<commits>)")
    args = parser.parse_args(argv)
    checkpoints = sorted(int(c) for c in args.checkpoints.split(","))
    if checkpoints[-1] > args.commits:
        parser.error("a checkpoint is beyond --commits")
    repo = args.repo or WORK / f"soak-{args.commits}"
    built = build(repo, args.commits, checkpoints, args.seed)
    size = subprocess.run(["du", "-sm", str(repo / ".git")], capture_output=True, text=True).stdout.split()[0]
    print(f"repository: {repo} ({args.commits} commits, .git {size} MB; built in {built:.0f} s, 0 = reused)")
    rows = []
    for n in checkpoints:
        report = WORK / f"soak-report-{n}.json"
        report.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "scanner", "history", "--no-cache", "--branch", f"soak-{n}",
               "--format", "json", "-o", str(report), "."]
        if args.jobs:
            cmd[5:5] = ["--jobs", str(args.jobs)]
        print("$ " + " ".join(cmd[1:]), flush=True)
        result = measure(cmd, repo, report)
        rows.append((n, result))
        s = result["stats"]
        print(f"  {n:>7} commits: {result['seconds']:>7.1f} s  largest process {result['max_rss_mb']:>7.1f} MB  "
              f"process tree PSS {result['tree_pss_mb']:>7.1f} MB  exit {result['exit']}  "
              f"(commits {s.get('commits')}, blobs {s.get('blobs')}, scanned {s.get('scanned')}, "
              f"skipped_size {s.get('skipped_size')}, findings {s.get('findings')})", flush=True)
        if result["exit"] not in (0, 1):
            print("  stderr: " + result["stderr_tail"])
    print("\ngrowth (relative to the first checkpoint):")
    first = rows[0][1]
    for n, result in rows:
        print(f"  {n:>7} commits: time x{result['seconds'] / max(first['seconds'], 0.1):.2f}   "
              f"largest process x{result['max_rss_mb'] / max(first['max_rss_mb'], 0.1):.2f}   "
              f"tree x{result['tree_pss_mb'] / max(first['tree_pss_mb'], 0.1):.2f}")
    (WORK / "soak-results.json").write_text(json.dumps([{"commits": n, **r} for n, r in rows], indent=2))
    return 0 if all(r["exit"] in (0, 1) for _, r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
