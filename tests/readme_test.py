"""The README and docs stay true: their commands and flags exist, CI runs the test command."""
from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import COMMAND_MODULES, build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {path.name: path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md"))}
ALL = {"README.md": README, **DOCS}


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", text, re.DOTALL)


def _invocations(text: str) -> list[list[str]]:
    """Every `mcp-scan ...` command line shown in code blocks (YAML `run:` lines included)."""
    found = []
    for block in _code_blocks(text):
        for line in block.splitlines():
            for part in re.split(r"&&|\|\|", line.split(" #")[0]):
                match = re.search(r"(?:^|[\s:-])mcp-scan (\S.*)$", part.strip())
                if match and not match.group(1).startswith(("hook", "(")):
                    try:
                        found.append(shlex.split(match.group(1)))
                    except ValueError:
                        continue
    return found


def _subparser(parser: argparse.ArgumentParser, words: list[str]) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and words and words[0] in action.choices:
            return _subparser(action.choices[words[0]], words[1:])
    return parser


def test_top_has_exactly_two_setup_commands_and_ci_runs_the_second() -> None:
    first_block = _code_blocks(README)[0].strip().splitlines()
    assert len(first_block) == 2
    assert first_block[0].startswith("python -m pip install . && mcp-scan ")
    assert first_block[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_command_and_flag_shown_exists(name: str) -> None:
    text = ALL[name]
    inline = re.findall(r"`mcp-scan ([a-z][a-z-]*)", text)
    commands = [words[0] for words in _invocations(text)] + inline
    unknown = {c for c in commands if c not in COMMAND_MODULES and c not in ("staged|scan|history|ci|pre-push",)}
    assert not unknown, f"{name} shows unknown commands {unknown}"
    parser = build_parser()
    for words in _invocations(text):
        if words[0] not in COMMAND_MODULES:
            continue
        sub = _subparser(parser, [w for w in words if not w.startswith("-")][:2])
        known = {opt for action in sub._actions for opt in action.option_strings}
        for word in words:
            flag = word.split("=")[0]
            if flag.startswith("--"):
                assert flag in known, f"{name}: `mcp-scan {' '.join(words)}` uses unknown flag {flag}"


def test_every_hook_id_is_documented() -> None:
    hook_ids = re.findall(r"^- id: (\S+)", (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"), re.MULTILINE)
    assert hook_ids == ["mcp-scan", "mcp-scan-push", "mcp-scan-audit"]
    for hook_id in hook_ids:
        assert f"id: {hook_id}" in README


def _pre_commit_snippets() -> list[tuple[str, Any]]:
    """Every ``.pre-commit-config.yaml`` example in the README and docs, parsed."""
    import yaml

    found = []
    for name, text in ALL.items():
        for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL):
            if re.search(r"^repos:", block, re.MULTILINE):
                found.append((name, yaml.safe_load(block)))
    return found


def test_pre_commit_snippets_name_real_hooks_and_an_honest_rev() -> None:
    import yaml

    hooks = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    snippets = _pre_commit_snippets()
    assert {name for name, _ in snippets} >= {"README.md", "ci.md"}
    for name, config in snippets:
        for repo in config["repos"]:
            ids = {hook["id"] for hook in repo["hooks"]}
            assert ids <= hooks, f"{name}: hook ids {sorted(ids - hooks)} are not in .pre-commit-hooks.yaml"
            # No release is tagged: a version-looking rev would send users to a tag that does not exist.
            # The placeholder must be replaced, and says with what; a full sha would do too.
            assert repo["rev"] == "COMMIT-SHA" or re.fullmatch(r"[0-9a-f]{40}", repo["rev"]), \
                f"{name}: rev {repo['rev']!r} is not a commit sha (or the COMMIT-SHA placeholder)"
    assert "git ls-remote" in README and "pre-commit autoupdate" in README
