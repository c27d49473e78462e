"""A line-scoped rule on a very long line (a minified bundle, a data dump) searches around its
keywords, not the whole line (``KeywordOccurrences.lines``, ``rulematch.keyword_reach``): the same
findings as searching the whole line, for a fraction of the regex work."""
from __future__ import annotations

import random

import pytest

import scanner.detect as detect
from scanner.detect import Detector
from scanner.models import Fragment
from scanner.rulematch import keyword_reach
from scanner.rules import Rule, builtin_rules

RULES = builtin_rules()
LINE_RULES = [rule for rule in RULES if rule.scope == "line" and keyword_reach(rule.regex) is not None]


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(RULES)


def _filler(size: int, seed: int, keywords: tuple[str, ...] = ()) -> str:
    """Minified-looking code without secrets; ``keywords`` dropped in now and then as bare words."""
    rng = random.Random(seed)
    parts: list[str] = []
    length = 0
    while length < size:
        name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 6)))
        piece = rng.choice([f"function {name}(e){{return e.{name}+1}};", f"var {name}=t[{rng.randint(0, 99)}]||n;",
                            f"{name}.push(r,{rng.randint(0, 9)});", f"if(!{name})throw Error(\"{name}\");"])
        if keywords and rng.random() < 0.05:
            piece += f"/* {rng.choice(keywords)} */"
        parts.append(piece)
        length += len(piece)
    return "".join(parts)


def _found(detector: Detector, text: str, path: str) -> set[tuple[str, str, int, int]]:
    return {(f.rule_id, f.secret, f.line, f.column) for f in detector.scan(Fragment(text=text, path=path))}


def test_keyword_reach_bounds_the_match_and_what_its_lookarounds_read() -> None:
    # "key=" and 1-10 letters: 14 characters; an assertion at the end reads one more
    assert keyword_reach(r"key=(?P<v>[a-z]{1,10})") == (15, 15)
    # a lookahead reads 2 past the match, a lookbehind 3 before a point inside it
    assert keyword_reach(r"(?<=abc)key=[a-z]{1,10}(?=xy)") == (17, 20)
    # a back-reference in a lookahead reads what its group did: one quote
    assert keyword_reach(r"""(?P<q>["'])key=[a-z]{1,10}(?=(?P=q))""") == (17, 17)
    assert keyword_reach(r"key=\S+") is None  # no bound on the match
    assert keyword_reach(r"key=[a-z]{1,10}(?=\s*;)") is None  # nor on what a lookahead reads


def test_the_generic_rules_have_a_reach() -> None:
    """Without one, a minified line sends the secret-named-key rules over the whole line again."""
    ids = {rule.id for rule in LINE_RULES}
    assert {"generic-secret", "generic-password", "generic-secret-unquoted", "generic-password-unquoted",
            "generic-secret-call-argument"} <= ids


@pytest.mark.parametrize("rule", LINE_RULES, ids=lambda rule: rule.id)
def test_an_example_on_a_long_line_is_found_as_by_the_whole_line(detector: Detector, rule: Rule,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = rule.example_path or "settings.txt"
    found_any = False
    for number, example in enumerate(rule.examples):
        if "\n" in example.strip("\n"):
            continue  # a line rule's examples are lines
        example = example.strip("\n")
        before = _filler(20000, number, rule.keywords)
        after = _filler(20000, number + 100, rule.keywords)
        # on the long line itself, and on a line of its own between two long lines holding keywords
        # (one run of lines to search, as adjacent keyword lines are merged)
        for text in (before + " " + example, example + " " + after, before + " " + example + " " + after,
                     before + "\n" + example + "\n" + after):
            monkeypatch.setattr(detect, "LONG_LINE", 8192)
            narrowed = _found(detector, text, path)
            monkeypatch.setattr(detect, "LONG_LINE", 1 << 40)
            whole = _found(detector, text, path)
            assert narrowed == whole, (rule.id, example)
            found_any = found_any or any(rule_id == rule.id for rule_id, *_ in narrowed)
    assert found_any, f"{rule.id}: no example found on a long line"


def test_a_secret_stretched_to_the_rules_bound_is_found_far_into_a_long_line(detector: Detector) -> None:
    """The longest key, type annotation, fallback call and value generic-secret takes."""
    rng = random.Random(7)
    value = "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(256))
    line = ('my_service_api_secret_for_the_payments_backend_v2: String = '
            'settings.lookup_value_for_key("payments-backend-secret") ?? "' + value + '"')
    text = _filler(60000, 1, ("token", "secret")) + " " + line + " " + _filler(60000, 2, ("token", "secret"))
    found = [f for f in detector.scan(Fragment(text=text, path="app.swift")) if f.rule_id == "generic-secret"]
    assert [f.secret for f in found] == [value]


def test_a_long_line_costs_the_regexes_a_fraction_of_its_length(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted in characters searched (``DetectorStats.regex_chars``), not seconds."""
    rule = next(r for r in RULES if r.id == "generic-secret")
    rng = random.Random(5)
    value = "".join(rng.choice("abcdefghijkmnopqrstuvwxyz0123456789") for _ in range(24))
    text = _filler(200000, 3) + ' api_token = "' + value + '" ' + _filler(200000, 4)

    def searched(long_line: int) -> tuple[int, set[str]]:
        monkeypatch.setattr(detect, "LONG_LINE", long_line)
        alone = Detector([rule])
        secrets = {f.secret for f in alone.scan(Fragment(text=text, path="bundle.min.js"))}
        return alone.stats.regex_chars, secrets

    narrowed, found = searched(8192)
    whole, found_whole = searched(1 << 40)
    assert found == found_whole == {value}
    assert whole >= len(text) - 1
    assert narrowed * 4 < whole
