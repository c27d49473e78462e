"""Scan successive versions of a file without re-running rules over unchanged lines.

Most blobs in a history are one small edit away from another version of the
same path, and workers read each path's versions one after another. The first
version a worker sees ("anchor") is scanned whole. For the next, the bytes are
compared with the previous version's: the common prefix and suffix are cut
(``memcmp`` speed), the changed middle is split into lines, and only lines the
previous middle did not have are new. The rules then run on small windows
around the new lines (two lines of context each side: enough for inline allow
markers and for multi-line keys added at once); nothing is decoded or hashed
outside the changed middle. Hits of the previous version whose line is
unchanged and whose secret is still in the blob are carried to their new line
numbers, so every blob still gets its complete list of hits.

Why this finds what a whole-file scan finds: every line of a version either
was in the version before it (its hits are carried over) or is new (and is
rescanned in context); by induction down the chain every line was scanned
once. Whole-file scans are used whenever that argument is weak: lone ``\\r``
line ends (the detector counts them as lines), large rewrites, and files
mentioning ``Secret`` (the detector decodes Kubernetes Secret values only when
the manifest's ``kind: Secret`` is in the text it sees).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from scanner.encodings import decode_blob
from scanner.history.hits import Hit
from scanner.rulematch import text_ok, unvouched_regions

CONTEXT = 2
# More new lines than 1/REWRITE_SHARE of the file: a whole-file scan is cheaper.
REWRITE_SHARE = 3
_BLOCK = 4096
_BOM = b"\xef\xbb\xbf"

# (text, first line number[, indices of the only rules that can match]) -> hits with absolute lines
ScanFn = Callable[..., list[Hit]]
MatchFn = Callable[[bytes], bool]  # the keyword prefilter on raw bytes


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix of ``a`` and ``b`` (block-wise memcmp, then bisection)."""
    limit = min(len(a), len(b))
    i = 0
    while i < limit and a[i : i + _BLOCK] == b[i : i + _BLOCK]:
        i += _BLOCK
    if i >= limit:
        return limit
    lo, hi = i, min(i + _BLOCK, limit)  # a[:lo] == b[:lo]; the first difference is below hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the common suffix of ``a`` and ``b``, at most ``limit``."""
    n = 0
    la, lb = len(a), len(b)
    while n < limit:
        step = min(_BLOCK, limit - n)
        if a[la - n - step : la - n] == b[lb - n - step : lb - n]:
            n += step
            continue
        lo, hi = n, n + step - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if a[la - mid : la - n] == b[lb - mid : lb - n]:
                lo = mid
            else:
                hi = mid - 1
        return lo
    return n

def _changed_lines(prev: bytes, data: bytes) -> tuple[int, int]:
    """``(p, e)``: ``data[p:e]`` is the run of whole lines where ``data`` differs from ``prev``
    (common prefix back to a line start, common suffix forward to one); the rest is shared."""
    p = _common_prefix(prev, data)
    p = data.rfind(b"\n", 0, p) + 1  # back to a line start
    s = _common_suffix(prev, data, min(len(prev), len(data)) - p)
    e = len(data) - s
    if 0 < e < len(data) and data[e - 1] != 10:
        nl = data.find(b"\n", e)
        e = len(data) if nl == -1 else nl + 1  # forward to a line start
    return p, e



class VersionChain:
    """The previous version of the path being scanned, and its hits."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.path: Optional[str] = None
        self.data = b""
        self.hits: list[tuple[Hit, bytes]] = []
        self.has_secret_word = False  # does self.data contain b"Secret"?
        self.newlines = 0  # self.data.count(b"\n"), kept up to date along the chain
        self.full_scans = 0
        self.window_scans = 0

    @staticmethod
    def unique(hits: list[Hit]) -> list[Hit]:
        """First hit per fingerprint, in file order."""
        return _unique(hits)

    def reset(self) -> None:
        """Forget the previous version (the next one is scanned whole)."""
        self.path = None
        self.data = b""
        self.hits = []
        self.has_secret_word = False

    def scan(self, path: str, data: bytes, might_match: MatchFn, scan: ScanFn) -> list[Hit]:
        """All hits in ``data`` (a text version of ``path``), first occurrence per fingerprint."""
        if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
            self.reset()
            return self._whole(data, might_match, scan)
        # "Secret" (a Kubernetes manifest: values are decoded only when the
        # detector sees the whole file) forces whole scans. Searching every
        # version for it costs as much as git's decompression, so along a
        # chain only the spans that changed are searched (see _delta).
        newlines = -1
        if self.path != path or not self.enabled or self.has_secret_word:
            hits = self._whole(data, might_match, scan)
            has_secret_word = b"Secret" in data
        else:
            found, newlines = self._delta(data, might_match, scan)
            has_secret_word = found is None and b"Secret" in data
            hits = self._whole(data, might_match, scan) if found is None else _unique(found)
        self.path, self.data, self.has_secret_word = path, data, has_secret_word
        self.newlines = newlines if newlines >= 0 else data.count(b"\n")
        if hits:
            lines = data.split(b"\n")
            self.hits = [(h, lines[h.line - 1]) for h in hits if 0 < h.line <= len(lines)]
        else:
            self.hits = []
        return hits

    def _whole(self, data: bytes, might_match: MatchFn, scan: ScanFn) -> list[Hit]:
        self.full_scans += 1
        if not might_match(data):
            return []
        text = decode_blob(data)
        return _unique(scan(text, 1)) if text else []

    def _delta(self, data: bytes, might_match: MatchFn, scan: ScanFn) -> tuple[Optional[list[Hit]], int]:
        """Hits from windows around new lines plus carried hits (None = do a whole-file scan),
        and the number of line feeds in ``data`` (-1 if not known)."""
        prev = self.data
        p, e = _changed_lines(prev, data)
        prev_e = len(prev) - (len(data) - e)
        old: set[bytes] = set()
        lines: list[bytes] = []
        newlines = self.newlines  # outside the changed spans both versions have the same lines
        for new_start, new_end, old_start, old_end in _changed_regions(prev, data, p, e, p, prev_e):
            middle = data[new_start:new_end]
            if b"Secret" in middle:
                return None, -1  # the previous version had none: it was added here, scan whole
            lines.extend(middle.split(b"\n"))
            if middle.endswith(b"\n"):
                lines.pop()
            gone = prev[old_start:old_end].split(b"\n")
            old.update(gone)
            newlines += middle.count(b"\n") - (len(gone) - 1)
        new = set(lines) - old
        if len(new) > 8 and len(new) * REWRITE_SHARE > newlines + 1:
            return None, newlines
        self.window_scans += 1
        found: list[Hit] = []
        if new:
            found.extend(self._windows(data, p, e, new, newlines, might_match, scan))
        found.extend(self._carried(data))
        return found, newlines

    def _windows(self, data: bytes, p: int, e: int, new: set[bytes], newlines: int,
                 might_match: MatchFn, scan: ScanFn) -> list[Hit]:
        """Scan byte windows of CONTEXT lines around every new line in ``data[p:e]``."""
        padded = b"\n" + data + b"\n"  # padded[q] == "\n" before a line starting at data[q]
        size = len(data)
        starts: list[tuple[int, int]] = []
        for line in new:
            if not line.strip():
                continue  # a blank line cannot hold a secret, and would match everywhere
            needle = b"\n" + line + b"\n"
            at = padded.find(needle, p, e + 2)
            while at != -1:
                starts.append((at, at + len(line)))
                at = padded.find(needle, at + 1, e + 2)
        spans: list[tuple[int, int]] = []
        for start, end in sorted(starts):  # data[start:end] is the line; data[end] its "\n"
            for _ in range(CONTEXT):
                if start == 0:
                    break
                start = data.rfind(b"\n", 0, start - 1) + 1
            for _ in range(CONTEXT):
                if end >= size:
                    break
                nl = data.find(b"\n", end + 1)
                end = size if nl == -1 else nl
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
        found: list[Hit] = []
        line_no, counted = 1, 0  # line number at offset `counted`; spans are in file order
        for start, end in spans:
            window = data[start:end]
            if not might_match(window):
                continue
            if start == 0 and window.startswith(_BOM):
                window = window[3:]  # decode_blob drops the BOM; columns on line 1 must agree
            if not counted and start > size // 2:
                # count the line feeds after the window, not the (longer) run before it
                line_no = newlines - data.count(b"\n", start) + 1
            else:
                line_no += data.count(b"\n", counted, start)
            counted = start
            found.extend(scan(window.decode("utf-8", "replace"), line_no))
        return found

    def _carried(self, data: bytes) -> list[Hit]:
        carried: list[Hit] = []
        padded: Optional[bytes] = None
        for hit, line_bytes in self.hits:
            if hit.secret.encode("utf-8", "surrogatepass") not in data:
                continue
            if padded is None:
                padded = b"\n" + data + b"\n"
            at = padded.find(b"\n" + line_bytes + b"\n")
            if at == -1:
                continue  # the line changed: it was new, and rescanned in its window
            line = padded.count(b"\n", 0, at) + 1
            shift = line - hit.line
            carried.append(hit._replace(line=line, end_line=hit.end_line + shift if hit.end_line is not None else None))
        return carried


# A changed middle larger than this is searched for an unchanged run inside
# it (two edits far apart leave most of the file between them untouched).
_SPLIT_MIN = 8192
_PROBE = 256
_MAX_REGIONS = 16


def _changed_regions(prev: bytes, data: bytes, p: int, e: int, q: int, f: int,
                     budget: Optional[list[int]] = None) -> list[tuple[int, int, int, int]]:
    """Line-aligned ``(new_start, new_end, old_start, old_end)`` spans that differ.

    ``data[p:e]`` and ``prev[q:f]`` are the changed middles. A probe from the
    middle of the new span is looked up in the old one; where found, the
    identical run around it (grown with memcmp, cut back to whole lines) is
    dropped and both sides are split again. Lines outside the returned spans
    are byte-identical in both versions, so their hits carry over unchanged;
    a line that only moved may be rescanned, never missed.
    """
    if budget is None:
        budget = [_MAX_REGIONS]
    whole = [(p, e, q, f)]
    if e - p < _SPLIT_MIN or f - q < _SPLIT_MIN or budget[0] <= 1:
        return whole
    mid = p + (e - p) // 2
    probe = data[mid : mid + _PROBE]
    at = prev.find(probe, q, f)
    if at == -1 or prev.find(probe, at + 1, f) != -1:
        return whole  # not there, or not unique: keep the span whole
    # the identical run around the probe, grown at memcmp speed
    run_start = mid - _common_suffix(data[p:mid], prev[q:at], min(mid - p, at - q))
    run_end = mid + _common_prefix(data[mid:e], prev[at:f])
    shift = at - mid  # old offset = new offset + shift, inside the run
    # cut back to whole lines whose line breaks lie inside the run (so both sides agree)
    if run_start == p:
        cut_start = p  # p and q are line starts already
    else:
        nl = data.find(b"\n", run_start, run_end)
        if nl == -1:
            return whole
        cut_start = nl + 1
    nl = data.rfind(b"\n", cut_start, run_end)
    if nl == -1:
        return whole
    cut_end = nl + 1
    budget[0] -= 1
    return (_changed_regions(prev, data, p, cut_start, q, cut_start + shift, budget)
            + _changed_regions(prev, data, cut_end, e, cut_end + shift, f, budget))


def _unique(hits: list[Hit]) -> list[Hit]:
    """First hit per fingerprint, in file order (the same secret twice in a file is one finding)."""
    seen: set[str] = set()
    out: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.line, h.column)):
        if hit.fingerprint not in seen:
            seen.add(hit.fingerprint)
            out.append(hit)
    return out


class MatchedChain(VersionChain):
    """A version chain whose candidates come from the rules' Hyperscan database.

    Per version the Python work is a constant number of C-level calls: the
    prefix/suffix compare with the previous version, one Hyperscan scan of
    the changed lines (with CONTEXT lines each side), line-feed counts; the
    detector then judges only windows around the matches Hyperscan reports,
    and a window already judged in this chain (the same bytes) is not judged
    again. Hits outside the changed lines are carried by position: those
    before them keep their line, those after move by the change in line count.

    Spans Hyperscan cannot vouch for (non-ASCII, see ``rulematch.text_ok``),
    a rule that needs the whole text, or too many matches go through the
    keyword path (``VersionChain``'s whole-text scan, or the detector on the
    changed span).
    """

    # Windows judged per chain are remembered up to this many.
    MAX_VERDICTS = 4096
    # A window longer than this (a whole text) is not kept: the chain's next version differs.
    MAX_VERDICT_BYTES = 1 << 16

    def __init__(self, matcher: Any, enabled: bool = True) -> None:
        super().__init__(enabled)
        self.matcher = matcher
        self.plain: list[Hit] = []
        self.verdicts: dict[tuple[bytes, Optional[frozenset[int]]], list[Hit]] = {}
        self.judged = 0
        self.reused = 0
        self.keyword_path = 0
        self.reasons: dict[str, int] = {}  # why texts took the keyword path
        self.whole_rules: dict[str, int] = {}  # rules that had whole texts judged (not the keyword path)

    def reset(self) -> None:
        super().reset()
        self.plain = []
        self.verdicts = {}

    def scan(self, path: str, data: bytes, might_match: MatchFn, scan: ScanFn) -> list[Hit]:
        lone_cr = b"\r" in data and data.count(b"\r") != data.count(b"\r\n")
        if lone_cr or self.path != path:
            self.reset()
        self.matcher.path = path
        hits: Optional[list[Hit]] = None
        newlines = -1
        if self.path == path and self.enabled and not self.has_secret_word:
            hits, newlines = self._changed(data, might_match, scan)
            has_secret_word = hits is None and b"Secret" in data
        else:
            has_secret_word = b"Secret" in data
        if hits is None:
            hits = self._matched_whole(data, might_match, scan, has_secret_word or lone_cr)
        if lone_cr:
            return _unique(hits)  # the detector counts lone CRs as line ends: no chain across them
        self.path, self.data, self.has_secret_word = path, data, has_secret_word
        self.newlines = newlines if newlines >= 0 else data.count(b"\n")
        self.plain = hits  # every hit, not one per fingerprint: a kept copy must carry on when another goes
        return _unique(hits)

    def _keyword_whole(self, data: bytes, might_match: MatchFn, scan: ScanFn) -> list[Hit]:
        """The keyword path on the whole text (every hit, not one per fingerprint)."""
        self.keyword_path += 1
        self.full_scans += 1
        if not might_match(data):
            return []
        text = decode_blob(data)
        return scan(text, 1) if text else []

    def _matched_whole(self, data: bytes, might_match: MatchFn, scan: ScanFn, keyword_path: bool) -> list[Hit]:
        """The whole version: Hyperscan over all of it, the detector on windows around its matches."""
        if keyword_path:
            self._because("secret-or-cr")
            return self._keyword_whole(data, might_match, scan)
        # Non-ASCII bytes (a name in a header, a Unicode test string) leave Hyperscan's word on
        # the text around them unvouched: every rule judges those regions, Hyperscan the rest.
        regions = [] if text_ok(data) else unvouched_regions(data, self.matcher.max_lines)
        if regions is None:
            self._because("non-ascii")
            return self._keyword_whole(data, might_match, scan)
        self.full_scans += 1
        self.matcher.whole_by = -1
        found, _ = self._judge(data, data, 0, 1, (1, len(data) + 2), scan, regions)
        if found is not None and self.matcher.whole_by >= 0:
            rule_id = self.matcher.rules[self.matcher.whole_by].id
            self.whole_rules[rule_id] = self.whole_rules.get(rule_id, 0) + 1
        if found is None:
            self._because("too-many-matches")
            self.full_scans -= 1
            return self._keyword_whole(data, might_match, scan)
        return found

    def _because(self, reason: str) -> None:
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def _judge(self, data: bytes, span: bytes, offset: int, first_line: int, keep: tuple[int, int],
               scan: ScanFn, regions: Optional[list[tuple[int, int]]] = None) -> tuple[Optional[list[Hit]], bool]:
        """Hits in windows around the rule matches in ``span`` (``data[offset:...]``, whose first line
        is ``first_line``) that start on the span's lines ``keep`` (first, after last): a window
        reaches past the span, where the hits are carried from the previous version. Or None and
        whether a rule needs the whole text (else Hyperscan reported too many matches: the keyword
        path will do).

        ``regions`` (given for a whole text only) are judged by every rule; there a rule that
        needs the whole text gets it, with the other rules Hyperscan matched.
        """
        matches = self.matcher.scan(span)
        if matches is None:
            return None, False
        if not matches and not regions:
            return [], False
        if offset:
            matches = [(pattern, end + offset) for pattern, end in matches]
        windows = self.matcher.windows(data, matches, regions or (), whole=regions is not None)
        if windows is None:
            return None, True
        found: list[Hit] = []
        line_no, counted = first_line, offset
        for lo, hi, rules in windows:
            line_no += data.count(b"\n", counted, lo) if lo >= counted else -data.count(b"\n", lo, counted)
            counted = lo
            window = data[lo:hi]
            known = self.verdicts.get((window, rules))
            if known is None:
                self.judged += 1
                text = window[3:] if lo == 0 and window.startswith(_BOM) else window
                # No keyword gate: a percent-encoded value shows its keyword only once decoded.
                # Only the rules Hyperscan matched here are searched: no other can match.
                known = scan(text.decode("utf-8", "replace"), 1, rules)
                if len(window) <= self.MAX_VERDICT_BYTES:
                    if len(self.verdicts) >= self.MAX_VERDICTS:
                        self.verdicts = {}
                    self.verdicts[(window, rules)] = known
            else:
                self.reused += 1
            shift = line_no - 1
            for hit in known:
                if keep[0] <= hit.line + shift < keep[1]:
                    found.append(hit._replace(line=hit.line + shift, end_line=(
                        hit.end_line + shift if hit.end_line is not None else None)))
        return found, False

    def _changed(self, data: bytes, might_match: MatchFn, scan: ScanFn) -> tuple[Optional[list[Hit]], int]:
        """Hits of this version from the previous one's plus the changed lines' (None = scan whole),
        and the number of line feeds in ``data``."""
        prev = self.data
        if prev == data:
            self.window_scans += 1
            return self.plain, self.newlines
        p, e = _changed_lines(prev, data)
        # the changed lines plus CONTEXT lines each side: data[a:b] here, prev[a:b - grow] before
        a = p
        # back far enough that a match of several lines ending in the change starts in the span
        for _ in range(max(CONTEXT, self.matcher.max_lines)):
            if a == 0:
                break
            a = data.rfind(b"\n", 0, a - 1) + 1
        b = e
        for _ in range(CONTEXT):
            if b >= len(data):
                break
            nl = data.find(b"\n", b)
            b = len(data) if nl == -1 else nl + 1
        grow = len(data) - len(prev)
        span = data[a:b]
        if b"Secret" in span:
            return None, -1  # the previous version had none: it was added here, scan whole
        old_span_lines = prev.count(b"\n", a, b - grow)
        span_lines = span.count(b"\n")
        newlines = self.newlines - old_span_lines + span_lines
        if a * 2 > len(data):
            first = newlines - data.count(b"\n", a) + 1
        else:
            first = data.count(b"\n", 0, a) + 1
        old_end_line = first + old_span_lines  # the first line after the span, before
        carried: list[Hit] = []
        shift = span_lines - old_span_lines
        for hit in self.plain:
            last = hit.end_line if hit.end_line is not None else hit.line
            if last < first:
                carried.append(hit)
            elif hit.line >= old_end_line:
                carried.append(hit._replace(line=hit.line + shift,
                                            end_line=hit.end_line + shift if hit.end_line is not None else None))
            elif hit.line < first or last >= old_end_line:
                return None, newlines  # a hit reaching across the span's edge: judge the whole text
        found: Optional[list[Hit]] = None
        if text_ok(span):
            found, whole = self._judge(data, span, a, first, (first, first + span_lines), scan)
            if whole:
                self._because(f"span:whole-text-rule:{self.matcher.rules[self.matcher.whole_by].id}")
                return None, newlines
        if found is None:
            self._because("span:non-ascii" if not text_ok(span) else "span:too-many-matches")
            # the keyword path on the span, from one line before it (allow markers)
            self.keyword_path += 1
            start = 0 if a == 0 else data.rfind(b"\n", 0, a - 1) + 1
            before = 1 if start < a else 0
            region = data[start:b]
            found = []
            if might_match(region):
                found = [h for h in scan(region.decode("utf-8", "replace"), first - before)
                         if first <= h.line < first + span_lines]
        self.window_scans += 1
        return found + carried, newlines
