"""The version chain's byte comparisons: what two versions share, found in place."""
from __future__ import annotations

import random
from typing import Any, Optional

import pytest

from scanner.detect import Detector
from scanner.history.blobs import whole_text_gate
from scanner.history.delta import (SPLIT_EXTRA, MatchedChain, VersionChain, _changed_lines, _hunks, _same_ahead,
                                   _same_behind)
from scanner.history.hits import Hit
from scanner.models import Fragment
from scanner.rules import builtin_rules
from tests.fakes import fake, stripe_live_key

try:
    from scanner.rulematch import RuleMatcher as _Matcher

    import hyperscan  # noqa: F401  (the matched chain needs the wheel; the pure chain runs without)
    RuleMatcher: Optional[type] = _Matcher
except ImportError:
    RuleMatcher = None


def _ahead(a: bytes, ai: int, b: bytes, bi: int, limit: int) -> int:
    n = 0
    while n < limit and a[ai + n] == b[bi + n]:
        n += 1
    return n


def _behind(a: bytes, ae: int, b: bytes, be: int, limit: int) -> int:
    n = 0
    while n < limit and a[ae - n - 1] == b[be - n - 1]:
        n += 1
    return n


def _edited(rnd: random.Random, text: bytes) -> bytes:
    out = bytearray(text)
    for _ in range(rnd.randint(0, 3)):
        at = rnd.randint(0, len(out))
        kind = rnd.randint(0, 2)
        if kind == 0:
            out[at:at] = rnd.randbytes(rnd.randint(1, 40))
        elif kind == 1:
            del out[at:at + rnd.randint(1, 40)]
        elif out:
            out[min(at, len(out) - 1)] ^= 1
    return bytes(out)


@pytest.mark.parametrize("seed", range(4))
def test_shared_runs_are_measured_exactly_at_any_offset_and_block_edge(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(400):
        size = rnd.choice([0, 1, 7, 4095, 4096, 4097, 8192 * 3 + 5, 70_000])
        a = rnd.randbytes(size)
        b = _edited(rnd, a)
        if rnd.random() < 0.5:
            a, b = b, a
        ai, bi = rnd.randint(0, len(a)), rnd.randint(0, len(b))
        limit = rnd.randint(0, min(len(a) - ai, len(b) - bi))
        assert _same_ahead(a, ai, b, bi, limit) == _ahead(a, ai, b, bi, limit)
        assert _same_ahead(a, 0, b, 0, min(len(a), len(b))) == _ahead(a, 0, b, 0, min(len(a), len(b)))
        limit = rnd.randint(0, min(ai, bi))
        assert _same_behind(a, ai, b, bi, limit) == _behind(a, ai, b, bi, limit)
        limit = min(len(a), len(b))
        assert _same_behind(a, len(a), b, len(b), limit) == _behind(a, len(a), b, len(b), limit)


def test_the_change_is_whole_lines_and_the_rest_is_shared() -> None:
    rnd = random.Random(9)
    lines = [b"line %d of the file\n" % i for i in range(3000)]
    old = b"".join(lines)
    for _ in range(200):
        edited = list(lines)
        at = rnd.randrange(len(edited))
        edited[at:at + rnd.randint(0, 3)] = [b"changed %d\n" % rnd.randint(0, 9)] * rnd.randint(0, 2)
        new = b"".join(edited)
        p, e = _changed_lines(old, new)
        assert p == 0 or new[p - 1] == 10
        assert e == len(new) or new[e - 1] == 10
        tail = len(new) - e
        assert new[:p] == old[:p] and new[e:] == old[len(old) - tail:]


# -- a long change judged in pieces ------------------------------------------------------------

def _filler(rng: random.Random, count: int) -> list[bytes]:
    return [b"    result_%d = compute(item_%d, %d)  # step\n" % (rng.randint(0, 999), i, rng.randint(0, 9))
            for i in range(count)]


def test_a_long_change_is_cut_around_the_runs_it_shares_with_the_previous_version() -> None:
    rnd = random.Random(3)
    keep = 4096
    cut = 0
    for _ in range(60):
        lines = _filler(rnd, 3000)
        old = b"".join(lines)
        for _edit in range(rnd.randint(2, 5)):  # far apart, and now and then a block moved
            at = rnd.randrange(len(lines))
            if rnd.random() < 0.3:
                block = lines[at:at + 200]
                del lines[at:at + 200]
                to = rnd.randint(0, len(lines))
                lines[to:to] = block
            else:
                lines[at:at + rnd.randint(0, 2)] = [b"changed = %d\n" % rnd.randint(0, 99)] * rnd.randint(0, 3)
        new = b"".join(lines)
        p, e = _changed_lines(old, new)
        old_end = e - (len(new) - len(old))
        pieces = _hunks(old, new, p, e, keep)
        assert pieces[0][0] == p and pieces[-1][1] == e
        for lo, hi in pieces:
            assert lo <= hi and (lo == 0 or new[lo - 1] == 10) and (hi == 0 or new[hi - 1] == 10)
        for (_, a), (b, _) in zip(pieces, pieces[1:]):  # between two pieces: a run of the old change
            assert b - a >= keep and a < b
            assert old.find(new[a:b], p, old_end) != -1
        cut += len(pieces) > 1
    assert cut > 30  # the edits are far apart: most changes have runs to cut out


def _whole_hits(detector: Detector, text: bytes, path: str) -> set[tuple[Any, ...]]:
    first: dict[str, tuple[Any, ...]] = {}
    for f in sorted(detector.scan_text(text.decode("utf-8"), path), key=lambda f: (f.line, f.column)):
        first.setdefault(f.fingerprint, (f.rule_id, f.fingerprint, f.line, f.column))
    return set(first.values())


def _chain_hits(chain: VersionChain, detector: Detector, text: bytes, path: str) -> set[tuple[Any, ...]]:
    def scan(part: str, start_line: int, only: Any = None) -> list[Hit]:
        return [Hit.of(f) for f in detector.scan(Fragment(text=part, path=path, start_line=start_line), only)]

    return {(h.rule_id, h.fingerprint, h.line, h.column) for h in chain.scan(path, text, lambda _d: True, scan)}


@pytest.fixture(scope="module")
def detectors() -> tuple[Detector, Detector, list[Any]]:
    rules = list(builtin_rules())
    return Detector(rules, engine="python", regex_timeout=1e6), Detector(rules, regex_timeout=1e6), rules


def _chains(detectors: tuple[Detector, Detector, list[Any]]) -> list[VersionChain]:
    python, _, rules = detectors
    chains: list[VersionChain] = [VersionChain(True, whole_text_gate(python))]
    if RuleMatcher is not None:
        chains.append(MatchedChain(RuleMatcher(rules)))
    return chains


def _judged_in_pieces(detectors: tuple[Detector, Detector, list[Any]], old: bytes, new: bytes, path: str,
                      rule_id: str) -> None:
    """``old`` has no hit, ``new`` one of ``rule_id``: each chain finds it, judging the change in pieces."""
    python, detector, _ = detectors
    for chain in _chains(detectors):
        assert _chain_hits(chain, detector, old, path) == _whole_hits(python, old, path) == set()
        want = _whole_hits(python, new, path)
        assert {hit[0] for hit in want} == {rule_id}
        assert _chain_hits(chain, detector, new, path) == want
        assert chain.split == 1


def test_a_value_moved_under_its_name_from_far_away_is_found_where_the_pieces_meet(
        detectors: tuple[Detector, Detector, list[Any]]) -> None:
    # generic-secret-name-value reads the name's line and the value's: neither alone is a hit, so
    # the previous version has none and the chain judges the move (a deletion and an insertion
    # 100 KB apart) in pieces; the hit straddles the edge of a run that did not change.
    rnd = random.Random(11)
    head, middle, tail = _filler(rnd, 600), _filler(rnd, 2400), _filler(rnd, 600)
    name = b"  - name: db_password\n"
    value = b"    value: '" + fake(20, seed=4).encode() + b"'\n"
    old = b"".join(head + [name] + middle + [value] + tail)
    new = b"".join(head + [name, value] + middle + tail)
    _judged_in_pieces(detectors, old, new, "deploy.yaml", "generic-secret-name-value")


def test_a_block_moved_up_under_a_name_line_is_judged_where_it_now_starts(
        detectors: tuple[Detector, Detector, list[Any]]) -> None:
    # The moved block (its first line a value) is the previous version's text, and so is all
    # before it: the piece between them is empty, and still a place where the text changed.
    rnd = random.Random(12)
    head, gap, rest, tail = _filler(rnd, 300), _filler(rnd, 600), _filler(rnd, 3000), _filler(rnd, 300)
    name = b"  - name: api_token\n"
    value = b"    value: '" + fake(24, seed=5).encode() + b"'\n"
    old = b"".join(head + [name] + gap + [value] + rest + tail)
    new = b"".join(head + [name] + [value] + rest + gap + tail)
    p, e = _changed_lines(old, new)
    for chain in _chains(detectors):  # the empty piece this test is about, as each chain cuts
        assert (p, p) in _hunks(old, new, p, e, 4 * chain._split_reach() + SPLIT_EXTRA)
    _judged_in_pieces(detectors, old, new, "deploy.yaml", "generic-secret-name-value")


def test_a_match_reaching_lines_back_into_a_run_is_judged_with_the_pieces_full_reach(
        detectors: tuple[Detector, Detector, list[Any]]) -> None:
    # An INI login section: the header three lines above the password the new version adds is the
    # previous version's text; a far edit makes the change long enough to be cut in pieces.
    rnd = random.Random(13)
    head, middle, tail = _filler(rnd, 300), _filler(rnd, 3000), _filler(rnd, 300)
    section = [b"[internal]\n", b"repository = https://pypi.corp.example/simple\n", b"username = ci\n"]
    password = b"password = " + fake(20, seed=6).encode() + b"\n"
    old = b"".join(head + section + middle + tail)
    new = b"".join(head + section + [password] + middle + [b"edited = 1\n"] + tail)
    _judged_in_pieces(detectors, old, new, "settings.cfg", "ini-section-password")


@pytest.mark.parametrize("seed", range(4))
def test_long_files_edited_far_apart_give_every_version_the_whole_files_hits(
        detectors: tuple[Detector, Detector, list[Any]], seed: int) -> None:
    """Far-apart edits and moved blocks, a secret in about half the versions (so the next version
    starts from one with no hit and is judged in pieces); on odd seeds a secret that stays (its
    hit carried, never judged in pieces); and multi-line examples whose first line is already
    there when the rest arrives (a match reaching from a piece into a run)."""
    python, detector, rules = detectors
    rnd = random.Random(seed)
    examples = [x for r in rules if r.content != "binary" and not r.path and not r.example_path for x in r.examples]
    several = [x for x in examples if "\n" in x.strip("\n")]
    lines = _filler(rnd, 4000)
    if seed % 2:
        lines.insert(rnd.randrange(len(lines)), b"STRIPE_KEY = '" + stripe_live_key(seed).encode() + b"'\n")
    chains = _chains(detectors)
    for _version in range(14):
        for _edit in range(rnd.randint(1, 4)):
            at = rnd.randrange(len(lines))
            if rnd.random() < 0.3:
                block = lines[at:at + rnd.randint(20, 300)]
                del lines[at:at + len(block)]
                to = rnd.randint(0, len(lines))
                lines[to:to] = block
            else:
                lines[at:at + rnd.randint(0, 2)] = _filler(rnd, rnd.randint(0, 3))
        shown = list(lines)
        kind = rnd.random()
        at = rnd.randint(0, len(shown))
        if kind < 0.4:  # a secret in this version only: the next starts from a clean one
            shown[at:at] = [rnd.choice(examples).encode() + b"\n"]
        elif kind < 0.7:  # the first line of an example now, the rest in the next version
            first, rest = rnd.choice(several).encode().split(b"\n", 1)
            lines.insert(at, first + b"\n")
            text = b"".join(lines)
            want = _whole_hits(python, text, "settings.py")
            for chain in chains:
                assert _chain_hits(chain, detector, text, "settings.py") == want
            lines.insert(at + 1, rest + b"\n")
            shown = list(lines)
            del lines[at:at + 2]  # gone again in the version after next
        text = b"".join(shown)
        want = _whole_hits(python, text, "settings.py")
        for chain in chains:
            assert _chain_hits(chain, detector, text, "settings.py") == want
    # a version after one with no hit is judged in pieces; with a hit to carry, never
    assert all(bool(chain.split) != bool(seed % 2) for chain in chains)


# -- the span Hyperscan searches around a change ----------------------------------------------

def _cohere_across_lines(seed: int) -> list[bytes]:
    """A cohere-api-key match over ten lines (its name, blank lines, "(x", "=", the key): the
    secret on the last line, the match starting nine lines above it."""
    return [b"COHERE_API_KEY(\n", b"\n", b"\n", b"x\n", b"\n", b"\n", b"=\n", b"\n", b"\n",
            b"'" + fake(40, seed=seed).encode() + b"'\n"]


def _long_lines(count: int, start: int = 0) -> list[bytes]:
    # 100 bytes a line: a reach of 17 lines is more bytes than the short byte reach
    return [b"# line %06d " % i + b"." * 86 + b"\n" for i in range(start, start + count)]


def test_a_kept_hit_whose_match_starts_above_the_zone_is_found_again_from_the_wider_span(
        detectors: tuple[Detector, Detector, list[Any]]) -> None:
    # The previous version has the hit; the change is 15 lines below its secret, so the zone
    # (17 lines each side) holds the secret but not the match's first line. Its hit is dropped
    # from the carry and must be found again: from the span a reach wider than the zone.
    python, detector, _ = detectors
    block = _cohere_across_lines(21)
    head, middle, tail = _long_lines(200), _long_lines(14, 1000), _long_lines(200, 2000)
    old = b"".join(head + block + middle + [b"# line that will change\n"] + tail)
    new = b"".join(head + block + middle + [b"# the line that changed\n"] + tail)
    want = _whole_hits(python, new, "settings.py")
    assert {hit[0] for hit in want} == {"cohere-api-key"} and _whole_hits(python, old, "settings.py") == want
    for chain in _chains(detectors):
        assert _chain_hits(chain, detector, old, "settings.py") == want
        assert _chain_hits(chain, detector, new, "settings.py") == want


def test_after_a_clean_version_only_matches_the_change_touches_or_reads_are_new(
        detectors: tuple[Detector, Detector, list[Any]]) -> None:
    # With no hit in the previous version the matched chain searches the zone alone. Hits it must
    # still see: a match reaching from the change down nine lines to its key, one reaching up
    # from the change to a name nine lines above, and a secret on the line after a changed
    # "allow next line" marker (its context, not its text, changed).
    python, detector, _ = detectors
    head, tail = _long_lines(200), _long_lines(200, 2000)
    block = _cohere_across_lines(22)
    marker = b"# pragma: allowlist nextline secret\n"
    stripe = b"STRIPE_KEY = '" + stripe_live_key(23).encode() + b"'\n"
    cases = [
        (head + [b"# placeholder\n"] + block[1:] + tail, head + block + tail),  # the name line arrives
        (head + block[:-1] + [b"'tbd'\n"] + tail, head + block + tail),  # the key line arrives
        (head + [marker, stripe] + tail, head + [b"# reviewed\n", stripe] + tail),  # the marker goes
    ]
    for old_lines, new_lines in cases:
        old, new = b"".join(old_lines), b"".join(new_lines)
        assert _whole_hits(python, old, "settings.py") == set()
        want = _whole_hits(python, new, "settings.py")
        assert want
        for chain in _chains(detectors):
            assert _chain_hits(chain, detector, old, "settings.py") == set()
            assert _chain_hits(chain, detector, new, "settings.py") == want
