"""``line_back``/``line_forward`` (how far a span reaches by lines and bytes) agree with
walking line by line: they skip the walk with one count when the bytes reach further."""
from __future__ import annotations

import random

from scanner.rulematch import _unvouched_runs, line_back, line_forward


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


def _runs_by_walk(data: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """Maximal runs of non-ASCII bytes and separators \\x1c-\\x1f in ``data[start:end]``, byte by byte."""
    runs: list[tuple[int, int]] = []
    for i in range(start, end):
        bad = data[i] >= 0x80 or 0x1C <= data[i] <= 0x1F
        if bad and runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        elif bad:
            runs.append((i, i + 1))
    return runs


def test_unvouched_runs_are_the_runs_a_byte_walk_finds() -> None:
    """The runs Hyperscan cannot vouch for, found with translate() and finds, are exactly the
    maximal runs of such bytes inside the span, clipped at its edges."""
    rng = random.Random(13)
    alphabet = b"ab =\n\x1b\x1c\x1f\x20\x7f\x80\xc3\xa9\xff"
    for _ in range(3000):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        start = rng.randint(0, len(data))
        end = rng.randint(start, len(data))
        assert list(_unvouched_runs(data, start, end)) == _runs_by_walk(data, start, end), (data, start, end)
