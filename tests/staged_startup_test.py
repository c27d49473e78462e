"""`mcp-scan staged` imports only what the staged path needs (issue 13, item 5).

Each test runs the real command under ``python -X importtime`` in a real
repository and reads the list of modules the interpreter imported.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.detect import Detector
from scanner.paths import builtin_patterns_dir
from scanner.rules import builtin_rules, load_rules, rule_files
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

ROOT = Path(__file__).resolve().parent.parent
# No rule keyword occurs in this line (checked below against the registry).
PLAIN = "the quick brown fox jumps over the lazy dog\n"


def imported_modules(repo: GitRepo, *args: str) -> tuple[int, set[str], bytes]:
    """Exit code, every module imported, and stdout of ``mcp-scan <args>`` in ``repo``.

    ``-X importtime`` lists the modules imported by import statements; modules
    loaded through ``importlib.import_module`` (the CLI's command modules) are
    not timed, so the final ``sys.modules`` is read too.
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    dump = repo.path.parent / "modules.txt"
    runner = ("import atexit, sys\n"
              f"atexit.register(lambda: open({str(dump)!r}, 'w').write('\\n'.join(sorted(sys.modules))))\n"
              "from scanner import main\n"
              "raise SystemExit(main())\n")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", runner, *args], cwd=repo.path, env=env,
                          capture_output=True)
    timed = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", proc.stderr.decode(), re.MULTILINE))
    assert "scanner.cli" in timed, proc.stderr[-2000:]  # importtime output was read
    return proc.returncode, timed | set(dump.read_text().split()), proc.stdout


def test_the_plain_line_holds_no_keyword() -> None:
    assert Detector(builtin_rules()).candidates(PLAIN) == []


def test_staged_without_keywords_never_imports_regex(git_repo: GitRepo) -> None:
    git_repo.stage("README.md", "hello\n")
    git_repo.commit()
    git_repo.stage("README.md", "hello\n" + PLAIN)
    code, names, _ = imported_modules(git_repo, "staged")
    assert code == 0
    assert "regex" not in names
    assert not any(n.startswith("regex.") for n in names)


def test_staged_imports_no_other_command(git_repo: GitRepo) -> None:
    git_repo.stage("notes.txt", PLAIN)
    code, names, _ = imported_modules(git_repo, "staged")
    assert code == 0
    commands = {n for n in names if n.startswith("scanner.commands.") and not n.startswith("scanner.commands._")}
    assert commands == {"scanner.commands.staged"}
    # nor the parts only other commands use
    for heavy in ("scanner.history", "scanner.history.scan", "scanner.report.sarif", "scanner.report.html",
                  "scanner.audit", "scanner.baseline", "scanner.gitleaks_import", "hyperscan"):
        assert heavy not in names


def test_staged_still_finds_a_key_next_to_a_plain_line(git_repo: GitRepo) -> None:
    key = stripe_live_key(seed=13)
    git_repo.stage("notes.txt", PLAIN)
    git_repo.stage("pay.py", f"STRIPE = '{key}'\n")
    code, names, out = imported_modules(git_repo, "staged")
    assert code == 1
    assert b"pay.py:1" in out
    assert key.encode() not in out
    assert "regex" in names  # a keyword hit is judged by the rule's regex
    # A blocked commit still loads no dataclasses/inspect (scanner/record.py), no OpenSSL
    # (the fingerprint's SHA-256 is CPython's own), no json (the registry cache is marshal)
    for heavy in ("dataclasses", "inspect", "ast", "hashlib", "_hashlib", "json", "base64"):
        assert heavy not in names


def git_calls(repo: GitRepo, *args: str) -> tuple[int, list[str], bytes]:
    """Exit code, the git subcommand of every git process, and stdout of ``mcp-scan <args>``.

    A real git sits behind a wrapper script first on PATH that logs each call,
    so what is counted is every process the command spawned.
    """
    real = shutil.which("git")
    assert real is not None
    wrappers = repo.path.parent / "wrapped-bin"
    wrappers.mkdir(exist_ok=True)
    log = wrappers / "calls.log"
    log.write_text("")
    wrapper = wrappers / "git"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    env = dict(os.environ, PATH=f"{wrappers}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "scanner", *args], cwd=repo.path, env=env, capture_output=True)
    calls = []
    for line in log.read_text().splitlines():
        words = line.split()
        while words[:1] == ["-c"]:  # the safe-config pairs before the subcommand
            words = words[2:]
        calls.append(words[0])
    return proc.returncode, calls, proc.stdout


def test_a_key_added_to_a_committed_file_costs_one_git_process(git_repo: GitRepo) -> None:
    git_repo.stage("settings.py", "DEBUG = False\n")
    git_repo.commit()
    key = stripe_live_key(seed=14)
    git_repo.stage("settings.py", f"DEBUG = False\nSTRIPE = '{key}'\n")
    code, calls, out = git_calls(git_repo, "staged")
    assert code == 1 and b"settings.py:2" in out
    # The diff alone: the modified file proves HEAD is a commit, so no rev-parse
    # is needed to pick the unstage advice, and the advice is still right.
    assert calls == ["diff"]
    assert b"git restore --staged settings.py" in out


def test_a_clean_staged_scan_costs_one_git_process(git_repo: GitRepo) -> None:
    git_repo.stage("notes.txt", "first\n")
    git_repo.commit()
    git_repo.stage("notes.txt", "first\n" + PLAIN)
    code, calls, _ = git_calls(git_repo, "staged")
    assert (code, calls) == (0, ["diff"])


def test_before_the_first_commit_head_is_asked_for_the_advice(git_repo: GitRepo) -> None:
    # Only added files: the diff cannot tell an unborn branch from a commit
    # that adds them, so git is asked (and says `git rm --cached`).
    git_repo.stage("pay.py", f"STRIPE = '{stripe_live_key(seed=15)}'\n")
    code, calls, out = git_calls(git_repo, "staged")
    assert code == 1
    assert calls == ["diff", "rev-parse"]
    assert b"git rm --cached pay.py" in out


def test_the_cached_registry_is_the_parsed_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_SCAN_CACHE_DIR", str(tmp_path))
    parsed = tuple(load_rules(rule_files([builtin_patterns_dir()])))
    builtin_rules.cache_clear()
    try:
        cold = builtin_rules()  # parses the TOML files and writes the cache
        (cache,) = tmp_path.iterdir()
        builtin_rules.cache_clear()
        warm = builtin_rules()  # read back from the cache
        assert cold == parsed and warm == parsed
        assert [r.__dict__ for r in warm] == [r.__dict__ for r in parsed]  # field types too (tuples stay tuples)
        assert all(r.pattern.search(r.examples[0]) for r in warm if r.examples and r.content == "text"
                   and not r.example_path)
        cache.write_bytes(cache.read_bytes()[:1000])  # a torn or foreign file is rebuilt, not trusted
        builtin_rules.cache_clear()
        assert builtin_rules() == parsed
        builtin_rules.cache_clear()
        assert builtin_rules() == parsed
    finally:
        builtin_rules.cache_clear()
