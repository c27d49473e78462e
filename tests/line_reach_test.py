"""``line_back``/``line_forward`` (how far a span reaches by lines and bytes) agree with
walking line by line: they skip the walk with one count when the bytes reach further."""
from __future__ import annotations

import random

from scanner.rulematch import line_back, line_forward


def _walk_back(data: bytes, pos: int, lines: int, nbytes: int) -> int:
    a = pos
    for _ in range(lines):
        if a <= 0:
            return 0
        a = data.rfind(b"\n", 0, a - 1) + 1
    if pos - nbytes < a:
        lo = pos - nbytes
        a = 0 if lo <= 0 else data.rfind(b"\n", 0, lo) + 1
    return a


def _walk_forward(data: bytes, pos: int, lines: int, nbytes: int) -> int:
    size = len(data)
    b = pos
    for _ in range(lines):
        if b >= size:
            return size
        nl = data.find(b"\n", b)
        b = size if nl == -1 else nl + 1
    if pos + nbytes > b:
        if pos + nbytes >= size:
            return size
        nl = data.find(b"\n", pos + nbytes)
        b = size if nl == -1 else nl + 1
    return b


def test_line_reach_equals_a_line_by_line_walk() -> None:
    rng = random.Random(7)
    for _ in range(50000):
        data = bytes(rng.choice(b"ab\n\n") for _ in range(rng.randint(0, 60)))
        pos = rng.choice([0] + [i + 1 for i, c in enumerate(data) if c == 10])
        lines, nbytes = rng.randint(0, 6), rng.randint(0, 30)
        assert line_back(data, pos, lines, nbytes) == _walk_back(data, pos, lines, nbytes)
        assert line_forward(data, pos, lines, nbytes) == _walk_forward(data, pos, lines, nbytes)
