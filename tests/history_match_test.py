"""The rules' Hyperscan database finds what the pure-Python detector finds.

Hyperscan only chooses the windows the detector judges, so it must report a
candidate wherever a rule's regex could match: every rule's own examples (and
negatives) give the same findings through the Hyperscan windows as through
the pure-Python detector, and edited histories give the same findings through
the Hyperscan version chain as through whole-file pure-Python scans.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from scanner.detect import Detector
from scanner.history.delta import MatchedChain
from scanner.history.hits import Hit
from scanner.models import Fragment
from scanner.rulecheck import _PADDING
from scanner.rulematch import RuleMatcher, text_ok, translate
from scanner.rules import builtin_rules, rule_from_dict
from scanner.history.scan import scan_history
from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo

pytest.importorskip("hyperscan")


def _hits(detector: Detector, text: str, path: str) -> set[tuple[Any, ...]]:
    return {(f.rule_id, f.fingerprint, f.line, f.column) for f in detector.scan_text(text, path)}


def _chain_hits(chain: MatchedChain, detector: Detector, text: str, path: str) -> set[tuple[Any, ...]]:
    def scan(part: str, start_line: int, only: Any = None) -> list[Hit]:
        return [Hit.of(f) for f in detector.scan(Fragment(text=part, path=path, start_line=start_line), only)]

    found = chain.scan(path, text.encode("utf-8"), lambda data: True, scan)
    return {(h.rule_id, h.fingerprint, h.line, h.column) for h in found}


def _chained(rules: list[Any], detector: Detector) -> Iterator[tuple[Any, str]]:
    """Each rule with the path its examples are judged under, but the rules chosen by path: the
    sources scan the files such a rule reads whole, never through the version chain."""
    for rule in rules:
        path = rule.example_path or "example.txt"
        if not detector.reads_path(path):
            yield rule, path


@pytest.fixture(scope="module")
def rules() -> list[Any]:
    return list(builtin_rules())


@pytest.fixture(scope="module")
def matcher(rules: list[Any]) -> RuleMatcher:
    return RuleMatcher(rules)


def test_every_rule_is_compiled_or_named_as_a_fallback(matcher: RuleMatcher) -> None:
    report = matcher.report()
    assert sum(report["modes"].values()) == len(matcher.rules)
    assert set(report["modes"]) <= {"exact", "prefilter", "anchored", "approximate", "keyword", "fallback",
                                    "binary", "path", "gate"}
    assert len(report["fallback_rules"]) == report["modes"].get("fallback", 0)
    # the generic secret-named rules match any assignment once their lookbehinds are dropped:
    # their hyperscan expressions (a secret-named key, an assignment, a value) keep them from
    # making every line of code a candidate
    modes = dict(zip((r.id for r in matcher.rules), matcher.modes))
    assert modes["generic-password"] == modes["generic-secret"] == "approximate"
    assert modes["stripe-live-secret-key"] in ("exact", "prefilter")


def test_no_rule_sends_whole_texts_to_the_detector_at_a_common_word(matcher: RuleMatcher) -> None:
    """A rule left to its keywords (``keyword`` mode: Hyperscan could not take its regex, or a window
    cannot hold its match) sends every text holding one of them to a whole-text search. Its keywords
    must be rare: an INI-section rule whose unbounded ``[ \\t]*`` kept it out of the database once
    made every text saying "password" a whole-text search."""
    common = {"password", "passwd", "pwd", "pass", "secret", "token", "key", "apikey", "api_key", "auth",
              "credential", "credentials", "private", "user", "username", "login", "bearer", "basic"}
    from scanner.rulematch import SOURCE_FILES

    problems = []
    for rule, mode in zip(matcher.rules, matcher.modes):
        # (a rule for other kinds of file, whose path condition no source file passes, is searched
        # only in those: .pypirc files, not every text)
        if mode == "keyword" and (rule.path_pattern is None or any(map(rule.path_pattern.search, SOURCE_FILES))):
            problems.extend((rule.id, k) for k in rule.keywords if k.lower().strip(" =:\"'") in common or len(k) < 8)
    assert problems == []


def test_binary_rules_are_not_compiled_so_a_text_starting_with_0_stays_in_windows(matcher: RuleMatcher) -> None:
    # DER keys and keystores start with 0x30 ("0"); their "\\A\\x30.{16,}" matched at every offset
    # of a text starting with "0", so a large one overflowed MAX_MATCHES and went down the keyword path
    modes = dict(zip((r.id for r in matcher.rules), matcher.modes))
    assert modes["private-key-der"] == modes["pkcs12-keystore"] == "binary"
    text = b"0.1.2 release notes\n" + b"".join(b"line %d of plain prose\n" % i for i in range(2000))
    assert len(text) > 40000
    assert matcher.scan(text) == []


def test_rule_examples_through_hyperscan_windows_equal_the_python_detector(rules: list[Any],
                                                                           matcher: RuleMatcher) -> None:
    python = Detector(rules, engine="python")
    detector = Detector(rules)
    problems = []
    for rule, path in _chained(rules, detector):
        for text in rule.examples + rule.negative_examples:
            for body in (text, _PADDING + text + "\n" + _PADDING):
                if not text_ok(body.encode("utf-8")):
                    continue  # such texts take the keyword path
                chain = MatchedChain(matcher, enabled=False)
                expected = _hits(python, body, path)
                got = _chain_hits(chain, detector, body, path)
                if got != expected:
                    problems.append((rule.id, text[:50], sorted(expected - got), sorted(got - expected)))
    assert problems == []


def test_a_rule_hyperscan_rejects_falls_back_to_its_keywords_and_is_named() -> None:
    rule = rule_from_dict({
        "id": "odd-rule", "description": "d", "severity": "high", "remediation": "r",
        # \K (the regex module's "keep out") is unknown to Hyperscan, even as a prefilter
        "regex": r"oddkey=\K(?P<secret>[A-Z][A-Za-z0-9]{20})", "keywords": ["oddkey"],
    }, "test")
    matcher = RuleMatcher([rule])
    assert matcher.modes == ["fallback"]
    assert matcher.report()["fallback_rules"] == ["odd-rule"]
    secret = "Q" + fake(20, seed=7)
    text = _PADDING + f"oddkey={secret}\n" + _PADDING
    chain = MatchedChain(matcher, enabled=False)
    assert _chain_hits(chain, Detector([rule]), text, "x.txt") == _hits(Detector([rule], engine="python"), text, "x")


def test_translation_keeps_group_numbers_and_widens_huge_repeats() -> None:
    out, widened = translate(r"(?P<user>\w+):(?!(?P=user)@)(?P<secret>[a-z]{8,50000})\Z", {"user": 1, "secret": 2})
    assert out == r"(\w+):(?!\1@)([a-z]{8,})\z"
    assert widened


def _edit_history(repo: GitRepo, seed: int, size: int = 120, ascii_only: bool = False) -> None:
    """One file edited over many commits: secrets come and go, allow markers, non-ASCII lines,
    percent-encoded credentials, a private-key block, lines moved and duplicated. With
    ``ascii_only`` (no non-ASCII line, no key block: every span goes through Hyperscan's
    windows) a larger file, edited in several far-apart places per commit, its last line
    losing and regaining its line feed."""
    rng = random.Random(seed)
    lines = [f"value_{i} = compute({i}, '{fake(12, seed=seed * 1000 + i)}')\n" for i in range(size)]
    pem_body = "".join(fake(64, seed=seed + k) + "\n" for k in range(6))
    extras = [
        lambda n: f"STRIPE_KEY = '{stripe_live_key(seed * 100 + n)}'\n",
        lambda n: f"db_password = \"{fake(18, seed=seed * 100 + n)}\"\n",
        lambda n: "# pragma: allowlist nextline secret\n",
        lambda n: f"token = '{stripe_live_key(seed * 100 + n)}'  # mcp-scan: allow\n",
        lambda n: f"# Grüße {n}, naïve café\n",
        lambda n: f"url = 'https://user:{fake(10, seed=n)}%40{fake(6, seed=n + 1)}@db.internal.test/x'\n",
        lambda n: "-----BEGIN RSA PRIVATE KEY-----\n" + pem_body + "-----END RSA PRIVATE KEY-----\n",
        lambda n: f"password: {fake(16, seed=seed * 7 + n)}\n",
    ]
    if ascii_only:
        extras = [extra for extra in extras if extra(0).isascii() and "PRIVATE" not in extra(0)]
    for step in range(30):
        for _ in range(rng.randint(1, 4)):
            action = rng.random()
            at = rng.randrange(len(lines) + 1)
            if action < 0.35:
                lines.insert(at, rng.choice(extras)(step))
            elif action < 0.55 and lines:
                del lines[min(at, len(lines) - 1)]
            elif action < 0.75 and lines:
                lines[min(at, len(lines) - 1)] = f"changed_{step} = {rng.randint(0, 99)}\n"
            elif lines:
                lines.insert(at, lines[rng.randrange(len(lines))])  # a duplicated (moved) line
        text = "".join(lines)
        if ascii_only and rng.random() < 0.3:
            text = text.rstrip("\n")
        repo.stage("settings.py", text)
        repo.commit(f"step {step}")


def _key(result: Any) -> set[tuple[Any, ...]]:
    return {(f.rule_id, f.fingerprint, f.path, f.commit, f.line, f.column, f.end_line, f.end_column)
            for f in result.findings}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("size,ascii_only", [(120, False), (900, True)])
def test_hyperscan_version_chain_equals_pure_python_whole_file_scans(git_repo: GitRepo, seed: int, size: int,
                                                                     ascii_only: bool) -> None:
    _edit_history(git_repo, seed, size, ascii_only)
    rules = list(builtin_rules())
    python = scan_history(str(git_repo.path), Detector(rules, engine="python"), jobs=1, use_cache=False,
                          line_delta=False)
    assert python.errors == [] and python.findings
    chained = scan_history(str(git_repo.path), Detector(rules), jobs=1, use_cache=False)
    # the version chain really ran: a delta, or a span it had to widen to the whole text, or whole
    # versions a whole-text rule's candidate asked for (the private-key block some seeds keep
    # throughout; Hyperscan sees it through the shadow of a text that is not ASCII)
    matching = chained.stats["matching"]
    assert matching.get("delta_scans", 0) + sum(
        n for key, n in matching.items() if key.startswith(("keyword_path:span:", "whole_span:", "whole_text:"))) > 0
    assert _key(chained) == _key(python)
    whole = scan_history(str(git_repo.path), Detector(rules), jobs=1, use_cache=False, line_delta=False)
    assert _key(whole) == _key(python)



def test_a_whole_text_rule_for_other_files_does_not_send_a_text_down_the_keyword_path(
        matcher: RuleMatcher, rules: list[Any]) -> None:
    """kubernetes-secret-data reads whole texts, but never source code: a Python file with
    YAML-shaped ``data:`` blocks must be matched in windows, not re-scanned whole (that cost
    sqlalchemy's history about 20 s), while the same text elsewhere still is."""
    detector = Detector(rules)
    code = "import os\n" * 30 + 'SAMPLE = """\nkind: secret\ndata:\n  token: QmFzZTY0IGJsb2Igb2YgdGVzdA==\n"""\n'
    for path, whole in (("app/payload.py", False), ("docs/payload.txt", True)):
        chain = MatchedChain(matcher, True)
        assert _chain_hits(chain, detector, code, path) == _hits(detector, code, path), path
        assert ("kubernetes-secret-data" in chain.whole_rules) == whole, path
        assert chain.keyword_path == 0, path  # judged whole with only the rules Hyperscan matched


def test_non_ascii_text_is_matched_in_windows_with_every_rule_around_its_non_ascii_bytes(
        matcher: RuleMatcher, rules: list[Any]) -> None:
    """A large file with a few non-ASCII lines: Hyperscan's windows elsewhere, every rule in the
    regions around the bytes it cannot vouch for (a secret next to a Unicode space or word
    character is still found), and the findings equal the pure-Python detector's."""
    detector = Detector(rules)
    key = stripe_live_key()
    hexed = fake(32, "0123456789abcdef")
    uuid = f"{hexed[:8]}-{hexed[8:12]}-4{hexed[13:16]}-a{hexed[17:20]}-{hexed[20:]}"
    filler = "".join(f"value_{i} = compute({i}, 'plain text')\n" for i in range(400))
    texts = {
        # NBSP before '=' and an accented value: Python's \s and \w know them, PCRE's do not
        "nbsp": filler + f"password\u00a0= \"Zé9qWx7Lm2pV8rT4kN6y\"\n" + filler + f"STRIPE = '{key}'\n"
                + filler + f'"heroku_api_key":\u00a0"{uuid}"\n' + filler,
        "far": "# Auteur : Zoë Müller\n" + filler * 3 + f"api_key = \"{key}\"\n",
        "near": filler + f"# clé Stripe ↓\nstripe_key = \"{key}\"  # « live »\n" + filler,
        "bom": "\ufeff" + filler + f"token: {key}\n",
    }
    for name, text in texts.items():
        chain = MatchedChain(matcher, True)
        expected = _hits(detector, text, f"app/{name}.py")
        assert expected, name
        if name == "nbsp":  # Hyperscan alone misses this one: \s in PCRE is ASCII
            assert any(hit[0] == "heroku-api-key-legacy" for hit in expected)
        assert _chain_hits(chain, detector, text, f"app/{name}.py") == expected, name
        assert chain.keyword_path == 0, name  # none of them went down the keyword path whole


def test_a_window_searches_only_the_rules_hyperscan_matched_there(matcher: RuleMatcher, rules: list[Any]) -> None:
    """The windows carry the rules whose matches opened them; judging a window with only those
    rules gives the findings the detector gives with every rule."""
    detector = Detector(rules)
    text = ("x = 1\n" * 50 + f'headers = {{"Authorization": "Bearer {fake(40)}"}}\n' + "y = 2\n" * 50
            + f"STRIPE_KEY = '{stripe_live_key()}'\n" + "z = 3\n" * 50)
    data = text.encode()
    matches = matcher.scan(data)
    assert matches
    windows = matcher.windows(data, matches)
    assert windows and all(rules_here is not None and rules_here for _, _, rules_here in windows)
    assert len(set().union(*(r for _, _, r in windows if r is not None))) < len(rules) // 10
    assert _chain_hits(MatchedChain(matcher, True), detector, text, "app/client.py") == _hits(
        detector, text, "app/client.py")


def test_a_whole_text_rule_is_searched_alone_first_and_its_hits_weighed_with_the_others(
        matcher: RuleMatcher, rules: list[Any]) -> None:
    """A rule that needs the whole text (private-key-rsa: a key body may be long) runs alone on
    it; where it finds nothing the other rules keep their windows, where it finds a key the whole
    text is judged with every matched rule, so an overlapping hit of another rule (the key's
    header) is weighed against it as in a whole-text scan."""
    detector = Detector(rules)
    filler = "".join(f"step_{i} = run({i})\n" for i in range(150))
    body = "".join(fake(64, seed=40 + k) + "\n" for k in range(12))
    texts = {
        "no-key": filler + 'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    kind = "rsa"\n'
        + filler + f"STRIPE_KEY = '{stripe_live_key(3)}'\n",
        "key": filler + 'KEY = """-----BEGIN RSA PRIVATE KEY-----\n' + body + '-----END RSA PRIVATE KEY-----"""\n'
        + filler + f"STRIPE_KEY = '{stripe_live_key(5)}'\n",
    }
    for name, text in texts.items():
        chain = MatchedChain(matcher, True)
        expected = _hits(detector, text, f"app/{name}.py")
        assert expected, name
        assert _chain_hits(chain, detector, text, f"app/{name}.py") == expected, name
        assert chain.whole_rules.get("private-key-rsa") == 1, name
        assert chain.keyword_path == 0, name
    assert any(hit[0] == "private-key-rsa" for hit in _hits(detector, texts["key"], "app/key.py"))


def test_unvouched_runs_are_the_regex_runs_without_running_the_regex_over_clean_bytes() -> None:
    # The run finder marks bytes with translate() and jumps with find() (memory speed) instead of
    # running _UNVOUCHED over every text; it must give exactly the regex's maximal runs, in any slice.
    from scanner.rulematch import _UNVOUCHED, unvouched_runs

    rng = random.Random(13)
    alphabet = b"ab\n \x1b\x1c\x1f\x20\x7f\x80\xff\xc3\xa9"
    for _ in range(2000):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 80)))
        start = rng.randrange(0, len(data) + 1)
        end = rng.choice([None, rng.randrange(start, len(data) + 1)])
        expected = [m.span() for m in _UNVOUCHED.finditer(data, start, len(data) if end is None else end)]
        assert list(unvouched_runs(data, start, end)) == expected, (data, start, end)
    long_text = b"x = 1\n" * 50_000 + "é".encode("utf-8") + b"\n" + b"y = 2\n" * 50_000 + b"\x1e"
    assert list(unvouched_runs(long_text)) == [m.span() for m in _UNVOUCHED.finditer(long_text)]


def test_a_secret_manifests_kind_line_not_the_word_secret_sends_a_text_to_the_whole_text_search(
        matcher: RuleMatcher, rules: list[Any]) -> None:
    """kubernetes-secret-data's ``hyperscan`` expression (the kind line) gates its whole-text
    search: prose full of "secret" is matched in windows only; a manifest still gets the search,
    and so does the next version of it, whatever its change (a data block added far below the
    kind line, out of the span Hyperscan sees around the change)."""
    import base64

    assert matcher.modes[[r.id for r in matcher.rules].index("kubernetes-secret-data")] == "gate"
    detector = Detector(rules)
    prose = "".join(f"Keep the client secret {i} out of the repository; rotate secrets often.\n" for i in range(60))
    chain = MatchedChain(matcher, True)
    assert _chain_hits(chain, detector, prose, "docs/secrets.md") == _hits(detector, prose, "docs/secrets.md")
    assert "kubernetes-secret-data" not in chain.whole_rules

    head = "apiVersion: v1\nkind: secret\nmetadata:\n  name: db\n"
    filler = "".join(f"  # note {i}: " + "x" * 150 + "\n" for i in range(95))
    value = base64.b64encode(fake(24, seed=77).encode()).decode()
    before = head + filler + "type: Opaque\n"
    after = head + filler + f"type: Opaque\ndata:\n  password: {value}\n"
    chain = MatchedChain(matcher, True)
    path = "deploy/db.yaml"
    assert _chain_hits(chain, detector, before, path) == _hits(detector, before, path)
    expected = _hits(detector, after, path)
    assert any(hit[0] == "kubernetes-secret-data" for hit in expected)
    assert _chain_hits(chain, detector, after, path) == expected


def test_only_escapes_that_can_decode_open_a_percent_window(matcher: RuleMatcher, rules: list[Any]) -> None:
    """A run decodes only to printable UTF-8, so an escape of a control byte or a lone high byte
    ("%eax" in x86 assembly, "%0A") opens no window; printable and UTF-8 escapes still do, and a
    percent-encoded secret found only decoded is found through them as on the whole text."""
    percent = len(matcher.rules)

    def opened(line: bytes) -> int:
        found = matcher.scan(line + b"\n")
        assert found is not None
        return sum(1 for pattern, _end in found if matcher.pattern_rule[pattern] == percent)

    assert opened(b"    movl %eax, %edx") == 0
    assert opened(b"printf(\"%02d%0A\")") == 0
    assert opened(b"GET /a%2Fb") == 1
    assert opened(b"name=Jos%C3%A9") == 1
    detector = Detector(rules)
    encoded = "".join(f"%{b:02X}" for b in f"STRIPE_KEY={stripe_live_key(41)}".encode())
    text = "".join(f"    movl %eax, {i}(%edx)\n" for i in range(200)) + f"url = 'https://x.test/?q={encoded}'\n"
    expected = _hits(detector, text, "src/asm_notes.txt")
    assert any(hit[0] == "stripe-live-secret-key" for hit in expected)
    assert _chain_hits(MatchedChain(matcher, True), detector, text, "src/asm_notes.txt") == expected


def test_a_rule_kept_out_of_a_path_opens_no_window_there(rules: list[Any], matcher: RuleMatcher) -> None:
    """A context rule (vendored = false) in a vendored tree, or a rule for other kinds of file, cannot
    match there: its Hyperscan matches open no window (no Python judges them), and the findings are
    the detector's own for that path."""
    index = [rule.id for rule in rules].index("generic-password-unquoted")
    text = f"db_password = Kv{fake(14, seed=41)}7q\n".encode()
    for path, opens in (("config/app.ini", True), ("node_modules/pkg/app.ini", False)):
        matcher.path = path
        windows, _ = matcher.search(text, 0, len(text))
        assert windows is not None
        assert any(rules_ is None or index in rules_ for _, _, rules_ in windows) is opens, path
        chain = MatchedChain(matcher, enabled=False)
        detector = Detector(rules)
        assert _chain_hits(chain, detector, text.decode(), path) == _hits(Detector(rules, engine="python"),
                                                                          text.decode(), path)


def test_every_rule_example_with_crlf_line_ends_is_found_as_with_lf(rules: list[Any], matcher: RuleMatcher) -> None:
    """A file saved with Windows line ends: every example a rule finds with LF line ends, each
    engine and history's Hyperscan windows find with CRLF too (a rule's ``$`` matches before the
    LF only, so a ``\\r`` before it hid the match: ten rules missed such a config line)."""
    python = Detector(rules, engine="python")
    detector = Detector(rules)
    problems = []
    for rule, path in _chained(rules, detector):
        for example in rule.examples:
            lf = example.replace("\r\n", "\n") + "\n"
            if rule.id not in {f.rule_id for f in python.scan_text(lf, path)}:
                continue  # found only with its padding or context (rules check covers those)
            crlf = lf.replace("\n", "\r\n")
            for name, found in (("python", {f.rule_id for f in python.scan_text(crlf, path)}),
                                ("hyperscan", {f.rule_id for f in detector.scan_text(crlf, path)}),
                                ("chain", {h[0] for h in _chain_hits(MatchedChain(matcher, enabled=False),
                                                                     detector, crlf, path)})):
                if rule.id not in found:
                    problems.append((rule.id, name, example[:40]))
    assert problems == []


def test_every_rule_example_with_lone_cr_line_ends_gives_the_python_detectors_findings(
        rules: list[Any], matcher: RuleMatcher, tmp_path: Any) -> None:
    """A text whose lines end in lone CRs (Mac OS 9 files, PostScript, PDF-like formats): history's
    chain and ``scan``'s windows search the text the detector reads (its lone CRs as line feeds)
    and find what the pure-Python detector finds in the whole text, at the same lines and columns.
    They once sent every such text down the keyword path (a 2.2 MB Illustrator file was a tenth of
    requests' history scan)."""
    from scanner.filescan import FileScanner

    python = Detector(rules, engine="python")
    detector = Detector(rules)
    files = FileScanner(detector, 1 << 24)
    problems = []
    checked = 0
    for rule, path in _chained(rules, detector):
        for text in rule.examples + rule.negative_examples:
            if "\0" in text:
                continue  # binary: read by the binary rules of its path, whatever its line ends
            lf = text.replace("\r\n", "\n")
            for body in (lf.replace("\n", "\r"), (_PADDING + lf + "\n" + _PADDING).replace("\n", "\r"),
                         "x = 1\r\n" + lf.replace("\n", "\r") + "\ry = 2\n"):
                expected = _hits(python, body, path)
                checked += bool(expected)
                chain = _chain_hits(MatchedChain(matcher, enabled=False), detector, body, path)
                scanned = {(f.rule_id, f.fingerprint, f.line, f.column)
                           for f in files.scan(path, body.encode("utf-8"))}
                for name, got in (("chain", chain), ("scan", scanned)):
                    if got != expected:
                        problems.append((rule.id, name, text[:40], sorted(expected - got), sorted(got - expected)))
    assert problems == []
    assert checked > 500


def test_a_lone_cr_text_is_searched_through_hyperscan_windows_not_the_keyword_path(matcher: RuleMatcher) -> None:
    detector = Detector(list(matcher.rules))
    text = "%!PS-Adobe-3.0\r" + "% filler line\r" * 3000 + f"stripe = '{stripe_live_key(seed=77)}'\rend\r"
    chain = MatchedChain(matcher, enabled=True)
    found = _chain_hits(chain, detector, text, "art/logo.ai")
    assert found == _hits(Detector(list(matcher.rules), engine="python"), text, "art/logo.ai")
    assert {(rule, line) for rule, _, line, _ in found} == {("stripe-live-secret-key", 3002)}
    assert chain.keyword_path == 0 and chain.judged >= 1


@pytest.mark.parametrize("eol", [b"\n", b"\r"])
def test_a_text_not_utf8_throughout_is_searched_as_the_detector_reads_it(matcher: RuleMatcher, eol: bytes) -> None:
    """A Latin-1 file (an accented letter on every line: too many invalid bytes for Python to judge
    the regions around each) is searched through the shadow of its text as the detector decodes it
    (U+FFFD for each invalid byte), not sent whole down the keyword path; the findings, lines and
    columns are the pure-Python detector's. With lone-CR line ends too (both rewrites at once)."""
    from scanner.filescan import FileScanner

    rules = list(matcher.rules)
    detector = Detector(rules)
    lines = [f"caf\xe9 {n} = 'na\xefve'".encode("latin-1") for n in range(4000)]
    lines[1500] = f"r\xe9sum\xe9 = '{stripe_live_key(seed=78)}'".encode("latin-1")
    lines[3000] = f"password = '{fake(18, seed=79)}'  # caf\xe9".encode("latin-1")
    data = eol.join(lines) + eol
    text = data.decode("utf-8", "replace")
    expected = _hits(Detector(rules, engine="python"), text, "legacy/app.py")
    assert {(rule, line) for rule, _, line, _ in expected} >= {("stripe-live-secret-key", 1501)}
    assert len(expected) == 2

    def scan(part: str, start_line: int, only: Any = None) -> list[Hit]:
        return [Hit.of(f) for f in detector.scan(Fragment(text=part, path="legacy/app.py", start_line=start_line), only)]

    chain = MatchedChain(matcher, enabled=True)
    found = {(h.rule_id, h.fingerprint, h.line, h.column) for h in chain.scan("legacy/app.py", data, lambda d: True, scan)}
    assert found == expected
    assert chain.keyword_path == 0
    scanned = {(f.rule_id, f.fingerprint, f.line, f.column) for f in FileScanner(detector, 1 << 24).scan("legacy/app.py", data)}
    assert scanned == expected
