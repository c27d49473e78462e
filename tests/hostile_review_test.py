"""Regression tests for the hostile review (issue 12), each through the real CLI on a real repository.

Every test runs ``python -m scanner`` in a subprocess against a temporary git
repository, the way a user or a hook runs it. Nothing is mocked.
"""
from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo
from tests.reliability_support import assert_no_traceback

KEY = stripe_live_key(seed=12)
_B64URL = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def fake_jwt(payload_json: str, seed: int = 0) -> str:
    """A signed-looking JWT whose payload is ``payload_json`` verbatim (so it may hold Infinity, NaN, 1e400)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}))
    return f"{header}.{_b64(payload_json)}.{fake(43, alphabet=_B64URL, seed=seed)}"


def report(proc: subprocess.CompletedProcess[bytes], code: int = 1) -> dict[str, Any]:
    """The JSON report of a run that must have ended with ``code`` and without a crash."""
    assert_no_traceback(proc)
    err = proc.stderr.decode("utf-8", "replace")
    assert "internal error" not in err, err
    assert proc.returncode == code, (proc.returncode, err)
    document: dict[str, Any] = json.loads(proc.stdout)
    return document


# -- 7: a JWT exp or an OAuth expires_in that is not a finite number -------

# JSON as Python's json module reads it: Infinity, NaN, 1e400 (overflows to inf), integers past float
# range, and past Python's 4300-digit int() limit. Each JWT exp goes with an OAuth expires_in of the kind.
HUGE_INT = "1234567890" * 40
BEYOND_INT_LIMIT = "1234567890" * 500
MALFORMED_LIFETIMES = [("Infinity", "1e999"), ("NaN", "1e999"), ("-Infinity", HUGE_INT), ("1e400", BEYOND_INT_LIMIT),
                       (HUGE_INT, "1e999"), (BEYOND_INT_LIMIT, BEYOND_INT_LIMIT)]


@pytest.mark.parametrize("exp, expires_in", MALFORMED_LIFETIMES, ids=lambda v: v if len(v) < 12 else f"{len(v)}-digits")
def test_malformed_jwt_exp_and_infinite_expires_in_are_findings_not_crashes(git_repo: GitRepo, exp: str,
                                                                              expires_in: str) -> None:
    # The random jti keeps the token's entropy high enough for the detector's jwt rule.
    token = fake_jwt('{"sub": "svc-7", "jti": "%s", "iat": 1700000000, "exp": %s}' % (fake(96, seed=7), exp), seed=7)
    mcp_token = fake_jwt('{"sub": "mcp-7", "jti": "%s", "exp": %s}' % (fake(96, seed=8), exp), seed=8)
    git_repo.stage("deploy.env", f"SERVICE_TOKEN={token}\n")
    config = {"mcpServers": {"api": {"url": "https://mcp.example.com/sse", "headers": {"Authorization": f"Bearer {mcp_token}"}}}}
    text = json.dumps(config, indent=2)[:-1] + ',\n  "oauth": {"token_type": "Bearer", "expires_in": %s}\n}\n' % expires_in
    git_repo.stage(".mcp.json", text)

    def assert_malformed(findings: list[dict[str, Any]], rule_id: str, path: str) -> None:
        messages = [f["message"] for f in findings if f["rule_id"] == rule_id and f["path"] == path]
        assert any("malformed" in m for m in messages), (rule_id, path, [(f["rule_id"], f["message"]) for f in findings])

    # The hook: the detector's jwt finding carries the expiry state; the MCP config lint its own checks.
    staged = report(git_repo.run_mcp_scan("staged", "--format", "json"))["findings"]
    assert_malformed(staged, "jwt", "deploy.env")
    assert_malformed(staged, "jwt-long-lived", ".mcp.json")
    assert_malformed(staged, "token-ttl-excessive", ".mcp.json")

    scanned = report(git_repo.run_mcp_scan("scan", ".", "--format", "json"))["findings"]
    assert_malformed(scanned, "jwt", "deploy.env")

    # The audit hook (`mcp-scan audit` before the commit) and audit after it.
    for when in ("staged", "committed"):
        if when == "committed":
            git_repo.commit("tokens")
        audited = report(git_repo.run_mcp_scan("audit", "--format", "json"))["findings"]
        assert_malformed(audited, "jwt-long-lived", "deploy.env")
        assert_malformed(audited, "jwt-long-lived", ".mcp.json")
        assert_malformed(audited, "token-ttl-excessive", ".mcp.json")

    history = report(git_repo.run_mcp_scan("history", "--format", "json"))["findings"]
    assert_malformed(history, "jwt", "deploy.env")

    # Text output too (it is what a hook prints).
    proc = git_repo.run_mcp_scan("history")
    assert proc.returncode == 1 and b"internal error" not in proc.stderr, proc.stderr


# -- 8: a path that is not valid UTF-8 ----------------------------------------

RAW_NAME = b"conf\xff.py"
SURROGATE_NAME = os.fsdecode(RAW_NAME)  # "conf\udcff.py": what the file system round-trips


def test_non_utf8_path_is_one_string_in_every_command_and_format(git_repo: GitRepo, tmp_path: Path) -> None:
    (git_repo.path / os.fsdecode(RAW_NAME)).write_bytes(f'KEY = "{KEY}"\n'.encode())
    git_repo.git("add", "-A")
    git_repo.commit("a file whose name is not UTF-8")
    (git_repo.path / os.fsdecode(RAW_NAME)).write_bytes(f'KEY = "{KEY}"\nOTHER = "{KEY}"\n'.encode())
    git_repo.git("add", "-A")

    commands = {"staged": ["staged"], "scan": ["scan", "."], "history": ["history"]}
    for name, command in commands.items():
        # JSON on stdout and through -o: the same path string, a valid UTF-8 document.
        out = tmp_path / f"{name}.json"
        document = report(git_repo.run_mcp_scan(*command, "--format", "json"))
        proc = git_repo.run_mcp_scan(*command, "--format", "json", "-o", str(out))
        assert proc.returncode == 1 and b"internal error" not in proc.stderr, (name, proc.stderr)
        from_file = json.loads(out.read_bytes().decode("utf-8"))  # strict: a valid UTF-8 file
        for doc in (document, from_file):
            paths = {f["path"] for f in doc["findings"] if f["rule_id"] == "stripe-live-secret-key"}
            assert paths == {SURROGATE_NAME}, (name, paths)
        if name == "history":  # the path at HEAD is decoded the same way, so the secret is still there
            assert [f["present_at_head"] for f in document["findings"]] == [True], document["findings"]

        # jsonl likewise.
        proc = git_repo.run_mcp_scan(*command, "--format", "jsonl")
        assert proc.returncode == 1, (name, proc.stderr)
        assert {json.loads(line)["path"] for line in proc.stdout.decode("utf-8").splitlines()} == {SURROGATE_NAME}

        # SARIF: the URI percent-encodes the raw bytes; stdout and -o are valid UTF-8 JSON.
        sarif_out = tmp_path / f"{name}.sarif"
        for extra in ([], ["-o", str(sarif_out)]):
            proc = git_repo.run_mcp_scan(*command, "--format", "sarif", *extra)
            assert_no_traceback(proc)
            assert proc.returncode == 1 and b"internal error" not in proc.stderr, (name, proc.stderr)
            text = (sarif_out.read_bytes() if extra else proc.stdout).decode("utf-8")
            results = json.loads(text)["runs"][0]["results"]
            uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
            assert uris == {"conf%FF.py"}, (name, uris)

        # HTML through -o is a valid UTF-8 page.
        html_out = tmp_path / f"{name}.html"
        proc = git_repo.run_mcp_scan(*command, "--format", "html", "-o", str(html_out))
        assert proc.returncode == 1 and b"internal error" not in proc.stderr, (name, proc.stderr)
        html_out.read_bytes().decode("utf-8")

    # A baseline built from history accepts the same secret at the same path in the hook.
    baseline = tmp_path / "baseline.json"
    proc = git_repo.run_mcp_scan("baseline", "create", "--source", "history", "-o", str(baseline))
    assert proc.returncode == 0, proc.stderr
    baseline.read_bytes().decode("utf-8")
    proc = git_repo.run_mcp_scan("staged", "--baseline", str(baseline), "--format", "json")
    assert report(proc, code=0)["findings"] == []


# -- 9: the mode of a report written with -o ----------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_report_output_keeps_the_replaced_files_mode_and_show_secrets_creates_0600(git_repo: GitRepo,
                                                                                    tmp_path: Path) -> None:
    git_repo.stage("settings.py", f'KEY = "{KEY}"\n')
    umask = os.umask(0o022)
    os.umask(umask)

    def write_report(target: Path, *extra: str) -> None:
        proc = git_repo.run_mcp_scan("staged", "--format", "json", "-o", str(target), *extra)
        assert proc.returncode == 1, proc.stderr
        assert json.loads(target.read_bytes())["findings"], target

    # Replacing a file keeps its mode, whatever the flags: a 0600 report stays private.
    for mode in (0o600, 0o640, 0o644):
        for extra in ([], ["--show-secrets"]):
            target = tmp_path / f"existing-{mode:o}-{len(extra)}.json"
            target.write_text("old report\n")
            target.chmod(mode)
            write_report(target, *extra)
            assert _mode(target) == mode, (oct(mode), extra, oct(_mode(target)))

    # A new report holding full secrets is readable by its owner only.
    private = tmp_path / "new-with-secrets.json"
    write_report(private, "--show-secrets")
    assert KEY in private.read_text()
    assert _mode(private) == 0o600, oct(_mode(private))
    merged = tmp_path / "merged-with-secrets.json"
    proc = git_repo.run_mcp_scan("merge", str(private), "--show-secrets", "--format", "json", "-o", str(merged))
    assert proc.returncode == 1 and KEY in merged.read_text(), proc.stderr
    assert _mode(merged) == 0o600, oct(_mode(merged))

    # A new redacted report gets the usual mode (0666 minus the umask).
    redacted = tmp_path / "new-redacted.json"
    write_report(redacted)
    assert _mode(redacted) == 0o666 & ~umask, oct(_mode(redacted))


# -- 10: uninstall and a hook edited since install ----------------------------

def _hook_state(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), _mode(path)


def test_uninstall_refuses_to_discard_an_edited_hook_and_force_keeps_the_edits(git_repo: GitRepo, tmp_path: Path) -> None:
    hooks = git_repo.path / ".git" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    mine = hooks / "pre-commit"
    mine.write_bytes(b"#!/bin/sh\necho my own checks >&2\n")
    mine.chmod(0o750)
    original = _hook_state(mine)
    assert git_repo.run_mcp_scan("install").returncode == 0

    # An unedited hook uninstalls as before, even from another path to the interpreter.
    other_python = tmp_path / "python-link"
    other_python.symlink_to(os.path.realpath(sys.executable))
    # In a virtualenv the real path is the base interpreter, which lacks the venv's packages: hand it this
    # process's import path (the checkout and its dependencies) so it runs the same code.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([str(other_python), "-m", "scanner", "uninstall"], cwd=git_repo.path, capture_output=True,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    assert _hook_state(mine) == original and not (hooks / "pre-commit.mcp-scan-edited").exists()

    # A hook written before hooks carried their digest (the same text minus that line) is not "edited".
    assert git_repo.run_mcp_scan("install").returncode == 0
    mine.write_bytes(b"".join(line for line in mine.read_bytes().splitlines(keepends=True)
                              if not line.startswith(b"# mcp-scan hook sha256:")))
    assert git_repo.run_mcp_scan("uninstall").returncode == 0
    assert _hook_state(mine) == original

    # Edited after install: refuse, say why and what to do, touch nothing.
    assert git_repo.run_mcp_scan("install").returncode == 0
    with open(mine, "a") as handle:
        handle.write("echo a line I added to the installed hook >&2\n")
    edited = _hook_state(mine)
    kept = _hook_state(hooks / "pre-commit.mcp-scan-orig")
    proc = git_repo.run_mcp_scan("uninstall")
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "Traceback" not in err and "mcp-scan: error:" in err and "edited" in err, err
    assert "hint:" in err and "--force" in err, err
    assert _hook_state(mine) == edited and _hook_state(hooks / "pre-commit.mcp-scan-orig") == kept

    # --force: the edited hook is kept aside (and said where), the original comes back byte for byte.
    proc = git_repo.run_mcp_scan("uninstall", "--force")
    assert proc.returncode == 0, proc.stderr
    assert "pre-commit.mcp-scan-edited" in proc.stdout.decode(), proc.stdout
    assert _hook_state(hooks / "pre-commit.mcp-scan-edited") == edited
    assert _hook_state(mine) == original
    assert not (hooks / "pre-commit.mcp-scan-orig").exists()

    # Without a hook before it, and with a copy already kept: nothing is overwritten.
    mine.unlink()
    assert git_repo.run_mcp_scan("install").returncode == 0
    mine.write_bytes(mine.read_bytes().replace(b"exec mcp-scan", b"exec /opt/other/mcp-scan"))
    second = _hook_state(mine)
    assert git_repo.run_mcp_scan("uninstall").returncode == 2
    proc = git_repo.run_mcp_scan("uninstall", "--force")
    assert proc.returncode == 0, proc.stderr
    assert not mine.exists()
    assert _hook_state(hooks / "pre-commit.mcp-scan-edited") == edited
    copies = [p for p in hooks.iterdir() if p.name.startswith("pre-commit.mcp-scan-edited") and p.name != "pre-commit.mcp-scan-edited"]
    assert [_hook_state(p) for p in copies] == [second], copies
    assert copies[0].name in proc.stdout.decode()


# -- 12: control characters from the repository never reach the terminal raw --

HOSTILE_NAME = "a\nb\x1b[31m.py"
SHOWN_NAME = '"a\\nb\\x1b[31m.py"'  # git-style: quoted, C escapes


def _assert_terminal_safe(proc: subprocess.CompletedProcess[bytes], headers: int) -> None:
    assert_no_traceback(proc)
    for stream in (proc.stdout, proc.stderr):
        assert b"\x1b" not in stream and b"\x07" not in stream, stream
    out = proc.stdout.decode("utf-8")
    lines = out.splitlines()
    # Each finding is a header line, then indented detail lines: the name did not split the header.
    found = [i for i, line in enumerate(lines) if line.startswith(SHOWN_NAME + ":")]
    assert len(found) == headers, out
    for index in found:
        assert "Stripe" in lines[index] and lines[index + 1].startswith("    rule:"), out
    assert not any(line.startswith(("b\\x1b", "b\x1b", "[31m")) for line in lines), out


def test_text_output_escapes_control_characters_from_the_repository(git_repo: GitRepo) -> None:
    git_repo.stage(HOSTILE_NAME, f'KEY = "{KEY}"\n')
    _assert_terminal_safe(git_repo.run_mcp_scan("staged"), headers=1)
    _assert_terminal_safe(git_repo.run_mcp_scan("scan", "."), headers=1)

    env = dict(os.environ, GIT_AUTHOR_NAME="Eve \x1b]0;owned\x07 Mallory")
    subprocess.run(["git", "commit", "-q", "-m", "subject \x1b[2J"], cwd=git_repo.path, env=env, check=True)
    proc = git_repo.run_mcp_scan("history")
    _assert_terminal_safe(proc, headers=1)
    assert "Eve \\x1b]0;owned\\x07 Mallory" in proc.stdout.decode(), proc.stdout

    # Warnings and errors on stderr that name the file are escaped too, each on one line.
    proc = git_repo.run_mcp_scan("scan", ".", "--max-file-size", "4")
    assert_no_traceback(proc)
    err = proc.stderr.decode("utf-8")
    assert b"\x1b" not in proc.stderr, err
    warnings = [line for line in err.splitlines() if "skipped" in line]
    assert len(warnings) == 1 and "a\\nb\\x1b[31m.py" in warnings[0], err
