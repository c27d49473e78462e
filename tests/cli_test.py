"""Exit codes and error handling of the `mcp-scan` command as users run it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.cli import main
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

KEY = stripe_live_key()


def run(*args: str, cwd: Path, env: "dict[str, str] | None" = None, input: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=cwd, env=env, input=input, capture_output=True)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    proc = run("staged", "--format", "xml", cwd=tmp_path)
    assert proc.returncode == 2
    assert b"Traceback" not in proc.stderr
    assert run(cwd=tmp_path).returncode == 2


def test_help_and_version_exit_0(tmp_path: Path) -> None:
    assert run("--help", cwd=tmp_path).returncode == 0
    assert run("--version", cwd=tmp_path).stdout.startswith(b"mcp-scan ")


def test_not_a_repository_is_a_one_line_runtime_error(tmp_path: Path) -> None:
    proc = run("staged", cwd=tmp_path)
    assert proc.returncode == 3
    assert b"is not a git repository" in proc.stderr and b"Traceback" not in proc.stderr


def test_git_missing_from_path(git_repo: GitRepo, tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path / "empty-bin"))
    proc = subprocess.run([sys.executable, "-m", "scanner", "staged"], cwd=git_repo.path, env=env, capture_output=True)
    assert proc.returncode == 3
    assert b"git is not installed" in proc.stderr and b"Traceback" not in proc.stderr


def test_debug_env_shows_the_traceback(tmp_path: Path) -> None:
    env = dict(os.environ, MCP_SCAN_DEBUG="1")
    proc = run("staged", cwd=tmp_path, env=env)
    assert proc.returncode == 3 and b"Traceback" in proc.stderr


def test_scan_stdin_and_exit_codes(tmp_path: Path) -> None:
    assert run("scan", "-", cwd=tmp_path, input=b"nothing here\n").returncode == 0
    found = run("scan", "-", "--stdin-name", "pasted.env", cwd=tmp_path, input=f"K={KEY}\n".encode())
    assert found.returncode == 1 and b"pasted.env:1:3" in found.stdout


def test_scan_walks_directories_and_skips_dot_git(tmp_path: Path) -> None:
    (tmp_path / "src" / "deep").mkdir(parents=True)
    (tmp_path / "src" / "deep" / "conf.yaml").write_text(f"stripe: {KEY}\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(f"k={KEY}\n")
    proc = run("scan", "src", ".", "--format", "jsonl", cwd=tmp_path)
    assert proc.returncode == 1
    paths = {line.split(b'"path": "')[1].split(b'"')[0] for line in proc.stdout.splitlines()}
    assert {p.lstrip(b"./") for p in paths} == {b"src/deep/conf.yaml"}


def test_scan_missing_path_is_an_error(tmp_path: Path) -> None:
    proc = run("scan", "nope.txt", cwd=tmp_path)
    assert proc.returncode == 3 and b"no such file" in proc.stderr


def test_symlink_outside_the_scan_root_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text(f"k={KEY}\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.txt").symlink_to(outside)
    proc = run("scan", "root", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert b"symlink leads outside" in proc.stderr


def test_output_file_is_written(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"k={KEY}\n")
    proc = run("scan", "a.txt", "--format", "json", "-o", "report.json", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == b""
    assert '"rule_id": "stripe-live-secret-key"' in (tmp_path / "report.json").read_text()
    assert KEY not in (tmp_path / "report.json").read_text()


def test_output_to_a_fifo_or_device_writes_in_place(tmp_path: Path) -> None:
    # `-o /dev/null` once replaced the device node with a regular file (the
    # report is written by rename): as root that broke every program on the
    # machine. Non-regular outputs are now written in place.
    (tmp_path / "a.txt").write_text(f"k={KEY}\n")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    proc = run("scan", "a.txt", "--format", "json", "-o", str(fifo), cwd=tmp_path)
    out, _ = reader.communicate(timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert b'"stripe-live-secret-key"' in out
    assert fifo.is_fifo()
    assert run("scan", "a.txt", "-o", os.devnull, cwd=tmp_path).returncode == 1
    assert Path(os.devnull).is_char_device()


def test_output_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"k={KEY}\n")
    (tmp_path / "reports").mkdir()
    (tmp_path / "latest.json").symlink_to(tmp_path / "reports" / "r.json")
    assert run("scan", "a.txt", "--format", "json", "-o", "latest.json", cwd=tmp_path).returncode == 1
    assert (tmp_path / "latest.json").is_symlink()
    assert '"stripe-live-secret-key"' in (tmp_path / "reports" / "r.json").read_text()


def test_main_returns_codes_without_raising(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path)]) == 0
    assert main(["no-such-command"]) == 2


_INTERRUPTED_IMPORT = r"""
import sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "scanner.cli":
            raise KeyboardInterrupt  # as if Ctrl-C came while the CLI was importing
sys.meta_path.insert(0, Interrupt())
import scanner
raise SystemExit(scanner.main(["scan", "."]))
"""


def test_ctrl_c_while_the_cli_imports_exits_130_without_a_traceback(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", _INTERRUPTED_IMPORT], cwd=tmp_path, capture_output=True)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr == b"mcp-scan: interrupted\n"
