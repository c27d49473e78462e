"""The accuracy harness: its corpus is labelled correctly and scored the way it says.

These run the real generator and the real mcp-scan CLI on a small corpus; they
assert nothing about how good the rules are (that is what the benchmark
measures), only that the harness counts what it claims to count.
"""
from __future__ import annotations

import json
from pathlib import Path

from bench.accuracy import Hit, Result, _sample_dir, at_confidence, run_tool, score, tools
from bench.corpus.generate import generate
from bench.corpus.kinds import KINDS, crc32_token
from bench.corpus.negatives import NEGATIVES
from scanner.validators import github_crc32


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_corpus_is_labelled_and_deterministic(tmp_path: Path) -> None:
    samples = generate(tmp_path / "a", per_kind=2, per_negative=2, seed=7)
    generate(tmp_path / "b", per_kind=2, per_negative=2, seed=7)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert sum(s.label == "pos" for s in samples) == 2 * len(KINDS)
    assert sum(s.label == "neg" for s in samples) == 2 * len(NEGATIVES)
    labels = json.loads((tmp_path / "a" / "labels.json").read_text())
    assert [entry["file"] for entry in labels] == [s.file for s in samples]
    for sample in samples:
        directory = tmp_path / "a" / sample.dir
        assert [p.name for p in directory.rglob("*") if p.is_file()], sample
        assert (tmp_path / "a" / sample.file).read_text(encoding="utf-8").strip()


def test_a_different_seed_draws_different_values(tmp_path: Path) -> None:
    generate(tmp_path / "a", per_kind=1, per_negative=1, seed=1)
    generate(tmp_path / "b", per_kind=1, per_negative=1, seed=2)
    assert _tree(tmp_path / "a") != _tree(tmp_path / "b")


def test_generated_checksummed_tokens_verify() -> None:
    import random

    rng = random.Random(3)
    assert all(github_crc32(crc32_token(rng, "npm_")) for _ in range(50))


def test_findings_map_back_to_samples_whatever_the_path_style() -> None:
    assert _sample_dir("pos/jwt/003/.mcp.json") == "pos/jwt/003"
    assert _sample_dir("./neg/prose/010/docs/auth.md") == "neg/prose/010"
    assert _sample_dir("/tmp/x/corpus/pos/npm-token/000/.npmrc") == "pos/npm-token/000"
    assert _sample_dir("pos/vault/001/.github/workflows/deploy.yml") == "pos/vault/001"


def test_scoring_counts_files_and_respects_confidence(tmp_path: Path) -> None:
    samples = generate(tmp_path, per_kind=1, per_negative=1, seed=5)
    pos = [s for s in samples if s.label == "pos"]
    neg = [s for s in samples if s.label == "neg"]
    flagged = {pos[0].dir: [Hit(pos[0].file, "r", "high")], pos[1].dir: [Hit(pos[1].file, "r", "low")],
               neg[0].dir: [Hit(neg[0].file, "r", "low")]}
    result = Result("t", 1.0, flagged)
    everything = score(result, samples)
    assert round(everything.recall, 6) == round(200.0 / len(pos), 6)
    assert round(everything.flagged_negatives, 6) == round(100.0 / len(neg), 6)
    blocking = score(at_confidence(result, "medium", "t-medium"), samples)
    assert round(blocking.recall, 6) == round(100.0 / len(pos), 6)
    assert blocking.flagged_negatives == 0.0
    assert blocking.missed_kinds[pos[1].kind] == 1


def test_mcp_scan_runs_on_the_corpus_through_the_harness(tmp_path: Path) -> None:
    samples = generate(tmp_path, per_kind=1, per_negative=1, seed=11)
    mcp_scan = next(t for t in tools() if t.name == "mcp-scan")
    result = run_tool(mcp_scan, tmp_path)
    assert not result.error
    assert all(d.startswith(("pos/", "neg/")) for d in result.flagged)
    stripe = next(s for s in samples if s.kind == "stripe-live-secret")
    assert stripe.dir in result.flagged
