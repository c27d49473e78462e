"""Staged-diff hook latency: `mcp-scan staged` side by side with peers.

A two-file change is staged in a large repository (thousands of files, tens
of thousands of commits, built by bench/synth.py under bench/.work/) and
each tool's pre-commit scan runs interleaved, ``--runs`` rounds. Prints the
medians, the ratio of every tool to betterleaks (the issue's reference) and
peak RSS.

    python bench/staged.py [--runs 15] [--commits 20000] [--files 3000]
    python bench/staged.py --repo PATH [--runs 21]    # a real work tree instead

With ``--repo``, the work tree of a real repository (a clone of sqlalchemy is
the issue's yardstick) gets one staged line holding a fake Stripe key in an
existing file; the change is undone afterwards.
"""
from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from bench._common import PEER_INSTALL, interleaved, mcp_scan, peer, table
from bench.synth import build

WORK = Path(__file__).resolve().parent / ".work"


def stage_change(repo: Path) -> list[str]:
    """Reset to HEAD and stage a two-file change: one edit, one new file with a fake key."""
    subprocess.run(["git", "reset", "-q", "--hard", "HEAD"], cwd=repo, check=True)
    subprocess.run(["git", "clean", "-qfd", "-e", ".synth-done"], cwd=repo, check=True)
    tracked = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.split()
    edited = repo / tracked[len(tracked) // 2]
    edited.write_text(edited.read_text() + "\nAPI_TIMEOUT = 30\n")
    added = repo / "config" / "payments.py"
    added.parent.mkdir(exist_ok=True)
    added.write_text("import os\nSTRIPE_KEY = 'sk_live_" + "Q3mV9xT2kLp8ZrW4nY6bHc1D" + "'\n")
    subprocess.run(["git", "add", str(edited), str(added)], cwd=repo, check=True)
    return [str(edited.relative_to(repo)), str(added.relative_to(repo))]


def stage_one_line(repo: Path) -> list[str]:
    """Reset to HEAD and stage one added line holding a fake Stripe key in an existing file."""
    subprocess.run(["git", "reset", "-q", "--hard", "HEAD"], cwd=repo, check=True)
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=repo, capture_output=True, text=True,
                             check=True).stdout.split() or subprocess.run(
        ["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.split()
    edited = repo / tracked[len(tracked) // 2]
    edited.write_text(edited.read_text() + "\nSTRIPE_KEY = 'sk_live_" + "Q3mV9xT2kLp8ZrW4nY6bHc1D" + "'\n")
    subprocess.run(["git", "add", str(edited)], cwd=repo, check=True)
    return [str(edited.relative_to(repo))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=3_000)
    parser.add_argument("--repo", type=Path, help="a real work tree to stage one line in (its changes are reset!)")
    parser.add_argument("--baseline", type=Path, metavar="CHECKOUT",
                        help="also measure another mcp-scan checkout (e.g. a `git archive` of main), in its own venv")
    args = parser.parse_args()
    if args.repo:
        repo = args.repo.resolve()
        files = stage_one_line(repo)
    else:
        repo = build(WORK / f"large-{args.commits}-{args.files}", commits=args.commits, files=args.files)
        files = stage_change(repo)
    commands = {"mcp-scan staged": [*mcp_scan(), "staged", "--quiet"]}
    if args.baseline:
        baseline = mcp_scan(args.baseline.resolve(), WORK / "venv-baseline")
        commands["mcp-scan (baseline)"] = [*baseline, "staged", "--quiet"]
    peers = {
        "betterleaks": ["git", "--staged", "--no-banner", "-l", "error", "."],
        "gitleaks": ["git", "--staged", "--no-banner", "-l", "error", "."],
        "kingfisher": ["scan", ".", "--staged", "--no-update-check", "-q"],
        "detect-secrets-hook": files,
    }
    missing = []
    for name, tail in peers.items():
        exe = peer(name)
        if exe:
            commands[name] = [exe, *tail]
        else:
            missing.append(name)
    timings = interleaved(commands, repo, args.runs)
    commits = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    tracked = len(subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout.splitlines())
    change = "one-line change" if args.repo else "two-file change"
    print(f"staged {change} in {repo}: {tracked} files, {commits} commits; {args.runs} interleaved runs")
    reference = "betterleaks" if "betterleaks" in commands else "mcp-scan staged"
    print(table(timings, reference))
    if missing:
        print(f"missing peers: {', '.join(missing)} (install into the peers venv: {PEER_INSTALL})")
    subprocess.run(["git", "reset", "-q", "--hard", "HEAD"], cwd=repo, check=True)


if __name__ == "__main__":
    main()
