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

from scanner.rulecheck import _PADDING, check_rule, expression_ends, uncovered_matches
from scanner.rulematch import RuleMatcher, text_ok
from scanner.rules import Rule, builtin_rules, rule_from_dict

hs = pytest.importorskip("hyperscan")

APPROXIMATED = [rule for rule in builtin_rules() if rule.hyperscan is not None]


def _ends(expression: str, data: bytes) -> list[int]:
    ends = expression_ends(expression, data)
    assert ends is not None
    return ends


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
            problems.extend(m[:80] for m in uncovered_matches(rule, body))
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


def test_rules_check_names_an_expression_that_misses_a_match_of_an_example() -> None:
    """``mcp-scan rules check`` holds a user's rule file to the same contract."""
    fields = {"id": "odd-assignment", "description": "d", "severity": "high", "remediation": "r", "scope": "line",
              "regex": r"(?:oddkey|evenkey)\s*=\s*(?P<secret>[A-Z][a-z0-9]{12})", "keywords": ["oddkey", "evenkey"],
              "examples": ["oddkey = Qabcdefgh12345", "evenkey = Rabcdefgh12345"],
              "negative_examples": ["oddkey = none"]}
    narrow = rule_from_dict({**fields, "hyperscan": r"oddkey\s*=\s*[A-Z]"}, "user.toml")
    problems = check_rule(narrow)
    assert len(problems) == 1 and "misses a regex match in example 2" in problems[0]
    assert "Rabcdefgh12345" not in problems[0]  # an example's value is not printed whole
    assert check_rule(rule_from_dict({**fields, "hyperscan": r"(?:odd|even)key\s*=\s*[A-Z]"}, "user.toml")) == []
    rejected = check_rule(rule_from_dict({**fields, "hyperscan": r"oddkey(?<=x)\K"}, "user.toml"))
    assert len(rejected) == 1 and "Hyperscan rejects" in rejected[0]
