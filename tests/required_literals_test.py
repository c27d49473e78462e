"""What the long-reach gate relies on (rulematch.required_literals, _max_line_feeds): every match
of a rule's regex holds one of the literals chosen for it, and a back-reference is measured as
the group it repeats."""
from __future__ import annotations

import pytest

from scanner.rulematch import LONG_REACH, _max_line_feeds, rarest, required_literals
from scanner.rules import builtin_rules


def test_literal_runs_and_alternations_a_match_cannot_skip() -> None:
    assert required_literals(r"(?i)\bmachine[ \t]+\S+\s+password[ \t]+(?P<secret>\S+)") == [["machine"],
                                                                                          ["password"]]
    # the parser moves the shared "p" out in front of the alternation: it is put back
    assert required_literals(r"(?:password|pwd)\s*=\s*(\S+)") == [["password", "pwd"]]
    assert required_literals(r"(?:token)?\s*=\s*(\S+)") == []  # optional: no match needs it
    assert required_literals(r"ab(?:cd|e)f") == [["abcd", "abe"]]
    assert required_literals(r"a(?:b|c)d") == []  # too short to search for
    assert rarest(required_literals(r"(?i)user=\S+ machine \S+"), ("machine",)) == [" machine "]


def test_a_back_reference_holds_no_more_line_feeds_than_its_group() -> None:
    assert _max_line_feeds(r"""(?P<q>["'])[^\r\n]{1,40}(?P=q)""") == 0
    assert _max_line_feeds(r"(?P<g>a\n)b(?P=g)") == 2


@pytest.mark.parametrize("rule", [r for r in builtin_rules() if required_literals(r.regex)], ids=lambda r: r.id)
def test_every_example_match_holds_a_chosen_literal(rule) -> None:  # type: ignore[no-untyped-def]
    chosen = [s.lower() for s in rarest(required_literals(rule.regex), rule.keywords)]
    for example in rule.examples:
        for match in rule.pattern.finditer(example):
            assert any(s in match.group(0).lower() for s in chosen), (rule.id, chosen, example)


def test_the_long_rules_are_few_and_each_has_a_literal() -> None:
    """A long rule without one would be gated by its own slow expressions (still correct)."""
    pytest.importorskip("hyperscan")
    from scanner.rulematch import RuleMatcher

    matcher = RuleMatcher(builtin_rules())
    assert matcher.short_reach[1] <= LONG_REACH < matcher.reach[1]
    assert 0 < len(matcher.long_rules) <= 12
    rules = {r.id: r for r in builtin_rules()}
    assert all(required_literals(rules[rule_id].regex) for rule_id in matcher.long_rules)


def test_possessive_repeats_and_atomic_groups_are_measured_as_their_plain_forms() -> None:
    """Python 3.10's parser rejects them; the widths and literals are the plain forms' (a superset)."""
    from scanner.rulematch import _max_width, _unpossessive

    assert _unpossessive(r"(?P<k>[\w.-]{1,80}+)=(?>ab)c*+d?+e++") == r"(?P<k>[\w.-]{1,80})=(?:ab)c*d?e+"
    # an escaped "+" or brace, a "+" inside a class, a lazy repeat and a group opener stay
    for unchanged in (r"\++", r"[+]+x", r"a\{1,2}+", r"[a-z}]+", r"a+?", r"(?:x)?"):
        assert _unpossessive(unchanged) == unchanged
    assert _max_width(r"name[ \t]{0,3}=[\w.-]{1,80}+") == _max_width(r"name[ \t]{0,3}=[\w.-]{1,80}") == 88
