"""The accuracy harness: its corpus is labelled correctly and scored the way it says.

These run the real generator and the real mcp-scan CLI on a small corpus; they
assert nothing about how good the rules are (that is what the benchmark
measures), only that the harness counts what it claims to count.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

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


def test_no_negative_of_the_generated_corpus_is_flagged(tmp_path: Path) -> None:
    """The generated corpus stays a regression check: each negative generator (hashed passwords in a
    fixture, digests, placeholders, URLs without credentials...) twice, none reported at any
    confidence. (A first cut of password-hash-directive flagged every hashed-passwords fixture.)"""
    generate(tmp_path, per_kind=1, per_negative=2, seed=13)
    mcp_scan = next(t for t in tools() if t.name == "mcp-scan")
    result = run_tool(mcp_scan, tmp_path)
    assert not result.error
    assert sorted(d for d in result.flagged if d.startswith("neg/")) == []


# -- the real-example mode (--cases) ---------------------------------------------

def _github_token(seed: int) -> str:
    import zlib

    from scanner.validators import base62
    from tests.fakes import fake

    body = fake(30, seed=seed)
    return "ghp_" + body + base62(zlib.crc32(body.encode()))


def _cases_file(tmp_path: Path) -> Path:
    """Five hand-written examples of generated fakes: three positives (one missed on purpose: a
    value no rule can know), two negatives (one a live-shaped token, which mcp-scan flags)."""
    from tests.fakes import fake, stripe_live_key

    rows = [
        {"id": "P-stripe/1", "label": "positive", "kind": "stripe_key", "source": "acme/rules/stripe.go",
         "upstream_rule": "stripe-access-token", "text": f'STRIPE_KEY = "{stripe_live_key(seed=3)}"\n'},
        {"id": "P-github-1", "label": "positive", "kind": "github_token", "source": "acme/rules/github.go",
         "upstream_rule": "github-pat", "text": f"token: {_github_token(seed=4)}\n"},
        {"id": "P-opaque-1", "label": "positive", "kind": "other_provider_token", "source": "zeta/tests/x_test.go",
         "upstream_rule": "zeta-thing", "text": f"zeta {fake(12, alphabet='abcdef', seed=5)}\n"},
        {"id": "N-placeholder-1", "label": "negative", "kind": "stripe_key", "source": "acme/rules/stripe.go",
         "upstream_rule": "stripe-access-token", "text": 'STRIPE_KEY = "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"\n'},
        {"id": "N-github-1", "label": "negative", "kind": "github_token", "source": "zeta/tests/gh_test.go",
         "upstream_rule": "github-pat", "text": f"fixture = {_github_token(seed=6)}\n"},
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_cases_are_written_one_file_each_and_hits_map_back(tmp_path: Path) -> None:
    from bench.accuracy import case_hits, load_cases, write_cases

    cases = load_cases(_cases_file(tmp_path))
    assert [c.repo for c in cases] == ["acme/rules", "acme/rules", "zeta/tests", "acme/rules", "zeta/tests"]
    write_cases(cases, tmp_path / "out")
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files == sorted(f"{c.dirname}/case.txt" for c in cases)
    assert "/" not in cases[0].dirname  # an id with a slash still gives one directory
    assert (tmp_path / "out" / cases[1].dirname / "case.txt").read_text() == cases[1].text
    grouped = case_hits([Hit(f"./{cases[1].dirname}/case.txt", "a"), Hit(str(tmp_path / "out" / cases[1].dirname / "case.txt"), "b"),
                         Hit("elsewhere/file.txt", "c")])
    assert {d: [h.rule for h in hs] for d, hs in grouped.items()} == {cases[1].dirname: ["a", "b"]}


def test_case_scoring_counts_examples_per_kind_and_repository(tmp_path: Path) -> None:
    from bench.accuracy import load_cases, score_cases

    cases = load_cases(_cases_file(tmp_path))
    found = {cases[0].dirname: [Hit("x", "r1")], cases[4].dirname: [Hit("y", "r2"), Hit("y", "r3")]}
    s = score_cases("t", 0.0, found, cases)
    assert (s.recalled, s.positives, s.flagged, s.negatives) == (1, 3, 1, 2)
    assert s.per_kind["stripe_key"] == [1, 1, 0, 1]
    assert s.per_kind["github_token"] == [0, 1, 1, 1]
    assert s.per_repo["zeta/tests"] == [0, 1, 1, 1]
    assert s.per_repo["acme/rules"] == [1, 2, 0, 1]
    assert [m.split()[1] for m in s.misses] == ["P-github-1", "P-opaque-1"]
    assert "expected by github-pat" in s.misses[0]
    assert s.false_alarms == ["alarm N-github-1  github_token  (github-pat negative) <- r2,r3"]


def test_cases_mode_runs_mcp_scan_and_names_the_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.accuracy import main

    code = main(["--cases", str(_cases_file(tmp_path)), "--tools", "mcp-scan", "--misses",
                 "--cases-dir", str(tmp_path / "work"), "--json", str(tmp_path / "scores.json")])
    out = capsys.readouterr().out
    assert code == 0
    assert "| mcp-scan (all: low+) | 66.7% (2/3) | 50.0% (1/2) |" in out
    assert "miss  P-opaque-1  other_provider_token  expected by zeta-thing" in out
    assert "alarm N-github-1  github_token  (github-pat negative) <- github-pat" in out
    assert "| zeta/tests | 1 | 1 |" in out
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert [s["name"] for s in scores] == ["mcp-scan (hook: medium+)", "mcp-scan (all: low+)"]


def test_a_malformed_cases_file_is_refused_with_its_line(tmp_path: Path) -> None:
    from bench.accuracy import load_cases

    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "label": "positive", "text": "x"}\n{"id": "b", "label": "maybe", "text": "y"}\n')
    with pytest.raises(SystemExit, match=r"bad.jsonl:2: label 'maybe'"):
        load_cases(path)
    path.write_text('{"id": "a", "label": "positive"}\n')
    with pytest.raises(SystemExit, match=r"bad.jsonl:1: not a labelled example"):
        load_cases(path)
