"""``rules check``: every rule's evidence, run through the whole detector.

A rule passes when each example yields a finding of that rule (through the
prefilter, regex, entropy and placeholder gates) and no negative example
yields one. A single-rule detector is used so another rule cannot mask a
miss.
"""
from __future__ import annotations

from collections.abc import Sequence

from scanner.detect import Detector
from scanner.models import Finding, Fragment
from scanner.rules import Rule

MIN_EXAMPLES = 2
MIN_NEGATIVES = 1
# Neutral filler that makes an example's text larger than WINDOW_MIN_TEXT.
_PADDING = "".join(f"filler line {n} of neutral text\n" for n in range(400))


def scan_example(detector: Detector, rule: Rule, text: str) -> list[Finding]:
    """Findings in one example, as the file ``example_path`` (default ``example.txt``).

    A ``content = "binary"`` rule's examples are bytes written one character
    each (TOML ``\\u00XX`` escapes): they are scanned as binary content.
    """
    path = rule.example_path or "example.txt"
    if rule.content == "binary":
        return detector.scan(Fragment(text=text, path=path, binary=True))
    return detector.scan_text(text, path)


def check_rule(rule: Rule) -> list[str]:
    """Problems with one rule's evidence (empty when it is sound)."""
    problems: list[str] = []
    where = f"{rule.source}: {rule.id}"
    if len(rule.examples) < MIN_EXAMPLES:
        problems.append(f"{where}: needs at least {MIN_EXAMPLES} examples, has {len(rule.examples)}")
    if len(rule.negative_examples) < MIN_NEGATIVES:
        problems.append(f"{where}: needs at least {MIN_NEGATIVES} negative example")
    detector = Detector([rule], engine="python")
    path = rule.example_path or "example.txt"
    for i, text in enumerate(rule.examples):
        if not any(f.rule_id == rule.id for f in scan_example(detector, rule, text)):
            problems.append(f"{where}: example {i + 1} is not detected: {text[:60]!r}")
        elif rule.content == "binary" or rule.whole_file:
            continue  # a binary file or a whole-file rule: never part of a larger text
        # The same example inside a large file, where the regex only runs in
        # windows around keyword occurrences: it must still be found there.
        elif not any(f.rule_id == rule.id for f in detector.scan_text(_PADDING + text + "\n" + _PADDING, path)):
            problems.append(f"{where}: example {i + 1} is not detected inside a large file "
                            f"(set scope = \"text\" if its match reaches far from a keyword): {text[:60]!r}")
    for i, text in enumerate(rule.negative_examples):
        if scan_example(detector, rule, text):
            problems.append(f"{where}: negative example {i + 1} is detected: {text[:60]!r}")
    return problems


def check_rules(rules: Sequence[Rule]) -> list[str]:
    """Problems across a rule set, including duplicate ids."""
    problems: list[str] = []
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            problems.append(f"{rule.source}: {rule.id}: duplicate rule id")
        seen.add(rule.id)
        problems.extend(check_rule(rule))
    return problems
