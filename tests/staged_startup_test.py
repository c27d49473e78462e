"""`mcp-scan staged` imports only what the staged path needs (issue 13, item 5).

Each test runs the real command under ``python -X importtime`` in a real
repository and reads the list of modules the interpreter imported.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from scanner.detect import Detector
from scanner.rules import builtin_rules
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
