"""Scan successive versions of a file without re-running rules over unchanged text.

Most blobs in a history are one small edit away from another version of the
same path, and workers read each path's versions one after another. The first
version a worker sees is scanned whole. For the next, the bytes are compared
with the previous version's: the common prefix and suffix are cut (``memcmp``
speed), and the whole lines between them are the change. The rules are judged
anew only in a zone around it (as far as a match may reach from the change:
``rulematch`` bounds that per pattern), searched in a span one reach wider;
the previous version's hits outside the zone are carried to their new line
numbers, so every blob still gets its complete list of hits. When the previous
version had no hit at all, a long change (two edits far apart, a moved block)
is cut into pieces around the runs it shares with the previous version, one
zone each (``_hunks``).

Why this finds what a whole-file scan finds: a match that touches no changed
byte reads nothing but bytes the previous version had, in the same order, so
it gave that version the same hit, which is carried; every other match lies in
a zone and is judged there. By induction down the chain every match was judged
once. Whole-file scans are used whenever that argument is weak: lone ``\\r``
line ends (the detector counts them as lines), a rule that must see the whole
text, and files holding a Kubernetes Secret manifest's ``kind: Secret`` (the
detector decodes its values only when that line is in the text it sees).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Optional

from scanner.decode import may_decode_base64
from scanner.encodings import as_decoded, decode_blob, has_lone_cr, lone_cr_as_lf
from scanner.history.hits import Hit
from scanner.rulematch import MAX_LINES, MAX_REACH, line_back, line_forward, text_ok, unvouched_regions
from scanner.shadow import Shadow

_BLOCK = 4096
_BOM = b"\xef\xbb\xbf"

# (text, first line number[, indices of the only rules that can match]) -> hits with absolute lines
ScanFn = Callable[..., list[Hit]]
MatchFn = Callable[[bytes], bool]  # the keyword prefilter on raw bytes


def _same_ahead(a: bytes, ai: int, b: bytes, bi: int, limit: int) -> int:
    """How many bytes ``a[ai:]`` and ``b[bi:]`` share from their start, at most ``limit``.

    Compared in place (``startswith`` on a memoryview: memcmp, no slice copied; copying both
    texts' slices cost more than comparing them), in blocks that double while they agree, then
    by bisection inside the first block that differs.
    """
    with memoryview(a) as view:
        i, step = 0, _BLOCK
        while i < limit:
            n = min(step, limit - i)
            if not b.startswith(view[ai + i : ai + i + n], bi + i):
                break
            i += n
            step *= 2
        else:
            return limit
        lo, hi = i, i + n - 1  # they share lo bytes; the first difference is below i + n
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if b.startswith(view[ai + lo : ai + mid], bi + lo):
                lo = mid
            else:
                hi = mid - 1
    return lo


def _same_behind(a: bytes, ae: int, b: bytes, be: int, limit: int) -> int:
    """How many bytes ``a[:ae]`` and ``b[:be]`` share at their end, at most ``limit`` (compared
    as ``_same_ahead`` compares)."""
    with memoryview(a) as view:
        n, step = 0, _BLOCK
        while n < limit:
            size = min(step, limit - n)
            if not b.endswith(view[ae - n - size : ae - n], 0, be - n):
                break
            n += size
            step *= 2
        else:
            return n
        lo, hi = n, n + size - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if b.endswith(view[ae - mid : ae - lo], 0, be - lo):
                lo = mid
            else:
                hi = mid - 1
    return lo


def _changed_lines(prev: bytes, data: bytes) -> tuple[int, int]:
    """``(p, e)``: ``data[p:e]`` is the run of whole lines where ``data`` differs from ``prev``
    (common prefix back to a line start, common suffix forward to one); the rest is shared."""
    p = _same_ahead(prev, 0, data, 0, min(len(prev), len(data)))
    p = data.rfind(b"\n", 0, p) + 1  # back to a line start
    s = _same_behind(prev, len(prev), data, len(data), min(len(prev), len(data)) - p)
    e = len(data) - s
    if 0 < e < len(data) and data[e - 1] != 10:
        nl = data.find(b"\n", e)
        e = len(data) if nl == -1 else nl + 1  # forward to a line start
    return p, e



# A run shared with the previous version is worth cutting out of a change (_hunks: two edits far
# apart make one change of everything between them) when it is this much longer than the zones
# around its ends cover: a zone's own calls (its reach, its bounds, its search) cost about what
# Hyperscan takes to search 10-20 KB. Measured on sqlalchemy's history (--jobs 1): the chain's
# time 8.0 -> 8.2 s keeping every run longer than the zones, 7.8 s with 16 KB more, 8.1 s with 64 KB.
SPLIT_EXTRA = 16384
# The line-aligned piece of the change looked up in the previous version, and how deep the
# search splits (each level: one ``find`` in the previous version's part, two compares).
_PROBE = 256
_SPLIT_DEPTH = 6


def _hunks(prev: bytes, data: bytes, p: int, e: int, keep: int) -> list[tuple[int, int]]:
    """The change ``data[p:e]`` (``_changed_lines``) as the line-aligned pieces left once runs it
    shares with the previous version's change are taken out: ``[(p, e)]`` when none is found.

    A run is bytes of ``data`` equal to bytes of ``prev``'s change, whole lines, at least ``keep``
    long (shorter ones save nothing: the zones around the pieces would cover them). Found by
    looking up a piece of the change (at its middle, then a quarter either side) in the previous
    version's and growing the equal bytes both ways, then the same on either side of the run: a
    few C calls per level, never a walk over lines. The pieces are in order and may be empty:
    each marks where the text stops being the previous version's at one place (an empty piece
    between two runs moved apart still changes what a match across it would see).
    """
    old_end = e - (len(data) - len(prev))
    pieces: list[tuple[int, int]] = []
    stack = [(p, e, p, old_end, _SPLIT_DEPTH)]
    done: list[tuple[int, int]] = []  # runs, in any order
    while stack:
        lo, hi, olo, ohi, depth = stack.pop()
        run = _run_in(prev, data, lo, hi, olo, ohi, keep) if depth and hi - lo >= 2 * keep else None
        if run is None:
            continue
        a, b, oa, ob = run
        done.append((a, b))
        stack.append((lo, a, olo, oa, depth - 1))
        stack.append((b, hi, ob, ohi, depth - 1))
    start = p
    for a, b in sorted(done):
        pieces.append((start, a))
        start = b
    pieces.append((start, e))
    return pieces


def _run_in(prev: bytes, data: bytes, lo: int, hi: int, olo: int, ohi: int,
            keep: int) -> Optional[tuple[int, int, int, int]]:
    """Whole lines ``data[a:b]`` equal to ``prev[oa:ob]`` (``lo <= a``, ``b <= hi``, ``olo <= oa``,
    ``ob <= ohi``), at least ``keep`` long, found around a probe of ``data[lo:hi]``; or None."""
    span = hi - lo
    with memoryview(data) as view:
        for at in (lo + span // 2, lo + span // 4, hi - span // 4):
            c = data.find(b"\n", at, hi) + 1
            if not c:
                continue
            end = data.find(b"\n", c + _PROBE, hi)
            if end == -1:
                continue
            j = prev.find(view[c:end], olo, ohi)
            if j == -1:
                continue
            back = _same_behind(data, c, prev, j, min(c - lo, j - olo))
            ahead = _same_ahead(data, c, prev, j, min(hi - c, ohi - j))
            start = c - back
            # the first whole line of the run (c, a line start, bounds the search)
            a = start if start == 0 or data[start - 1] == 10 else data.find(b"\n", start, c) + 1
            b = data.rfind(b"\n", c, c + ahead) + 1  # past the last whole line
            if b - a >= keep:
                return a, b, j - (c - a), j + (b - c)
    return None


def _unterminated(data: bytes, start: int, end: int) -> int:
    """1 when ``data[start:end]`` ends the text with a line that has no line feed, else 0."""
    return 1 if end == len(data) and end > start and data[-1:] != b"\n" else 0


class Zone:
    """The changed part of a version, widened by the reach (see ``VersionChain._zone``).

    Its line numbers are counted only when asked for (``numbers``): most versions have no hit
    to carry and no candidate in the span, and counting line feeds (``bytes.count``, about 1 GB/s)
    over every change was a tenth of a history scan's time.
    """

    __slots__ = ("za", "zb", "ha", "hb", "carried", "_data", "_prev", "_old_newlines", "_numbers")

    def __init__(self, data: bytes, prev: Optional[bytes], old_newlines: int, za: int, zb: int, ha: int,
                 hb: int) -> None:
        self.za, self.zb = za, zb  # data[za:zb]: the zone (whole lines)
        self.ha, self.hb = ha, hb  # data[ha:hb]: the span searched for the zone's hits (a reach further each side)
        self.carried: list[Hit] = []  # the previous version's hits outside the zone, at their new lines
        self._data, self._prev, self._old_newlines = data, prev, old_newlines
        self._numbers: Optional[ZoneLines] = None

    def numbers(self) -> "ZoneLines":
        """The zone's line numbers, counted once."""
        if self._numbers is None:
            self._numbers = _count_lines(self._data, self._prev, self._old_newlines, self.za, self.zb, self.ha)
        return self._numbers

    @property
    def newlines(self) -> int:
        """Line feeds in the whole version, or -1 when not counted (nor worth counting)."""
        return self._numbers.newlines if self._numbers is not None else -1


class ZoneLines(NamedTuple):
    first: int  # line number of the zone's first line
    first_span: int  # line number of the span's first line (ha)
    lines: int  # lines in the zone (a last line with no line feed is one too)
    old_lines: int  # the same in the previous version
    newlines: int  # line feeds in the whole version (-1: unknown)


def _count_lines(data: bytes, prev: Optional[bytes], old_newlines: int, za: int, zb: int, ha: int) -> ZoneLines:
    """``ZoneLines`` of the zone ``data[za:zb]``: both versions hold the bytes before ``za`` and
    after ``zb`` (the zone holds the whole change). Without ``prev`` (one of a change's several
    zones) nothing of the previous version is counted: -1 for its lines and for the version's."""
    if prev is None:
        first = data.count(b"\n", 0, za) + 1
        return ZoneLines(first, first - data.count(b"\n", ha, za), data.count(b"\n", za, zb)
                         + _unterminated(data, za, zb), -1, -1)
    grow = len(data) - len(prev)
    old_feeds = prev.count(b"\n", za, zb - grow)
    feeds = data.count(b"\n", za, zb)
    newlines = old_newlines - old_feeds + feeds if old_newlines >= 0 else -1
    if newlines >= 0 and za * 2 > len(data):
        first = newlines - data.count(b"\n", za) + 1
    else:
        first = data.count(b"\n", 0, za) + 1
    return ZoneLines(first, first - data.count(b"\n", ha, za), feeds + _unterminated(data, za, zb),
                     old_feeds + _unterminated(prev, za, zb - grow), newlines)


def always(_data: bytes) -> bool:
    """A gate every text passes."""
    return True


class VersionChain:
    """The previous version of the path being scanned, and its hits."""

    # How far a match may reach from the secret it holds, at most (lines, bytes): any windowed
    # rule's (rulematch: MAX_LINES line feeds, MAX_REACH bytes) unless the caller knows better.
    REACH = (MAX_LINES + 1, MAX_REACH)

    def __init__(self, enabled: bool = True, whole_gate: Optional[MatchFn] = None) -> None:
        self.enabled = enabled
        # True when a rule that must see the whole text could match these bytes
        # (its keywords occur): such a version is scanned whole, never in part.
        self.whole_gate: MatchFn = whole_gate if whole_gate is not None else always
        self.reach = self.REACH
        self.path: Optional[str] = None
        self.data = b""
        self.plain: list[Hit] = []  # every hit of self.data, not one per fingerprint
        # Does self.data say "Secret" (True may be stale: a change removed it), and is it a
        # Kubernetes Secret manifest (decode.may_decode_base64)? A manifest is scanned whole.
        self.secret_word = False
        self.manifest = False
        self._secret_next = False  # secret_word of the version _zone is judging
        self.newlines = 0  # self.data.count(b"\n") along the chain, or -1 when not counted (see Zone)
        self.full_scans = 0
        self.window_scans = 0
        self.split = 0  # changes judged in pieces (_zones)

    @staticmethod
    def unique(hits: list[Hit]) -> list[Hit]:
        """First hit per fingerprint, in file order."""
        return _unique(hits)

    def reset(self) -> None:
        """Forget the previous version (the next one is scanned whole)."""
        self.path = None
        self.data = b""
        self.plain = []
        self.secret_word = self.manifest = False

    def scan(self, path: str, data: bytes, might_match: MatchFn, scan: ScanFn) -> list[Hit]:
        """All hits in ``data`` (a text version of ``path``), first occurrence per fingerprint."""
        if has_lone_cr(data):
            self.reset()
            return self._whole(data, might_match, scan)
        # A Kubernetes Secret manifest (values are decoded only when the detector sees the whole
        # file) forces whole scans. Searching every version for "Secret" costs as much as git's
        # decompression, so along a chain only the spans that changed are searched (see _zone).
        newlines = -1
        found: Optional[list[Hit]] = None
        self._secret_next = self.secret_word  # (_zone updates it; an unchanged version keeps it)
        if self.path == path and self.enabled and not self.manifest:
            found, newlines = self._delta(data, might_match, scan)
        secret_word, manifest = self._secret_next, False  # (a version judged by its changes is no manifest)
        if found is None:
            secret_word = b"Secret" in data
            manifest = secret_word and may_decode_base64(data)
            found = self._every(data, might_match, scan)
        self.path, self.data, self.secret_word, self.manifest = path, data, secret_word, manifest
        self.newlines = _line_feeds(data, newlines, found)
        self.plain = found  # every hit, not one per fingerprint: a kept copy must carry on when another goes
        return _unique(found)

    def _whole(self, data: bytes, might_match: MatchFn, scan: ScanFn) -> list[Hit]:
        return _unique(self._every(data, might_match, scan))

    def _every(self, data: bytes, might_match: MatchFn, scan: ScanFn) -> list[Hit]:
        """Every hit of the whole text (the keyword path)."""
        self.full_scans += 1
        if not might_match(data):
            return []
        text = decode_blob(data)
        return scan(text, 1) if text else []

    def _zones(self, data: bytes) -> Optional[list[Zone]]:
        """Where this version differs from the previous one, widened by the reach (None: scan whole).

        A match that touches a changed line holds a secret within the reach of it, and the
        secret of a match that does not lies outside: so the hits in the zone are judged anew
        (from a span one more reach each side, which holds their whole matches), and the rest
        are carried from the previous version, moved by the change in line count.

        When the previous version had no hit at all, a long change is cut into pieces around
        the runs it shares with the previous version's (``_hunks``), one zone each. A match that
        touches no piece lies (with all it reads) inside one run, byte for byte text of the
        previous version: it matched there too, and gave no hit. So nothing outside the zones
        can hold one, and nothing needs carrying.
        """
        prev = self.data
        p, e = _changed_lines(prev, data)
        self._note_change(data, p, e)
        pieces = [(p, e)]
        if not self.plain:
            keep = 4 * self._split_reach() + SPLIT_EXTRA
            if e - p >= 2 * keep:
                pieces = _hunks(prev, data, p, e, keep)
                self.split += len(pieces) > 1
        bounds: list[list[int]] = []  # [za, zb, lines, bytes], merged where the pieces' zones meet
        said = False
        for lo, hi in pieces:
            (lines, nbytes), says = self._reach(data, lo, hi)
            # The previous version was no manifest. This one may be only if it says "Secret": if the
            # previous one did not, a piece must (runs are its text; no slice: changes add up to a
            # quarter of the history).
            if not (self.secret_word or said):
                said = says if says is not None else data.find(b"Secret", lo, hi) != -1
            za, zb = line_back(data, lo, lines, nbytes), line_forward(data, hi, lines, nbytes)
            if bounds and za <= bounds[-1][1]:
                last = bounds[-1]
                last[1], last[2], last[3] = max(last[1], zb), max(last[2], lines), max(last[3], nbytes)
            else:
                bounds.append([za, zb, lines, nbytes])
        self._secret_next = self.secret_word or said
        if self._secret_next and may_decode_base64(data):
            return None  # a manifest now: scan whole
        # One change: the previous version's line counts apply to its zone. In pieces they do not
        # (the runs moved), and there is nothing to carry.
        one = len(pieces) == 1
        zones = [Zone(data, prev if one else None, self.newlines if one else -1, za, zb,
                      line_back(data, za, lines, nbytes), line_forward(data, zb, lines, nbytes))
                 for za, zb, lines, nbytes in bounds]
        return zones if not self.plain or self._carry(zones[0]) else None

    def _carry(self, zone: Zone) -> bool:
        """Carry the previous version's hits outside the (one) zone to their new lines; False when
        one reaches across the zone's edge (judge the whole text)."""
        first, _, zone_lines, old_zone_lines, _ = zone.numbers()
        old_end = first + old_zone_lines  # the first line after the zone, before
        shift = zone_lines - old_zone_lines
        carried = zone.carried
        for hit in self.plain:
            last = hit.end_line if hit.end_line is not None else hit.line
            if last < first:
                carried.append(hit)
            elif hit.line >= old_end:
                carried.append(hit._replace(line=hit.line + shift,
                                            end_line=hit.end_line + shift if hit.end_line is not None else None))
            elif hit.line < first or last >= old_end:
                return False
        return True

    def _reach(self, data: bytes, p: int, e: int) -> tuple[tuple[int, int], Optional[bool]]:
        """How far from the change ``data[p:e]`` a match may reach (lines, bytes), and whether the
        change says "Secret" when that was learnt on the way (None: not known)."""
        return self.reach, None

    def _note_change(self, data: bytes, p: int, e: int) -> None:
        """Called once per changed version with the whole change, before any ``_reach``."""

    def _split_reach(self) -> int:
        """The bytes a change's piece usually reaches (``_zones`` keeps runs four times as long)."""
        return self.reach[1]

    def _region_hits(self, data: bytes, zone: Zone, might_match: MatchFn, scan: ScanFn) -> list[Hit]:
        """The keyword path on the span around the zone, keeping the hits in the zone."""
        region = data[zone.ha:zone.hb]
        if not might_match(region):
            return []
        if zone.ha == 0 and region.startswith(_BOM):
            region = region[3:]  # decode_blob drops the BOM; columns on line 1 must agree
        first, first_span, lines, _, _ = zone.numbers()
        end = first + lines
        return [h for h in scan(region.decode("utf-8", "replace"), first_span)
                if h.line < end and (h.end_line if h.end_line is not None else h.line) >= first]

    def _delta(self, data: bytes, might_match: MatchFn, scan: ScanFn) -> tuple[Optional[list[Hit]], int]:
        """Hits of the zone around the change plus carried hits (None = scan the whole text),
        and the number of line feeds in ``data`` (-1 if not known)."""
        if self.data == data:
            self.window_scans += 1
            return self.plain, self.newlines
        zones = self._zones(data)
        if zones is None:
            return None, -1
        newlines = zones[0].newlines if len(zones) == 1 else -1
        found: list[Hit] = []
        for zone in zones:
            hits = self._zone_hits(data, zone, might_match, scan)
            if hits is None:
                return None, newlines
            found.extend(hits)
            found.extend(zone.carried)
        self.window_scans += 1
        return found, newlines

    def _zone_hits(self, data: bytes, zone: Zone, might_match: MatchFn, scan: ScanFn) -> Optional[list[Hit]]:
        """The hits in the zone (None: scan the whole text)."""
        if self.whole_gate(data[zone.ha:zone.hb]):
            return None  # a rule that needs the whole text could match here
        return self._region_hits(data, zone, might_match, scan)


def _line_feeds(data: bytes, known: int, hits: list[Hit]) -> int:
    """A version's line feeds for the chain: ``known`` when counted on the way, else counted now
    only if it has hits (the next version then carries them); -1 otherwise (see ``Zone``)."""
    return known if known >= 0 or not hits else data.count(b"\n")


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
    the span around each zone (a few per version at most), line-feed counts; the
    detector then judges only windows around the matches Hyperscan reports,
    and a window already judged in this chain (the same bytes) is not judged
    again. Hits outside the changed lines are carried by position: those
    before them keep their line, those after move by the change in line count.

    Spans Hyperscan cannot vouch for (non-ASCII, see ``rulematch.text_ok``) are
    searched through the version's shadow (``scanner.shadow``). Bytes that are
    not UTF-8, a rule that needs the whole text, or too many matches go through
    the keyword path (``VersionChain``'s whole-text scan, or the detector on the
    changed span).
    """

    # Windows judged per chain are remembered up to this many.
    MAX_VERDICTS = 4096
    # A window longer than this (a whole text) is not kept: the chain's next version differs.
    MAX_VERDICT_BYTES = 1 << 16

    def __init__(self, matcher: Any, enabled: bool = True) -> None:
        super().__init__(enabled)  # a rule that needs the whole text is seen by Hyperscan
        self.matcher = matcher
        self.reach = matcher.reach
        self.plain: list[Hit] = []
        self.verdicts: dict[tuple[bytes, Optional[frozenset[int]]], list[Hit]] = {}
        self.judged = 0
        self.reused = 0
        self.keyword_path = 0
        self.long_reach = 0  # changes judged with the full reach: a long pattern could match there
        self.shadowed = 0  # versions Hyperscan searched through their shadow (scanner.shadow)
        self._view: Optional[Shadow] = None  # the last version's shadow
        self._change: Optional[tuple[int, int]] = None  # where this version differs from self.data (_zone)
        self.reasons: dict[str, int] = {}  # why texts took the keyword path
        self.whole_rules: dict[str, int] = {}  # whole texts a rule that needs them searched alone first
        self.whole_spans: dict[str, int] = {}  # versions scanned whole: such a rule's keyword in the span
        # Did Hyperscan see a candidate of a rule that needs the whole text in the previous version?
        # Then the next is judged whole too: a change far from a Secret's kind line can still add
        # a match (its data), and the span around the change would not show that rule's gate.
        self.gated = False
        # Is every byte of the previous version one Hyperscan vouches for (text_ok)? Then so is every
        # byte of this one outside its change, and the change alone needs the check (most do).
        self.clean = False
        self._clean_now = False  # the same of the version being scanned, once known

    def reset(self) -> None:
        super().reset()
        self.plain = []
        self.verdicts = {}
        self.gated = False
        self.clean = False

    def scan(self, path: str, data: bytes, might_match: MatchFn, scan: ScanFn) -> list[Hit]:
        # With lone CRs (a Mac OS 9 text, PostScript and PDF-like formats) Hyperscan searches, and
        # the lines are counted in, the text the detector's rules read: those CRs as line feeds.
        original = data
        data = lone_cr_as_lf(data)
        lone_cr = data is not original
        if lone_cr or self.path != path:
            self.reset()
        self.matcher.path = path
        self._clean_now = False
        self._change = None
        hits: Optional[list[Hit]] = None
        newlines = -1
        self._secret_next = self.secret_word  # (_zone updates it; an unchanged version keeps it)
        if self.path == path and self.enabled and not self.manifest and not self.gated:
            hits, newlines = self._delta(data, might_match, scan)
        secret_word, manifest = self._secret_next, False  # (a version judged by its changes is no manifest)
        gated = False
        if hits is None:
            secret_word = b"Secret" in data
            manifest = secret_word and may_decode_base64(data)
            self.matcher.whole_by = -1
            # (a manifest goes down the keyword path as git has it: the detector decodes its
            # values from its own text)
            hits = self._matched_whole(original if manifest else data, might_match, scan, manifest)
            gated = self.matcher.whole_by != -1
        if lone_cr:
            return _unique(hits)  # the next version is compared with the bytes git has, not these
        self.path, self.data, self.secret_word, self.manifest, self.gated = path, data, secret_word, manifest, gated
        self.clean = self._clean_now
        self.newlines = _line_feeds(data, newlines, hits)
        self.plain = hits  # every hit, not one per fingerprint: a kept copy must carry on when another goes
        return _unique(hits)

    def _reach(self, data: bytes, p: int, e: int) -> tuple[tuple[int, int], Optional[bool]]:
        """The matcher's short reach where no long rule can match across the change, else the
        largest reach of the long rules that can (a .netrc entry's 4.6 KB only where "machine"
        is near, a connection string's 2 KB where "password" is); and, while the file has not
        said "Secret", whether the change does (the gate's scan reads the bytes around the change
        anyway: the word is one more literal).

        A long rule's match that touches the change (or whose lookarounds read into it) lies
        within the full reach of it, and holds one of the literals the rule's every match holds
        (``rulematch.required_literals``). If none of those occurs there, no long rule has a hit
        touching the change; if the previous version had no long rule's hit either, none had one
        there before, and every hit the long rules lack the reach for is the same in both
        versions: the short reach judges the rest. Where that reach holds bytes Hyperscan cannot
        vouch for, the literals are sought in the version's shadow, rewritten (a non-ASCII letter
        may match a literal's letter without case: the Kelvin sign, the long s); without a shadow
        (not UTF-8, or a custom rule judged around such bytes) the full reach is kept. On
        sqlalchemy's history the spans Hyperscan searches shrink by a quarter (2.09 -> 1.58 GB).
        """
        matcher = self.matcher
        if not matcher.long_rules or any(hit.rule_id in matcher.long_rules for hit in self.plain):
            return self.reach, None
        lines, nbytes = self.reach
        lo, hi = line_back(data, p, lines, nbytes), line_forward(data, e, lines, nbytes)
        # When the previous version did not say "Secret", this one does only if the change does
        # (p and e are line bounds, and the word holds no line feed): the same scan tells.
        ask = not self.secret_word
        if self._vouched(data, lo, hi):
            needed, said = matcher.long_match(data[lo:hi], ask)
        else:
            view = self._shadow(data) if matcher.long_shadows else None
            if view is None:
                needed, said, ask = nbytes, False, False
            else:
                a, b = view.chars(lo, hi)
                needed, said = matcher.long_match_shadow(view.text[a:b], ask)
        short_lines, short_bytes = matcher.short_reach
        if needed > short_bytes:
            self.long_reach += 1
        return (short_lines, max(short_bytes, needed)), (said if ask else None)

    def _note_change(self, data: bytes, p: int, e: int) -> None:
        """Notes whether the version is all vouchable bytes (``_clean_now``: its predecessor was
        and the change is) and where it changed (for its shadow)."""
        self._change = (p, e)  # (a shadow of this version is the previous one's, edited there)
        self._clean_now = self.clean and text_ok(data, p, e)

    def _split_reach(self) -> int:
        return self.matcher.short_reach[1]

    def _vouched(self, data: bytes, lo: int, hi: int) -> bool:
        """Does Hyperscan vouch for every byte of ``data[lo:hi]`` (``text_ok``)? Known at once when
        the whole version is clean."""
        return self._clean_now or text_ok(data, lo, hi)

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
            self._because("manifest")
            return self._keyword_whole(data, might_match, scan)
        found = self._windowed(data, scan)
        if found is None:
            return self._keyword_whole(data, might_match, scan)
        return found

    def whole_text(self, data: bytes, scan: ScanFn) -> Optional[list[Hit]]:
        """Every hit of one text that is no version of a file (a commit or tag message): Hyperscan
        over all of it, the detector on windows around its matches. None where the keyword path
        must judge it whole, for the reasons a file's version would take it (a Kubernetes Secret
        manifest, too many matches, or unvouched bytes everywhere in a text that is not
        UTF-8)."""
        view = lone_cr_as_lf(data)  # (see scan)
        if may_decode_base64(view):
            self._because("manifest")
            return None
        return self._windowed(view, scan)

    def _windowed(self, data: bytes, scan: ScanFn) -> Optional[list[Hit]]:
        """The whole text's hits from Hyperscan's windows (None: the keyword path must do)."""
        # Non-ASCII bytes (a name in a header, a Unicode test string) leave Hyperscan's word on
        # the text unvouched: it searches the text's shadow instead; where there is none (not
        # UTF-8), every rule judges the regions around them, Hyperscan the rest.
        self._clean_now = text_ok(data)
        view = None if self._clean_now else self._shadow(data)
        regions = [] if self._clean_now or view is not None else unvouched_regions(data, self.matcher.max_lines)
        if regions is None and self.matcher.shadows:
            # Not UTF-8 throughout (a Latin-1 file, an Illustrator file's streams): the detector
            # reads it with each invalid sequence as U+FFFD. That text encoded again is UTF-8 and
            # has a shadow; its windows decode to the detector's characters, on the same lines.
            data = as_decoded(data)
            view = self._shadow(data)
            regions = [] if view is not None else None
        if regions is None:
            self._because("non-ascii")
            return None
        self.full_scans += 1
        found, _ = self._judge(data, 0, len(data), lambda: (1, 1, len(data) + 2), scan, regions, whole=True, view=view)
        if found is None:
            self._because("too-many-matches")
            self.full_scans -= 1
        return found

    def _shadow(self, data: bytes) -> Optional[Shadow]:
        """The shadow Hyperscan searches instead of ``data`` where it cannot vouch for its bytes
        (None: the matcher has no shadow database, or ``data`` is not valid UTF-8)."""
        if not self.matcher.shadows:
            return None
        view = self._view
        if view is not None and view.data is data:
            return view  # (the reach and the zone of one version both ask)
        if view is not None and view.data is self.data and self._change is not None:
            view = self._view = view.edited(data, *self._change)  # the previous version's, edited
        else:
            view = self._view = Shadow.of(data)
        if view is not None:
            self.shadowed += 1
        return view

    def _because(self, reason: str) -> None:
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def _alone(self, data: bytes, scan: ScanFn) -> Callable[[frozenset[int]], bool]:
        """Do these rules, searched alone on the whole of ``data``, find anything?"""
        def alone(rules: frozenset[int]) -> bool:
            rule_id = self.matcher.rules[min(rules)].id
            self.whole_rules[rule_id] = self.whole_rules.get(rule_id, 0) + 1
            text = data[3:] if data.startswith(_BOM) else data
            return bool(scan(text.decode("utf-8", "replace"), 1, rules))

        return alone

    def _judge(self, data: bytes, offset: int, end: int, numbering: Callable[[], tuple[int, int, int]],
               scan: ScanFn, regions: Optional[list[tuple[int, int]]] = None,
               whole: bool = False, bounds: Optional[tuple[int, int]] = None,
               view: Optional[Shadow] = None) -> tuple[Optional[list[Hit]], bool]:
        """Hits in windows around the rule matches in the span ``data[offset:end]`` that touch the
        span's lines ``keep`` (``bounds``: the same as bytes of ``data``, when known): a window reaches
        past the span, where the hits are carried from the previous version. ``numbering()`` gives
        ``(line number of the span's first line, keep's first line, the line after keep's last)``,
        asked for only when a window holds a hit (counting lines costs more than most spans' search).
        Or None and whether a rule needs the whole text (else Hyperscan reported too many matches:
        the keyword path will do).

        ``regions`` are judged by every rule (Hyperscan cannot vouch for their bytes). With
        ``whole`` (a whole text), a rule that needs the whole text gets it, with the other rules
        Hyperscan matched. With ``view`` (the shadow of ``data``), Hyperscan searches the shadow
        of the span instead, and only the rules it could not be rewritten for judge the regions
        around unvouched characters.
        """
        windows, needs_whole = self.matcher.search(data, offset, end, regions or (),
                                                   whole=self._alone(data, scan) if whole else None, view=view)
        if windows is None:
            return None, needs_whole
        low, high = bounds or (0, len(data))
        found: list[Hit] = []
        line_no = first = after = -1  # (numbered at the first window holding a hit)
        counted = offset
        for lo, hi, rules in windows:
            if hi < low or lo >= high:
                continue  # touches no line of the zone: its hits are carried
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
            if not known:
                continue
            if line_no < 0:
                line_no, first, after = numbering()
            line_no += data.count(b"\n", counted, lo) if lo >= counted else -data.count(b"\n", lo, counted)
            counted = lo
            shift = line_no - 1
            for hit in known:
                line = hit.line + shift
                last = hit.end_line + shift if hit.end_line is not None else line
                if line < after and last >= first:
                    found.append(hit._replace(line=line, end_line=last if hit.end_line is not None else None))
        return found, False

    def _zone_hits(self, data: bytes, zone: Zone, might_match: MatchFn, scan: ScanFn) -> Optional[list[Hit]]:
        """The zone's hits from Hyperscan's windows over the span around it (None: scan whole).

        When the previous version had no hit, Hyperscan searches the zone alone, not the span a
        reach further each side: every match touching the change (or reading it as context, on
        the line after it) lies in the zone, and any other is byte for byte one of the previous
        version, with the same context, which gave no hit. The span's extra reach is there to
        find again the carried version's hits in the zone; with none, it only doubled the bytes
        Hyperscan searched per change. (The keyword path below still reads the whole span: its
        detector sees no more than the text it is given.)"""
        lo, hi = (zone.za, zone.zb) if not self.plain else (zone.ha, zone.hb)

        def numbering() -> tuple[int, int, int]:
            first, first_span, lines, _, _ = zone.numbers()
            return (first_span if lo == zone.ha else first), first, first + lines

        found: Optional[list[Hit]] = None
        regions: Optional[list[tuple[int, int]]] = []
        view = None
        if not self._vouched(data, lo, hi):
            view = self._shadow(data)
            if view is None:
                # every region lies in the span, so judging it costs no more than the keyword path
                regions = unvouched_regions(data, self.matcher.max_lines, lo, hi, most=1.0)
                if regions:  # a match holding a zone secret lies in the span: no need to look past it
                    regions = [(max(a, lo), min(b, hi)) for a, b in regions]
        if regions is not None:
            found, whole = self._judge(data, lo, hi, numbering, scan, regions,
                                       bounds=(zone.za, zone.zb), view=view)
            if whole:  # the whole version, through Hyperscan's windows (_matched_whole)
                rule_id = self.matcher.rules[self.matcher.whole_by].id
                self.whole_spans[rule_id] = self.whole_spans.get(rule_id, 0) + 1
                return None
        if found is None:
            self._because("span:non-ascii" if regions is None else "span:too-many-matches")
            self.keyword_path += 1
            found = self._region_hits(data, zone, might_match, scan)
        return found
