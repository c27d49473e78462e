"""Rule regexes compiled from the cache directory behave exactly as ``regex.compile``'s, and a bad
entry never yields a wrong pattern."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import regex

from scanner.regexcache import _entry, compile_pattern

ROOT = Path(__file__).resolve().parent.parent

# Run in a fresh interpreter (regex's own in-process cache empty): compile every built-in rule's
# regex and allow regexes through the cache and print, per pattern, what each finds in the rule's
# examples and negative examples. With "--no-parse", the parser must not run at all.
_PROGRAM = r"""
import json, sys
import regex
from regex import _main
from scanner.regexcache import compile_pattern
from scanner.rules import builtin_rules

if "--no-parse" in sys.argv:
    def refuse(*args, **kwargs):
        raise AssertionError("parsed: " + str(args[0])[:80])
    _main._compile = refuse
out = {}
for rule in builtin_rules():
    texts = list(rule.examples) + list(rule.negative_examples)
    for pattern, flags in [(rule.regex, regex.VERSION0)] + [(p, 0) for p in rule.allow_regexes]:
        compiled = compile_pattern(pattern, flags)
        out[f"{flags}:{pattern}"] = [
            [[m.span(), m.groupdict()] for m in compiled.finditer(text)] for text in texts
        ] + [compiled.flags, compiled.groups]
print(json.dumps(out))
"""


def _run(cache: Path, *args: str) -> dict[str, object]:
    env = {**os.environ, "MCP_SCAN_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _PROGRAM, *args], env=env, capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_every_rule_regex_from_the_cache_matches_as_regex_compiles_it(tmp_path: Path) -> None:
    cold = _run(tmp_path)  # parsed, and stored
    entries = list(tmp_path.glob("regex-*/*.marshal"))
    assert len(entries) >= 600  # one per distinct pattern (an allow regex shared by rules: once)
    warm = _run(tmp_path, "--no-parse")  # every one from its entry: the parser never runs
    assert warm == cold


def test_the_cached_patterns_agree_with_regex_compile_in_this_process(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.rules import builtin_rules

    monkeypatch.setenv("MCP_SCAN_CACHE_DIR", str(tmp_path))
    rules = [r for r in builtin_rules() if r.examples][:120]
    for _round in range(2):  # stored, then loaded
        for rule in rules:
            ours = compile_pattern(rule.regex, regex.VERSION0)
            theirs = regex.compile(rule.regex, regex.VERSION0)
            for text in list(rule.examples) + list(rule.negative_examples):
                assert ([m.span() for m in ours.finditer(text)] == [m.span() for m in theirs.finditer(text)]), rule.id
            assert (ours.flags, ours.groupindex) == (theirs.flags, theirs.groupindex)


def test_a_damaged_or_foreign_entry_is_never_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.regexcache import _internals

    engine = _internals()._regex
    monkeypatch.setenv("MCP_SCAN_CACHE_DIR", str(tmp_path))
    first, second = r"sk_live_[0-9a-zA-Z]{24}", r"ghp_[0-9a-zA-Z]{36}"
    regex.purge()
    compile_pattern(first)
    regex.purge()
    compile_pattern(second)
    a, b = _entry(first, 0, engine), _entry(second, 0, engine)
    assert a.exists() and b.exists()
    b.write_bytes(a.read_bytes())  # the entry of another pattern under this one's name
    assert compile_pattern(second).pattern == second
    assert compile_pattern(second).search("token ghp_" + "a1" * 18)
    a.write_bytes(b"\x00garbage")  # a torn or damaged file
    regex.purge()
    assert compile_pattern(first).search("sk_live_" + "Ab3" * 8)
    regex.purge()
    assert compile_pattern(first).pattern == first  # rewritten: loads again
    assert a.read_bytes() != b"\x00garbage"


def test_an_unwritable_cache_directory_still_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("MCP_SCAN_CACHE_DIR", str(blocker))
    regex.purge()
    assert compile_pattern(r"AKIA[0-9A-Z]{16}").search("id AKIAABCDEFGHIJKLMNOP")
    assert not list(tmp_path.glob("**/*.tmp"))  # no temporary left behind


def test_other_regex_versions_and_the_least_used_entries_are_pruned(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner import regexcache
    from scanner.regexcache import _internals

    monkeypatch.setenv("MCP_SCAN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(regexcache, "_tidied", False)
    monkeypatch.setattr(regexcache, "KEEP_ENTRIES", 3)
    patterns = [f"key_{n}_[A-Z0-9]{{{16 + n}}}" for n in range(5)]
    directory = _entry(patterns[0], 0, _internals()._regex).parent
    directory.mkdir(parents=True)
    for n, pattern in enumerate(patterns[1:]):  # four older entries, the first used least recently
        regex.purge()
        compile_pattern(pattern)
        os.utime(_entry(pattern, 0, _internals()._regex), (1_000_000 + n, 1_000_000 + n))
    stale = tmp_path / "regex-2001.1.1-1"  # an older regex release's entries
    stale.mkdir()
    (stale / "0.marshal").write_bytes(b"old")
    monkeypatch.setattr(regexcache, "_tidied", False)  # a new process
    regex.purge()
    compile_pattern(patterns[0])  # a new entry: this process tidies
    assert not stale.exists()
    kept = sorted(p.name for p in directory.glob("*.marshal"))
    assert len(kept) == 3 and _entry(patterns[0], 0, _internals()._regex).name in kept
    assert _entry(patterns[1], 0, _internals()._regex).name not in kept  # the least recently used
