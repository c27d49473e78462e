"""``rules check``: every rule's evidence, run through the whole detector.

A rule passes when each example yields a finding of that rule (through the
prefilter, regex, entropy and placeholder gates) and no negative example
yields one. A single-rule detector is used so another rule cannot mask a
miss. A rule with a ``hyperscan`` expression (it decides where history and
file scans run the regex) must also cover every regex match of its examples,
alone and inside other text: a gap there would be a secret those scans never
look at.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

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


def expression_ends(expression: str, data: bytes) -> Optional[list[int]]:
    """Where Hyperscan's matches of ``expression`` end in ``data`` (None: no Hyperscan here).
    Raises ValueError when Hyperscan rejects the expression."""
    try:
        import hyperscan as hs
    except ImportError:
        return None
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    try:
        db.compile(expressions=[expression.encode("utf-8")], ids=[0], elements=1, flags=[0])
    except hs.error as exc:
        raise ValueError(str(exc)) from None
    ends: list[int] = []

    def on_match(*args: Any) -> None:
        ends.append(args[2])

    db.scan(data, match_event_handler=on_match)
    return ends


def uncovered_matches(rule: Rule, text: str) -> list[str]:
    """The regex matches in ``text`` (ASCII) whose last line holds no match end of the rule's
    ``hyperscan`` expression at most ``BEFORE`` bytes past the match: the window a history or file
    scan opens there would not hold them (for a ``scope = "text"`` rule: every match, when the
    expression matches nowhere in ``text``). Empty without Hyperscan or an expression."""
    from scanner.rulematch import BEFORE

    if rule.hyperscan is None:
        return []
    from scanner.rulematch import open_loose_repeats

    # As the matcher compiles it (RuleMatcher._approximate): loose bounded repeats made open, the
    # form in which Hyperscan finds every match (bounded, it loses some behind long words).
    ends = expression_ends(open_loose_repeats(rule.hyperscan)[0], text.encode("ascii"))
    if ends is None:
        return []
    if rule.scope == "text":
        # A whole-text rule's expression is a gate (rulematch's "gate" mode): the whole text is
        # searched when it matches anywhere, so it must match in every text holding a match.
        return [] if ends else [m.group(0) for m in rule.pattern.finditer(text)]
    missed = []
    for match in rule.pattern.finditer(text):
        line_start = text.rfind("\n", 0, match.end()) + 1
        line_end = text.find("\n", match.end())
        line_end = len(text) if line_end == -1 else line_end
        if not any(line_start <= end <= min(line_end, match.end() + BEFORE) for end in ends):
            missed.append(match.group(0))
    return missed


def _expression_problems(rule: Rule, where: str) -> list[str]:
    if rule.hyperscan is None:
        return []
    try:
        if expression_ends(rule.hyperscan, b"") is None:
            return []  # no Hyperscan on this platform: the expression is never used here
    except ValueError as exc:
        return [f"{where}: Hyperscan rejects its hyperscan expression ({exc}); the rule is compiled as before"]
    problems = []
    for i, text in enumerate(rule.examples + rule.negative_examples):
        bodies = (text, _PADDING + text + "\n" + _PADDING, "x = 1; " + text + " # end")
        missed = [m for body in bodies if body.isascii()  # non-ASCII: the keyword path, not windows
                  for m in uncovered_matches(rule, body)]
        if missed:
            kind, number = ("example", i + 1) if i < len(rule.examples) else (
                "negative example", i + 1 - len(rule.examples))
            problems.append(f"{where}: its hyperscan expression misses a regex match in {kind} {number}: "
                            f"{missed[0][:12]!r}...")
    return problems


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
    for sample in rule.documented_samples:
        # a sample the regex cannot match claims nothing: a typo in it would report the vendor's key
        if not any(sample[slice(*rule.secret_span(m))] == sample for m in rule.pattern.finditer(sample)):
            problems.append(f"{where}: documented sample {sample[:12]!r}... is not a match of the rule's regex")
    problems.extend(_expression_problems(rule, where))
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
