"""The detector: fragments in, findings out. Knows rules, not git.

Per fragment, in one pass: the keyword prefilter picks the rules that could
match; each candidate's regex searches with a time budget (``SearchBudget``),
the secret is extracted and passed through the entropy, character-class,
placeholder, stopword and allow-list gates, and inline allow markers on the
line are honoured. Overlapping hits keep the most specific rule; rules
turned off by the user still run as ``claim_rules``: they own the text they
match (so a weaker rule whose message would not fit it never takes it over)
and report nothing. A rule that
runs out of budget leaves the fragment incomplete (``DetectorStats.incomplete``):
the commands fail closed on it.
"""
from __future__ import annotations

import bisect
import functools
import time

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Optional, Union

if TYPE_CHECKING:  # mypy checks them as the dataclasses they behave as
    from dataclasses import dataclass, field
else:  # at run time: without importing dataclasses (scanner/record.py says why)
    from scanner.record import dataclass, field

# Inline markers that suppress a hit on their line (shared with the audit).
from scanner.allow import ALLOW_MARKERS, ALLOW_NEXT_LINE
from scanner.decode import decoded_hits
from scanner.digest import sha256_hex
from scanner.documentation import in_doctest
from scanner.encodings import decode_value
from scanner.entropy import FILLER, SLOT, char_classes, placeholder_kind, shannon_entropy
from scanner.lazyre import lazy
from scanner.models import Finding, Fragment, Incomplete, confidence_rank, severity_rank
from scanner.prefilter import HyperscanPrefilter, PythonPrefilter, hyperscan_available, without_ascii_lowering
from scanner.rules import CREDENTIAL_WORDS, Rule


# Inputs at least this large go through Hyperscan (when installed); smaller
# ones - a staged diff - use the Python prefilter and never load Hyperscan.
HYPERSCAN_THRESHOLD = 4 * 1024

DEFAULT_REMEDIATION = (
    "Rotate this credential if it was ever committed, pushed or shared, and load it from an environment "
    "variable or the OS keychain, referenced as ${VAR}."
)


# Large texts are not searched whole: a rule's regex runs only in windows
# around its keywords' occurrences (snapped to line boundaries), since a
# generic assignment regex costs an attempt at every identifier of a file
# while its keywords sit on a few lines. Rules whose matches can reach
# further from a keyword (multi-line key blocks) set ``scope = "text"``.
# Rules whose every match is one line holding one of their keywords (a
# secret-named key and its value) set ``scope = "line"``: in texts of any
# size their regex runs on those lines only.
WINDOW_MIN_TEXT = 2 * 1024
WINDOW_BEFORE = 256
WINDOW_AFTER = 1024
_SNAP = 1024  # how far a window edge may move to reach a line boundary


class KeywordOccurrences:
    """Where the keywords the prefilter saw occur in one large text.

    Each keyword is searched once per text (not once per rule), and only if
    the prefilter reported it, so absent keywords cost nothing.
    """

    def __init__(self, text: str, present: set[str]) -> None:
        self.text = text
        # The Kelvin sign and U+0130 (I with dot above) lower to ASCII letters (the latter
        # growing to "i" and a combining dot, shifting every later offset). The prefilters
        # take neither for a keyword's letter (prefilter.ASCII_LOWERING), nor do the windows
        # here: a CA bundle or a minified script holding one keeps its offsets (requests'
        # cacert.pem versions, 300 KB each), and a window never opens where no prefilter saw
        # a keyword.
        lowered = without_ascii_lowering(text).lower()
        # Should lower() still change offsets, every rule searches the whole text.
        self.lowered: Optional[str] = lowered if len(lowered) == len(text) else None
        self.present = present
        self.limit = max(64, len(text) // (WINDOW_BEFORE + WINDOW_AFTER))
        self._positions: dict[str, list[int]] = {}
        self._lines: dict[tuple[str, ...], list[tuple[int, int]]] = {}
        self._line_keywords: dict[tuple[str, ...], list[int]] = {}  # their keywords' positions, sorted
        self._windows: dict[tuple[str, ...], Optional[list[tuple[int, int]]]] = {}
        self._frequent: dict[str, int] = {}  # keyword -> a count it is known to exceed

    def positions(self, keyword: str, limit: Optional[int] = None) -> Optional[list[int]]:
        """Offsets of ``keyword`` in the (lower-cased) text; None if there are more than ``limit``."""
        found_at = self._positions.get(keyword)
        if found_at is not None:
            return found_at if limit is None or len(found_at) <= limit else None
        if limit is not None and self._frequent.get(keyword, -1) > limit:
            return None
        found_at = []
        if keyword in self.present and self.lowered is not None:
            find = self.lowered.find
            found = find(keyword)
            while found != -1:
                found_at.append(found)
                if limit is not None and len(found_at) > limit:
                    self._frequent[keyword] = len(found_at)  # stop early: windows will not help
                    return None
                found = find(keyword, found + 1)
        self._positions[keyword] = found_at
        return found_at

    def windows(self, rule: Rule) -> Optional[list[tuple[int, int]]]:
        """Merged ``(pos, endpos)`` spans to search for ``rule``, or None for the whole text."""
        if self.lowered is None or not rule.keywords or rule.whole_text:
            return None
        if rule.scope == "line":
            return self.lines(rule.keywords, rule.regex)
        if len(self.text) < WINDOW_MIN_TEXT:
            return None
        keywords = rule.keywords
        if keywords in self._windows:
            return self._windows[keywords]
        positions: list[int] = []
        present = self.present
        windows: Optional[list[tuple[int, int]]] = None
        for keyword in keywords:
            if keyword not in present:
                continue
            found = self.positions(keyword, self.limit - len(positions))
            if found is None:
                break  # too frequent for windows to help
            positions.extend(found)
        else:
            positions.sort()
            windows = _merge_windows(self.text, positions)
        self._windows[keywords] = windows  # rules often share a keyword list
        return windows

    def lines(self, keywords: tuple[str, ...], regex: Optional[str] = None) -> list[tuple[int, int]]:
        """The lines holding any of ``keywords``, as ``(line start, its "\n")``, adjacent lines merged.

        Several rules share one keyword list (the generic ones): computed once per text. With the
        rule's ``regex``, a run of lines longer than LONG_LINE (a minified bundle, a data dump)
        becomes the spans around its keywords that a match holding one can reach
        (``rulematch.keyword_reach``), when the regex bounds that reach.
        """
        spans = self._lines.get(keywords)
        if spans is None:
            text = self.text
            present = self.present
            positions = sorted({p for keyword in keywords if keyword in present for p in self.positions(keyword) or ()})
            self._line_keywords[keywords] = positions
            spans = self._lines[keywords] = []
            for position in positions:
                if spans and position <= spans[-1][1]:
                    continue  # on the line (or merged run of lines) just added
                start = text.rfind("\n", 0, position) + 1
                end = text.find("\n", position)
                end = len(text) if end == -1 else end
                if spans and start <= spans[-1][1] + 1:
                    spans[-1] = (spans[-1][0], end)
                else:
                    spans.append((start, end))
        if regex is None or all(end - start <= LONG_LINE for start, end in spans):
            return spans
        reach = _keyword_reach(regex)
        if reach is None:
            return spans
        return _around_keywords(spans, self._line_keywords[keywords], reach)


# A run of keyword lines longer than this is searched around its keywords (KeywordOccurrences.lines).
LONG_LINE = 8192


@functools.lru_cache(maxsize=None)
def _keyword_reach(regex: str) -> Optional[tuple[int, int]]:
    from scanner.rulematch import keyword_reach

    return keyword_reach(regex)


def _around_keywords(spans: list[tuple[int, int]], positions: list[int],
                     reach: tuple[int, int]) -> list[tuple[int, int]]:
    """``spans`` with each longer than LONG_LINE cut to the merged ``(k - back, k + ahead)`` around
    the keyword positions ``k`` in it. A search from ``pos`` to ``endpos`` reads before ``pos``
    (lookbehinds) but stops at ``endpos``, where ``ahead`` leaves room for what lookaheads read."""
    back, ahead = reach
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if end - start <= LONG_LINE:
            out.append((start, end))
            continue
        index = bisect.bisect_left(positions, start)
        while index < len(positions) and positions[index] < end:
            position = positions[index]
            low, high = max(start, position - back), min(end, position + ahead)
            if out and low <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], high))
            else:
                out.append((low, high))
            index += 1
    return out


def _merge_windows(text: str, positions: list[int]) -> list[tuple[int, int]]:
    windows: list[tuple[int, int]] = []
    size = len(text)
    for position in positions:
        if windows and position - WINDOW_BEFORE <= windows[-1][1]:
            start = windows.pop()[0]
        else:
            start = max(0, position - WINDOW_BEFORE)
            if start:
                line_start = max(text.rfind("\n", start - _SNAP, start), text.rfind("\r", start - _SNAP, start))
                start = line_start + 1 if line_start != -1 else start
        end = min(size, position + WINDOW_AFTER)
        if end < size:
            ends = [i for i in (text.find("\n", end, end + _SNAP), text.find("\r", end, end + _SNAP)) if i != -1]
            end = min(ends) if ends else end
        windows.append((start, end))
    return windows


# A key block whose END line follows its header within a few characters holds
# no key: an empty template or a placeholder word ("-----BEGIN PRIVATE
# KEY-----\nanything\n-----END PRIVATE KEY-----"). Longer short bodies are
# still reported: a truncated key is worth a look (private-key-header).
MIN_KEY_BODY = 16
_KEY_BODY_FILLER = lazy(r"\\[rn]|[\s\"'`+,;]")


def _key_block_too_short(text: str, start: int) -> bool:
    """True when the PEM-style block whose header starts at ``start`` ends before any key could."""
    header_end = text.find("-----", start + 10)
    if header_end == -1:
        return False
    body_start = header_end + 5
    end = text.find("-----END", body_start, body_start + 4 * MIN_KEY_BODY)
    if end == -1:
        return False
    return len(_KEY_BODY_FILLER().sub("", text[body_start:end])) < MIN_KEY_BODY


# A value that runs on past the end of the string literal holding it
# (``password bbbb\n")`` from ``f.write("machine h login u password bbbb\n")``):
# its gates judge what the literal held, up to its first escaped line break.
_LITERAL_TAIL = lazy(r"""(?:\\[nrt])*["'`][),;\]]*$""")


def _inside_literal(secret: str) -> str:
    """The part of ``secret`` inside the string literal it overran, or ``secret`` itself."""
    tail = _LITERAL_TAIL().search(secret)
    if tail is None or tail.start() == 0:
        return secret
    return secret[:tail.start()].split("\\n", 1)[0]


# Provider-prefixed values shorter than this are stubs (see Detector._accept).
SHORT_PREFIXED = 20


def fingerprint(rule_id: str, secret: str) -> str:
    """Content fingerprint: the same secret under the same rule, wherever it moves."""
    return sha256_hex(f"{rule_id}\0{secret}".encode("utf-8", "surrogatepass"))


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """0-based line and 1-based column of ``offset``; ``\\r\\n``, ``\\r`` and ``\\n`` all end lines."""
    newlines = text.count("\n", 0, offset)
    if "\r" in text:
        newlines += text.count("\r", 0, offset) - text.count("\r\n", 0, offset)
        # a "\r" right before offset with "\n" at offset was counted as a lone CR
        if offset and text[offset - 1] == "\r" and text[offset : offset + 1] == "\n":
            newlines -= 1
    line_start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    return newlines, offset - line_start + 1


_LINE_BREAK = lazy(r"\r\n|\r|\n")
_LONE_CR = lazy(r"\r(?!\n)")


class _LineIndex:
    """Where each line of one text starts, built once per text.

    ``line_and_column`` counts from the start of the text on every call; with
    thousands of hits on one long line (a minified bundle, a data dump) that
    made reporting quadratic. Same answers, O(log n) per position.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in _LINE_BREAK().finditer(text)]

    def position(self, offset: int) -> tuple[int, int]:
        text = self.text
        if offset and text[offset - 1 : offset + 1] == "\r\n":
            return line_and_column(text, offset)  # between a CR and its LF: keep that function's answer
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, offset - self.starts[line] + 1


def _line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the whole lines that ``[start, end)`` touches."""
    left = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    right_candidates = [i for i in (text.find("\n", end), text.find("\r", end)) if i != -1]
    return left, min(right_candidates) if right_candidates else len(text)


def _previous_line(text: str, line_start: int) -> str:
    if line_start == 0:
        return ""
    end = line_start - 1
    if end > 0 and text[end] == "\n" and text[end - 1] == "\r":
        end -= 1
    begin = max(text.rfind("\n", 0, end), text.rfind("\r", 0, end)) + 1
    return text[begin:end]


# A regex search's time budget guards against catastrophic backtracking, not
# against large inputs: each window of a text (or the whole text) starts with
# ``regex_timeout`` seconds plus SECONDS_PER_CHAR for every character in it,
# and every match found adds SECONDS_PER_MATCH. Only time inside the regex
# engine is charged, never the Python work done on each hit, so legitimate
# work grows the budget as fast as it spends it: a linear search of a 25 MB
# file gets 26 s, tens of thousands of hits on one line get more per hit than
# a search costs, on any machine short of a hundred times slower. An
# exponential regex blows through any such budget within seconds.
SECONDS_PER_CHAR = 1.0 / (1024 * 1024)
SECONDS_PER_MATCH = 0.01


class SearchBudget:
    """The engine time one window may still spend; each search call is handed what is left."""

    __slots__ = ("left",)

    def __init__(self, base: float, span: int) -> None:
        self.left = base + span * SECONDS_PER_CHAR

    def search(self, pattern: Any, text: str, pos: int, endpos: int) -> Any:
        """``pattern.search`` with the remaining budget as its timeout (raises TimeoutError)."""
        if self.left <= 0:
            raise TimeoutError
        began = time.monotonic()
        try:
            return pattern.search(text, pos, endpos, timeout=self.left)
        finally:
            self.left -= time.monotonic() - began


@dataclass
class DetectorStats:
    """Counters a report can show: what was scanned, and what could not be finished.

    ``regex_calls`` and ``regex_chars`` (the characters searches advanced
    over) measure the regex stage's work without a clock: tests assert that
    it grows linearly with the input.
    """

    fragments: int = 0
    bytes: int = 0
    regex_timeouts: int = 0
    regex_calls: int = 0
    regex_chars: int = 0
    incomplete: list[Incomplete] = field(default_factory=list)


def _valid(validator: str, secret: str) -> bool:
    """``validators.validate``, imported on the first hit of a rule that has a validator
    (with ``json`` and ``base64``, which a staged scan seldom needs)."""
    from scanner.validators import validate

    return validate(validator, secret)


def _b64(data: bytes) -> str:
    import base64  # binary content only

    return base64.b64encode(data).decode("ascii")


def _compile_all(patterns: Sequence[str]) -> list[Any]:
    """``regex`` patterns (imported only when there is one: most runs have none)."""
    if not patterns:
        return []
    import regex

    return [regex.compile(p) for p in patterns]


class Detector:
    """Turns fragments into findings with a fixed rule set."""

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        allow_regexes: Sequence[str] = (),
        stopwords: Sequence[str] = (),
        min_confidence: str = "low",
        engine: str = "auto",
        regex_timeout: float = 1.0,
        claim_rules: Sequence[Rule] = (),
    ) -> None:
        self.rules = list(rules)
        # Disabled rules: they run and win overlaps as they would enabled, but
        # their hits are never reported (``disable-rules`` must not reroute a
        # match to a rule that misdescribes it, e.g. a verified GitHub token to
        # "checksum does not verify").
        enabled = {rule.id for rule in self.rules}
        self.claim_rules = [rule for rule in claim_rules if rule.id not in enabled]
        self._silent = frozenset(rule.id for rule in self.claim_rules)
        self.allow_patterns = _compile_all(allow_regexes)
        self.stopwords = tuple(s.lower() for s in stopwords)
        self.min_confidence = confidence_rank(min_confidence)
        self.engine = engine
        self.regex_timeout = regex_timeout
        self.stats = DetectorStats()
        self._marker_text: Optional[str] = None
        self._marker_free = False
        self._fragment: Optional[Fragment] = None  # the one being scanned: named in incomplete records
        keywords: list[str] = []
        self._keyword_rules: list[list[int]] = []
        positions: dict[str, int] = {}
        self._always: list[int] = []
        # Rules chosen by path rather than by keyword: binary ones (keystores)
        # and text ones whose file kind has no keyword (.pgpass lines).
        self._binary: list[Rule] = []
        self._by_path: list[tuple[int, Rule]] = []
        for index, rule in enumerate(self.running_rules):
            if rule.content == "binary":
                self._binary.append(rule)
                continue
            if not rule.keywords and rule.path:
                self._by_path.append((index, rule))
                continue
            if not rule.keywords:
                self._always.append(index)
            for kw in rule.keywords:
                if kw not in positions:
                    positions[kw] = len(keywords)
                    keywords.append(kw)
                    self._keyword_rules.append([])
                self._keyword_rules[positions[kw]].append(index)
        self._keywords = keywords
        self._prefixes: Optional[tuple[str, ...]] = None
        self._kinds_of: dict[str, tuple[bool, bool]] = {}  # path -> (reads_path, reads_binary)
        self._small: Optional[PythonPrefilter] = None
        self._large: Optional[Union[PythonPrefilter, HyperscanPrefilter]] = None

    @property
    def running_rules(self) -> list[Rule]:
        """Every rule whose regex runs: the enabled ones, then the claiming (disabled) ones."""
        return self.rules + self.claim_rules

    # -- prefilter -------------------------------------------------------
    def _prefilter_for(self, size: int) -> Union[PythonPrefilter, HyperscanPrefilter]:
        if size >= HYPERSCAN_THRESHOLD and self.engine != "python":
            if self._large is None:
                use_hs = self.engine == "hyperscan" or hyperscan_available()
                self._large = HyperscanPrefilter(self._keywords) if use_hs else self._python()
            return self._large
        if self.engine == "hyperscan":
            if self._large is None:
                self._large = HyperscanPrefilter(self._keywords)
            return self._large
        return self._python()

    def _python(self) -> PythonPrefilter:
        if self._small is None:
            self._small = PythonPrefilter(self._keywords)
        return self._small

    def candidates(self, data: Union[str, bytes]) -> list[Rule]:
        """Rules whose keywords occur in ``data`` (plus rules without keywords)."""
        return self._candidates(self._prefilter_for(len(data)).matches(data))

    def _candidates(self, hits: set[int], only: Optional[Collection[int]] = None) -> list[Rule]:
        indices = set(self._always)
        for kw_index in hits:
            indices.update(self._keyword_rules[kw_index])
        running = self.running_rules
        if only is not None:
            # Claiming (disabled) rules are no matcher's candidates: they always run, so a
            # disabled rule's match is still claimed rather than left to a lesser rule.
            enabled = len(self.rules)
            indices = {i for i in indices if i in only or i >= enabled}
        return [running[i] for i in sorted(indices)]

    def might_match(self, data: bytes) -> bool:
        """Cheap test on raw bytes: could any rule fire? (History skips decoding otherwise.)

        Rules chosen by path are not counted: ask ``reads_path`` for those.
        """
        if self._always:
            return True
        return bool(self._prefilter_for(len(data)).matches(data))

    @property
    def needs_every_text(self) -> bool:
        """True when a rule without keywords or path runs on every text (no prefilter can skip any)."""
        return bool(self._always)

    @property
    def keywords(self) -> list[str]:
        """Every keyword the prefilter looks for, in prefilter order."""
        return list(self._keywords)

    def reads_path(self, path: str) -> bool:
        """True when a text rule chosen by path (no keywords) applies to ``path``: its texts must be
        scanned whatever the keyword prefilter says."""
        return self._path_kinds(path)[0]

    def reads_binary(self, path: str) -> bool:
        """True when a ``content = "binary"`` rule reads files at ``path`` (sources skip other binary files)."""
        return self._path_kinds(path)[1]

    def _path_kinds(self, path: str) -> tuple[bool, bool]:
        # History asks for every blob; a path recurs in every version of its file, so
        # each path's answer is worked out once.
        kinds = self._kinds_of.get(path)
        if kinds is None:
            kinds = self._kinds_of[path] = (
                any(rule.path_pattern is not None and rule.path_pattern.search(path) for _, rule in self._by_path),
                any(rule.path_pattern is not None and rule.path_pattern.search(path) for rule in self._binary),
            )
        return kinds

    # -- detection -------------------------------------------------------
    def scan_text(self, text: str, path: str = "-") -> list[Finding]:
        """Scan a string as if it were the whole file ``path``."""
        return self.scan(Fragment(text=text, path=path))

    def scan_all(self, fragments: Iterable[Fragment]) -> Iterable[Finding]:
        """Scan fragments lazily, one at a time."""
        for fragment in fragments:
            yield from self.scan(fragment)

    def scan(self, fragment: Fragment, only: Optional[Collection[int]] = None) -> list[Finding]:
        """All findings in one fragment, most specific rule per overlapping span.

        ``only`` (indices into ``rules``) limits the plain search to those rules: the caller
        knows no other enabled rule can match this text (history windows, where Hyperscan
        reported which rules matched). Decoded views are still searched with every rule.
        """
        text = fragment.text
        if fragment.binary:
            # most binary files (images, archives) are no rule's business: not even counted as scanned
            return self._scan_binary(fragment) if text and self.reads_binary(fragment.path) else []
        self.stats.fragments += 1
        self.stats.bytes += len(text)
        if not text:
            return []
        self._fragment = fragment
        hits = self.raw_hits(text, fragment.path, only)
        # Values one encoding away (Kubernetes Secret data, %XX escapes); only
        # spans no plain hit already covers, so a readable hit is never replaced
        # - except on base64 Secret data, which only its decoding can judge.
        opaque: list[tuple[int, int]] = []
        decoded = decoded_hits(self, text, fragment.path, opaque=opaque)
        if opaque:  # (a rule that decodes base64 itself has judged the decoded value already)
            hits = [h for h in hits if "base64" in h[2].decode or not any(s <= h[0] and h[1] <= e for s, e in opaque)]
        if decoded and opaque:
            # A rule that flags an encoded value as such (any value of a Secret) yields to one
            # that recognises what the value decodes to: that finding says more.
            hits = [h for h in hits if "base64" not in h[2].decode
                    or not any(d[0] <= h[0] and h[1] <= d[1] for d in decoded)]
        # Several rules may judge one decoded value: the most confident names it.
        decoded.sort(key=lambda h: (confidence_rank(h[2].confidence), severity_rank(h[2].severity)), reverse=True)
        for hit in decoded:
            if all(hit[1] <= other[0] or hit[0] >= other[1] for other in hits):
                hits.append(hit)
        self._fragment = None
        return self._to_findings(self._most_specific(hits), fragment)

    def raw_hits(self, text: str, path: str,
                 only: Optional[Collection[int]] = None) -> list[tuple[int, int, Rule, str]]:
        """Every accepted rule hit in ``text`` as (start, end, rule, secret), overlaps included
        (of the rules ``only`` names, when given, and the claiming ones)."""
        if "\r" in text and _LONE_CR().search(text):
            # Rules anchor on lines with (?m)^ and $, which know only LF: in a
            # CR-only file (classic Mac) every line-anchored rule saw one line.
            # Same length, so offsets, positions and secrets are unchanged.
            text = _LONE_CR().sub("\n", text)
        hits: list[tuple[int, int, Rule, str]] = []
        present = self._prefilter_for(len(text)).matches(text)
        occurrences: Optional[KeywordOccurrences] = None
        candidates = self._candidates(present, only)
        if self._by_path:
            candidates += [rule for index, rule in self._by_path if rule.path_pattern is not None
                           and (only is None or index in only or index >= len(self.rules))
                           and rule.path_pattern.search(path)]
        for rule in candidates:
            if rule.path_pattern is not None and not rule.path_pattern.search(path):
                continue
            windows = None
            if rule.keywords and (rule.scope == "line" or len(text) >= WINDOW_MIN_TEXT):
                if occurrences is None:
                    occurrences = KeywordOccurrences(text, {self._keywords[i] for i in present})
                windows = occurrences.windows(rule)
            hits.extend(self._rule_hits(rule, text, path, windows))
        self._marker_text = None  # do not keep a large text alive between scans
        return hits

    def _scan_binary(self, fragment: Fragment) -> list[Finding]:
        """Binary content: only ``content = "binary"`` rules whose path matches, on its latin-1 text.

        The secret is reported as the base64 of the matched bytes, so reports stay printable and
        ``--show-secrets`` still gives back exactly what was found. No inline allow markers: a
        binary file has no comment lines (allow it by path or fingerprint).
        """
        hits: list[tuple[int, int, Rule, str]] = []
        self._fragment = fragment
        text, path = fragment.text, fragment.path
        self.stats.fragments += 1
        self.stats.bytes += len(text)
        for rule in self._binary:
            if rule.path_pattern is None or not rule.path_pattern.search(path):
                continue
            try:
                for match in self._matches(rule.pattern, text, 0, len(text)):
                    start, end = rule.secret_span(match)
                    if start < 0 or start == end:
                        continue
                    secret = text[start:end]
                    if rule.validate is not None and not _valid(rule.validate, secret):
                        continue
                    hits.append((start, end, rule, _b64(secret.encode("latin-1"))))
            except TimeoutError:
                self._gave_up(rule, path)
        self._fragment = None
        findings = []
        for start, end, rule, secret in self._most_specific(hits):
            if confidence_rank(rule.confidence) < self.min_confidence or rule.id in self._silent:
                continue
            # lines mean nothing in binary content: line 1, columns are byte offsets + 1
            findings.append(rule_finding(rule, secret, path, fragment.start_line, start + 1, fragment.start_line,
                                         end + 1, commit=fragment.commit, author=fragment.author, date=fragment.date))
        return findings

    def _no_markers(self, text: str) -> bool:
        """True when ``text`` holds no allow marker at all: checked once per text, not once per hit
        (finding each hit's line cost O(line length), quadratic on one long line with many hits)."""
        if self._marker_text is not text:
            self._marker_text = text
            self._marker_free = not any(m in text for m in ALLOW_MARKERS + (ALLOW_NEXT_LINE,))
        return self._marker_free

    def _rule_hits(self, rule: Rule, text: str, path: str,
                   windows: Optional[list[tuple[int, int]]]) -> Iterable[tuple[int, int, Rule, str]]:
        try:
            for pos, endpos in windows if windows is not None else [(0, len(text))]:
                for match in self._matches(rule.pattern, text, pos, endpos):
                    start, end = rule.secret_span(match)
                    if start < 0:
                        continue
                    secret = text[start:end]
                    accepted = self._accept(rule, secret, text, start, end)
                    if accepted is not None:
                        yield start, end, accepted, secret
        except TimeoutError:
            # Fail closed: the rest of this text was not searched by this rule.
            # The command reports it and exits 3 (or 1 when it found secrets).
            self._gave_up(rule, path)

    def _matches(self, pattern: Any, text: str, pos: int, endpos: int) -> Iterable[Any]:
        """The non-empty matches ``pattern.finditer(text, pos, endpos)`` yields (an empty one is never a
        secret), one budgeted search call per match."""
        stats = self.stats
        budget = SearchBudget(self.regex_timeout, endpos - pos)
        while pos <= endpos:
            stats.regex_calls += 1
            match = budget.search(pattern, text, pos, endpos)
            while match is not None and match.start() == match.end():
                # After an empty match finditer lets the next match start at the
                # same place only if it is not empty: its second step is that match.
                stats.regex_calls += 1
                following = pattern.finditer(text, match.start(), endpos, timeout=max(budget.left, 0.001))
                next(following)
                match = next(following, None)
            if match is None:
                stats.regex_chars += endpos - pos
                return
            stats.regex_chars += match.end() - pos
            budget.left += SECONDS_PER_MATCH
            yield match
            pos = match.end()

    def _gave_up(self, rule: Rule, path: str) -> None:
        fragment = self._fragment
        self.stats.regex_timeouts += 1
        self.stats.incomplete.append(Incomplete(
            reason="regex-timeout",
            message="rule timed out (its regex backtracks on this input) and did not finish scanning",
            rule_id=rule.id, path=path,
            commit=fragment.commit if fragment is not None else None,
            blob=fragment.blob if fragment is not None else None,
        ))

    def _accept(self, rule: Rule, secret: str, text: str, start: int, end: int) -> Optional[Rule]:
        """The rule to report a hit under (``rule.as_example`` for filler), or None to drop it."""
        if not secret.strip():
            return None
        if secret in rule.documented_samples:
            return rule  # claims its text; _to_findings reports nothing for it
        # A checksum or structure the format guarantees: failing it means the
        # hit is not this kind of secret (validators see the raw value).
        if rule.validate is not None and not _valid(rule.validate, secret):
            return None
        if rule.decode:
            # The rule's value is encoded: the gates below judge what it decodes to.
            decoded = decode_value(secret, rule.decode)
            if decoded is None:
                return None
            secret = decoded
        if rule.min_entropy is not None and shannon_entropy(secret) < rule.min_entropy:
            return None
        if rule.min_char_classes and char_classes(secret) < rule.min_char_classes:
            return None
        kinds = (placeholder_kind(secret), placeholder_kind(_inside_literal(secret)))
        if SLOT in kinds or (FILLER in kinds and not rule.reports_filler):
            return None
        # Filler in a provider's format that passed the rule's entropy gate (a long value with an
        # EXAMPLE or a typed run in it): reported as an example at low confidence, after every gate
        # below (the commit hook blocks medium and above only). Filler that fails the entropy gate
        # stays dropped: upstream suites label a provider prefix on "aaaa..." or "1234..." as no key.
        reported = rule.as_example if FILLER in kinds else rule
        if secret.startswith("-----BEGIN") and _key_block_too_short(text, start):
            return None
        lowered = secret.lower()
        if any(word in lowered for word in rule.stopwords + self.stopwords):
            return None
        if rule.id.startswith("generic-") and len(secret) < SHORT_PREFIXED and lowered.startswith(
                self._provider_prefixes()):
            # A short value that opens with a provider's token prefix (AstraCS:, ucat_, os_v2_)
            # is too short for the format it claims: that provider's rule did not match it, and
            # it is a stub or a test value, not an unknown secret. (Longer ones stay: a provider
            # rule that is too strict must not hide a real token from the generic rules.)
            return None
        if any(p.search(secret) for p in rule.allow_patterns) or any(p.search(secret) for p in self.allow_patterns):
            return None
        if not rule.docs:
            # docs = false (context-only rules): not in a doctest either, documentation inside code
            left, right = _line_bounds(text, start, end)
            if in_doctest(text[left:right], _previous_line(text, left)):
                return None
        if self._no_markers(text):
            return reported
        left, right = _line_bounds(text, start, end)
        line = text[left:right]
        if any(marker in line for marker in ALLOW_MARKERS):
            return None
        if ALLOW_NEXT_LINE in _previous_line(text, left):
            return None
        return reported

    def _provider_prefixes(self) -> tuple[str, ...]:
        """The token prefixes of the provider rules: keywords of four characters or more ending in
        ``_``, ``-`` or ``:`` and holding no credential word of their own (``api_key_`` is a name)."""
        if self._prefixes is None:
            self._prefixes = tuple(sorted({
                kw for rule in self.running_rules if not rule.id.startswith("generic-")
                for kw in rule.keywords
                if len(kw) >= 4 and kw[-1] in "_-:" and kw[0].isalnum() and not any(n in kw for n in CREDENTIAL_WORDS)
            }))
        return self._prefixes

    def _most_specific(self, hits: list[tuple[int, int, Rule, str]]) -> list[tuple[int, int, Rule, str]]:
        """Where hits overlap, keep the most confident (then most severe, then longest) one."""
        def strength(hit: tuple[int, int, Rule, str]) -> tuple[int, int, int]:
            start, end, rule, _ = hit
            return confidence_rank(rule.confidence), severity_rank(rule.severity), end - start

        # Kept spans never overlap, so sorted by start they are sorted by end
        # too and only the two neighbours of a new span can overlap it
        # (comparing with every kept span was quadratic in the number of hits).
        kept: list[tuple[int, int, Rule, str]] = []
        starts: list[int] = []
        ends: list[int] = []
        for hit in sorted(hits, key=strength, reverse=True):
            at = bisect.bisect_right(starts, hit[0])
            if at and ends[at - 1] > hit[0]:
                continue
            if at < len(starts) and starts[at] < hit[1]:
                continue
            starts.insert(at, hit[0])
            ends.insert(at, hit[1])
            kept.append(hit)
        return sorted(kept, key=lambda h: (h[0], h[2].id))

    def _to_findings(self, hits: list[tuple[int, int, Rule, str]], fragment: Fragment) -> list[Finding]:
        findings = []
        position = _LineIndex(fragment.text).position if len(hits) > 16 else (
            lambda offset: line_and_column(fragment.text, offset))
        ranges = fragment.report_lines
        silent = self._silent
        for start, end, rule, secret in hits:
            if confidence_rank(rule.confidence) < self.min_confidence or rule.id in silent:
                continue
            if secret in rule.documented_samples:
                continue  # a vendor's published sample (Rule.documented_samples)
            line, column = position(start)
            end_line, end_column = position(end)
            if ranges is not None and not any(first <= fragment.start_line + end_line
                                              and fragment.start_line + line <= last for first, last in ranges):
                continue  # wholly on context lines
            findings.append(rule_finding(
                rule, secret, fragment.path, fragment.start_line + line, column,
                fragment.start_line + end_line, end_column,
                commit=fragment.commit, author=fragment.author, date=fragment.date,
            ))
        return findings


def rule_finding(rule: Rule, secret: str, path: str, line: int, column: int,
                 end_line: Optional[int], end_column: Optional[int],
                 **context: Any) -> Finding:
    """A rule's finding at one place; ``context`` adds commit, author, date, fingerprint or extra."""
    context.setdefault("fingerprint", fingerprint(rule.id, secret))
    return Finding(
        rule_id=rule.id,
        severity=rule.severity,
        confidence=rule.confidence,
        message=f"{rule.description} detected",
        description=rule.description,
        remediation=rule.remediation or DEFAULT_REMEDIATION,
        example=rule.example,
        path=path,
        line=line,
        column=column,
        end_line=end_line,
        end_column=end_column,
        secret=secret,
        **context,
    )
