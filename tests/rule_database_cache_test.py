"""The rule databases' cache file: a matcher read from it finds what a freshly compiled one finds,
reads its large databases only when it needs them, and recovers when the file is replaced, removed
or spoilt in between."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("hyperscan")

import scanner.rulematch as rm  # noqa: E402
from scanner.rules import builtin_rules  # noqa: E402
from scanner.shadow import Shadow  # noqa: E402

RULES = [r for i, r in enumerate(builtin_rules()) if i % 25 == 0 or r.path or r.id.startswith("generic-secret")]
TEXTS = [x for r in RULES for x in r.examples + r.negative_examples] + ["café = 'naïve' password='Zq8#ve9Tp2'"]


def _found(matcher: rm.RuleMatcher) -> dict[str, list[object]]:
    """Every database's answers on the rules' examples (the full one, the one for source code, the
    shadows', the long patterns' gate)."""
    shadows = [Shadow.of(t.encode("utf-8")) for t in TEXTS]
    matcher.path = None
    full = [sorted(matcher.scan(t.encode("utf-8")) or []) for t in TEXTS]
    matcher.path = "src/app.py"
    common = [sorted(matcher.scan(t.encode("utf-8")) or []) for t in TEXTS]
    shadow = [sorted(matcher.scan_shadow(s.text) or []) for s in shadows if s is not None]
    long = [matcher.long_match(t.encode("utf-8"), True) for t in TEXTS]
    return {"full": full, "common": common, "shadow": shadow, "long": long, "rule": list(matcher.pattern_rule)}


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MCP_SCAN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(rm, "compile_processes", lambda: 1)  # no fork from the test runner
    return tmp_path


def _file(cache: Path) -> Path:
    (path,) = cache.glob("rules-*.hsdb")
    return path


def test_a_matcher_read_from_the_cache_finds_what_a_compiled_one_finds(cache: Path) -> None:
    compiled = rm.RuleMatcher(RULES)
    stored = rm.RuleMatcher(RULES)
    assert stored._stored is not None  # read from the file, not compiled again
    assert _found(stored) == _found(compiled)
    assert _found(compiled)["full"] != _found(compiled)["common"]  # the path rules make a difference


def test_large_databases_are_read_only_when_used(cache: Path) -> None:
    rm.RuleMatcher(RULES)
    stored = rm.RuleMatcher(RULES)
    assert not stored._loaded
    stored.path = "src/app.py"
    stored.scan(b"password = 'Zq8#ve9Tp2'")
    assert set(stored._loaded) == {"common"}
    stored.scan_shadow(b"x")
    assert set(stored._loaded) == {"common", "shadow"}


@pytest.mark.parametrize("spoil", ["replaced", "removed", "truncated", "overwritten"])
def test_a_matcher_recovers_when_its_file_changes_before_it_reads_a_database(cache: Path, spoil: str) -> None:
    expected = _found(rm.RuleMatcher(RULES))
    path = _file(cache)
    stored = rm.RuleMatcher(RULES)
    if spoil == "replaced":  # another run compiled the same rules again: another build token
        os.unlink(path)
        rm.RuleMatcher(RULES)
        assert _file(cache) == path
    elif spoil == "removed":
        os.unlink(path)
    elif spoil == "truncated":
        with open(path, "r+b") as f:
            f.truncate(path.stat().st_size - 1000)
    else:  # same length, garbage where the databases were
        data = bytearray(path.read_bytes())
        half = len(data) // 2
        data[half:] = b"\xa5" * (len(data) - half)
        path.write_bytes(bytes(data))
    assert _found(stored) == expected


def test_a_spoilt_file_is_compiled_again_at_start(cache: Path) -> None:
    expected = _found(rm.RuleMatcher(RULES))
    path = _file(cache)
    path.write_bytes(path.read_bytes()[:5000])
    again = rm.RuleMatcher(RULES)
    assert again._stored is None
    assert _found(again) == expected
    assert rm.RuleMatcher(RULES)._stored is not None  # and written whole again
