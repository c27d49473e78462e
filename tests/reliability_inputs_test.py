"""Inputs that break scanners (issue 7, item 2): each on a real repository or tree, through the real CLI.

Every case either gives a correct result or fails closed: exit 3 with one
actionable error line, never a traceback, never a hang.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.sources.files import FilesSource
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo
from tests.reliability_support import (
    as_unprivileged,
    assert_fails_closed,
    assert_no_traceback,
    env_without_git,
    peak_rss_kib,
    run_scan,
    scanner_cmd,
)

KEY = stripe_live_key(seed=7)


def findings(proc: subprocess.CompletedProcess[bytes]) -> list[dict]:
    assert_no_traceback(proc)
    assert proc.returncode in (0, 1), proc.stderr.decode("utf-8", "replace")
    return json.loads(proc.stdout)["findings"]


def positions(proc: subprocess.CompletedProcess[bytes]) -> set[tuple[str, int, int]]:
    return {(f["path"], f["line"], f["column"]) for f in findings(proc) if f["rule_id"].startswith("stripe")}


# -- fail closed -----------------------------------------------------------

def test_not_a_repository_is_one_actionable_line(tmp_path: Path) -> None:
    proc = run_scan("staged", cwd=tmp_path)
    assert_fails_closed(proc, mentions=["not a git repository"])


def test_debug_flag_adds_the_traceback(tmp_path: Path) -> None:
    env = dict(os.environ, MCP_SCAN_DEBUG="1")
    proc = run_scan("staged", cwd=tmp_path, env=env)
    assert proc.returncode == 3
    assert b"Traceback" in proc.stderr
    assert b"mcp-scan: error:" in proc.stderr


def test_git_missing_from_path_fails_closed_but_scan_needs_no_git(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.stage("app.py", f"KEY = '{KEY}'\n")
    env = env_without_git(tmp_path)
    assert_fails_closed(run_scan("staged", cwd=git_repo.path, env=env), mentions=["git"])
    proc = run_scan("scan", "--format", "json", "app.py", cwd=git_repo.path, env=env)
    assert positions(proc) == {("app.py", 1, 8)}


def test_unwritable_report_path_fails_closed(git_repo: GitRepo) -> None:
    git_repo.stage("app.py", f"KEY = '{KEY}'\n")
    (git_repo.path / "afile").write_text("x")
    proc = run_scan("scan", "app.py", "-o", "afile/report.txt", cwd=git_repo.path)
    assert_fails_closed(proc, mentions=["cannot write the report"])
    assert KEY.encode() not in proc.stderr + proc.stdout


def test_missing_scan_path_is_an_error_not_a_pass(tmp_path: Path) -> None:
    assert_fails_closed(run_scan("scan", "does-not-exist", cwd=tmp_path), mentions=["does-not-exist"])


# -- content encodings -------------------------------------------------------

def test_binary_files_are_skipped_without_crashing(git_repo: GitRepo) -> None:
    blob = b"\x00\x01\x02PNG\x00" + f"key={KEY}".encode() + bytes(range(256)) * 40
    git_repo.stage("image.png", blob)
    proc = git_repo.run_mcp_scan("staged", "--format", "json")
    assert findings(proc) == []
    assert findings(run_scan("scan", "--format", "json", "image.png", cwd=git_repo.path)) == []


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "shift_jis", "koi8-r"])
def test_non_utf8_text_is_scanned_with_right_positions(git_repo: GitRepo, encoding: str) -> None:
    # One non-ASCII character before the key on its line: a single-byte
    # encoding decodes as one replacement character, so the column holds.
    prefix = {"latin-1": "café", "cp1252": "naïve€", "shift_jis": "設定", "koi8-r": "ключ"}[encoding]
    data = f"{prefix}\n{prefix} = '{KEY}'\n".encode(encoding)
    git_repo.stage("legacy.txt", data)
    staged = positions(git_repo.run_mcp_scan("staged", "--format", "json"))
    scanned = positions(run_scan("scan", "--format", "json", "legacy.txt", cwd=git_repo.path))
    assert staged == scanned
    assert len(staged) == 1
    ((path, line, column),) = staged
    assert (path, line) == ("legacy.txt", 2)
    width = len(data.split(b"\n")[1].split(b" = ")[0].decode("utf-8", "replace"))
    assert column == width + 5


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_decoded_staged_and_scanned(git_repo: GitRepo, encoding: str) -> None:
    text = f"first\nsecond\ntoken: {KEY}\n"
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    git_repo.stage("wide.txt", bom + text.encode(encoding))
    expected = {("wide.txt", 3, 8)}
    assert positions(git_repo.run_mcp_scan("staged", "--format", "json")) == expected
    assert positions(run_scan("scan", "--format", "json", "wide.txt", cwd=git_repo.path)) == expected


def test_utf16_added_to_an_existing_file_is_scanned(git_repo: GitRepo) -> None:
    git_repo.stage("wide.txt", "a\nb\n".encode("utf-16"))
    git_repo.commit("wide file")
    git_repo.stage("wide.txt", f"a\nb\nc = {KEY}\n".encode("utf-16"))
    assert positions(git_repo.run_mcp_scan("staged", "--format", "json")) == {("wide.txt", 3, 5)}


@pytest.mark.parametrize("eol", ["\r\n", "\r", "\n"], ids=["crlf", "cr", "lf"])
def test_line_endings_keep_line_numbers(git_repo: GitRepo, eol: str) -> None:
    content = eol.join(["one", "two", "three", f"key = {KEY}", "five"]) + eol
    git_repo.stage("eol.txt", content.encode())
    expected = {("eol.txt", 4, 7)}
    assert positions(git_repo.run_mcp_scan("staged", "--format", "json")) == expected
    assert positions(run_scan("scan", "--format", "json", "eol.txt", cwd=git_repo.path)) == expected


def test_crlf_hunk_in_the_middle_of_a_file(git_repo: GitRepo) -> None:
    git_repo.stage("eol.txt", b"a\r\nb\r\nc\r\nd\r\n")
    git_repo.commit("crlf")
    git_repo.stage("eol.txt", f"a\r\nb\r\nnew = {KEY}\r\nc\r\nd\r\n".encode())
    assert positions(git_repo.run_mcp_scan("staged", "--format", "json")) == {("eol.txt", 3, 7)}


# -- file names -------------------------------------------------------------

NAMES = ["with space.txt", "quo\"te's.txt", "naïve-ü-日本.txt", "new\nline.txt", "tab\there.txt",
         "-starts-with-dash.txt", "back\\slash.txt", "dir with space/inner \"q\".txt"]


@pytest.mark.parametrize("name", NAMES)
def test_file_names_arrive_intact(git_repo: GitRepo, name: str) -> None:
    git_repo.stage(name, f"k = {KEY}\n")
    assert positions(git_repo.run_mcp_scan("staged", "--format", "json")) == {(name, 1, 5)}
    proc = run_scan("scan", "--format", "json", ".", cwd=git_repo.path)
    assert {(Path(p).as_posix().removeprefix("./"), line, col) for p, line, col in positions(proc)} == {(name, 1, 5)}


def test_renamed_file_with_newline_in_name(git_repo: GitRepo) -> None:
    git_repo.stage("old\nname.txt", "line one\nline two\nline three\n")
    git_repo.commit("add")
    git_repo.git("mv", "old\nname.txt", "new\nname.txt")
    git_repo.write("new\nname.txt", f"line one\nline two\nline three\nk = {KEY}\n")
    git_repo.git("add", "-A")
    assert positions(git_repo.run_mcp_scan("staged", "--format", "json")) == {("new\nname.txt", 4, 5)}


def test_non_utf8_file_name_in_every_output_path(git_repo: GitRepo) -> None:
    raw = b"caf\xe9.txt"
    (git_repo.path / os.fsdecode(raw)).write_bytes(f"k = {KEY}\n".encode())
    git_repo.git("add", "-A")
    for args in (["staged"], ["scan", "."]):
        for fmt in ("text", "json", "jsonl"):
            out = git_repo.path / f"report.{fmt}"
            proc = git_repo.run_mcp_scan(*args, "--format", fmt, "-o", str(out))
            assert proc.returncode == 1, proc.stderr
            assert_no_traceback(proc)
            assert KEY.encode() not in out.read_bytes()
            out.unlink()
        # a terminal that cannot show the name still gets a report, not a crash
        env = dict(os.environ, PYTHONIOENCODING="ascii")
        proc = run_scan(*args, cwd=git_repo.path, env=env)
        assert proc.returncode == 1, proc.stderr
        assert_no_traceback(proc)
        assert b"caf" in proc.stdout


# -- symlinks, special files, vanishing and unreadable files ------------------

def test_symlinks_never_lead_outside_the_scan_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.env").write_text(f"KEY={KEY}\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "file-link.env").symlink_to(outside / "secret.env")
    (root / "dir-link").symlink_to(outside, target_is_directory=True)
    (root / "dangling").symlink_to(tmp_path / "nowhere")
    (root / "loop").symlink_to(root / "loop")
    proc = run_scan("scan", "--format", "json", ".", cwd=root)
    assert findings(proc) == []
    assert proc.returncode == 0, proc.stderr
    assert b"outside" in proc.stderr  # said why it skipped the link


def test_symlink_inside_the_root_is_scanned(tmp_path: Path) -> None:
    (tmp_path / "real.env").write_text(f"KEY={KEY}\n")
    (tmp_path / "alias.env").symlink_to(tmp_path / "real.env")
    proc = run_scan("scan", "--format", "json", ".", cwd=tmp_path)
    assert any(f["path"].endswith("real.env") for f in findings(proc))


def test_staged_symlink_is_not_followed(git_repo: GitRepo, tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere.env"
    secret.write_text(f"KEY={KEY}\n")
    (git_repo.path / "link.env").symlink_to(secret)
    git_repo.git("add", "link.env")
    assert findings(git_repo.run_mcp_scan("staged", "--format", "json")) == []


def test_fifo_and_socket_like_files_do_not_block_a_scan(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "app.env").write_text(f"KEY={KEY}\n")
    proc = run_scan("scan", "--format", "json", ".", cwd=tmp_path, timeout=60)
    assert {f["path"] for f in findings(proc)} == {"app.env"} or len(findings(proc)) == 1


def test_files_that_vanish_mid_scan_are_not_errors(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"f{i}.env").write_text(f"KEY={KEY}\n")
    source = FilesSource([str(tmp_path)])
    fragments = source.fragments()
    first = next(fragments)  # the walk has listed every name by now
    assert first.path.endswith("f0.env")
    (tmp_path / "f1.env").unlink()
    rest = [f.path for f in fragments]
    assert [Path(p).name for p in rest] == ["f2.env"]
    assert source.errors == []


def test_unreadable_file_fails_closed(tmp_path: Path) -> None:
    prefix = as_unprivileged()
    (tmp_path / "ok.env").write_text("nothing here\n")
    locked = tmp_path / "locked.env"
    locked.write_text(f"KEY={KEY}\n")
    locked.chmod(0)
    try:
        proc = run_scan("scan", ".", cwd=tmp_path, prefix=prefix)
        assert_fails_closed(proc, mentions=["locked.env"])
        assert KEY.encode() not in proc.stdout + proc.stderr
    finally:
        locked.chmod(0o644)


def test_unreadable_directory_fails_closed(tmp_path: Path) -> None:
    prefix = as_unprivileged()
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.env").write_text(f"KEY={KEY}\n")
    locked.chmod(0)
    try:
        assert_fails_closed(run_scan("scan", ".", cwd=tmp_path, prefix=prefix), mentions=["locked"])
    finally:
        locked.chmod(0o755)


def test_unreadable_index_blocks_the_commit(git_repo: GitRepo) -> None:
    prefix = as_unprivileged()
    git_repo.stage("a.txt", "hello\n")
    index = git_repo.path / ".git" / "index"
    index.chmod(0)
    try:
        assert_fails_closed(run_scan("staged", cwd=git_repo.path, prefix=prefix))
    finally:
        index.chmod(0o644)


# -- size ---------------------------------------------------------------------

def _one_line(path: Path, megabytes: int) -> None:
    # A single 50 MB line of key-like characters, with the secret at the very end.
    chunk = (("AbC0_-=" * 150000)[:1 << 20]).encode()
    with open(path, "wb") as handle:
        for _ in range(megabytes):
            handle.write(chunk)
        handle.write(f" {KEY}\n".encode())


def test_50mb_single_line_file_bounded_memory(tmp_path: Path) -> None:
    _one_line(tmp_path / "huge.txt", 50)
    # Over the default size cap: skipped with a warning, not read.
    rc, rss, err = peak_rss_kib(scanner_cmd("scan", "huge.txt"), cwd=tmp_path)
    assert rc == 0 and b"over the" in err, err
    assert rss < 150 * 1024, rss
    # With the cap raised it is read and scanned; memory stays a small multiple of the file.
    rc, rss, err = peak_rss_kib(scanner_cmd("scan", "--max-file-size", str(64 << 20), "huge.txt"), cwd=tmp_path)
    assert b"Traceback" not in err, err
    assert rc == 1, err
    assert rss < 500 * 1024, f"peak RSS {rss} KiB for a 50 MB line"


def test_50mb_single_line_staged_bounded_memory(git_repo: GitRepo) -> None:
    _one_line(git_repo.path / "huge.txt", 50)
    git_repo.git("add", "huge.txt")
    rc, rss, err = peak_rss_kib(scanner_cmd("staged"), cwd=git_repo.path)
    assert b"Traceback" not in err, err
    assert rc in (1, 3), err  # found, or refused as too large: never a silent pass
    assert rss < 700 * 1024, f"peak RSS {rss} KiB for a staged 50 MB line"


def test_stdin_scan(tmp_path: Path) -> None:
    proc = run_scan("scan", "--format", "json", "--stdin-name", "pasted.env", "-", cwd=tmp_path,
                    input=f"\r\nKEY={KEY}\r\n".encode("utf-16"))
    assert positions(proc) == {("pasted.env", 2, 5)}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


_LOSE_PERMISSION = r"""
import os, sys
from pathlib import Path
from scanner.sources.files import FilesSource
root = Path(sys.argv[1])
source = FilesSource([str(root)])
fragments = source.fragments()
next(fragments)                      # every name is listed by now
(root / "b.env").chmod(0)            # loses its permission mid-scan
(root / "c.env").unlink()            # and this one vanishes
rest = [Path(f.path).name for f in fragments]
print(rest, source.errors)
"""


def test_file_losing_permission_mid_scan_is_an_error(tmp_path: Path) -> None:
    prefix = as_unprivileged()
    for name in ("a.env", "b.env", "c.env", "d.env"):
        (tmp_path / name).write_text(f"KEY={KEY}\n")
    proc = subprocess.run([*prefix, sys.executable, "-c", _LOSE_PERMISSION, str(tmp_path)], capture_output=True, text=True)
    (tmp_path / "b.env").chmod(0o644)
    assert proc.returncode == 0, proc.stderr
    rest, _, errors = proc.stdout.strip().partition("] ")
    assert rest == "['d.env'"
    assert "b.env" in errors and "ermission denied" in errors


def test_unusable_cache_directory_degrades_instead_of_failing(tmp_path: Path) -> None:
    # A read-only HOME (CI containers) must not break scanning: caches are optional.
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "big.txt").write_text(("filler text line\n" * 8000) + f"KEY={KEY}\n")  # > 64 KB: the Hyperscan path
    env = dict(os.environ, MCP_SCAN_CACHE_DIR=str(blocker / "cache"))
    proc = run_scan("scan", "--format", "json", "big.txt", cwd=tree, env=env)
    assert positions(proc) == {("big.txt", 8001, 5)}


def test_repository_owned_by_someone_else_names_the_fix(git_repo: GitRepo) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the repository to another user")
    git_repo.stage("a.txt", "a\n")
    for path in [git_repo.path, *git_repo.path.rglob("*")]:
        os.lchown(path, 65534, 65534)
    for args in (["staged"], ["history", "--no-cache", "."]):
        proc = run_scan(*args, cwd=git_repo.path)
        if b"not implemented yet" in proc.stderr:
            continue
        assert_fails_closed(proc, mentions=["dubious ownership", "safe.directory"])


def test_audit_survives_hostile_mcp_configs(git_repo: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside_key = stripe_live_key(seed=8)
    outside.write_text('{"mcpServers": {"x": {"env": {"STRIPE_KEY": "' + outside_key + '"}}}}')
    git_repo.write("a.txt", "a\n")
    (git_repo.path / ".mcp.json").symlink_to(outside)
    git_repo.write(".vscode/mcp.json", "[" * 50_000 + "]" * 50_000)
    git_repo.write(".cursor/mcp.json", ('{"mcpServers": {"s": {"env": {"K": "' + KEY + '"}}}}').encode("utf-16"))
    git_repo.write("claude_desktop_config.json", bytes(range(256)) * 64)
    git_repo.write(".gemini/settings.json", '{"mcpServers": {"s": {"env": {"K": "unterminated')
    git_repo.write(".zed/settings.json", '// comment\n{"context_servers": {},}\n/* unterminated')
    os.mkfifo(git_repo.path / "mcp_settings.json")
    proc = run_scan("audit", "--format", "json", ".", cwd=git_repo.path, timeout=120)
    if b"not implemented yet" in proc.stderr:
        pytest.skip("audit is not implemented yet")
    assert_no_traceback(proc)
    assert proc.returncode in (0, 1, 3), proc.stderr
    out = proc.stdout + proc.stderr
    assert outside_key.encode() not in out and KEY.encode() not in out
    if proc.stdout.strip():
        paths = {f["path"] for f in json.loads(proc.stdout)["findings"]}
        assert not any("outside" in p for p in paths)
