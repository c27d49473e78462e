"""A one-line progress bar on stderr: blobs done/total, MB/s and ETA.

Drawn only when stderr is a terminal (and not ``--quiet``); redrawn at most
ten times a second so a fast scan does not spend its time printing.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Optional, TextIO

# What ``scan_history(progress=...)`` calls: (blobs done, blobs in all, bytes done, bytes in all).
Progress = Callable[[int, int, int, int], None]


class ProgressBar:
    """Callable progress sink for ``scan_history(progress=...)``."""

    WIDTH = 24

    def __init__(self, stream: Optional[TextIO] = None) -> None:
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._last = 0.0
        self._drawn = False

    def __call__(self, blobs: int, total: int, done_bytes: int, total_bytes: int) -> None:
        now = time.monotonic()
        if blobs < total and now - self._last < 0.1:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done_bytes / elapsed
        fraction = done_bytes / total_bytes if total_bytes else (blobs / total if total else 1.0)
        filled = int(self.WIDTH * fraction)
        eta = (total_bytes - done_bytes) / rate if rate > 0 else 0.0
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(
            f"\r[{bar}] {blobs}/{total} blobs  {rate / 1e6:6.1f} MB/s  ETA {_clock(eta)} "
        )
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Clear the bar so the report starts on a clean line."""
        if self._drawn:
            self.stream.write("\r" + " " * 72 + "\r")
            self.stream.flush()
            self._drawn = False


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def wants_progress(quiet: bool, stream: Optional[TextIO] = None) -> bool:
    """Draw a bar only for a person watching a terminal."""
    stream = stream or sys.stderr
    return not quiet and hasattr(stream, "isatty") and stream.isatty()
