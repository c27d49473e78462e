"""Differential fuzz: the history path (Hyperscan windows in a version chain) against the Python
detector on the whole text, for every rule's examples in random surroundings.

``python -m bench.chainfuzz --seconds 300 --seed 1`` embeds a random example of a random rule in
random code-like lines (indents, quotes, inline prefixes and suffixes), scans the text whole
through ``MatchedChain`` and as an edit of a previous version (the example absent, or cut in
half), and compares both with ``Detector(engine="python")``. Each disagreement is printed and its
text written to ``bench/.work/chainfuzz/`` for a regression test. Exit 1 when any was found.
With ``--versions`` it edits one file through 3-12 versions instead (inserted examples and code,
deleted, changed and moved lines, the last line feed dropped and restored) and compares every
version on both engines' chains (``MatchedChain`` and the pure-Python ``VersionChain``): the
version-chain logic itself, not only Hyperscan. ``--versions --large`` does that to files of
800-3,000 lines edited in far-apart places and by moved blocks, an example present in about half
the versions: changes long enough that a chain judges them in pieces (``delta._hunks``).

It found Hyperscan 0.9.1 missing a bounded repeat's matches (``scanner/rulematch.py``,
``open_loose_repeats``). A disagreement where both sides report the secret under different rules
is printed as ``rule`` (the secret is still found); one where a side lacks it as ``MISS``.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

WORK = Path(__file__).resolve().parent / ".work" / "chainfuzz"
WORDS = ("value data config client token user name id url host port path self args kwargs result item key "
         "secret password auth api env os get set").split()
INLINE_BEFORE = ["", "x = ", "  ", "\t", " ", "foo(", "'", '"', "key: ", "# ", "=", "(", ",", " -H ", "export X=",
                 "url: ", "- "]
NON_ASCII = ["café", "naïve – ok", "日本語", "Grüße", "x\u00a0y"]
# Characters where Python's regexes and Hyperscan's bytes part (scanner/shadow.py): letters \w takes,
# spaces \s takes (no-break, line separator, the separators \x1c-\x1f), the case partners (?i)k, s
# and i take (Kelvin sign, long s, dotted I), a 4-byte character.
TRICKY = ["é", "日", "\u00a0", "\u2028", "\x1c", "\x1f", "\u212a", "\u017f", "\u0130", "ß", "😀", "–", "\r"]
PARTNERS = {"k": "\u212a", "K": "\u212a", "s": "\u017f", "S": "\u017f", "i": "\u0130", "I": "\u0130"}
INLINE_AFTER = ["", ";", ")", "'", '"', " # c", ",", " ", "}", "\\n"]


# Words no rule takes for a secret's name: a long file of them has no hit, so its next version
# is one a chain may judge in pieces (--large).
PLAIN_WORDS = tuple(w for w in WORDS if w not in ("token", "secret", "password", "auth", "key", "api"))


def _line(rng: random.Random, words: Sequence[str] = WORDS) -> str:
    def word() -> str:
        return rng.choice(words) + rng.choice(["", "_", "."]) + rng.choice(words)

    kind = rng.random()
    if kind < 0.04:  # bytes Hyperscan cannot vouch for: the regions around them are judged by every rule
        return f"{word()} = '{rng.choice(NON_ASCII)}'  # {word()}"
    if kind < 0.2:
        return f"{word()} = {word()}({word()}, {rng.randint(0, 999)})"
    if kind < 0.35:
        value = "".join(rng.choice("abcdefXYZ0123456789") for _ in range(rng.randint(0, 30)))
        return f'{" " * rng.randint(0, 8)}"{word()}": "{value}",'
    if kind < 0.45:
        return "# " + " ".join(rng.choice(words) for _ in range(rng.randint(0, 20)))
    if kind < 0.5:
        return ""
    if kind < 0.6:
        return rng.choice([" ", "\t", "  ", "    "]) * rng.randint(0, 3) + word()
    if kind < 0.7:
        return f"export {word().upper()}={word()}"
    if kind < 0.8:
        return "x" * rng.randint(0, 300)
    if kind < 0.9:
        return f'<{word()} {word()}="{word()}">'
    return f"{word()}: {word()}"


def _unicode(rng: random.Random, text: str) -> str:
    """``text`` with one to three characters Hyperscan cannot vouch for put in: inserted anywhere,
    or standing for a letter they match without case (in a keyword too: no prefilter takes a
    keyword spelt so, prefilter.ASCII_LOWERING)."""
    for _ in range(rng.randint(1, 3)):
        letters = [i for i, ch in enumerate(text) if ch in PARTNERS]
        if letters and rng.random() < 0.4:
            at = rng.choice(letters)
            text = text[:at] + PARTNERS[text[at]] + text[at + 1:]
        else:
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(TRICKY) + text[at:]
    return text


def _example(rng: random.Random, example: str) -> str:
    """A rule example in a random line, a third of them with characters Hyperscan cannot vouch for."""
    text = rng.choice(INLINE_BEFORE) + example + rng.choice(INLINE_AFTER)
    return _unicode(rng, text) if rng.random() < 0.3 else text


def _block(rng: random.Random, lines: int) -> str:
    return "\n".join(_line(rng) for _ in range(lines))


def _edit(rng: random.Random, lines: list[str], cases: list[tuple[Any, str]]) -> None:
    """One to four random line edits in place: insert code or a rule example, delete, change,
    duplicate or move a line."""
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        at = rng.randint(0, len(lines))
        if kind < 0.3:
            lines[at:at] = _example(rng, rng.choice(cases)[1]).split("\n")
        elif kind < 0.5:
            lines[at:at] = [_line(rng) for _ in range(rng.randint(1, 5))]
        elif kind < 0.7 and lines:
            del lines[min(at, len(lines) - 1):min(at, len(lines) - 1) + rng.randint(1, 3)]
        elif kind < 0.85 and lines:
            lines[min(at, len(lines) - 1)] = _line(rng)
        elif lines:
            moved = lines.pop(min(at, len(lines) - 1))
            lines.insert(rng.randint(0, len(lines)), moved)


def _far_edits(rng: random.Random, lines: list[str]) -> None:
    """Code edits far apart in a long file, and now and then a block of lines moved."""
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(lines))
        kind = rng.random()
        if kind < 0.3:
            lines[at:at] = [_line(rng, PLAIN_WORDS) for _ in range(rng.randint(1, 5))]
        elif kind < 0.5 and lines:
            del lines[min(at, len(lines) - 1):min(at, len(lines) - 1) + rng.randint(1, 3)]
        elif kind < 0.8 and lines:
            lines[min(at, len(lines) - 1)] = _line(rng, PLAIN_WORDS)
        elif lines:
            size = rng.randint(20, 400)
            block = lines[at:at + size]
            del lines[at:at + size]
            to = rng.randint(0, len(lines))
            lines[to:to] = block


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--versions", action="store_true",
                        help="chains of many versions of one file instead: random line edits (insert, delete, "
                             "change, move a secret, drop or add the last line feed), every version compared, "
                             "on both engines' chains")
    parser.add_argument("--large", action="store_true",
                        help="with --versions: long files edited far apart and by moved blocks, an example in "
                             "about half the versions (changes a chain judges in pieces)")
    args = parser.parse_args(argv)

    from scanner.detect import Detector
    from scanner.history.blobs import whole_text_gate
    from scanner.history.delta import MatchedChain, VersionChain
    from scanner.history.hits import Hit
    from scanner.models import Fragment
    from scanner.rulematch import RuleMatcher
    from scanner.rules import builtin_rules

    rules = list(builtin_rules())
    matcher = RuleMatcher(rules)
    # No regex time budget: on a loaded machine a budget running out drops hits on one side only
    # (reported as incomplete by the commands), which would read as a disagreement here.
    python, detector = Detector(rules, engine="python", regex_timeout=1e6), Detector(rules, regex_timeout=1e6)

    def expected(text: str, path: str) -> set[tuple[Any, ...]]:
        # a version's hits are one per fingerprint, the first in the file (history's unit)
        first: dict[str, tuple[Any, ...]] = {}
        for f in sorted(python.scan_text(text, path), key=lambda f: (f.line, f.column)):
            first.setdefault(f.fingerprint, (f.rule_id, f.fingerprint, f.line, f.column))
        return set(first.values())

    def chained(chain: Any, text: str, path: str) -> set[tuple[Any, ...]]:
        def scan(part: str, start_line: int, only: Any = None) -> list[Hit]:
            return [Hit.of(f) for f in detector.scan(Fragment(text=part, path=path, start_line=start_line), only)]

        return {(h.rule_id, h.fingerprint, h.line, h.column)
                for h in chain.scan(path, text.encode("utf-8"), lambda _data: True, scan)}

    rng = random.Random(args.seed)
    # Not the binary rules' examples (keystores, DER keys): blobs holding those never reach a chain.
    cases = [(rule, text) for rule in rules if rule.content != "binary" for text in rule.examples]
    problems = runs = 0
    deadline = time.monotonic() + args.seconds
    if args.versions:
        gate = whole_text_gate(python)

        def engines() -> list[tuple[str, Any]]:
            return [("hyperscan", MatchedChain(matcher, enabled=True)), ("python", VersionChain(True, gate))]

        split = 0  # changes the chains judged in pieces
        while time.monotonic() < deadline:
            if args.large:
                lines = [_line(rng, PLAIN_WORDS) for _ in range(rng.randint(800, 3000))]
            else:
                lines = _block(rng, rng.randint(5, 120)).split("\n")
            chains = engines()
            history: list[str] = []
            for _version in range(rng.randint(3, 12)):
                if args.large:
                    _far_edits(rng, lines)
                    shown = list(lines)
                    if rng.random() < 0.5:  # an example in this version only: the next one starts clean
                        at = rng.randint(0, len(shown))
                        shown[at:at] = _example(rng, rng.choice(cases)[1]).split("\n")
                else:
                    _edit(rng, lines, cases)
                    shown = lines
                text = "\n".join(shown) + rng.choice(["", "\n", "\n"])
                history.append(text)
                runs += 1
                want = expected(text, "example.txt")
                for name, chain in chains:
                    got = chained(chain, text, "example.txt")
                    if got != want:
                        problems += 1
                        WORK.mkdir(parents=True, exist_ok=True)
                        case = WORK / f"{args.seed}-{runs}-{name}-versions.txt"
                        case.write_text("\n===== then =====\n".join(history))
                        missing = sorted(r for r, *_ in want - got)
                        print(f"{name} chain, version {len(history)}: python only {missing}, chain only "
                              f"{sorted(r for r, *_ in got - want)} ({case})", flush=True)
                        chains = engines()  # start clean: one bug, one report
                        break
            split += sum(chain.split for _, chain in chains)
        print(f"{runs} versions, {problems} disagreements (seed {args.seed}, {args.seconds:.0f} s; "
              f"{split} changes judged in pieces)")
        return 1 if problems else 0
    while time.monotonic() < deadline:
        rule, example = rng.choice(cases)
        path = rule.example_path or "example.txt"
        if detector.reads_path(path):
            continue  # the sources read such files whole, never through the chain
        before, after = _block(rng, rng.randint(0, 60)), _block(rng, rng.randint(0, 60))
        left, right = rng.choice(INLINE_BEFORE), rng.choice(INLINE_AFTER)
        gap = rng.choice(["\n", "\n\n", "\n" + " " * rng.randint(1, 8)])
        if rng.random() < 0.3:
            example = _unicode(rng, example)
        text = before + gap + left + example + right + "\n" + after + rng.choice(["", "\n"])
        runs += 1
        want = expected(text, path)
        previous = before + gap + left + rng.choice(["", "placeholder", example[: len(example) // 2]]) + right + "\n" + after
        chain = MatchedChain(matcher, enabled=True)
        chained(chain, previous, path)
        for how, got in (("whole", chained(MatchedChain(matcher, enabled=False), text, path)),
                         ("edit", chained(chain, text, path))):
            if got == want:
                continue
            problems += 1
            positions = {(line, column) for _, _, line, column in got}
            kind = "MISS" if any((line, column) not in positions for _, _, line, column in want) else "rule"
            WORK.mkdir(parents=True, exist_ok=True)
            case = WORK / f"{args.seed}-{runs}-{how}.txt"
            case.write_text(f"{path}\n{previous}\n===== then =====\n{text}")
            print(f"{kind} {how} {rule.id}: python {sorted(r for r, *_ in want)}, chain {sorted(r for r, *_ in got)}"
                  f" ({case})", flush=True)
    print(f"{runs} texts, {problems} disagreements (seed {args.seed}, {args.seconds:.0f} s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
