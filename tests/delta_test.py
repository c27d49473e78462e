"""The version chain's byte comparisons: what two versions share, found in place."""
from __future__ import annotations

import random

import pytest

from scanner.history.delta import _changed_lines, _same_ahead, _same_behind


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
