"""Blobs over the whole-read limit are scanned in slices, never skipped unread, with bounded memory.

A blob over 5 MiB used to be dropped by ``history`` (and so by ``ci``,
``pre-push`` and ``sweep``) with only a count in the stats: a key in a large
SQL dump or JSON fixture passed a push. Real git, real CLI; the slicing
itself is checked against a whole-text scan with small slices.
"""
from __future__ import annotations

import json
import random
import string
import subprocess
from pathlib import Path

import pytest

from scanner.detect import Detector
from scanner.history.large import OVERLAP, SLICE, WHOLE_READ_LIMIT, scan_large_blob
from scanner.rules import builtin_rules
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo
from tests.prepush_test import remote_with_one_commit
from tests.reliability_support import peak_rss_kib, scanner_cmd

FILLER = "INSERT INTO events VALUES (1, 'an ordinary row of a large dump', 42);\n"


def big_text(lines: int, planted: dict[int, str]) -> str:
    rows = [FILLER] * lines
    for index, secret in planted.items():
        rows[index] = f"-- api = '{secret}'\n"
    return "".join(rows)


def test_a_large_text_blob_is_scanned_to_its_end_and_blocks_a_push(tmp_path: Path) -> None:
    _remote, work = remote_with_one_commit(tmp_path)
    assert work.run_mcp_scan("install", "--hook", "pre-push").returncode == 0
    lines = (3 * SLICE) // len(FILLER)  # 12 MiB: three slices
    at_cut = SLICE // len(FILLER)  # the line the first slice boundary falls in
    planted = {5: stripe_live_key(seed=201), at_cut: stripe_live_key(seed=202), lines - 3: stripe_live_key(seed=203)}
    work.stage("db/dump.sql", big_text(lines, planted))
    subprocess.run(["git", "commit", "-q", "--no-verify", "-m", "dump"], cwd=work.path, check=True)
    assert (work.path / "db/dump.sql").stat().st_size > 2 * SLICE > WHOLE_READ_LIMIT

    proc = work.run_mcp_scan("history", "--no-cache", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert sorted(f["line"] for f in report["findings"]) == sorted(i + 1 for i in planted)
    assert report["stats"]["skipped_size"] == 0
    warm = work.run_mcp_scan("history", "--format", "json")
    assert warm.returncode == 1 and len(json.loads(warm.stdout)["findings"]) == 3

    push = subprocess.run(["git", "push", "origin", "main"], cwd=work.path, capture_output=True, text=True)
    assert push.returncode != 0 and "db/dump.sql" in push.stdout


def test_an_explicit_cap_still_skips_and_counts(git_repo: GitRepo) -> None:
    git_repo.stage("big.sql", big_text(WHOLE_READ_LIMIT // len(FILLER) + 10, {7: stripe_live_key(seed=204)}))
    git_repo.commit("big")
    proc = git_repo.run_mcp_scan("history", "--no-cache", "--max-blob-size", str(WHOLE_READ_LIMIT), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["stats"]["skipped_size"] == 1


def test_memory_stays_bounded_on_a_64_mib_blob(git_repo: GitRepo) -> None:
    lines = (64 << 20) // len(FILLER)
    git_repo.stage("huge.sql", big_text(lines, {lines - 2: stripe_live_key(seed=205)}))
    git_repo.commit("huge")
    code, rss_kib, err = peak_rss_kib(scanner_cmd("history", "--no-cache", "-q", "--jobs", "1"), git_repo.path)
    assert code == 1, err
    # a few 4 MiB slices and their decoded text, not the 64 MiB blob
    assert rss_kib * 1024 < 48 * 1024 * 1024 + 8 * SLICE, rss_kib


def test_a_large_binary_blob_is_recognised_from_its_first_slice(git_repo: GitRepo) -> None:
    data = b"\x89PNG\r\n\x1a\n\x00" + random.Random(3).randbytes(WHOLE_READ_LIMIT + 1024)
    git_repo.stage("image.png", data)
    git_repo.commit("image")
    proc = git_repo.run_mcp_scan("history", "--no-cache", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)["stats"]
    assert stats["binary"] == 1 and stats["scanned"] == 1


@pytest.mark.parametrize("seed", range(6))
def test_slices_find_what_a_whole_scan_finds(git_repo: GitRepo, seed: int) -> None:
    # Small slices and overlaps, secrets at random places (some straddling a
    # cut, some on very long lines): the same hits, lines and columns.
    rng = random.Random(seed)
    parts = []
    for n in range(300):
        if rng.random() < 0.05:
            parts.append(f"key{n} = '{stripe_live_key(seed=seed * 1000 + n)}'")
        else:
            parts.append("".join(rng.choice(string.ascii_lowercase + " ") for _ in range(rng.randint(0, 120))))
        parts.append("\n" if rng.random() < 0.9 else " ")
    text = "".join(parts)
    oid = git_repo.git("hash-object", "-w", "--stdin", input=text.encode()).strip()
    rules = [r for r in builtin_rules() if r.id == "stripe-live-secret-key"]
    whole = sorted((f.rule_id, f.fingerprint, f.line, f.column) for f in Detector(rules).scan_text(text, "x.txt"))
    assert whole
    for slice_bytes, overlap in ((997, 300), (4096, 1024), (200, 150)):
        result = scan_large_blob(str(git_repo.path), Detector(rules), oid, [(oid, "x.txt")], slice_bytes, overlap)
        got = sorted((h.rule_id, h.fingerprint, h.line, h.column) for h in result.hits[oid])
        assert got == whole, (slice_bytes, overlap)
    assert OVERLAP < SLICE
