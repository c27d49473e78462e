"""Hyperscan searches the shadow of a text it cannot vouch for (``scanner/shadow.py``).

Around a character that is not ASCII, Python's regexes and Hyperscan's bytes part ways
(``\\w`` takes ``é``, ``\\s`` a no-break space, ``(?i)s`` the long s). History used to judge
every rule itself around each such character; now the rules' patterns, rewritten, search a
one-byte-per-character shadow, and only their candidates are judged. These tests hold the
rewrite to its promise (every Python match has a shadow match ending at the same character)
rule by rule, and the history built on it to a whole-file scan, in real repositories.
"""
from __future__ import annotations

import random
from typing import Any

import pytest

from scanner.detect import Detector
from scanner.history.delta import _changed_lines
from scanner.history.scan import scan_history
from scanner.rules import builtin_rules, rule_from_dict
from scanner.rulematch import shadow_pattern
from scanner.shadow import UNVOUCHED, Shadow, char_offsets, shadow
from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo

# Characters where the two part: letters \w takes, spaces \s takes, the separators \x1c-\x1f,
# the case partners of k, s and i, a 4-byte character.
TRICKY = ["é", "日", "\u00a0", "\u2028", "\x1c", "\x1f", "\u212a", "\u017f", "\u0130", "ß", "😀"]


def test_the_shadow_is_one_byte_per_character_and_maps_back() -> None:
    rng = random.Random(7)
    for _ in range(500):
        text = "".join(rng.choice(["a", "\n", "=", *TRICKY]) for _ in range(rng.randint(0, 60)))
        data = text.encode("utf-8")
        shade = shadow(data)
        assert len(shade) == len(text)
        assert all((b == UNVOUCHED) == (ord(ch) > 127 or 0x1C <= ord(ch) <= 0x1F) for b, ch in zip(shade, text))
        positions = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, 6)))
        assert char_offsets(data, positions) == [len(text[:p].encode("utf-8")) for p in positions]
        view = Shadow(data)
        assert [view.char(len(text[:p].encode("utf-8"))) for p in positions] == positions
        if len(positions) >= 2:
            ends = (len(text[:positions[0]].encode("utf-8")), len(text[:positions[-1]].encode("utf-8")))
            assert view.chars(*ends) == (positions[0], positions[-1])


def test_an_edited_shadow_is_the_shadow_of_the_new_version() -> None:
    """A version chain edits the previous version's shadow around the change (``Shadow.edited``)
    instead of translating every version whole: the same text, the same offsets both ways."""
    rng = random.Random(11)
    alphabet = ["a", "b", " ", "=", *TRICKY]

    def lines(count: int) -> list[str]:
        return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) + "\n" for _ in range(count)]

    for _ in range(400):
        old_lines = lines(rng.randint(0, 8))
        cut = sorted(rng.randint(0, len(old_lines)) for _ in range(2))
        new_lines = old_lines[:cut[0]] + lines(rng.randint(0, 3)) + old_lines[cut[1]:]
        old, new = "".join(old_lines).encode(), "".join(new_lines).encode()
        if rng.random() < 0.2 and new.endswith(b"\n"):
            new = new[:-1]  # a last line without its line feed
        start, end = _changed_lines(old, new)  # the change as a version chain finds it
        previous = Shadow(old)
        text = old.decode()
        previous.char(len(text[:rng.randint(0, len(text))].encode()))  # counted somewhere already
        edited = previous.edited(new, start, end)
        assert edited is not None
        assert edited.text == Shadow(new).text, (old, new, start, end)
        text = new.decode()
        # in any order: counted on, back or from the start, from the last pair known
        for char in [rng.randint(0, len(text)) for _ in range(6)]:
            assert edited.char(len(text[:char].encode())) == char
        positions = sorted(rng.randint(0, len(text)) for _ in range(4))
        assert char_offsets(new, positions, edited._known) == char_offsets(new, positions)
        first, last = sorted(len(text[:c].encode()) for c in positions[:2])
        assert edited.chars(first, last) == (len(new[:first].decode()), len(new[:last].decode()))


def test_an_edit_that_breaks_utf8_has_no_edited_shadow() -> None:
    old = "caf\u00e9\nx\n".encode()
    previous = Shadow(old)
    assert previous.edited(b"caf\xc3\nx\n", 0, 5) is None  # a lead byte without its continuation
    # the shared tail begins with a continuation byte: the text before it no longer ends a character
    assert previous.edited(b"y\n\xa9\nx\n", 0, 2) is None


def test_invalid_utf8_has_no_shadow() -> None:
    assert Shadow.of(b"caf\xe9 = 'latin-1'") is None
    assert Shadow.of("café".encode()) is not None


def test_a_class_takes_the_unvouched_byte_exactly_when_python_takes_such_a_character() -> None:
    import regex

    for pattern, other in [(r"\w", "é"), (r"\s", "\u00a0"), (r"(?i)k", "\u212a"),
                           (r"(?i)[a-z]", "\u017f"), (r"[^a-z]", "日"), (r".", "😀"), (r"\d", "٣")]:
        assert regex.fullmatch(pattern, other, regex.VERSION0)
        assert "\\x80" in shadow_pattern(pattern), pattern
    for pattern in [r"[A-Za-z0-9]", r"k", r"(?i)[a-h]", r"[0-9a-f]"]:
        assert "\\x80" not in shadow_pattern(pattern), pattern


def test_a_lookbehind_made_to_consume_keeps_a_generic_rule_to_secret_named_keys() -> None:
    """``A(?<=X)B`` becomes ``XB``: every match still ends where the regex's does, and the key name
    the lookbehind required is required again (dropped, the rule matched every assignment)."""
    import regex

    pattern = r"(?i)(?P<key>[\w.-]{1,40})(?<=(?:password|secret)[\w.-]{0,9})[ \t]*=[ \t]*\"(?P<v>[^\"]{8,})\""
    expression = shadow_pattern(pattern, from_lookbehind=True)
    shadowed = regex.compile(expression)  # its classes name bytes; the shadow is read as latin-1
    for text in ['db_password = "s3cr3tvalue"', 'API_SECRET_x="abcdefgh12"', 'clé_password = "aé日cdefgh"']:
        shade = shadow(text.encode()).decode("latin-1")
        match = regex.search(pattern, text)
        assert match is not None and any(m.end() == match.end() for m in shadowed.finditer(shade, overlapped=True))
    assert shadowed.search(shadow(b'name = "ordinary value"').decode("latin-1")) is None
    assert regex.search(shadow_pattern(pattern), 'name = "ordinary value"')  # the lookbehind dropped: any key


def _matcher() -> Any:
    pytest.importorskip("hyperscan")
    from scanner.rulematch import RuleMatcher

    return RuleMatcher(list(builtin_rules()))


def test_every_rule_match_next_to_other_characters_has_a_shadow_match_ending_there() -> None:
    """Each rule's examples with characters Hyperscan cannot vouch for put in at random: every
    match its regex finds has a match of one of its shadow patterns ending at the same
    character (rules anchored by keywords: a keyword match on the match's line)."""
    matcher = _matcher()
    rng = random.Random(11)
    checked = 0
    for index, rule in enumerate(matcher.rules):
        if rule.content == "binary" or matcher.modes[index] in ("binary", "path"):
            continue
        patterns = {p for p, r in enumerate(matcher.pattern_rule) if r == index}
        # rules searched by their keywords in the shadow: keyword rules, and approximated ones
        # that no rewrite for shadows anchors (RuleMatcher._shadow_rewrite)
        keyword_only = bool(rule.keywords) and (matcher.modes[index] in ("keyword", "fallback", "anchored")
                                                or index in matcher.shadow_keywords)
        for example in rule.examples:
            for _ in range(3):
                text = example
                for _ in range(rng.randint(1, 3)):
                    at = rng.randint(0, len(text))
                    text = text[:at] + rng.choice(TRICKY) + text[at:]
                matches = [m for m in rule.pattern.finditer(text) if m.end() > m.start()]
                if not matches:
                    continue
                shade = shadow(text.encode("utf-8"))
                found = matcher.scan_shadow(shade)
                assert found is not None
                ends = {end for p, end in found if p in patterns}
                for match in matches:
                    checked += 1
                    if matcher.modes[index] == "gate":
                        # a gate's match anywhere sends the whole text to the rule (RuleMatcher.windows),
                        # so the shadow must hold one, not one ending where the regex's match ends
                        assert ends, (rule.id, text)
                    elif keyword_only:
                        line_start = text.rfind("\n", 0, match.start()) + 1
                        line_end = text.find("\n", match.end())
                        line_end = len(text) if line_end == -1 else line_end
                        # a keyword spelt with a case partner (K for k) is no keyword to either prefilter
                        if any(k in text[line_start:line_end].lower() for k in rule.keywords):
                            assert any(line_start <= end <= line_end for end in ends), (rule.id, text)
                    else:
                        assert match.end() in ends, (rule.id, text)
    assert checked > 500


def test_an_approximated_rule_without_a_lookbehind_is_searched_by_its_regex_in_shadows() -> None:
    """A rule compiled from a ``hyperscan`` approximation whose regex has no lookbehind to start a
    rewrite from is searched in shadows by its whole regex, rewritten, where that anchors itself:
    not at every keyword (a header directive rule at every "Header" in gin's non-ASCII Go tests,
    23,195 candidate windows; cli-password-argument's 19,087 on sqlalchemy). Where Hyperscan loses
    the rewritten regex's matches (generic-secret-setter-call behind twenty word characters), the
    keywords stay."""
    matcher = _matcher()
    ids = [rule.id for rule in matcher.rules]
    index = ids.index("header-directive-credential")
    assert matcher.modes[index] == "approximate"
    anchored_by_keywords = {ids[i] for i in matcher.shadow_keywords}
    assert "header-directive-credential" not in anchored_by_keywords
    assert "cli-password-argument" not in anchored_by_keywords
    # its keywords include "default" and "${": a rewrite past Hyperscan's pattern length limit
    # sent 7,971 windows of requests' history to it
    assert "generic-secret-env-default" not in anchored_by_keywords
    assert "generic-secret-setter-call" in anchored_by_keywords
    patterns = {p for p, r in enumerate(matcher.pattern_rule) if r == index}
    code = 'w.Header().Set("Content-Type", "text/plain; charset=utf-8") // été\n'
    found = matcher.scan_shadow(shadow(code.encode("utf-8")))
    assert found is not None and not [end for p, end in found if p in patterns]
    secret = "Kv" + fake(14, seed=5) + "7q"
    directive = f"    proxy_set_header X-Api-Key {secret}; # clé\n"
    found = matcher.scan_shadow(shadow(directive.encode("utf-8")))
    assert found is not None and [end for p, end in found if p in patterns]
    assert secret in {f.secret for f in Detector(list(builtin_rules())).scan_text(directive, "site.conf")}


def _commit(repo: GitRepo, path: str, lines: list[str], message: str) -> str:
    repo.stage(path, "\n".join(lines) + "\n")
    return repo.commit(message)


def _history(repo: GitRepo, rules: list[Any], engine: str, line_delta: bool = True) -> tuple[list[Any], Any]:
    result = scan_history(str(repo.path), Detector(rules, engine=engine), jobs=1, use_cache=False,
                          line_delta=line_delta)
    return sorted((f.rule_id, f.path, f.line, f.commit) for f in result.findings), result


def test_history_finds_secrets_among_other_characters_as_a_whole_file_scan_does(git_repo: GitRepo) -> None:
    pytest.importorskip("hyperscan")
    key = stripe_live_key(3)
    password = fake(18, seed=5)
    lines = [f"# Grüße {i}: naïve – 日本語 comment" for i in range(60)]
    _commit(git_repo, "settings.py", lines, "comments in other languages")
    # secrets next to the characters where Python and Hyperscan part: a key name with an accented
    # letter, a no-break space before a value, a separator byte, an emoji after the key
    lines[20] = f"clé_password = \"{password}\""
    lines[21] = f"db_password =\u00a0\"{password}\""
    lines[40] = f"STRIPE = '{key}'😀"
    lines[41] = f"token\x1c= \"{fake(24, seed=9)}\""
    added = _commit(git_repo, "settings.py", lines, "add secrets")
    lines[0] = "# changed far away: é"
    _commit(git_repo, "settings.py", lines, "edit a comment")
    rules = list(builtin_rules())
    found, result = _history(git_repo, rules, "hyperscan")
    assert ("stripe-live-secret-key", "settings.py", 41, added) in found
    assert any(rule.startswith("generic-password") and line == 21 and commit == added
               for rule, _, line, commit in found), found
    assert found == _history(git_repo, rules, "python")[0]
    assert found == _history(git_repo, rules, "hyperscan", line_delta=False)[0]
    assert result.stats["matching"]["shadowed"] > 0


def test_a_rule_hyperscan_cannot_take_through_the_shadow_is_still_judged_around_other_characters(
        git_repo: GitRepo) -> None:
    """A custom rule in syntax only the regex module knows (``\\p{Lu}``) is not rewritten: Python
    judges it around every character Hyperscan cannot vouch for, and --stats names it."""
    pytest.importorskip("hyperscan")
    custom = rule_from_dict({
        "id": "acme-unicode-token", "description": "ACME token", "severity": "high",
        "regex": r"\bacme_\p{Lu}{3}_(?P<secret>[A-Za-z0-9]{24})\b", "keywords": ["acme_"],
        "examples": [f"acme_ABC_{fake(24, seed=1)}"],
    }, "test")
    value = fake(24, seed=2)
    git_repo.stage("notes.txt", "intro é\n" * 5 + f"acme_ÉTÉ_{value}\n" + "outro ü\n" * 5)
    added = git_repo.commit("a token whose middle is not ASCII")
    rules = [custom]
    found, result = _history(git_repo, rules, "hyperscan")
    assert found == [("acme-unicode-token", "notes.txt", 6, added)]
    assert found == _history(git_repo, rules, "python")[0]
    assert result.stats["matching"]["unshadowed_rules"] == ["acme-unicode-token"]


def test_line_numbers_past_other_characters_in_a_long_file_match_a_whole_file_scan(git_repo: GitRepo) -> None:
    """A change far into a file whose earlier lines hold multi-byte characters, next to secrets: the
    shadow's character offsets and the file's byte offsets part there, and the changed span's
    windows must land on the right lines (in whichever order the chain meets the versions)."""
    pytest.importorskip("hyperscan")
    lines = [f"    label_{i} = 'Größe – 日本語 {i}'" for i in range(600)]  # about 25 KB before the change
    lines[450] = f"    stripe_key = '{stripe_live_key(8)}'  # é"
    lines[452] = f"    db_password = \"{fake(20, seed=4)}\"  # 日本"
    added = _commit(git_repo, "labels.py", lines, "labels and two secrets")
    lines[448] = "    changed = 'ü next to the secrets'"
    _commit(git_repo, "labels.py", lines, "an edit beside them")
    lines[10] = "    changed = 'ü far above'"
    _commit(git_repo, "labels.py", lines, "an edit above them")
    rules = list(builtin_rules())
    found, result = _history(git_repo, rules, "hyperscan")
    assert [(rule, line, commit) for rule, _, line, commit in found] == [
        ("generic-password", 453, added), ("stripe-live-secret-key", 451, added)]
    assert result.stats["matching"]["delta_scans"] >= 2  # the later versions were judged by their changes
    assert found == _history(git_repo, rules, "python")[0]
    assert found == _history(git_repo, rules, "hyperscan", line_delta=False)[0]


def test_a_byte_order_mark_and_other_characters_on_the_first_line(git_repo: GitRepo) -> None:
    """The BOM is one character of the shadow but none of the detector's text (decode_blob drops
    it): a window starting at the file's first byte must still give line 1's columns."""
    pytest.importorskip("hyperscan")
    key = stripe_live_key(12)
    git_repo.stage("bom.py", "\ufeff" + f"clé = '{key}'  # é\n" + "x = 'ü'\n" * 30)
    added = git_repo.commit("a key on the first line of a file with a BOM")
    git_repo.stage("bom.py", "\ufeff" + f"clé = '{key}'  # é\n" + "x = 'ü'\n" * 29 + "y = 1\n")
    git_repo.commit("an edit below")
    rules = list(builtin_rules())
    result = scan_history(str(git_repo.path), Detector(rules), jobs=1, use_cache=False)
    python = scan_history(str(git_repo.path), Detector(rules, engine="python"), jobs=1, use_cache=False,
                          line_delta=False)
    key_of = lambda r: sorted((f.rule_id, f.line, f.column, f.commit) for f in r.findings)  # noqa: E731
    assert key_of(result) == key_of(python)
    assert ("stripe-live-secret-key", 1, 8, added) in key_of(result)


def test_stats_name_the_rules_searched_at_their_keywords_in_non_ascii_texts(git_repo: GitRepo) -> None:
    """A rule whose rewrite for shadows Hyperscan rejects or loses matches of falls back to its
    keywords in non-ASCII texts: never silently, ``history --stats`` names each such rule."""
    matcher = _matcher()
    expected = sorted(matcher.rules[i].id for i in matcher.shadow_keywords)
    assert "generic-secret-setter-call" in expected  # (see the test above)
    git_repo.stage("notes.txt", "caf\u00e9\n")
    git_repo.commit("one text")
    result = git_repo.run_mcp_scan("history", ".", "--no-cache", "--no-config", "--stats", "-q")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.decode().splitlines() if "at their keywords in non-ASCII texts" in line]
    assert len(lines) == 1 and sorted(lines[0].rsplit(": ", 1)[1].split(", ")) == expected
