"""``atomic_write``: a killed writer leaves the old file or the new one, and no temporary file.

SIGKILL cannot be cleaned up after, so where Linux allows it the data is
written and synced into an unnamed file (``O_TMPFILE``) that gets a name only
just before the rename. These tests look at the directory while the data is
being synced, the moment a kill is most likely to land.
"""
from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from scanner import paths


def _unnamed_files_work(directory: Path) -> bool:
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return False
    try:
        os.close(os.open(directory, flag | os.O_WRONLY, 0o600))
    except OSError:
        return False
    return True


def _names_seen_while_syncing(directory: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    seen: list[list[str]] = []
    real_fsync = os.fsync

    def looking_fsync(fd: int) -> None:
        seen.append(sorted(os.listdir(directory)))
        real_fsync(fd)

    monkeypatch.setattr(paths.os, "fsync", looking_fsync)
    return seen


def test_no_temporary_name_exists_while_the_data_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not _unnamed_files_work(tmp_path):
        pytest.skip("this file system has no O_TMPFILE: the named fallback is used")
    target = tmp_path / "report.json"
    target.write_bytes(b"old")
    seen = _names_seen_while_syncing(tmp_path, monkeypatch)
    paths.atomic_write(target, b"new")
    assert seen, "the data was never synced"
    assert seen == [["report.json"]], seen  # only the old report: a kill here leaves nothing behind
    assert target.read_bytes() == b"new"
    assert sorted(os.listdir(tmp_path)) == ["report.json"]


@pytest.mark.parametrize("existing_mode", [0o600, 0o640])
def test_a_replaced_file_keeps_its_mode_and_a_new_file_gets_the_one_asked_for(tmp_path: Path, existing_mode: int) -> None:
    kept = tmp_path / "kept.json"
    kept.write_bytes(b"old")
    kept.chmod(existing_mode)
    paths.atomic_write(kept, b"new", new_mode=0o644)
    assert stat.S_IMODE(kept.stat().st_mode) == existing_mode
    fresh = tmp_path / "sub" / "fresh.json"
    paths.atomic_write(fresh, b"new", new_mode=0o600)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert fresh.read_bytes() == b"new"


def test_a_symlink_stays_and_its_target_gets_the_data(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    paths.atomic_write(link, b"new")
    assert link.is_symlink()
    assert target.read_bytes() == b"new"
    assert sorted(os.listdir(tmp_path)) == ["link.json", "real.json"]


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path: Path) -> None:
    # Where the named fallback is used (no O_TMPFILE), or a kill lands between the link and the
    # rename, a temporary file stays: the next write of the same file removes it, unless its
    # writer is still running.
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id nobody holds now
    dead = tmp_path / f".report.json.{gone.pid}.tmp"
    alive = tmp_path / f".report.json.{os.getppid()}.tmp"
    other = tmp_path / f".other.json.{gone.pid}.tmp"
    also_gone = subprocess.Popen(["true"])
    also_gone.wait()
    recent = tmp_path / f".report.json.{also_gone.pid}.tmp"
    old = time.time() - paths.STALE_AFTER - 60
    for leftover in (dead, alive, other, recent):
        leftover.write_bytes(b"half")
        if leftover is not recent:
            os.utime(leftover, (old, old))
    paths.atomic_write(tmp_path / "report.json", b"new")
    assert not dead.exists()
    assert alive.exists() and other.exists()
    # written to lately: perhaps a writer whose process id means nothing here (another container)
    assert recent.exists()
    assert (tmp_path / "report.json").read_bytes() == b"new"
