"""Sizes mean the same in flags and in the config: ``--max-blob-size 1KB`` like ``max-blob-size = "1KB"``."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo


def test_history_max_blob_size_accepts_units(git_repo: GitRepo) -> None:
    # 2 KB of text with a key at the end: over a 1 KB (1000-byte) limit.
    git_repo.stage("big.py", "x = 1\n" * 340 + f"KEY = '{stripe_live_key(41)}'\n")
    git_repo.stage("small.py", f"KEY = '{stripe_live_key(42)}'\n")
    git_repo.commit("add")
    proc = git_repo.run_mcp_scan("history", "--no-cache", "--max-blob-size", "1KB", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["stats"]["skipped_size"] == 1
    assert {f["path"] for f in report["findings"]} == {"small.py"}


def test_scan_max_file_size_accepts_units(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text("x = 1\n" * 340 + f"KEY = '{stripe_live_key(43)}'\n")
    (tmp_path / "small.py").write_text(f"KEY = '{stripe_live_key(44)}'\n")
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", "--no-config", "--max-file-size", "1KB",
                           "--format", "json", "big.py", "small.py"], cwd=tmp_path, capture_output=True)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["stats"]["skipped"] == 1
    assert {f["path"] for f in report["findings"]} == {"small.py"}


@pytest.mark.parametrize(("command", "flag"), [("history", "--max-blob-size"), ("scan", "--max-file-size"),
                                               ("baseline", "--max-blob-size")])
@pytest.mark.parametrize("value", ["10XB", "0", "-5", "MB"])
def test_bad_size_is_a_usage_error(git_repo: GitRepo, command: str, flag: str, value: str) -> None:
    args = {"history": ["history"], "scan": ["scan", "."], "baseline": ["baseline", "create"]}[command]
    proc = git_repo.run_mcp_scan(*args, f"{flag}={value}")
    assert proc.returncode == 2
    stderr = proc.stderr.decode()
    assert flag in stderr and "10MB" in stderr and "Traceback" not in stderr
