"""The pure-Python path finds what the Hyperscan path finds (issue 13, item 6).

Platforms without a hyperscan wheel run the detector's Python prefilter;
``MCP_SCAN_NO_HYPERSCAN=1`` forces that path anywhere, so these tests run
both engines on the same inputs: every rule's examples, and the files of this
repository (rule files full of fake credentials, the scanner's own code)
scanned as a directory and as a history.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from scanner.detect import HYPERSCAN_THRESHOLD, Detector
from scanner.prefilter import PythonPrefilter, hyperscan_available
from scanner.rules import builtin_rules
from tests.git_helpers import GitRepo

ROOT = Path(__file__).resolve().parent.parent
needs_hyperscan = pytest.mark.skipif(not hyperscan_available(), reason="the hyperscan wheel is not installed here")


def test_the_switch_turns_hyperscan_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_SCAN_NO_HYPERSCAN", "1")
    assert not hyperscan_available()
    assert isinstance(Detector(builtin_rules())._prefilter_for(10 * HYPERSCAN_THRESHOLD), PythonPrefilter)


def _key(finding: Any) -> tuple[Any, ...]:
    return (finding.rule_id, finding.path, finding.line, finding.column, finding.secret)


@needs_hyperscan
def test_rule_examples_give_the_same_findings_on_both_engines() -> None:
    rules = builtin_rules()
    by_path: dict[str, list[str]] = defaultdict(list)
    for rule in rules:
        by_path[rule.example_path or "example.txt"].extend(rule.examples + rule.negative_examples)
    python, hyper = Detector(rules, engine="python"), Detector(rules, engine="hyperscan")
    total = 0
    for path, examples in sorted(by_path.items()):
        text = "\n\n".join(examples) + "\n"
        text += "# filler\n" * (HYPERSCAN_THRESHOLD // 9 + 1)  # large enough for the Hyperscan path
        expected = sorted(map(_key, python.scan_text(text, path)))
        assert sorted(map(_key, hyper.scan_text(text, path))) == expected, path
        total += len(expected)
    assert total > len(rules) // 2  # the comparison saw findings, not two empty lists


def _run(args: list[str], cwd: Path, *, no_hyperscan: bool, dump: Path) -> tuple[dict[str, Any], set[str]]:
    """The JSON report of ``mcp-scan <args>``, and the modules its process imported."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("MCP_SCAN_NO_HYPERSCAN", None)
    if no_hyperscan:
        env["MCP_SCAN_NO_HYPERSCAN"] = "1"
    runner = ("import atexit, sys\n"
              f"atexit.register(lambda: open({str(dump)!r}, 'w').write('\\n'.join(sorted(sys.modules))))\n"
              "from scanner import main\n"
              "raise SystemExit(main())\n")
    proc = subprocess.run([sys.executable, "-c", runner, *args], cwd=cwd, env=env, capture_output=True)
    assert proc.returncode == 1, proc.stderr  # findings
    return json.loads(proc.stdout), set(dump.read_text().split())


def _findings(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted((f["rule_id"], f["path"], f["line"], f.get("commit"), f["secret"]) for f in report["findings"])


def _real_files(repo: GitRepo) -> None:
    """This repository's rule files and scanner modules: large texts with many planted fakes."""
    for sub in ("patterns", "scanner"):
        shutil.copytree(ROOT / sub, repo.path / sub, ignore=shutil.ignore_patterns("__pycache__"))


@needs_hyperscan
@pytest.mark.parametrize("command", ["scan", "history"])
def test_real_files_give_the_same_findings_on_both_engines(command: str, git_repo: GitRepo, tmp_path: Path) -> None:
    _real_files(git_repo)
    git_repo.git("add", "-A")
    git_repo.commit("import")
    # a second version of every rule file: the history's line delta runs on both engines too
    for toml in sorted((git_repo.path / "patterns").glob("*.toml")):
        toml.write_text("# edited\n" + toml.read_text().replace("[[rules]]", "[[rules]]\n# note", 3))
    git_repo.git("add", "-A")
    git_repo.commit("edit")
    args = [command, "--no-config", "--format", "json", "--show-secrets", "-q"]
    args += ["--no-cache", "--jobs", "1", "."] if command == "history" else ["."]
    hyper, hyper_modules = _run(args, git_repo.path, no_hyperscan=False, dump=tmp_path / "a.txt")
    python, python_modules = _run(args, git_repo.path, no_hyperscan=True, dump=tmp_path / "b.txt")
    assert "hyperscan" in hyper_modules
    assert "hyperscan" not in python_modules  # the switch took the pure-Python path
    assert len(hyper["findings"]) > 100
    assert _findings(python) == _findings(hyper)


@pytest.mark.skipif(not hyperscan_available(), reason="hyperscan not installed")
def test_a_keyword_spelt_with_a_kelvin_sign_or_dotted_i_is_no_keyword_to_either_prefilter() -> None:
    """str.lower() turns the Kelvin sign into "k" and U+0130 into "i" (and a dot); Hyperscan's caseless
    bytes take neither. Which prefilter a text meets goes by its size, so they must agree, or a
    finding would depend on how much text surrounds it."""
    from scanner.prefilter import HyperscanPrefilter

    keywords = ["api_key", "token", "secret"]
    python, hyperscan = PythonPrefilter(keywords), HyperscanPrefilter(keywords)
    for text in ["API_\u212aEY=1", "apİ_key", "to\u212aen", "SECRET", "secret İ api_key", "x" * 5000 + "API_\u212aEY"]:
        assert python.matches(text) == hyperscan.matches(text), text
    value = "Zx8" + "q7Lm2Pv9Rt4Kw6Hy3Nb5"  # high entropy, no placeholder
    line = f'API_\u212aEY = "{value}"\n'
    rules = list(builtin_rules())
    small = Detector(rules).scan_text(line, "settings.py")
    large = Detector(rules).scan_text(line + "# filler line\n" * (HYPERSCAN_THRESHOLD // 14 + 1), "settings.py")
    assert [(f.rule_id, f.line) for f in small] == [(f.rule_id, f.line) for f in large]
    python_engine = Detector(rules, engine="python").scan_text(line + "# filler line\n" * 2000, "settings.py")
    assert [(f.rule_id, f.line) for f in large] == [(f.rule_id, f.line) for f in python_engine]
