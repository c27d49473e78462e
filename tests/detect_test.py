"""The detector: prefilter engines, gates, allow markers, fingerprints, positions."""
from __future__ import annotations

import pytest

from scanner.detect import Detector, fingerprint, line_and_column
from scanner.encodings import decode_blob
from scanner.entropy import is_placeholder, shannon_entropy
from scanner.models import Fragment, redact
from scanner.prefilter import HyperscanPrefilter, PythonPrefilter, hyperscan_available
from scanner.rules import rule_from_dict
from tests.fakes import fake, stripe_live_key

KEY = stripe_live_key()


def make_rule(**overrides: object) -> object:
    data = {
        "id": "test-token",
        "description": "Test token",
        "severity": "high",
        "regex": r"\b(tt_[0-9A-Za-z]{20})\b",
        "keywords": ["tt_"],
        "min_entropy": 3.0,
    }
    data.update(overrides)
    return rule_from_dict(data, "test.toml")


TOKEN = "tt_" + fake(20, seed=3)


@pytest.mark.parametrize("engine", ["python"] + (["hyperscan"] if hyperscan_available() else []))
def test_engines_agree_on_keywords(engine: str) -> None:
    keywords = ["sk_live_", "live", "ghp_", "key", "keyword", "token"]
    cls = HyperscanPrefilter if engine == "hyperscan" else PythonPrefilter
    prefilter = cls(keywords)
    text = "A KEYWORD and an SK_LIVE_ value, no gh token here"
    assert {keywords[i] for i in prefilter.matches(text)} == {"sk_live_", "live", "key", "keyword", "token"}
    assert {keywords[i] for i in prefilter.matches(text.encode())} == {"sk_live_", "live", "key", "keyword", "token"}
    assert prefilter.matches("nothing to see") == set()


def test_python_prefilter_finds_overlapping_keywords() -> None:
    prefilter = PythonPrefilter(["ab", "bc"])
    assert prefilter.matches("xabcx") == {0, 1}


def test_rule_without_keyword_in_text_never_runs() -> None:
    detector = Detector([make_rule(keywords=["zz_"])], engine="python")
    assert detector.candidates(f"x {TOKEN}") == []
    assert detector.scan_text(f"x {TOKEN}") == []


def test_large_inputs_use_the_same_answer_as_small_ones() -> None:
    detector = Detector([make_rule()])
    big = ("filler line\n" * 10_000) + f"k={TOKEN}\n"
    [finding] = detector.scan_text(big)
    assert finding.line == 10_001 and finding.column == 3


def test_entropy_gate_and_placeholders() -> None:
    detector = Detector([make_rule()], engine="python")
    assert detector.scan_text("tt_aaaaaaaaaaaaaaaaaaaa") == []
    assert detector.scan_text("tt_xxxxxxxxxxxxxxxxxxxx") == []
    assert len(detector.scan_text(TOKEN)) == 1


@pytest.mark.parametrize("value", ["${API_TOKEN}", "$API_TOKEN", "your_token_here", "xxxx", "<token>", "changeme",
                                   "{{ secrets.TOKEN }}", "%API_KEY%", "${env:TOKEN}"])
def test_placeholders_are_never_secrets(value: str) -> None:
    assert is_placeholder(value)


def test_real_looking_values_are_not_placeholders() -> None:
    assert not is_placeholder(KEY)
    assert not is_placeholder(fake(32, seed=9))


def test_shannon_entropy() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0


def test_fingerprint_is_content_not_position() -> None:
    detector = Detector([make_rule()], engine="python")
    [a] = detector.scan_text(f"{TOKEN}\n")
    [b] = detector.scan_text(f"\n\n   x = {TOKEN}\n", path="other.txt")
    assert a.fingerprint == b.fingerprint == fingerprint("test-token", TOKEN)
    assert TOKEN not in a.fingerprint


def test_overlapping_hits_keep_the_most_specific_rule() -> None:
    generic = make_rule(id="generic-thing", regex=r"k=(\S+)", keywords=["k="], confidence="low", severity="medium", min_entropy=None)
    specific = make_rule()
    [finding] = Detector([generic, specific], engine="python").scan_text(f"k={TOKEN}")
    assert finding.rule_id == "test-token"


def test_stopwords_and_allow_regexes() -> None:
    assert Detector([make_rule()], stopwords=[TOKEN[5:9]], engine="python").scan_text(TOKEN) == []
    assert Detector([make_rule()], allow_regexes=[r"^tt_" + TOKEN[3:6]], engine="python").scan_text(TOKEN) == []
    assert Detector([make_rule(stopwords=[TOKEN[4:8]])], engine="python").scan_text(TOKEN) == []


def test_min_confidence_filters_findings() -> None:
    rule = make_rule(confidence="low")
    assert Detector([rule], min_confidence="medium", engine="python").scan_text(TOKEN) == []
    assert len(Detector([rule], min_confidence="low", engine="python").scan_text(TOKEN)) == 1


def test_fragment_offsets_and_git_context_flow_into_findings() -> None:
    fragment = Fragment(text=f"a\nb {TOKEN}\n", path="p.txt", start_line=40, commit="c" * 40, author="A", date="2024-01-01")
    [finding] = Detector([make_rule()], engine="python").scan(fragment)
    assert (finding.line, finding.column, finding.end_column) == (41, 3, 26)
    assert (finding.commit, finding.author, finding.date) == ("c" * 40, "A", "2024-01-01")


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [("abc", 1, (0, 2)), ("a\nbc", 3, (1, 2)), ("a\r\nb", 3, (1, 1)), ("a\rb\rc", 4, (2, 1)), ("a\r\n\r\nb", 5, (2, 1))],
)
def test_line_and_column_with_every_line_ending(text: str, offset: int, expected: tuple[int, int]) -> None:
    assert line_and_column(text, offset) == expected


def test_regex_timeout_is_counted_not_hung() -> None:
    slow = make_rule(id="slow-rule", regex=r"(x+x+)+y", keywords=["xxx"], min_entropy=None)
    detector = Detector([slow], engine="python", regex_timeout=0.05)
    assert detector.scan_text("x" * 5000) == []
    assert detector.stats.regex_timeouts == 1


def test_decode_blob() -> None:
    assert decode_blob(b"plain") == "plain"
    assert decode_blob(b"\x00\x01binary") is None
    assert decode_blob("hi".encode("utf-16")) == "hi"
    assert decode_blob(b"caf\xe9 " + KEY.encode()) == "caf\ufffd " + KEY
    assert decode_blob(b"\xef\xbb\xbfbom") == "bom"


def test_redaction_never_reveals_the_secret() -> None:
    assert redact(KEY).startswith(KEY[:4]) and KEY not in redact(KEY)
    assert redact("abc") == "***REDACTED***"


def test_percent_escapes_that_are_not_utf8_do_not_crash() -> None:
    from scanner.rules import builtin_rules

    assert isinstance(Detector(list(builtin_rules()), engine="python").scan_text("a=%dd%ff%41 url?x=%e2%28 token=%zz"), list)


def test_large_texts_are_searched_near_keywords_only_with_the_same_result() -> None:
    from scanner.detect import WINDOW_MIN_TEXT, KeywordOccurrences

    rule = make_rule()
    filler = "".join(f"neutral line {n}\n" for n in range(WINDOW_MIN_TEXT // 10))
    text = filler + f"k = {TOKEN}\n" + filler + f"again {TOKEN}\n"
    occurrences = KeywordOccurrences(text, {"tt_"})
    windows = occurrences.windows(rule)
    assert windows is not None and len(windows) == 2
    assert sum(end - start for start, end in windows) < len(text) // 4
    found = Detector([rule], engine="python").scan_text(text)
    assert [(f.line, f.column) for f in found] == [(filler.count("\n") + 1, 5), (2 * filler.count("\n") + 2, 7)]


def test_whole_text_scope_and_frequent_keywords_disable_windows() -> None:
    from scanner.detect import KeywordOccurrences

    text = "tt_ " * 20_000
    assert KeywordOccurrences(text, {"tt_"}).windows(make_rule()) is None
    assert KeywordOccurrences("x" * 20_000 + "tt_", {"tt_"}).windows(make_rule(scope="text")) is None


def test_long_matches_are_not_cut_by_keyword_windows() -> None:
    # A PEM body longer than a window (an 8192-bit RSA key is ~6.5 KB) inside a large file.
    from scanner.rules import builtin_rules

    body = "\n".join(fake(64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", seed=n) for n in range(100))
    key = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"
    filler = "".join(f"neutral line {n}\n" for n in range(3000))
    rules = [r for r in builtin_rules() if r.id == "private-key-rsa"]
    assert rules and rules[0].whole_text
    [finding] = Detector(rules, engine="python").scan_text(filler + key + filler)
    assert finding.line == 3001


def test_line_scope_searches_only_the_lines_holding_a_keyword() -> None:
    from scanner.detect import KeywordOccurrences

    rule = make_rule(regex=r"(?i)\b\w*secret\w*[ \t]*=[ \t]*(?P<secret>[0-9A-Za-z]{20})\b", keywords=["secret"],
                     scope="line")
    value = fake(20, seed=5)
    text = f"a = 1\nMY_SECRET = {value}\nb = 2\nc = 3\nsecret_two = {value}\n"
    assert KeywordOccurrences(text, {"secret"}).windows(rule) == [(6, 6 + len(f"MY_SECRET = {value}")),
                                                                   (text.index("secret_two"), len(text) - 1)]
    found = Detector([rule], engine="python").scan_text(text)
    assert [(f.line, f.column) for f in found] == [(2, 13), (5, 14)]
    # a line-scoped rule never sees across lines, even in a small text
    split = make_rule(regex=r"(?i)secret\n(?P<secret>[0-9A-Za-z]{20})\b", keywords=["secret"], scope="line")
    assert Detector([split], engine="python").scan_text(f"secret\n{value}\n") == []
    assert Detector([make_rule(regex=split.regex, keywords=["secret"])], engine="python").scan_text(
        f"secret\n{value}\n") != []


def test_a_long_value_bound_keeps_a_line_scoped_rule_on_its_lines() -> None:
    # A line window holds a match of any length, so {12,1024} does not make the rule search whole
    # texts: it did, and request-header-credential and basic-auth-assignment then ran over every
    # non-ASCII text holding "header" or "auth" in `mcp-scan history`.
    from scanner.detect import KeywordOccurrences

    rule = make_rule(regex=r"(?i)\bsecret[ \t]*=[ \t]*(?P<secret>[0-9A-Za-z]{12,1024})\b", keywords=["secret"],
                     scope="line")
    assert not rule.whole_text
    value = fake(700, seed=7)  # longer than a keyword window reaches
    filler = "".join(f"neutral line {n} \u00e9\n" for n in range(300))
    text = filler + f"secret = {value}\n" + filler
    start = len(filler)
    assert KeywordOccurrences(text, {"secret"}).windows(rule) == [(start, start + len(f"secret = {value}"))]
    [finding] = Detector([rule], engine="python").scan_text(text)
    assert (finding.line, finding.end_column) == (301, len(f"secret = {value}") + 1)


def test_a_dotted_capital_i_does_not_send_every_rule_over_the_whole_text() -> None:
    # "\u0130".lower() is two characters; a CA bundle naming an Istanbul issuer then made every
    # rule search the whole file. Offsets stay those of the text, and (?i) still finds the key.
    from scanner.detect import KeywordOccurrences

    rule = make_rule(regex=r"(?i)\bsecret[ \t]*=[ \t]*(?P<secret>[0-9A-Za-z]{20})\b", keywords=["secret"],
                     scope="line")
    value = fake(20, seed=9)
    filler = "".join(f"O=Kamu Sertifikasyon Merkezi, L=\u0130stanbul {n}\n" for n in range(100))
    text = filler + f"SECRET = {value}\n" + filler + f"\u0130 secret = {value}\n"
    occurrences = KeywordOccurrences(text, {"secret"})
    start, second = len(filler), text.index("\u0130 secret")
    assert occurrences.windows(rule) == [(start, start + len(f"SECRET = {value}")), (second, len(text) - 1)]
    found = Detector([rule], engine="python").scan_text(text)
    assert [(f.line, f.column) for f in found] == [(101, 10), (202, 12)]


def test_unknown_scope_is_a_config_error() -> None:
    from scanner.errors import ScanError

    with pytest.raises(ScanError, match="keyword, line, text"):
        make_rule(scope="paragraph")


@pytest.mark.skipif(not hyperscan_available(), reason="no Hyperscan wheel on this platform")
def test_compiled_keyword_databases_are_pruned(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    # One database per keyword set: every rule-set change would leave one behind.
    from pathlib import Path

    from scanner.prefilter import KEEP_DATABASES

    monkeypatch.setenv("MCP_SCAN_CACHE_DIR", str(tmp_path))
    for n in range(KEEP_DATABASES + 3):
        assert HyperscanPrefilter([f"kw{n}_", "shared_"]).matches(f"x kw{n}_ y") == {0}
    assert len(list(Path(str(tmp_path)).glob("hyperscan-*.db"))) == KEEP_DATABASES
    again = HyperscanPrefilter([f"kw{KEEP_DATABASES + 2}_", "shared_"])  # the newest is still cached
    assert again.matches("shared_") == {1}
    assert len(list(Path(str(tmp_path)).glob("hyperscan-*.db"))) == KEEP_DATABASES


def test_fingerprint_is_sha256_of_rule_and_secret() -> None:
    # detect.py computes it without hashlib (no OpenSSL at hook start-up): same digest
    import hashlib

    secret = stripe_live_key(seed=21)
    assert fingerprint("stripe-live-secret-key", secret) == hashlib.sha256(
        f"stripe-live-secret-key\0{secret}".encode()).hexdigest()
