"""``line_back``/``line_forward`` (how far a span reaches by lines and bytes) agree with
walking line by line: they skip the walk with one count when the bytes reach further."""
from __future__ import annotations

import random

from scanner.rulematch import line_back, line_forward


def _starts(data: bytes) -> list[int]:
    """Where each line starts (after the last line feed too: the empty line there)."""
    return [0] + [i + 1 for i, c in enumerate(data) if c == 10]


def _walk_back(data: bytes, pos: int, lines: int, nbytes: int) -> int:
    """By the list of line starts: ``lines`` starts back, or the start at or before ``pos - nbytes``."""
    starts = _starts(data)
    by_lines = starts[max(starts.index(pos) - lines, 0)]
    if pos - nbytes >= by_lines:
        return by_lines
    return 0 if pos - nbytes <= 0 else max(s for s in starts if s <= pos - nbytes)


def _walk_forward(data: bytes, pos: int, lines: int, nbytes: int) -> int:
    """By the list of line starts: ``lines`` lines on, or past the line holding ``pos + nbytes``."""
    starts = _starts(data) + [len(data)]
    at = starts.index(pos)
    by_lines = starts[min(at + lines, len(starts) - 1)]
    if pos + nbytes <= by_lines:
        return by_lines
    return len(data) if pos + nbytes >= len(data) else min(s for s in starts if s > pos + nbytes)


def test_line_reach_equals_a_line_by_line_walk() -> None:
    rng = random.Random(7)
    for _ in range(50000):
        data = bytes(rng.choice(b"ab\n\n") for _ in range(rng.randint(0, 60)))
        pos = rng.choice([0] + [i + 1 for i, c in enumerate(data) if c == 10])  # a line start, or the end
        lines, nbytes = rng.randint(0, 6), rng.randint(0, 30)
        assert line_back(data, pos, lines, nbytes) == _walk_back(data, pos, lines, nbytes)
        assert line_forward(data, pos, lines, nbytes) == _walk_forward(data, pos, lines, nbytes)

