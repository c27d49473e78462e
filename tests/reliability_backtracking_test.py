"""Catastrophic backtracking (issue 7, item 2): every built-in rule against inputs built to make it blow up.

For each rule the inputs are made from its own keywords, the character
classes of its regex (long runs of exactly the characters the regex
repeats, interleaved, followed by a near miss) and its examples repeated
with the last character broken. The detector runs each rule's regex with a
timeout, so the property is: every scan returns, no exception escapes, and
a timeout is counted (bounded) rather than hanging. Which rules needed the
timeout is written to ``$MCP_SCAN_BACKTRACK_REPORT`` when set, so authors
can fix those regexes.
"""
from __future__ import annotations

from typing import Any

import json
import os
import string
from pathlib import Path
from typing import Any

import pytest
import regex

from scanner.detect import Detector
from scanner.rules import Rule, builtin_rules
from tests.git_helpers import GitRepo
from tests.reliability_support import assert_fails_closed, run_scan

RUN = 20_000  # characters per adversarial run: large enough for exponential blow-ups, small enough for CI
_CLASS = regex.compile(r"\[(?:\\.|[^\]\\])+\]|\\[wdsWDS]|\\p\{\w+\}")
_PROBE = string.printable + "éß日\u00a0"


def char_classes(pattern: str) -> list[str]:
    """The characters each character class of ``pattern`` accepts (printable probe), deduplicated."""
    found: list[str] = []
    for match in _CLASS.finditer(pattern):
        try:
            klass = regex.compile(match.group(0))
        except regex.error:
            continue
        chars = "".join(c for c in _PROBE if klass.fullmatch(c))
        if chars and chars not in found:
            found.append(chars)
    return found[:6] or [string.ascii_letters + string.digits]


def adversarial_inputs(rule: Rule) -> list[tuple[str, str]]:
    """(name, text) pairs meant to make ``rule``'s regex backtrack as much as possible."""
    keywords = list(rule.keywords) or [""]
    classes = char_classes(rule.regex)
    inputs: list[tuple[str, str]] = []
    for kw in keywords[:3]:
        for index, chars in enumerate(classes):
            run = (chars * (RUN // len(chars) + 1))[:RUN]
            inputs.append((f"{kw}+class{index}", kw + run))
            inputs.append((f"{kw}+class{index}+miss", kw + run + "\x00!"))
            inputs.append((f"{kw}+single{index}", kw + chars[0] * RUN))
        if len(classes) > 1:
            mixed = "".join(classes[i % len(classes)][i % 7 % len(classes[i % len(classes)])] for i in range(RUN))
            inputs.append((f"{kw}+interleaved", kw + mixed))
        inputs.append((f"{kw}-repeated", (kw + " ") * (RUN // (len(kw) + 1))))
        inputs.append((f"{kw}-glued", (kw + classes[0][:8]) * (RUN // (len(kw) + 8))))
        inputs.append((f"{kw}+separators", kw + " " * 2000 + "=" * 2000 + "\"" * 2000 + ":" * 2000 + "\t" * 2000))
        inputs.append((f"{kw}+newlines", (kw + "=\n") * (RUN // (len(kw) + 2))))
    for number, example in enumerate(rule.examples[:2]):
        if len(example) > 1:
            broken = example[:-1] + "\x00"
            inputs.append((f"example{number}-broken-repeated", (broken + " ") * (RUN // (len(broken) + 1))))
            inputs.append((f"example{number}-glued", example * (RUN // len(example) + 1)))
    return inputs


def _record(rule_id: str, timeouts: list[str]) -> None:
    target = os.environ.get("MCP_SCAN_BACKTRACK_REPORT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"rule": rule_id, "timeouts": timeouts}) + "\n")


RULES = builtin_rules()


def test_every_rule_has_adversarial_inputs() -> None:
    assert RULES
    for rule in RULES:
        assert adversarial_inputs(rule), rule.id


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_survives_backtracking_inputs(rule: Rule) -> None:
    detector = Detector([rule], engine="python")
    timed_out: list[str] = []
    for name, text in adversarial_inputs(rule):
        before = detector.stats.regex_timeouts
        findings = detector.scan_text(text, path=f"adversarial/{name}.txt")
        assert isinstance(findings, list)
        if detector.stats.regex_timeouts > before:
            timed_out.append(name)
            # bounded: a rule gives up on a text once, and says which rule and path
            assert detector.stats.regex_timeouts == before + 1
            gap = detector.stats.incomplete[-1]
            assert (gap.reason, gap.rule_id, gap.path) == ("regex-timeout", rule.id, f"adversarial/{name}.txt")
    _record(rule.id, timed_out)


def _evil_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "evil.toml"
    rules.write_text(
        "[[rules]]\n"
        "id = \"evil-nested\"\n"
        "description = \"nested quantifier\"\n"
        "severity = \"low\"\n"
        "regex = '''evil(?P<secret>(a|aa)+)$'''\n"
        "keywords = [\"evil\"]\n"
        "examples = [\"evilaaaa\", \"evilaa\"]\n"
        "negative_examples = [\"evil\"]\n"
    )
    return rules


def test_a_timed_out_rule_is_reported_and_skipped_not_fatal(tmp_path: Path) -> None:
    # A deliberately exponential rule: the scan must come back with the
    # timeout counted, and the CLI must say so on stderr.
    rules = _evil_rules(tmp_path)
    (tmp_path / "victim.txt").write_text("evil" + "a" * 60 + "!\n")
    proc = run_scan("scan", "--rules", str(rules), "victim.txt", cwd=tmp_path, timeout=120)
    assert b"Traceback" not in proc.stderr
    assert b"timed out" in proc.stderr, proc.stderr
    assert b"evil-nested" in proc.stderr


def test_a_timeout_on_staged_content_blocks_the_commit(git_repo: GitRepo, tmp_path: Path) -> None:
    # Fail closed: content a rule could not finish scanning is not waved through.
    rules = _evil_rules(tmp_path)
    git_repo.stage("victim.txt", "evil" + "a" * 60 + "!\n")
    proc = run_scan("staged", "--rules", str(rules), cwd=git_repo.path, timeout=120)
    assert_fails_closed(proc, mentions=["timed out", "victim.txt", "evil-nested"])
    git_repo.git("rm", "-q", "--cached", "victim.txt")
    git_repo.stage("fine.txt", "evil but short\n")
    assert run_scan("staged", "--rules", str(rules), cwd=git_repo.path).returncode == 0


class _CountingDetector(Detector):
    """Counts the characters the regex stage is asked to scan (raw text plus decoded views)."""

    scanned = 0

    def raw_hits(self, text: str, path: str, only: Any = None) -> list:  # type: ignore[override]
        self.scanned += len(text)
        return super().raw_hits(text, path, only)


@pytest.mark.parametrize("escape", ["%20", "%3D", "%2F"])
def test_decoded_views_of_one_huge_line_cost_linear_work(escape: str) -> None:
    # One 200 KB line of percent-encoded words (an SVG data URI, minified JS):
    # every decoded view used to be the whole line, so the regex stage
    # scanned 256 x (and, recursing, 65536 x) the input and a commit hung for
    # minutes. Work is counted, not timed.
    import random

    rng = random.Random(escape)
    words: list[str] = []
    size = 0
    while size < 200_000:
        word = "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(3, 12)))
        words.append(word)
        size += len(word) + len(escape)
    text = escape.join(words)
    detector = _CountingDetector(builtin_rules(), engine="python")
    detector.scan_text(text, path="bundle.min.js")
    assert detector.scanned <= 8 * len(text), detector.scanned / len(text)


def _many_hits_line(rule: Rule, size: int) -> tuple[str, int]:
    """One line of ``size`` characters holding copies of the rule's first example, each one a hit."""
    example = rule.examples[0]
    copies = size // (len(example) + 1)
    return (example[:-1] + "\x00 ") * copies, copies


@pytest.mark.parametrize("rule_id", ["kaggle-api-key", "cloudinary-url"])
def test_one_line_with_tens_of_thousands_of_hits_finds_every_one_with_linear_work(rule_id: str) -> None:
    # One 3 MB line, tens of thousands of hits (a data dump, a minified
    # bundle). The regex budget used to be one per rule per text and counted
    # the Python work on each hit: on a slower machine it ran out and half of
    # the hits were dropped. Work is counted here, not timed.
    rule = next(r for r in RULES if r.id == rule_id)
    work = []
    for size in (1_500_000, 3_000_000):
        text, copies = _many_hits_line(rule, size)
        detector = Detector([rule], engine="python")
        findings = detector.scan_text(text)
        assert (len(findings), detector.stats.incomplete) == (copies, [])
        # one search call per hit plus one that finds nothing; each character searched once
        assert detector.stats.regex_calls <= copies + 2
        assert detector.stats.regex_chars <= len(text)
        work.append(detector.stats.regex_calls)
    assert work[1] <= 2 * work[0] + 2  # linear in the input


class _SlowGates(Detector):
    """A detector whose per-hit Python work is slow, as on a loaded or slow machine."""

    def _accept(self, rule: Rule, secret: str, text: str, start: int, end: int) -> bool:  # type: ignore[override]
        import time

        time.sleep(0.004)
        return super()._accept(rule, secret, text, start, end)


def test_the_regex_budget_is_not_spent_on_python_work_per_hit() -> None:
    # 300 hits x 4 ms of gate work = 1.2 s, six times the 0.2 s regex
    # budget: only time inside the regex engine counts, so every hit is kept.
    rule = next(r for r in RULES if r.id == "kaggle-api-key")
    text, copies = _many_hits_line(rule, 300 * (len(rule.examples[0]) + 1))
    detector = _SlowGates([rule], engine="python", regex_timeout=0.2)
    assert (len(detector.scan_text(text)), detector.stats.incomplete) == (copies, [])


@pytest.mark.parametrize("pattern", [r"a*", r"(?:|b)", r"\b", r"x?y?", r"(?<=a)b*", r"(?m)^\w*", r"ab|a?", r"[ab]+"])
@pytest.mark.parametrize("text", ["", "a", "aab", "bbab xaby", "ba\nab\n\nb", "yxyyx aaa"])
def test_budgeted_search_yields_what_finditer_yields(pattern: str, text: str) -> None:
    # One search call per match (each with its own budget) must find exactly
    # the non-empty matches finditer finds, also right after an empty one (an
    # empty match is never a secret, so it is not yielded).
    compiled = regex.compile(pattern)
    detector = Detector([], engine="python")
    for pos, endpos in ((0, len(text)), (1, len(text)), (0, max(0, len(text) - 1))):
        expected = [(m.start(), m.end()) for m in compiled.finditer(text, pos, endpos) if m.end() > m.start()]
        got = [(m.start(), m.end()) for m in detector._matches(compiled, text, pos, endpos)]
        assert got == expected, (pos, endpos)
