"""How fast the rules' Hyperscan database scans real blob content, and which expressions slow it.

``python -m bench.hsdb`` samples text blobs from the benchmark repositories' bare mirrors
(``git cat-file``, blobs in object-id order, which is as good as random), then:

* scans each blob with the whole database (``RuleMatcher``, as ``mcp-scan history`` does:
  one ``scan`` call per text) and prints its throughput, best of ``--rounds``;
* compiles every expression alone (exactly as the database holds it: exact, prefilter or keyword
  literal, with its flags), scans the same sample with it, and ranks the expressions by time
  and by match count;
* recompiles the database without the ``--drop`` slowest expressions, to show what they cost
  together (expressions alone do not add up: Hyperscan shares one literal matcher among them).

    python -m bench.hsdb                                   # 40 MB of sqlalchemy + 10 MB of gin
    python -m bench.hsdb --repo /work/bench-repos/gin.git:20 --top 40

Figures are wall time of this process on a shared machine: compare runs made close together.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

DEFAULT_REPOS = ("/work/bench-repos/sqlalchemy.git:40", "/work/bench-repos/gin.git:10")
MAX_BLOB = 1 << 20  # larger blobs are rare in history spans and would dominate a small sample


def sample(repo: str, megabytes: float) -> list[bytes]:
    """Up to ``megabytes`` of text blobs (no NUL byte, at most MAX_BLOB each) from ``repo``."""
    listing = subprocess.run(
        ["git", "-C", repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype) %(objectsize)"],
        check=True, capture_output=True, text=True).stdout.split("\n")
    oids = [oid for oid, kind, size in (line.split() for line in listing if line)
            if kind == "blob" and 0 < int(size) <= MAX_BLOB]
    budget = int(megabytes * 1024 * 1024)
    blobs: list[bytes] = []
    with subprocess.Popen(["git", "-C", repo, "cat-file", "--batch"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for oid in oids:
            if budget <= 0:
                break
            proc.stdin.write(oid.encode() + b"\n")
            proc.stdin.flush()
            size = int(proc.stdout.readline().split()[2])
            data = proc.stdout.read(size + 1)[:-1]
            if b"\0" in data:
                continue  # binary: history does not match it
            blobs.append(data)
            budget -= size
        proc.stdin.close()
    return blobs


def scan_all(db: Any, scratch: Any, blobs: Sequence[bytes], hs: Any) -> tuple[float, int]:
    """Seconds to scan every blob with ``db`` (one call each, as history does) and the matches reported."""
    count = 0

    def on_match(*_args: Any) -> None:
        nonlocal count
        count += 1

    began = time.perf_counter()
    for data in blobs:
        try:
            db.scan(data, match_event_handler=on_match, scratch=scratch)
        except hs.error:
            pass
    return time.perf_counter() - began, count


def compile_db(hs: Any, patterns: Sequence[Any]) -> Any:
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=[p.expression for p in patterns], ids=list(range(len(patterns))),
               elements=len(patterns), flags=[p.flags for p in patterns])
    return db


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", action="append", metavar="GITDIR:MB",
                        help="a repository and how many MB of its blobs to sample (repeatable; default: "
                             + ", ".join(DEFAULT_REPOS) + ")")
    parser.add_argument("--rounds", type=int, default=3, help="scans of the whole database (best is shown)")
    parser.add_argument("--top", type=int, default=25, help="expressions to list")
    parser.add_argument("--drop", type=int, default=10, help="slowest expressions left out of the last scan")
    parser.add_argument("--no-single", action="store_true", help="skip timing each expression alone")
    args = parser.parse_args(argv)

    import hyperscan as hs

    from scanner.rulematch import RuleMatcher
    from scanner.rules import builtin_rules

    blobs: list[bytes] = []
    for spec in args.repo or DEFAULT_REPOS:
        repo, _, mb = spec.rpartition(":")
        blobs.extend(sample(repo, float(mb)))
    size = sum(map(len, blobs)) / (1024 * 1024)
    print(f"sample: {len(blobs)} text blobs, {size:.1f} MB")

    matcher = RuleMatcher(builtin_rules())
    patterns, modes = matcher.patterns()
    names = [r.id for r in matcher.rules] + ["decode:percent"]
    db = compile_db(hs, patterns)
    scratch = hs.Scratch(db)
    best, matches = min(scan_all(db, scratch, blobs, hs) for _ in range(args.rounds))
    print(f"database: {len(patterns)} expressions; {best:.2f} s, {size / best:.0f} MB/s, {matches} matches")
    counts: dict[str, int] = {}
    for mode in modes:
        counts[mode] = counts.get(mode, 0) + 1
    print("modes: " + ", ".join(f"{m} {n}" for m, n in sorted(counts.items())))
    if args.no_single:
        return 0

    rows: list[tuple[float, int, int]] = []  # seconds alone, matches, pattern index
    for index, pattern in enumerate(patterns):
        one = compile_db(hs, [pattern])
        seconds, found = scan_all(one, hs.Scratch(one), blobs, hs)
        rows.append((seconds, found, index))
    floor = min(r[0] for r in rows)
    print(f"\nexpressions alone: fastest {floor:.3f} s (the per-call floor); slowest {args.top}:")
    print(f"{'s':>7} {'MB/s':>7} {'matches':>9}  rule (mode): expression")

    def line(seconds: float, found: int, index: int) -> str:
        pattern = patterns[index]
        rule = pattern.rule
        mode = modes[rule] if rule < len(modes) else "exact"
        expression = pattern.expression.decode("utf-8", "replace")
        expression = expression if len(expression) <= 90 else expression[:87] + "..."
        return f"{seconds:7.3f} {size / seconds:7.0f} {found:9d}  {names[rule]} ({mode}): {expression}"

    rows.sort(reverse=True)
    for row in rows[:args.top]:
        print(line(*row))
    print(f"\nmost matches, top {args.top}:")
    for row in sorted(rows, key=lambda r: r[1], reverse=True)[:args.top]:
        print(line(*row))
    if args.drop:
        slow = {index for _, _, index in rows[:args.drop]}
        rest = [p for i, p in enumerate(patterns) if i not in slow]
        db = compile_db(hs, rest)
        seconds, _ = min(scan_all(db, hs.Scratch(db), blobs, hs) for _ in range(args.rounds))
        print(f"\nwithout the {args.drop} slowest: {seconds:.2f} s, {size / seconds:.0f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
