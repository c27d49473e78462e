"""The ASCII shadow of a text, and rule patterns Hyperscan can run on it.

Hyperscan's database (``scanner.rulematch``) matches bytes; the rules' regexes match
characters, and know Unicode: ``\\w`` and ``\\s`` take ``é`` and a no-break space,
``(?i)k`` takes the Kelvin sign. On ASCII the two agree; around any other character
Hyperscan cannot vouch for what Python would find, and every rule used to judge
those regions itself (on gin's and express's histories, a third of the work).

The shadow makes the two agree again, as a superset. A valid UTF-8 text becomes one
byte per character (``bytes.translate``, no Python per byte): ASCII as it is, and
every other character, and the separators ``\\x1c``-``\\x1f`` that Python's ``\\s``
takes, as the byte ``\\x80`` (``UNVOUCHED``). Each pattern is rewritten from its
regex's parse tree (``shadow_expression``) so that every part that can take such a
character in Python also takes ``\\x80``, and the parts whose meaning the shadow
changes are dropped (word boundaries, anchors, lookarounds: dropping an assertion
only adds matches). A Python match of the regex on the text then has a match of the
rewritten pattern on the shadow ending at the same character offset; positions in
the shadow count characters, as Python's do, so line feeds and reaches agree too.
"""
from __future__ import annotations

from typing import Any, Optional

# The byte every character Hyperscan cannot vouch for becomes in the shadow.
UNVOUCHED = 0x80
# Characters Python may match where a byte pattern cannot: all but ASCII, and the separators
# \x1c-\x1f (Python's \s takes them; PCRE's does not).
SEPARATORS = range(0x1C, 0x20)
# ASCII letters with a non-ASCII case partner under IGNORECASE (in ``re`` or ``regex``):
# i (U+0130, U+0131), k (the Kelvin sign U+212A), s (the long s U+017F).
_FOLDING = frozenset("iksIKS")

_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_DIGIT = frozenset(b"0123456789")
_SPACE = frozenset(b" \t\n\r\f\v")
_ASCII = frozenset(range(0x80))

# The shadow translation: a lead byte of a UTF-8 sequence and the separators become UNVOUCHED,
# continuation bytes are deleted (so one character is one byte), ASCII stays.
_TABLE = bytes(UNVOUCHED if (b >= 0xC0 or b in SEPARATORS) else b for b in range(256))
_CONTINUATION = bytes(range(0x80, 0xC0))


class Unshadowable(Exception):
    """The pattern holds something the rewrite cannot carry (a conditional, syntax only the
    regex module knows): its rule keeps being judged by Python around unvouched characters."""


def shadow(data: bytes) -> bytes:
    """``data`` (valid UTF-8) as one byte per character: ASCII kept, every other character and
    ``\\x1c``-``\\x1f`` as UNVOUCHED."""
    return data.translate(_TABLE, _CONTINUATION)


def char_offsets(data: bytes, positions: list[int], known: tuple[int, int] = (0, 0)) -> list[int]:
    """The byte offsets in ``data`` (valid UTF-8) of the character offsets ``positions``
    (ascending): after exactly that many characters. ``known`` is a (byte, character) offset
    pair to count on from when it comes before them all."""
    out: list[int] = []
    byte, char = known if positions and known[1] <= positions[0] else (0, 0)
    size = len(data)
    for pos in positions:
        # ``pos - char`` more characters: that many bytes, plus the continuation bytes among
        # them, and among those, until a stretch adds none (a few C-level counts)
        low, high = byte, byte + (pos - char)
        while low < high:
            chunk = data[low:high]
            low, high = high, high + len(chunk) - len(chunk.translate(None, _CONTINUATION))
        byte = min(high, size)
        while byte < size and 0x80 <= data[byte] < 0xC0:  # the last character's tail
            byte += 1
        char = pos
        out.append(byte)
    return out


def shadow_expression(parsed: Optional[tuple[Any, Any]], max_bound: int, ignore_case: bool = False,
                      from_lookbehind: bool = False) -> str:
    """A regex (its ``re`` parse tree and constants module: ``rulematch._parse``) as a Hyperscan
    expression over the shadow that matches wherever the regex matches the text, ending at the
    same character. A bounded repeat above ``max_bound`` is written open.

    ``from_lookbehind``: the expression starts at the regex's last positive lookbehind at its top
    level, made to consume, and drops what comes before it. A match of ``A(?<=X)B`` ends where
    some match of ``XB`` does (X's match ends where A's does, and B follows), so the matches still
    end everywhere the regex's do; for a generic rule whose key name sits in that lookbehind, the
    expression keeps the name (the lookbehind dropped, it matched every assignment).

    Raises Unshadowable when the parse tree holds something it cannot rewrite (or, with
    ``from_lookbehind``, no such lookbehind)."""
    if parsed is None:
        raise Unshadowable("syntax only the regex module knows")
    tree, c = parsed
    state = getattr(tree, "state", None) or getattr(tree, "pattern", None)
    flags = getattr(state, "flags", 0) | (c.SRE_FLAG_IGNORECASE if ignore_case else 0)
    groups = collect_groups(tree, c)
    repeats = {c.MAX_REPEAT, c.MIN_REPEAT}
    if getattr(c, "POSSESSIVE_REPEAT", None) is not None:
        repeats.add(c.POSSESSIVE_REPEAT)

    def chars(op: Any, av: Any, flags: int) -> tuple[set[int], bool]:
        """ASCII bytes a one-character item takes, and whether it takes an unvouched character."""
        fold = flags & c.SRE_FLAG_IGNORECASE
        if op is c.LITERAL:
            return _literal(av, fold)
        if op is c.NOT_LITERAL:
            return set(_ASCII) - _literal(av, fold)[0], True
        if op is c.ANY:
            return (set(_ASCII) if flags & c.SRE_FLAG_DOTALL else set(_ASCII) - {10}), True
        if op is c.IN:
            taken: set[int] = set()
            unvouched = negate = False
            for iop, iav in av:
                if iop is c.NEGATE:
                    negate = True
                elif iop is c.LITERAL:
                    t, u = _literal(iav, fold)
                    taken |= t
                    unvouched |= u
                elif iop is c.RANGE:
                    lo, hi = iav
                    for code in range(lo, min(hi, 0x7F) + 1):
                        taken |= _literal(code, fold)[0]
                    unvouched |= hi >= 0x80 or any(lo <= s <= hi for s in SEPARATORS) or (
                        bool(fold) and any(lo <= ord(f) <= hi for f in _FOLDING))
                elif iop is c.CATEGORY:
                    taken |= _category(iav, c)
                    unvouched = True  # \d, \w, \s and their negations all take some other character
                else:
                    raise Unshadowable(f"class item {iop}")
            if negate:
                return set(_ASCII) - taken, True
            return taken, unvouched
        raise Unshadowable(f"item {op}")

    def emit(items: Any, flags: int, active: frozenset[int]) -> str:
        out: list[str] = []
        for op, av in items:
            if op in (c.LITERAL, c.NOT_LITERAL, c.ANY, c.IN):
                out.append(_klass(*chars(op, av, flags)))
            elif op in repeats:
                lo, hi, sub = av
                body = emit(sub, flags, active)
                if not body:
                    continue
                lo = min(lo, max_bound)
                if hi is c.MAXREPEAT or hi > max_bound:
                    bound = "*" if lo == 0 else "+" if lo == 1 else "{%d,}" % lo
                else:
                    bound = "{%d,%d}" % (lo, hi)
                out.append(f"(?:{body}){bound}")
            elif op is c.SUBPATTERN:
                group, add, delete, sub = av
                out.append(f"(?:{emit(sub, (flags | add) & ~delete, active | ({group} if group else set()))})")
            elif op is getattr(c, "ATOMIC_GROUP", None):
                out.append(f"(?:{emit(av, flags, active)})")
            elif op is c.BRANCH:
                out.append("(?:" + "|".join(emit(branch, flags, active) for branch in av[1]) + ")")
            elif op is c.GROUPREF:
                # what its group matched: the group's own pattern takes it (a superset)
                if av in active or av not in groups:
                    raise Unshadowable("a reference inside its own group")
                sub, group_flags = groups[av]
                out.append(f"(?:{emit(sub, group_flags | (flags & c.SRE_FLAG_IGNORECASE), active | {av})})")
            elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
                continue  # an assertion dropped: only more matches
            else:
                raise Unshadowable(f"item {op}")
        return "".join(out)

    items = list(tree)
    if from_lookbehind:
        behind = [i for i, (op, av) in enumerate(items) if op is c.ASSERT and av[0] < 0]
        if not behind:
            raise Unshadowable("no lookbehind at the top level")
        last = behind[-1]
        items = list(items[last][1][1]) + items[last + 1:]
    body = emit(items, flags, frozenset())
    if not body:
        raise Unshadowable("matches the empty string")
    return body


def collect_groups(items: Any, c: Any, flags: int = 0,
                   groups: Optional[dict[int, tuple[Any, int]]] = None) -> dict[int, tuple[Any, int]]:
    """Every numbered group of a parse tree: its items and the flags in force there."""
    groups = {} if groups is None else groups
    for op, av in items:
        if op is c.SUBPATTERN:
            group, add, delete, sub = av
            inner = (flags | add) & ~delete
            if group:
                groups[group] = (sub, inner)
            collect_groups(sub, c, inner, groups)
        elif op is c.BRANCH:
            for branch in av[1]:
                collect_groups(branch, c, flags, groups)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) or op is getattr(c, "POSSESSIVE_REPEAT", None):
            collect_groups(av[2], c, flags, groups)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            collect_groups(av[1], c, flags, groups)
        elif op is getattr(c, "ATOMIC_GROUP", None):
            collect_groups(av, c, flags, groups)
    return groups


def _literal(code: int, fold: int) -> tuple[set[int], bool]:
    if code >= 0x80 or code in SEPARATORS:
        return set(), True
    ch = chr(code)
    if fold and ch.isalpha():
        return {ord(ch.lower()), ord(ch.upper())}, ch in _FOLDING
    return {code}, False


def _category(category: Any, c: Any) -> set[int]:
    table = {
        c.CATEGORY_DIGIT: _DIGIT, c.CATEGORY_NOT_DIGIT: _ASCII - _DIGIT,
        c.CATEGORY_SPACE: _SPACE, c.CATEGORY_NOT_SPACE: _ASCII - _SPACE,
        c.CATEGORY_WORD: _WORD, c.CATEGORY_NOT_WORD: _ASCII - _WORD,
    }
    if category not in table:
        raise Unshadowable(f"category {category}")
    return set(table[category])


def _klass(taken: set[int], unvouched: bool) -> str:
    codes = sorted(taken | ({UNVOUCHED} if unvouched else set()))
    if not codes:
        raise Unshadowable("a class that takes nothing")
    parts: list[str] = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        parts.append(f"\\x{codes[i]:02x}" if i == j else f"\\x{codes[i]:02x}-\\x{codes[j]:02x}")
        i = j + 1
    return "[" + "".join(parts) + "]"


class Shadow:
    """A text's shadow and the way back from its character offsets to the text's bytes."""

    __slots__ = ("data", "text", "_known")

    def __init__(self, data: bytes, text: Optional[bytes] = None, known: tuple[int, int] = (0, 0)) -> None:
        self.data = data
        self.text = shadow(data) if text is None else text
        # The last (byte, character) offset pair counted: later counts go on from there when they
        # can, copying the bytes between instead of the whole prefix again.
        self._known = known

    @classmethod
    def of(cls, data: bytes) -> Optional[Shadow]:
        """The shadow of ``data``, or None when it is not valid UTF-8 (an invalid byte is one
        replacement character to the detector, not one character per lead byte)."""
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return cls(data)

    def edited(self, data: bytes, start: int, end: int) -> Optional[Shadow]:
        """The shadow of ``data``, a new version of this text equal to it but in ``data[start:end]``
        (the bytes before ``start`` are this text's first ones, those from ``end`` on its last
        ones; ``start`` and ``end`` follow a line feed or end the text): this shadow's ends around
        the shadow of the change, so a version chain translates each change, not each version.
        None when ``data`` is not valid UTF-8."""
        if end < len(data) and 0x80 <= data[end] < 0xC0:
            return None  # the shared tail starts inside a character here: not valid UTF-8
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            return None
        old, text = self.data, self.text
        before = self.char(start)
        after = len(text) - before - len(old[start:len(old) - (len(data) - end)].translate(None, _CONTINUATION))
        return Shadow(data, text[:before] + shadow(data[start:end]) + text[len(text) - after:], (start, before))

    def char(self, byte: int) -> int:
        """The character offset of the byte offset ``byte`` (a character boundary)."""
        known_byte, known_char = self._known
        if byte >= known_byte:
            char = known_char + len(self.data[known_byte:byte].translate(None, _CONTINUATION))
        elif known_byte - byte < byte:  # nearer the pair than the start: count back from it
            char = known_char - len(self.data[byte:known_byte].translate(None, _CONTINUATION))
        else:
            char = len(self.data[:byte].translate(None, _CONTINUATION))
        self._known = (byte, char)
        return char

    def chars(self, start: int, end: int) -> tuple[int, int]:
        """``char`` of both ends of a span: its end counted on from its start, not from 0, or from
        the end of the text when that is nearer."""
        first = self.char(start)
        if len(self.data) - end < end - start:
            return first, len(self.text) - len(self.data[end:].translate(None, _CONTINUATION))
        return first, first + len(self.data[start:end].translate(None, _CONTINUATION))

    def to_bytes(self, windows: list[Any]) -> list[Any]:
        """``(start, end, rules)`` windows in character offsets, as byte offsets."""
        positions = char_offsets(self.data, [p for lo, hi, _ in windows for p in (lo, hi)], self._known)
        return [(positions[2 * i], positions[2 * i + 1], rules) for i, (_, _, rules) in enumerate(windows)]
