"""Where the detector's regex time goes in ``mcp-scan history``: seconds and calls per rule.

``python -m bench.ruletime /work/bench-repos/gin.git`` runs ``history --no-cache --jobs 1``
in this process with ``Detector._rule_hits`` (one rule's regex and gates over one text's
windows) timed per rule, then prints the rules that cost most, with Hyperscan's candidate
windows per rule (``--stats``) to compare against. One worker, so the clock sees every call.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)

    from scanner.cli import main as cli
    from scanner.detect import Detector

    spent: dict[str, list[float]] = {}  # rule id -> [seconds, calls]
    original = Detector._rule_hits

    def timed(self: Detector, rule: Any, text: str, path: str, windows: Any) -> Iterable[Any]:
        def run() -> Iterator[Any]:
            entry = spent.setdefault(rule.id, [0.0, 0])
            entry[1] += 1
            hits = iter(original(self, rule, text, path, windows))
            while True:
                began = time.perf_counter()
                try:
                    hit = next(hits)
                except StopIteration:
                    entry[0] += time.perf_counter() - began
                    return
                entry[0] += time.perf_counter() - began
                yield hit
        return run()

    Detector._rule_hits = timed  # type: ignore[method-assign]
    began = time.perf_counter()
    try:
        code = cli(["history", "--no-cache", "--jobs", "1", "--format", "json", "-o", "/dev/null", "-q", args.repo])
    finally:
        Detector._rule_hits = original  # type: ignore[method-assign]
    wall = time.perf_counter() - began
    total = sum(s for s, _ in spent.values())
    print(f"history: exit {code}, {wall:.1f} s; in rule regexes and gates: {total:.1f} s ({100 * total / wall:.0f}%)")
    print(f"{'s':>7} {'calls':>8}  rule")
    for rule_id, (seconds, calls) in sorted(spent.items(), key=lambda kv: -kv[1][0])[:args.top]:
        print(f"{seconds:7.2f} {int(calls):8d}  {rule_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
