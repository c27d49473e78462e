"""Simulate nightly organisation sweeps in CI (issue 16): sharded, cached, fetched.

Builds ``--repos`` (default 100) bare "origin" repositories from the real
histories in ``/work/bench-repos`` (sqlalchemy, requests, express, gin in
turn), each cut at a different point of its first-parent history (between
1% and ``--max-fraction`` of it), so sizes vary as in an organisation: a few
large repositories, many small ones. An origin borrows the source's objects
(``objects/info/alternates``) and has one branch at the cut commit, so a
``file://`` clone of it transfers exactly the cut history.

Night 1 (cold): ``mcp-scan sweep repos.txt --shard i/4`` for i = 1..4, one
after another, each with its own state directory (``--cache-dir`` and
``--mirror-dir``) as a CI job would restore it; the list holds ``file://``
URLs, so each shard clones its repositories bare. Between the nights, 20
commits land in 10 repositories (2 each; 4 of them add a fake key) and one
new repository joins the list. Night 2 (warm): the same four shards, each
from the state the previous night left, fetching what changed. Then one
unsharded cold sweep of the night-2 state (empty cache) is the reference:
the merged shard reports must hold exactly its findings. It also checks that
the new repository moved no other one to another shard.

Prints per-shard seconds cold and warm, bytes fetched, findings, the
next-night/cold ratio, and the state sizes (what a CI cache would hold).
Run from the repository root::

    /work/venv/bin/python -m bench.sweep            # ~5 minutes on the shared 2-core machine
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import ROOT, mcp_scan
from tests.fakes import stripe_live_key

SOURCES = ("sqlalchemy", "requests", "express", "gin")
SHARDS = 4


def git(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}).stdout.strip()


def first_parents(source: Path) -> list[str]:
    return git("rev-list", "--first-parent", "--reverse", "HEAD", cwd=source).split()


def make_origin(path: Path, source: Path, commit: str) -> None:
    git("init", "-q", "--bare", str(path), cwd=path.parent)
    (path / "objects" / "info" / "alternates").write_text(str(source / "objects") + "\n")
    git("update-ref", "refs/heads/main", commit, cwd=path)
    git("symbolic-ref", "HEAD", "refs/heads/main", cwd=path)


def add_commit(origin: Path, name: str, content: str, message: str, scratch: Path) -> None:
    """One commit on main adding ``name`` (plumbing: an origin has no work tree)."""
    env = {"GIT_INDEX_FILE": str(scratch / "index"), "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=origin, input=content, capture_output=True,
                          text=True, check=True).stdout.strip()
    git("read-tree", "main", cwd=origin, env=env)
    git("update-index", "--add", "--cacheinfo", f"100644,{blob},{name}", cwd=origin, env=env)
    tree = git("write-tree", cwd=origin, env=env)
    commit = git("commit-tree", tree, "-p", "main", "-m", message, cwd=origin, env=env)
    git("update-ref", "refs/heads/main", commit, cwd=origin)


def build(work: Path, count: int, max_fraction: float) -> list[str]:
    origins = work / "origins"
    origins.mkdir(parents=True)
    histories = {name: first_parents(Path(f"/work/bench-repos/{name}.git")) for name in SOURCES}
    rng = random.Random(16)
    urls = []
    for i in range(count):
        name = SOURCES[i % len(SOURCES)]
        history = histories[name]
        fraction = 0.01 + (max_fraction - 0.01) * rng.random() ** 2  # skewed: many small, a few large
        cut = history[max(0, int(len(history) * fraction) - 1)]
        path = origins / f"{name}-{i:03d}.git"
        make_origin(path, Path(f"/work/bench-repos/{name}.git"), cut)
        urls.append(path.as_uri())
    return urls


def sweep(cmd: list[str], work: Path, listing: Path, state: Path, report: Path, shard: str | None) -> tuple[float, dict[str, Any]]:
    args = [*cmd, "sweep", "--repos", str(listing), "--cache-dir", str(state / "cache"), "--mirror-dir", str(state / "mirrors"),
            # --no-config: the mirrors live under this checkout, whose pyproject.toml allows bench/**.
            "--format", "json", "-o", str(report), "--jobs", "2", "-q", "--no-config"]
    if shard:
        args += ["--shard", shard]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=work, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"sweep failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, json.loads(report.read_text())


def dry_run(cmd: list[str], work: Path, listing: Path) -> dict[str, int]:
    where = {}
    for i in range(1, SHARDS + 1):
        out = subprocess.run([*cmd, "sweep", "--repos", str(listing), "--shard", f"{i}/{SHARDS}", "--dry-run"], cwd=work,
                             capture_output=True, text=True, check=True).stdout
        where.update({line: i for line in out.splitlines()})
    return where


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def key(finding: dict[str, Any]) -> tuple[Any, ...]:
    return (finding["repo"], finding["rule_id"], finding["path"], finding["fingerprint"], finding.get("commit"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--max-fraction", type=float, default=0.35,
                        help="the largest cut, as a fraction of a source's first-parent history (default 0.35)")
    args = parser.parse_args(argv)
    work = ROOT / "bench" / ".work" / "sweep"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cmd = mcp_scan()
    urls = build(work, args.repos, args.max_fraction)
    listing = work / "repos.txt"
    listing.write_text("\n".join(urls) + "\n")
    print(f"{len(urls)} origin repositories built from {', '.join(SOURCES)} "
          f"(cuts 1%..{args.max_fraction:.0%} of first-parent history)")

    nights: dict[str, list[tuple[float, dict[str, Any]]]] = {"cold": [], "warm": []}
    for night in ("cold", "warm"):
        if night == "warm":
            before = dry_run(cmd, work, listing)
            changed = sorted(random.Random(7).sample(range(len(urls)), 10))
            scratch = work / "scratch"
            scratch.mkdir(exist_ok=True)
            for n, index in enumerate(changed):
                origin = Path(urls[index][len("file://"):])
                for c in range(2):
                    secret = f"STRIPE_KEY={stripe_live_key(seed=1600 + n)}\n" if c == 1 and n % 3 == 0 else ""
                    add_commit(origin, f"nightly/change-{c}.txt", f"night 2 change {c}\n{secret}" + "x = 1\n" * 40,
                               f"night 2 change {c}", scratch)
            new = work / "origins" / "requests-new.git"
            history = first_parents(Path("/work/bench-repos/requests.git"))
            make_origin(new, Path("/work/bench-repos/requests.git"), history[len(history) // 5])
            urls.append(new.as_uri())
            listing.write_text("\n".join(urls) + "\n")
            after = dry_run(cmd, work, listing)
            moved = [u for u in before if after.get(u) != before[u]]
            print(f"20 commits in 10 repositories, 1 new repository: {len(moved)} repositories moved shard "
                  f"(new one in shard {after[new.as_uri()]})")
        for i in range(1, SHARDS + 1):
            state = work / "state" / f"shard-{i}"  # what CI restores for shard i
            nights[night].append(sweep(cmd, work, listing, state, work / f"{night}-{i}.json", f"{i}/{SHARDS}"))

    reference_state = work / "state" / "reference"
    (reference_state / "mirrors").mkdir(parents=True)
    for i in range(1, SHARDS + 1):  # the night-2 mirrors as they are; only the cache is empty
        for mirror in (work / "state" / f"shard-{i}" / "mirrors").iterdir():
            (reference_state / "mirrors" / mirror.name).symlink_to(mirror)
    ref_seconds, reference = sweep(cmd, work, listing, reference_state, work / "reference.json", None)
    merged = subprocess.run([*cmd, "merge", *(str(work / f"warm-{i}.json") for i in range(1, SHARDS + 1))],
                            cwd=work, capture_output=True, text=True)
    merged_findings = json.loads(merged.stdout)["findings"]

    print()
    print("| shard | repos | cold s | warm s | warm/cold | fetched cold MB | fetched warm KB | scanned warm | findings warm |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i in range(SHARDS):
        (cs, cold), (ws, warm) = nights["cold"][i], nights["warm"][i]
        print(f"| {i + 1} | {warm['stats']['repositories']} | {cs:.1f} | {ws:.1f} | {ws / cs:.1%} | "
              f"{cold['stats']['fetched_bytes'] / 1e6:.1f} | {warm['stats']['fetched_bytes'] / 1e3:.1f} | "
              f"{warm['stats']['scanned']} | {warm['stats']['findings']} |")
    cold_total = sum(s for s, _ in nights["cold"])
    warm_total = sum(s for s, _ in nights["warm"])
    print(f"| all | {sum(w['stats']['repositories'] for _, w in nights['warm'])} | {cold_total:.1f} | {warm_total:.1f} | "
          f"{warm_total / cold_total:.1%} | | | | {len(merged_findings)} |")
    print()
    per_repo = cold_total / args.repos
    print(f"cold: {per_repo:.2f} s per repository; next night: {warm_total / (args.repos + 1):.3f} s per repository")
    print(f"reference (unsharded, empty cache): {ref_seconds:.1f} s, {len(reference['findings'])} findings")
    same = sorted(map(key, merged_findings)) == sorted(map(key, reference["findings"]))
    print(f"merged night-2 shard findings identical to the unsharded cold sweep: {same}")
    caches = sum(size(work / "state" / f"shard-{i}" / "cache") for i in range(1, SHARDS + 1))
    mirrors = sum(size(work / "state" / f"shard-{i}" / "mirrors") for i in range(1, SHARDS + 1))
    print(f"state after night 2: caches {caches / 1e6:.1f} MB, mirrors {mirrors / 1e6:.1f} MB "
          f"({args.repos + 1} repositories)")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
