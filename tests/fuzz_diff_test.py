"""Property-based tests of the staged-diff parser (issue 7, item 6).

Three properties: random bytes and mutated real diffs never raise anything
but ScanError (fail closed, one actionable line); and for random files with
hostile names and mixed line endings staged in a real repository, real
``git diff`` parsed back gives exactly the names and added lines.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.errors import ScanError
from scanner.sources._diff import parse_diff
from scanner.sources.staged import DIFF_ARGS

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_fail_closed(data: bytes) -> None:
    try:
        files = parse_diff(data)
    except ScanError as exc:
        assert exc.message.startswith("cannot parse git's diff output")
        return
    for diff in files:
        assert isinstance(diff.path, str)
        for hunk in diff.hunks:
            assert hunk.start >= 0


def _git(cwd: Path, *args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=True).stdout


def _real_diff() -> bytes:
    """A diff with renames, copies, a type change, binary, UTF-16, CRLF, odd names, a mode change."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        _git(repo, "init", "-q")
        (repo / "keep.txt").write_text("one\ntwo\nthree\nfour\nfive\nsix\n")
        (repo / "rename me.txt").write_text("\n".join(f"line {i}" for i in range(30)) + "\n")
        (repo / "typechange").write_text("regular\n")
        (repo / "mode.sh").write_text("echo\n")
        _git(repo, "add", "-A")
        _git(repo, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "base")
        (repo / "keep.txt").write_text("one\nTWO\nthree\nfour\r\nfive\nsix\nseven")
        os.rename(repo / "rename me.txt", repo / "renamed \"q\" ü\n.txt")
        (repo / "renamed \"q\" ü\n.txt").open("a").write("added after rename\n")
        (repo / "typechange").unlink()
        (repo / "typechange").symlink_to("keep.txt")
        (repo / "mode.sh").chmod(0o755)
        (repo / "image.bin").write_bytes(bytes(range(256)) * 4)
        (repo / "wide.txt").write_bytes("a\nb\n".encode("utf-16"))
        (repo / "cr.txt").write_bytes(b"a\rb\rc\r")
        _git(repo, "add", "-A")
        return _git(repo, *DIFF_ARGS)


REAL = _real_diff()


def test_the_real_diff_parses() -> None:
    paths = {d.path: d for d in parse_diff(REAL)}
    assert set(paths) == {"keep.txt", "renamed \"q\" ü\n.txt", "typechange", "mode.sh", "image.bin", "wide.txt", "cr.txt"}
    assert paths["image.bin"].binary and paths["wide.txt"].binary
    assert paths["renamed \"q\" ü\n.txt"].old_path == "rename me.txt"
    assert b"".join(h.data for h in paths["cr.txt"].hunks).startswith(b"a\rb\rc\r")
    assert [h.data for h in paths["typechange"].hunks] == [b"keep.txt\n"]


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_never_escape_as_anything_but_scan_error(data: bytes) -> None:
    parse_or_fail_closed(data)


@FUZZ
@given(st.binary(max_size=400).map(lambda tail: b":100644 100644 " + tail))
def test_random_raw_entries(data: bytes) -> None:
    parse_or_fail_closed(data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(REAL)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from([b"\0", b"\n", b"@@ -1 +1 @@\n", b"+", b"diff --git a/x b/x\n", b":", b"\r"]))
        elif kind == "truncate":
            del data[at:]
        else:
            end = min(len(data), at + draw(st.integers(1, 200)))
            data[at:at] = data[at:end]
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_real_diffs_fail_closed_or_parse(data: bytes) -> None:
    parse_or_fail_closed(data)


# -- round trip through real git -----------------------------------------------

_NAME_CHARS = st.sampled_from(list("abcXYZ09 _-.\"'\\\t\n") + ["ü", "日", "é", "😀", "\u00a0"])
_NAMES = st.text(_NAME_CHARS, min_size=1, max_size=12).filter(lambda n: n.strip(".") != "" and not n.startswith(".git"))
_LINE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0\n"), max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_NAMES, st.lists(_LINE, min_size=1, max_size=8), min_size=1, max_size=4))
def test_real_git_round_trip(files: dict[str, list[str]]) -> None:
    files = {name: lines for name, lines in files.items() if name.strip(".") and "/" not in name and not name.startswith(".git")}
    if not files:
        return
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        _git(repo, "init", "-q")
        expected = {}
        for name, lines in files.items():
            content = "\n".join(lines) + "\n"
            data = content.encode("utf-8")
            (repo / name).write_bytes(data)
            expected[name] = data
        _git(repo, "add", "-A")
        parsed = {d.path: d for d in parse_diff(_git(repo, *DIFF_ARGS))}
        assert set(parsed) == set(expected)
        for name, data in expected.items():
            diff = parsed[name]
            if diff.binary:  # git's own heuristic (e.g. a stray control character); never a crash
                continue
            assert [h.start for h in diff.hunks] == [1]
            assert diff.hunks[0].data == data


def test_empty_diff() -> None:
    assert parse_diff(b"") == []


@pytest.mark.parametrize("cut", [1, 10, 50, 100, len(REAL) // 2, len(REAL) - 1])
def test_truncated_output_never_crashes(cut: int) -> None:
    parse_or_fail_closed(REAL[:cut])
