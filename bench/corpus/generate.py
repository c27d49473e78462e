"""Write the labelled accuracy corpus to a directory.

Layout: ``<out>/pos/<kind>/<n>/<file>`` holds exactly one fake credential of
``kind``; ``<out>/neg/<generator>/<n>/<file>`` holds none. ``labels.json``
lists every sample with its directory, label, kind, category and whether it
is one of the MCP kinds. The same seed gives the same corpus.

    python -m bench.corpus.generate --out bench/.work/corpus --per-kind 16 --per-negative 32
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from random import Random
from typing import Optional

from bench.corpus.contexts import render
from bench.corpus.kinds import KINDS
from bench.corpus.negatives import NEGATIVES


@dataclass(frozen=True)
class Sample:
    """One file of the corpus and what it holds."""

    dir: str
    file: str
    label: str  # "pos" or "neg"
    kind: str
    category: str
    mcp: bool


def generate(out: Path, per_kind: int = 16, per_negative: int = 32, seed: int = 1) -> list[Sample]:
    """(Re)create the corpus under ``out`` and return its labels.

    Files are written to a private staging directory that then replaces ``out``,
    so a concurrent run cannot delete files from under this one mid-write.
    """
    final, out = out, out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(out, ignore_errors=True)
    rng = Random(seed)
    samples: list[Sample] = []
    for kind in KINDS:
        for n in range(per_kind):
            name, content, _secret = render(kind, rng)
            samples.append(_write(out, "pos", kind.name, n, name, content, kind.category, kind.mcp))
    for make in NEGATIVES:
        family = make.__name__.replace("_", "-")
        for n in range(per_negative):
            name, content = make(rng)
            samples.append(_write(out, "neg", family, n, name, content, "negative", False))
    (out / "labels.json").write_text(json.dumps([asdict(s) for s in samples], indent=1))
    shutil.rmtree(final, ignore_errors=True)
    out.rename(final)
    return samples


def _write(out: Path, label: str, kind: str, n: int, name: str, content: str, category: str, mcp: bool) -> Sample:
    directory = out / label / kind / f"{n:03d}"
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return Sample(str(directory.relative_to(out)), str(path.relative_to(out)), label, kind, category, mcp)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / ".work" / "corpus")
    parser.add_argument("--per-kind", type=int, default=16)
    parser.add_argument("--per-negative", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    samples = generate(args.out, args.per_kind, args.per_negative, args.seed)
    pos = sum(s.label == "pos" for s in samples)
    print(f"wrote {pos} positives and {len(samples) - pos} negatives to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
