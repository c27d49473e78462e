"""The README stays true: its commands exist and match what CI runs."""
from __future__ import annotations

import re
from pathlib import Path

from scanner.cli import COMMAND_MODULES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _code_blocks() -> list[str]:
    return re.findall(r"```(?:sh|bash)?\n(.*?)```", README, re.DOTALL)


def test_top_has_exactly_two_setup_commands_and_ci_runs_the_second() -> None:
    first_block = _code_blocks()[0].strip().splitlines()
    assert len(first_block) == 2
    assert first_block[0].startswith("python -m pip install . && mcp-scan ")
    assert first_block[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_command_shown_exists() -> None:
    inline = re.findall(r"`mcp-scan ([a-z][a-z-]*)", README)
    in_blocks = [m for block in _code_blocks() for m in re.findall(r"(?:^|&& )mcp-scan ([a-z][a-z-]*)", block, re.MULTILINE)]
    shown = set(inline + in_blocks)
    assert shown, "the README shows no commands"
    assert shown <= set(COMMAND_MODULES), shown - set(COMMAND_MODULES)


def test_every_hook_id_is_documented() -> None:
    hook_ids = re.findall(r"^- id: (\S+)", (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"), re.MULTILINE)
    assert hook_ids == ["mcp-scan", "mcp-scan-push"]
    for hook_id in hook_ids:
        assert f"id: {hook_id}" in README
