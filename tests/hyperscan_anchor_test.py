"""A rule's ``hyperscan`` expression matches wherever its regex does (scanner/rules.py).

The expression only decides where the regex runs in history and file scans: a
window of the lines around each of its match ends. So every match of the regex
must hold a match end of the expression on its last line, at most ``BEFORE`` bytes past its end
(a window reaches back from a match end further than the longest match, plus ``BEFORE``);
this checks it on every example of every rule that has one, and on the same
examples inside other text.
"""
from __future__ import annotations

from typing import Any

import pytest

from scanner.rulecheck import _PADDING
from scanner.rulematch import BEFORE, RuleMatcher, text_ok
from scanner.rules import Rule, builtin_rules, rule_from_dict

hs = pytest.importorskip("hyperscan")

APPROXIMATED = [rule for rule in builtin_rules() if rule.hyperscan is not None]


def _ends(expression: str, data: bytes) -> list[int]:
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=[expression.encode("utf-8")], ids=[0], elements=1, flags=[0])
    ends: list[int] = []
    db.scan(data, match_event_handler=lambda _id, _from, to, _flags, _ctx: ends.append(to) and None)
    return ends


def _uncovered(rule: Rule, text: str) -> list[str]:
    """The regex matches in ``text`` whose last line holds no match end of the expression."""
    assert rule.hyperscan is not None
    ends = _ends(rule.hyperscan, text.encode("ascii"))
    missed = []
    for match in rule.pattern.finditer(text):
        line_start = text.rfind("\n", 0, match.end()) + 1
        line_end = text.find("\n", match.end())
        line_end = len(text) if line_end == -1 else line_end
        if not any(line_start <= end <= min(line_end, match.end() + BEFORE) for end in ends):
            missed.append(match.group(0)[:80])
    return missed


def test_the_generic_rules_and_the_password_hash_line_are_approximated() -> None:
    assert {"generic-secret", "generic-password", "generic-secret-unquoted", "generic-password-unquoted",
            "generic-secret-call-argument", "generic-secret-xml", "password-hash-line",
            "cli-password-argument"} <= {r.id for r in APPROXIMATED}


@pytest.mark.parametrize("rule", APPROXIMATED, ids=lambda rule: rule.id)
def test_expression_covers_every_match_of_the_examples(rule: Rule) -> None:
    problems: list[Any] = []
    for text in rule.examples + rule.negative_examples:
        for body in (text, _PADDING + text + "\n" + _PADDING, "x = 1; " + text + " # end"):
            if not text_ok(body.encode("utf-8")):
                continue  # non-ASCII text is judged on the keyword path
            problems.extend(_uncovered(rule, body))
    assert problems == []
    # and it covers at least one example: an expression that never matches would pass vacuously
    assert any(_ends(rule.hyperscan or "", t.encode("utf-8")) for t in rule.examples if text_ok(t.encode("utf-8")))


def test_an_approximated_rule_opens_windows_only_where_its_expression_matches() -> None:
    rule = rule_from_dict({
        "id": "odd-assignment", "description": "d", "severity": "high", "remediation": "r", "scope": "line",
        "regex": r"(?<=oddkey)\s*=\s*(?P<secret>[A-Z][a-z0-9]{12})", "keywords": ["oddkey"],
        "hyperscan": r"oddkey\s*=\s*[A-Z]",
    }, "test")
    matcher = RuleMatcher([rule])
    assert matcher.modes == ["approximate"]
    text = b"oddkey is named here\nbut oddkey = Qabcdefgh12345 is assigned\n"
    matches = matcher.scan(text)
    assert matches is not None and [end for _, end in matches] == [text.index(b"= Q") + 3]


def test_an_expression_hyperscan_rejects_leaves_the_rule_compiled_as_before() -> None:
    rule = rule_from_dict({
        "id": "odd-rule", "description": "d", "severity": "high", "remediation": "r",
        "regex": r"oddkey=(?P<secret>[A-Z][A-Za-z0-9]{20})", "keywords": ["oddkey"],
        "hyperscan": r"oddkey=\K[A-Z]",  # \K: unknown to Hyperscan
    }, "test")
    assert RuleMatcher([rule]).modes == ["exact"]


def test_code_that_names_no_secret_opens_no_window_for_the_generic_rules() -> None:
    # Their keywords alone (".pat", "token", "password") opened a window on nearly every
    # line of real code: 176,498 for generic-secret on sqlalchemy's history
    matcher = RuleMatcher(builtin_rules())
    text = (b"import os.path\nfull_path = os.path.join(base_dir, name)\ntoken = None\n"
            b"password_field = forms.CharField(max_length=128, required=True)\nself.tokens.append(token)\n"
            b"url = 'https://example.org/docs/index.html'\nengine = create_engine('sqlite:///x.db')\n")
    watched = {i for i, rule in enumerate(matcher.rules) if rule.hyperscan is not None}
    matches = matcher.scan(text)
    assert matches is not None
    assert [matcher.rules[matcher.pattern_rule[p]].id for p, _ in matches if matcher.pattern_rule[p] in watched] == []
