"""Hyperscan over the rules themselves: where in these bytes could a rule match?

Every rule's regex is compiled into one Hyperscan block-mode database:

* ``exact``: the translated regex as it is (Hyperscan supports it);
* ``prefilter``: ``HS_FLAG_PREFILTER``, for lookarounds, back-references and
  large bounded repeats (clamped): Hyperscan then reports a superset of the
  matches;
* ``anchored``: the rule's keywords as case-insensitive literals (windows as on
  the keyword path), for rules whose Hyperscan form matches ordinary code
  holding none of their keywords (``_PROBE``): a generic rule's secret-named
  key sits in a lookbehind, which the prefilter form drops;
* ``binary``: not compiled: ``content = "binary"`` rules read binary blobs,
  which never reach the database;
* ``path``: not compiled: a rule chosen by path (no keywords) reads files the
  sources scan whole (``Detector.reads_path``);
* ``approximate``: the rule's ``hyperscan`` expression (``scanner/rules.py``),
  where its regex's translation is slow or matches nearly every line;
* ``gate``: for a ``scope = "text"`` rule with a ``hyperscan`` expression, that
  expression instead of its keywords decides when the whole text is searched
  (it matches somewhere in every text the regex matches in);
* ``keyword``: the rule's keywords as case-insensitive literals, for rules
  whose whole text must be searched (``Rule.whole_text``: their candidates
  send the whole text to the detector, as the keyword path always did) and
  for patterns Hyperscan rejects even in prefilter form (``fallback``; the
  stats name them, they are never dropped).

Hyperscan only says where to look. Python's ``regex`` still judges every
candidate, in a window of whole lines around the reported match end reaching
back further than the rule's longest match, through the detector with all its
gates; so the findings are the detector's, and Hyperscan only has to report no
fewer matches than Python would find. That holds on ASCII text without the
control characters ``\\x1c``-``\\x1f`` (which Python's ``\\s`` matches and
PCRE's does not): ``text_ok`` tells which spans qualify. Any other UTF-8 text
is searched through its shadow (``scanner.shadow``): one byte per character,
by a second database of the same patterns rewritten for it. Bytes that are
not UTF-8 leave the regions around them to every rule (``unvouched_regions``).
"""
from __future__ import annotations

import hashlib
import os
import pickle
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, Optional

from scanner.paths import atomic_write, cache_dir, prune, touch
from scanner.rules import Rule
from scanner.shadow import SEPARATORS, Shadow, Unshadowable, collect_groups, shadow_expression

# The word every Kubernetes Secret manifest holds (``decode.may_decode_base64``); history chains
# look for it in each change, through the long patterns' database (``RuleMatcher.long_match``).
SECRET_WORD = "Secret"

# Source files of common languages. A rule whose path condition admits none of them is kept out
# of the database source code is searched with (RuleMatcher._path_rules).
SOURCE_FILES = ("src/app.py", "main.go", "index.js", "src/App.java", "app.rb", "index.php", "main.c", "app.ts",
                "src/lib.rs", "Program.cs", "App.kt", "main.swift")

# Bump when the translation or the database layout changes (old caches are ignored).
FORMAT = 22
KEEP_DATABASES = 8
# How far before a keyword and after a match end a window reaches (bytes; the
# detector's keyword windows use the same reach).
BEFORE = 256
AFTER = 1024
# A match longer than this is not expected of a line-scoped rule: it is the
# most a window reaches back from a reported match end.
MAX_REACH = 4096
# Patterns whose matches may reach further than this from a change (bytes) are "long": a version
# chain widens its zone that far only where one of them could match (RuleMatcher.long_match).
LONG_REACH = 1536
# Bounded repeats above this are clamped to an open repeat (over-approximation).
_MAX_BOUND = 1000
# One scan reporting more matches than this (a rule matching at every offset
# of a huge token) stops; the caller scans that text on the keyword path.
MAX_MATCHES = 20000

# Ordinary code and configuration, for _unanchored: assignments, calls, URLs,
# quoted values of every shape, but no secret.
_PROBE = [line.encode("ascii") + b"\n" for line in (
    "value_109 = compute(109, 'ouPflRvtUuQ6')",
    "    result_name = self._make_thing(arg_one, arg_two=None)",
    '    "field_name": "Xk3vQ9zLm2Wp7RtY",',
    "export BUILD_FLAG=abcdefgh12345678",
    "  build_option: abcdefgh12345678",
    "config.option_value = some_module.attribute_value",
    'url = "https://example.org/path/to/page?x=1&y=2"',
    "<item name=\"thing\" value=\"Xk3vQ9zLm2Wp7RtY\"/>",
    "set VAR_NAME=Xk3vQ9zLm2Wp7RtY",
    "if (a == b) { return c; } else { d := e(f, g) }",
    "let element_value: String = \"Xk3vQ9zLm2Wp7RtY\";",
    "    def method_name(self, argument: int = 5) -> None:",
    "SELECT column_a, column_b FROM table_name WHERE id = :param",
    "# A comment line with words, numbers 12345 and punctuation: yes.",
)]

# A window of a text: (start, end, indices of the rules that may match in it; None: any).
Window = tuple[int, int, Optional[frozenset[int]]]


class Pattern(NamedTuple):
    """One expression of the database and what a match of it opens."""

    expression: bytes
    flags: int
    rule: int  # index into the rules (len(rules): percent escapes)
    reach: int  # bytes a window reaches back from the match end; -1 whole text, -2 keyword window, -3 line
    lines: int  # line feeds a match may hold (reach 0)
    ahead: int  # bytes its lookaheads read past its line


def _percent_pattern(rule: int) -> Pattern:
    """Percent-encoded values are judged decoded (scanner.decode): each escape that can start a
    decodable run opens its line. A run decodes only to printable UTF-8 (encodings.decode_percent),
    so it holds an escape of printable ASCII or a UTF-8 lead byte escaped right before a
    continuation byte; runs of control bytes or lone high bytes never do. x86 assembly in gin's
    history ("%eax", "%edx") opened 18,914 such windows, none of which decoded."""
    return Pattern(rb"%(?:[2-7][0-9A-Fa-f]|[C-Fc-f][0-9A-Fa-f]%[89ABab][0-9A-Fa-f])", 0, rule, 0, 0, 0)


def compile_processes() -> int:
    """How many processes a first compile of the databases may use: one per CPU (four at most),
    as forked helpers (a helper inherits the rules; only results are pickled). 1 where this
    process cannot fork, is itself a pool's worker (which may have no children), or runs another
    thread (a fork copies the locks another thread may hold, such as the regex module's)."""
    import multiprocessing
    import threading

    if (threading.active_count() > 1 or multiprocessing.current_process().daemon
            or "fork" not in multiprocessing.get_all_start_methods()):
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


# The matcher whose databases forked helpers are compiling (set around the fork, see _compile).
_COMPILING: Optional["RuleMatcher"] = None


def _rule_patterns_part(indices: Sequence[int]) -> dict[int, tuple[list[Pattern], str]]:
    """In a helper: the patterns and mode of each rule of ``indices``."""
    matcher = _COMPILING
    assert matcher is not None
    return {index: matcher._rule_patterns(index, matcher.rules[index]) for index in indices}


def _database(patterns: Sequence[Pattern], ids: Optional[Sequence[int]] = None) -> Any:
    """The patterns as one block-mode database, under their indices (or ``ids``)."""
    import hyperscan as hs

    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=[p.expression for p in patterns], ids=list(ids if ids is not None else range(len(patterns))),
               elements=len(patterns), flags=[p.flags for p in patterns])
    return db


def _serialized_database(patterns: Sequence[Pattern], ids: Optional[Sequence[int]] = None) -> bytes:
    """In a helper: a database, compiled and serialized (a database object cannot be pickled)."""
    import hyperscan as hs

    return bytes(hs.dumpb(_database(patterns, ids)))


# A database left in the cache file until first used (``RuleMatcher._database``).
_LAZY: Any = object()
# The matcher attribute each stored database lives in.
_ATTRIBUTE = {"db": "_db", "common": "_common_db", "shadow": "_shadow_db"}


class _StoredDatabases:
    """The cache file of a rule list's databases: a header (magic, the length of the pickled
    tables), the tables, then each serialized database, read only when a process first needs it.
    The three large ones (every rule, the rules for source code, the shadows' patterns) are 5 MB
    each; a worker scanning source code in ASCII needs one of them, and reading them all at once
    held 30 MB more at the peak than that (the file, its unpickled copy, the loaded databases)."""

    MAGIC = b"MCPSHSDB"
    HEADER = 16  # the magic and the tables' length, little-endian

    def __init__(self, path: Path, tables: bytes, hs: Any) -> None:
        self.path, self._tables, self._hs = path, tables, hs
        self.meta: dict[str, Any] = pickle.loads(tables)
        self._base = self.HEADER + len(tables)

    @classmethod
    def serialize(cls, meta: dict[str, Any], databases: dict[str, Any], hs: Any) -> bytes:
        blobs = {name: bytes(hs.dumpb(db)) if db is not None else b"" for name, db in databases.items()}
        parts, offset = {}, 0
        for name, blob in blobs.items():
            parts[name] = (offset, len(blob))
            offset += len(blob)
        # A token of this compile: a process that opens the file again (for a database it left
        # there) reads tables and databases of one compile, never those of a file written since.
        tables = pickle.dumps({**meta, "parts": parts, "build": os.urandom(8).hex()}, pickle.HIGHEST_PROTOCOL)
        return b"".join([cls.MAGIC, len(tables).to_bytes(8, "little"), tables, *blobs.values()])

    @classmethod
    def _read_tables(cls, f: BinaryIO) -> bytes:
        head = f.read(cls.HEADER)
        if len(head) != cls.HEADER or head[:8] != cls.MAGIC:
            raise ValueError("not a rule database file")
        size = int.from_bytes(head[8:], "little")
        tables = f.read(size)
        if len(tables) != size:
            raise ValueError("truncated rule database file")
        return tables

    @classmethod
    def open(cls, path: Path, hs: Any) -> "_StoredDatabases":
        """The tables of ``path``; raises when it is missing, of another format or truncated."""
        with open(path, "rb") as f:
            stored = cls(path, cls._read_tables(f), hs)
            size = os.fstat(f.fileno()).st_size
        if stored._base + sum(length for _, length in stored.meta["parts"].values()) != size:
            raise ValueError("truncated rule database file")
        return stored

    def placeholder(self, name: str) -> Any:
        """What a matcher holds for the database ``name`` until it needs it: ``_LAZY``, or None
        when none was stored."""
        return _LAZY if self.meta["parts"][name][1] else None

    def load(self, name: str) -> Any:
        """The database ``name``, read from the file (None when none was stored); raises when the
        file has been replaced or spoilt since ``open``."""
        offset, length = self.meta["parts"][name]
        if not length:
            return None
        with open(self.path, "rb") as f:
            if self._read_tables(f) != self._tables:
                raise ValueError("the rule database file was replaced")
            f.seek(self._base + offset)
            blob = f.read(length)
        if len(blob) != length:
            raise ValueError("truncated rule database file")
        return self._hs.loadb(blob, self._hs.HS_MODE_BLOCK)


def _windowed(expression: bytes, flags: int, index: int, rule: Rule, feeds: int, width: int) -> Pattern:
    """A pattern whose match opens a window: over a few lines, those lines back from the match end
    (and one more, for allow markers); else back past the rule's longest match."""
    few_lines = feeds <= MAX_LINES
    return Pattern(expression, flags, index, min(width + BEFORE, MAX_REACH) if not few_lines else 0,
                   feeds if few_lines else 0, _ahead(rule.regex))


_NAMED = re.compile(r"\(\?P<(\w+)>")
_NAMED_REF = re.compile(r"\(\?P=(\w+)\)")
_BOUND = re.compile(r"\{(\d+),(\d+)\}")


def translate(pattern: str, groupindex: dict[str, int]) -> tuple[str, bool]:
    """Python-regex syntax as PCRE for Hyperscan, and whether the translation widened it.

    Named groups become plain groups (numbering is unchanged), named
    back-references numbered ones, ``\\Z`` ``\\z``; bounded repeats too large
    for Hyperscan become open repeats with a lower bound no higher than
    ``_MAX_BOUND`` (a superset of the matches).
    """
    widened = False
    out = _NAMED.sub("(", pattern)
    out = _NAMED_REF.sub(lambda m: f"\\{groupindex.get(m.group(1), 1)}", out)
    out = out.replace("\\Z", "\\z")

    def clamp(match: "re.Match[str]") -> str:
        nonlocal widened
        low, high = int(match.group(1)), int(match.group(2))
        if high <= _MAX_BOUND:
            return match.group(0)
        widened = True
        return "{%d,}" % min(low, _MAX_BOUND)

    out = _BOUND.sub(clamp, out)
    out, opened = open_loose_repeats(out)
    return out, widened or opened


# Hyperscan 0.9.1 misses matches of a bounded repeat with a low lower bound and a wide range
# between two other parts, once the match starts a few dozen bytes into the data: "\n[ab]{0,16}tok"
# finds "\natok" at offset 0 but not after 30 bytes, nor "x[ab]{1,65}=" "xaaaa=", nor
# "x[ \t]{3,19}zz" three tabs (a differential fuzz, tests/hyperscan_repeat_test.py). Such a repeat
# is compiled open ("{0,}"), a superset Hyperscan gets right; the rule's regex judges the window.
# No miss was seen with a lower bound of 4 or more (the lengths of secret values).
_LOOSE_LOW = 3
_LOOSE_RANGE = 8


def open_loose_repeats(expression: str) -> tuple[str, bool]:
    """``expression`` with every bounded repeat ``{m,n}`` with m <= 3 and n - m >= 8 made open
    (``{m,}``), and whether any was."""
    opened = False

    def widen(match: "re.Match[str]") -> str:
        nonlocal opened
        low, high = int(match.group(1)), int(match.group(2))
        if low > _LOOSE_LOW or high - low < _LOOSE_RANGE:
            return match.group(0)
        opened = True
        return "{%d,}" % low

    return _BOUND.sub(widen, expression), opened


def _measurable(pattern: str) -> str:
    """``pattern`` as ``re``'s parser takes it: a group name used again (the same ``secret`` in
    each branch of an alternation, which the regex module allows) becomes a plain group."""
    seen: set[str] = set()

    def rename(match: "re.Match[str]") -> str:
        if match.group(1) in seen:
            return "(?:"
        seen.add(match.group(1))
        return match.group(0)

    return _NAMED.sub(rename, pattern)


def _max_width(pattern: str) -> int:
    """The longest match ``pattern`` allows (characters), or MAX_REACH when it has no bound or
    ``re``'s parser cannot tell (every caller caps a width at MAX_REACH)."""
    width = _bounded_width(pattern)
    return MAX_REACH if width is None else width


def _lookaheads(pattern: str, openers: tuple[str, ...] = ("(?=", "(?!")) -> list[str]:
    """The bodies of the groups ``openers`` begin in ``pattern`` (lookaheads), found by bracket count."""
    bodies: list[str] = []
    i = 0
    while True:
        i = min((j for j in (pattern.find(o, i) for o in openers) if j != -1), default=-1)
        if i == -1:
            return bodies
        skip = next(len(o) for o in openers if pattern.startswith(o, i))
        escapes = len(pattern[:i]) - len(pattern[:i].rstrip("\\"))
        if escapes % 2:  # an escaped parenthesis
            i += 1
            continue
        depth, j, in_class = 0, i, False
        while j < len(pattern):
            ch = pattern[j]
            if ch == "\\":
                j += 2
                continue
            if in_class:
                in_class = ch != "]"
            elif ch == "[":
                in_class = True
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        bodies.append(pattern[i + skip:j])
        i += skip


def _lookahead_bodies(pattern: str, openers: tuple[str, ...] = ("(?=", "(?!")) -> list[str]:
    """The bodies of ``pattern``'s lookaheads (or of the groups ``openers`` begin), each measurable
    alone: a back-reference matches what its group did, so it is replaced by the group's pattern."""
    bodies = []
    for body in _lookaheads(pattern, openers):
        for name in _NAMED_REF.findall(body):
            group = _lookaheads(pattern, (f"(?P<{name}>",))
            body = body.replace(f"(?P={name})", f"(?:{group[0]})" if group else "[\\s\\S]*")
        bodies.append(body)
    return bodies


def _ahead(pattern: str) -> int:
    """How many bytes past a match's end its lookaheads may read beyond the end of its line
    (0: none crosses a line feed): a window must reach that far for Python to judge it as on
    the whole text."""
    most = 0
    for body in _lookahead_bodies(pattern):
        if _max_line_feeds(body) > 0:
            most = max(most, min(_max_width(body), MAX_REACH))
    return most


def _bounded_width(pattern: str) -> Optional[int]:
    """The longest match ``pattern`` allows, or None when it has no bound or ``re``'s parser
    cannot tell (syntax only the regex module knows)."""
    parsed = _parse(pattern)
    if parsed is None:
        return None
    try:
        width = int(parsed[0].getwidth()[1])
    except Exception:
        return None
    return width if width < UNBOUNDED else None


def keyword_reach(pattern: str) -> Optional[tuple[int, int]]:
    """How far around a keyword it holds a match of ``pattern`` lies: ``(back, ahead)`` such that a
    match whose keyword occurrence starts at ``k`` (in the match, or in what a lookbehind or
    lookahead reads from a point inside it) begins at or after ``k - back`` and ends, with all its
    lookaheads and assertions read, at or before ``k + ahead``. None when there is no bound on the
    match or on a lookaround, or ``re``'s parser cannot tell. Lookbehinds need no room before
    the match: a search from ``pos`` still reads before it.

    The detector searches a very long line around a line-scoped rule's keywords with it
    (``KeywordOccurrences.lines``): such a rule's keyword names the key its match assigns."""
    width = _bounded_width(pattern)
    if width is None:
        return None
    # What the lookarounds read, summed rather than the widest (one nested in another reads on
    # from inside it); an assertion at the match end (\b, $) reads one more character.
    reads = {"behind": 0, "ahead": 1}
    for side, openers in (("behind", ("(?<=", "(?<!")), ("ahead", ("(?=", "(?!"))):
        for body in _lookahead_bodies(pattern, openers):
            body_width = _bounded_width(body)
            if body_width is None:
                return None
            reads[side] += body_width
    # A keyword in the match or read by a lookahead from inside it lies at most ``width + ahead``
    # after the match start; one read by a lookbehind, at most ``behind`` before it.
    return width + reads["ahead"], width + reads["behind"] + reads["ahead"]


UNBOUNDED = 1 << 30
# A match holding at most this many line feeds is judged on its lines.
MAX_LINES = 16


def _parse(pattern: str) -> Optional[tuple[Any, Any]]:
    """``re``'s parse tree of ``pattern`` and its constants module, or None for syntax only the
    regex module knows."""
    parser: Any = getattr(re, "_parser", None)
    if parser is None:  # Python < 3.11
        import sre_parse as parser
    constants: Any = getattr(re, "_constants", None) or parser
    try:
        return parser.parse(_measurable(pattern)), constants
    except Exception:
        pass
    try:  # Python < 3.11 knows no possessive repeat or atomic group: measure the plain forms
        return parser.parse(_measurable(_unpossessive(pattern))), constants
    except Exception:
        return None


_BOUND_POSSESSIVE = re.compile(r"(\{\d*(?:,\d*)?\})\+")


def _unpossessive(pattern: str) -> str:
    """``pattern`` with possessive repeats made greedy (``x{1,8}+`` -> ``x{1,8}``) and atomic groups
    plain (``(?>`` -> ``(?:``): the same widths and line feeds, and a superset of the matches (so
    the literals every match holds are still held by every match of the original)."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern.startswith("[^]", i) or pattern.startswith("[]", i):
                out.append(pattern[i:i + (3 if pattern[i + 1] == "^" else 2)])
                i += 3 if pattern[i + 1] == "^" else 2
                continue
        elif pattern.startswith("(?>", i):
            out.append("(?:")
            i += 3
            continue
        elif ch == "{":
            bound = _BOUND_POSSESSIVE.match(pattern, i)
            if bound:
                out.append(bound.group(1))  # {m,n} without its possessive "+"
                i = bound.end()
                continue
        elif ch in "*+?" and pattern.startswith("+", i + 1) and (ch != "?" or not out or out[-1] != "("):
            out.append(ch)
            i += 2  # the quantifier, without its possessive "+"
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def required_literals(pattern: str, shortest: int = 3) -> list[list[str]]:
    """Sets of strings of which every match of ``pattern`` holds at least one (compared without
    case): each run of literal characters a match cannot skip, and each alternation it cannot skip
    whose every branch holds such a run (its literal prefix included). Empty when the parser
    cannot tell, or no run is ``shortest`` characters long."""
    parsed = _parse(pattern)
    if parsed is None:
        return []
    tree, c = parsed
    zero_width = (c.AT, c.ASSERT, c.ASSERT_NOT)
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None))
    def lead(items: Any) -> str:
        """The literal characters a sequence starts with."""
        out = []
        for op, av in items:
            if op is not c.LITERAL:
                break
            out.append(chr(av))
        return "".join(out)

    def sets(items: Any) -> list[list[str]]:
        """The sets the sequence ``items`` requires (each one must occur in every match)."""
        out: list[list[str]] = []
        run: list[str] = []
        for op, av in items:
            if op is c.LITERAL:
                run.append(chr(av))
                continue
            if op in zero_width:
                continue  # consumes nothing: the literal run goes on
            if op is c.BRANCH:
                # the parser moves a prefix the branches share out in front ("p(?:assword|wd)")
                prefix = "".join(run)
                alternatives = [prefix + lead(branch) for branch in av[1]]
                if all(len(a) >= shortest for a in alternatives):
                    out.append(sorted(set(alternatives)))
                inner = [sets(branch) for branch in av[1]]
                if all(inner):
                    out.append(sorted({s for branch in inner for s in rarest(branch)}))
            if len(run) >= shortest:
                out.append(["".join(run)])
            run = []
            if op is c.SUBPATTERN:
                out.extend(sets(av[3]))
            elif op in repeats and av[0] >= 1:
                out.extend(sets(av[2]))
            elif op is getattr(c, "ATOMIC_GROUP", None):
                out.extend(sets(av))
        if len(run) >= shortest:
            out.append(["".join(run)])
        return out

    return sets(tree)


def rarest(sets: Sequence[list[str]], keywords: Sequence[str] = ()) -> list[str]:
    """The set of ``required_literals`` least likely to occur in ordinary text: one whose every
    string holds a keyword of the rule (chosen for being rare), else the longest, fewest strings."""
    def score(group: list[str]) -> tuple[bool, int, int]:
        named = all(any(k in s.lower() for k in keywords) for s in group) if keywords else False
        return named, min(len(s) for s in group), -len(group)

    return max(sets, key=score)


def _max_line_feeds(pattern: str) -> int:
    """The most line feeds a match of ``pattern`` can hold (``UNBOUNDED`` when there is no bound).

    0 means the match lies on the line of its end. Conservative: anything
    the walk does not know counts as unbounded.
    """
    parsed = _parse(pattern)
    if parsed is None:
        return UNBOUNDED
    tree, c = parsed
    dotall = bool(tree.state.flags & re.DOTALL) or "(?s" in pattern
    newline_categories = {c.CATEGORY_SPACE, c.CATEGORY_NOT_DIGIT, c.CATEGORY_NOT_WORD, c.CATEGORY_LINEBREAK}
    plain_categories = {c.CATEGORY_DIGIT, c.CATEGORY_WORD, c.CATEGORY_NOT_SPACE, c.CATEGORY_NOT_LINEBREAK}

    def set_has_newline(items: Any) -> bool:
        negate = False
        has = False
        for op, av in items:
            if op is c.NEGATE:
                negate = True
            elif op is c.LITERAL:
                has = has or av == 10
            elif op is c.RANGE:
                has = has or av[0] <= 10 <= av[1]
            elif op is c.CATEGORY:
                if av in newline_categories:
                    has = True
                elif av not in plain_categories:
                    return True
            else:
                return True
        return has != negate

    # group number -> its items, for back-references
    groups = {number: items for number, (items, _) in collect_groups(tree, c).items()}
    referenced: set[int] = set()  # back-references being measured (a group referring to itself)

    def most(items: Any) -> int:
        total = 0
        for op, av in items:
            if op is c.LITERAL:
                n = 1 if av == 10 else 0
            elif op is c.NOT_LITERAL:
                n = 1 if av != 10 else 0
            elif op is c.ANY:
                n = 1 if dotall else 0
            elif op is c.IN:
                n = 1 if set_has_newline(av) else 0
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT) or op is getattr(c, "POSSESSIVE_REPEAT", None):
                inner = most(av[2])
                n = 0 if inner == 0 else UNBOUNDED if av[1] >= c.MAXREPEAT else inner * av[1]
            elif op is c.SUBPATTERN:
                n = most(av[3])
            elif op is getattr(c, "ATOMIC_GROUP", None):
                n = most(av)
            elif op is c.BRANCH:
                n = max(most(branch) for branch in av[1])
            elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
                n = 0  # zero-width: consumes nothing
            elif op is c.GROUPREF and av in groups and av not in referenced:
                # a back-reference matches what its group did: at most the group's line feeds
                # (a quote character again, in most rules)
                referenced.add(av)
                n = most(groups[av])
                referenced.discard(av)
            else:
                n = UNBOUNDED
            total = min(UNBOUNDED, total + n)
        return total

    return most(tree)


def shadow_pattern(pattern: str, ignore_case: bool = False, from_lookbehind: bool = False) -> str:
    """``pattern`` (Python syntax) rewritten for texts' shadows (``scanner.shadow``), with the
    repeats Hyperscan misses written open as in ``translate``. Raises ``Unshadowable``."""
    return open_loose_repeats(shadow_expression(_parse(pattern), _MAX_BOUND, ignore_case, from_lookbehind))[0]


_SEPARATOR_BYTES = tuple(bytes([b]) for b in SEPARATORS)


def text_ok(data: bytes, start: int = 0, end: Optional[int] = None) -> bool:
    """True when Hyperscan's byte semantics cover Python's on ``data[start:end]``."""
    span = data[start:end] if start or end is not None else data
    return span.isascii() and not any(c in span for c in _SEPARATOR_BYTES)


def line_back(data: bytes, pos: int, lines: int, nbytes: int) -> int:
    """The start of the line ``lines`` lines, and at least ``nbytes`` bytes, before line start ``pos``."""
    if pos <= 0:
        return 0
    lo = pos - nbytes
    if lo <= 0:
        return 0
    if data.count(b"\n", lo, pos) >= lines:  # the bytes reach further: one search, no walk
        return data.rfind(b"\n", 0, lo) + 1
    a = pos
    for _ in range(lines):
        if a <= 0:
            return 0
        a = data.rfind(b"\n", 0, a - 1) + 1
    return a


def line_forward(data: bytes, pos: int, lines: int, nbytes: int) -> int:
    """The end (past its line feed) of the line ``lines`` lines, and at least ``nbytes`` bytes,
    after line start ``pos``."""
    size = len(data)
    hi = pos + nbytes
    if hi >= size:
        return size
    if nbytes:  # when the bytes reach past the lines: one search, no walk
        feeds = data.count(b"\n", pos, hi)
        if feeds > lines or (feeds == lines and data[hi - 1] != 10):
            nl = data.find(b"\n", hi)
            return size if nl == -1 else nl + 1
    b = pos
    for _ in range(lines):
        if b >= size:
            return size
        nl = data.find(b"\n", b)
        b = size if nl == -1 else nl + 1
    return b


# Bytes where Hyperscan's semantics and Python's part: non-ASCII (a UTF-8 sequence is one
# character to Python, whose \w, \s and \d know Unicode) and the separators \x1c-\x1f.
_UNVOUCHED = re.compile(rb"[\x1c-\x1f\x80-\xff]+")
# A text with more unvouched runs than this goes down the keyword path whole.
MAX_UNVOUCHED_RUNS = 64
# Runs are found by marking each byte vouched (0) or not (1) with one ``bytes.translate`` and
# then jumping between marks with ``bytes.find`` (both memory speed); ``_UNVOUCHED.finditer``
# itself runs at about 80 MB/s (``re`` tries its class at every offset): on gin's history it
# cost 1.2 s of a 4.3 s single-process scan, over 61 MB of mostly-ASCII texts.
_RUN_MARKS = bytes(1 if b in SEPARATORS or b >= 0x80 else 0 for b in range(256))


def unvouched_runs(data: bytes, start: int = 0, end: Optional[int] = None) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each maximal run of unvouched bytes in ``data[start:end]``, in order:
    the spans of ``_UNVOUCHED.finditer(data, start, end)``."""
    marks = data[start:end].translate(_RUN_MARKS)
    a = marks.find(1)
    while a != -1:
        b = marks.find(0, a)
        if b == -1:
            yield start + a, start + len(marks)
            return
        yield start + a, start + b
        a = marks.find(1, b)


def unvouched_regions(data: bytes, lines: int, start: int = 0, end: Optional[int] = None,
                      most: float = 0.5) -> Optional[list[tuple[int, int]]]:
    """Line-aligned ``(start, end)`` regions of ``data`` where a rule match could touch a byte
    Hyperscan cannot vouch for in ``data[start:end]``: each such run with ``lines`` lines and
    MAX_REACH bytes either side, whichever reaches further (every windowed rule's match fits),
    merged. None when they cover more than ``most`` of that span (the keyword path on it then
    costs about as much) or there are too many runs."""
    regions: list[tuple[int, int]] = []
    for number, (run_start, run_end) in enumerate(unvouched_runs(data, start, end)):
        if number >= MAX_UNVOUCHED_RUNS:
            return None
        # lines + 2 back from inside a line: its own start, then lines + 1 more
        lo = line_back(data, run_start, lines + 2, MAX_REACH)
        hi = line_forward(data, run_end, lines + 1, MAX_REACH)
        if regions and lo <= regions[-1][1] + 1:
            regions[-1] = (regions[-1][0], max(hi, regions[-1][1]))
        else:
            regions.append((lo, hi))
    if sum(hi - lo for lo, hi in regions) > most * ((len(data) if end is None else end) - start):
        return None
    return regions


class RuleMatcher:
    """One Hyperscan database of every rule (and, for source code, one without the rules for other
    kinds of file); reports ``(rule index, match end)`` candidates."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        import hyperscan

        self._hs = hyperscan
        self.rules = list(rules)
        # Per pattern id: rule index, and how far back the window reaches from the
        # reported end (-1: the rule needs the whole text).
        self.pattern_rule: list[int] = []
        self.pattern_reach: list[int] = []
        self.pattern_lines: list[int] = []  # per pattern: line feeds its match may hold (reach 0)
        self.pattern_ahead: list[int] = []  # per pattern: bytes its lookaheads read past its line
        self.modes: list[str] = []  # per rule: exact, prefilter, keyword, fallback
        # per rule (and one more for percent escapes): windows its matches opened
        self.candidates = [0] * (len(self.rules) + 1)
        self.whole_by = -1  # the rule that last needed a whole text
        # The path of the text being matched (``path``, set by the version chain): a rule whose
        # path condition excludes it (a context rule in a vendored tree or in prose documentation,
        # a rule for other kinds of file) opens no window there, and a whole-text one does not send
        # the text down the keyword path.
        self._path: Optional[str] = None
        self._runs_here: dict[int, bool] = {}  # per rule: does its path condition admit the path?
        # The rules written for kinds of file other than source code (a ``path`` condition no
        # common source file passes: CSV exports, .git-credentials, unquoted config and YAML
        # lines), and the database of every other pattern under the same ids: a text none of those
        # rules may match (most of a history: source code) is searched with it. Their patterns
        # (line-anchored, "password" columns) cost the whole database a sixth of its speed on
        # every text while matching in few (bench/README.md, "Matching cost").
        self._path_rules = frozenset(index for index, rule in enumerate(self.rules)
                                     if rule.path and rule.path_pattern is not None
                                     and not any(rule.path_pattern.search(probe) for probe in SOURCE_FILES))
        self._common_db: Any = None
        self._here: Optional[tuple[Any, Any, bool]] = None  # (database, scratch, common?) for the path
        self.common_scans = 0  # texts searched with the database without the path rules
        self._long_db: Any = None  # the long patterns alone (see long_match)
        self._long_shadow_db: Any = None  # the same rewritten for shadows
        self._secret_id = -1  # the long databases' id of SECRET_WORD (see long_match)
        self._long_reach: list[int] = []  # per long database id: the reach of its rule (0: the word)
        # Every pattern again, rewritten for the shadow of a text (scanner.shadow), under the same
        # ids; and the rules some pattern of which could not be rewritten (judged by Python
        # around every character Hyperscan cannot vouch for, as before the shadow).
        self._shadow_db: Any = None
        self.unshadowed: frozenset[int] = frozenset()
        self.shadow_keywords: frozenset[int] = frozenset()  # rules the shadow finds by their keywords
        self._stored: Optional[_StoredDatabases] = None  # the cache file the large databases wait in
        self._loaded: dict[str, tuple[Any, Any]] = {}  # per large database in use: it and its scratch
        self._db = self._load_or_compile()
        self._long_scratch: Any = None
        self._long_shadow_scratch: Any = None
        self._scratch_long()
        self._long_farthest = max(self._long_reach, default=0)  # the gate's answer when it can stop
        self.max_lines = max(self.pattern_lines, default=0)  # line feeds a windowed match may hold
        # How far a windowed match may reach from the secret it holds (lines, bytes): a version
        # chain judges anew the hits that close to a change.
        keyword_window = BEFORE + AFTER if -2 in self.pattern_reach else 0
        reaches = self._reaches()
        self.reach = (self.max_lines + 1, max(max(reaches, default=0), keyword_window))
        # The same without the long patterns (a dozen rules: .netrc and .pypirc entries, JWKs,
        # curl commands, connection strings), and those patterns' rules: where none of them can
        # match, a chain needs only this reach (MatchedChain._reach).
        self.short_reach = (self.max_lines + 1, max(max((r for r in reaches if r <= LONG_REACH), default=0),
                                                    keyword_window))
        self.long_rules = frozenset(self.rules[self.pattern_rule[i]].id for i, r in enumerate(reaches)
                                    if r > LONG_REACH)

    def _reaches(self) -> list[int]:
        """Per pattern: the bytes its window reaches from a match end, back and through lookaheads."""
        return [max(r, 0) + a for r, a in zip(self.pattern_reach, self.pattern_ahead)]

    # -- building ----------------------------------------------------------
    def _digest(self) -> str:
        # The Python version too: the widths and line feeds stored with the database are measured
        # with its ``re`` parser (3.10's knows no possessive repeat; see _unpossessive).
        h = hashlib.sha256(f"{FORMAT}\0{getattr(self._hs, '__version__', '0')}\0{sys.version_info[:2]}".encode())
        for rule in self.rules:
            h.update("\0".join((rule.regex, repr(rule.keywords), rule.scope, str(rule.whole_text),
                                 rule.hyperscan or "", rule.content, rule.path or "")).encode(
                "utf-8", "surrogatepass"))
            h.update(b"\1")
        return h.hexdigest()[:32]

    def _load_or_compile(self) -> Any:
        if not self.rules:
            return None
        path = cache_dir() / f"rules-{self._digest()}.hsdb"
        try:
            stored = _StoredDatabases.open(path, self._hs)
            meta = stored.meta
            self.pattern_rule, self.pattern_reach, self.modes = meta["rule"], meta["reach"], meta["modes"]
            self.pattern_lines, self.pattern_ahead = meta["lines"], meta["ahead"]
            self.unshadowed = frozenset(meta["unshadowed"])
            self._secret_id = meta["secret_id"]
            self._long_reach = meta["long_reach"]
            self.shadow_keywords = frozenset(meta["shadow_keywords"])
            self._long_db, self._long_shadow_db = stored.load("long"), stored.load("long_shadow")
            self._common_db, self._shadow_db = stored.placeholder("common"), stored.placeholder("shadow")
            self._stored = stored
            touch(path)
            return stored.placeholder("db")
        except Exception:  # missing, stale or corrupt: rebuild
            pass
        db = self._compile()
        meta = {"rule": self.pattern_rule, "reach": self.pattern_reach, "lines": self.pattern_lines,
                "ahead": self.pattern_ahead, "modes": self.modes, "unshadowed": sorted(self.unshadowed),
                "shadow_keywords": sorted(self.shadow_keywords), "secret_id": self._secret_id,
                "long_reach": self._long_reach}
        try:
            atomic_write(path, _StoredDatabases.serialize(meta, {
                "db": db, "long": self._long_db, "long_shadow": self._long_shadow_db,
                "shadow": self._shadow_db, "common": self._common_db}, self._hs))
            prune(path.parent, "rules-*.hsdb", keep=KEEP_DATABASES)
        except OSError:
            pass  # a read-only cache dir only costs the next run a compile
        return db

    def _database(self, name: str) -> tuple[Any, Any]:
        """The database ``name`` ("db", "common", "shadow") and its scratch, read from the cache
        file on first use (see _StoredDatabases): most processes need one or two of the three."""
        got = self._loaded.get(name)
        if got is None:
            db = getattr(self, _ATTRIBUTE[name])
            if db is _LAZY:
                try:
                    db = self._stored.load(name) if self._stored is not None else None
                except Exception:  # the file was replaced or spoilt since: compile them again
                    self._stored = None
                    self._db = self._compile()  # (the same patterns: the tables do not change)
                    self._loaded.clear()
                    self._scratch_long()
                    return self._database(name)
                setattr(self, _ATTRIBUTE[name], db)
            got = self._loaded[name] = (db, self._hs.Scratch(db) if db is not None else None)
        return got

    def _scratch_long(self) -> None:
        """Scratch for the long patterns' databases (loaded with the tables, or compiled again)."""
        hs = self._hs
        self._long_scratch = hs.Scratch(self._long_db) if self._long_db is not None else None
        self._long_shadow_scratch = hs.Scratch(self._long_shadow_db) if self._long_shadow_db is not None else None

    def _try(self, expression: bytes, flags: int) -> Any:
        """The expression alone as a database, or None when Hyperscan rejects it."""
        hs = self._hs
        db = hs.Database(mode=hs.HS_MODE_BLOCK)
        try:
            db.compile(expressions=[expression], ids=[0], elements=1, flags=flags)
        except Exception:
            return None
        return db

    def _unanchored(self, db: Any, rule: Rule) -> bool:
        """True when the compiled pattern matches ordinary code that holds none of the rule's keywords.

        Hyperscan's prefilter form drops lookarounds; a generic rule whose
        secret-named key sits in a lookbehind then matches every assignment,
        and its candidates would cost more than its keywords' occurrences.
        """
        if not rule.keywords:
            return False
        probe = b"".join(line for line in _PROBE if not any(k.encode("utf-8") in line.lower() for k in rule.keywords))
        hit: list[int] = []

        def on_match(*_args: Any) -> bool:
            hit.append(1)
            return True

        try:
            db.scan(probe, match_event_handler=on_match, scratch=self._hs.Scratch(db))
        except Exception:  # stopped at the first match
            pass
        return bool(hit)

    def patterns(self, done: Optional[dict[int, tuple[list[Pattern], str]]] = None
                 ) -> tuple[list[Pattern], list[str]]:
        """What the database is compiled from: one ``Pattern`` per expression, and each rule's mode
        (``done``: each rule's, already worked out by helpers).

        Pure (nothing on ``self`` changes), so ``bench/hsdb.py`` can time each expression alone.
        """
        patterns: list[Pattern] = []
        modes: list[str] = []
        for index, rule in enumerate(self.rules):
            found, mode = done[index] if done is not None else self._rule_patterns(index, rule)
            patterns.extend(found)
            modes.append(mode)
        patterns.append(_percent_pattern(len(self.rules)))
        return patterns, modes

    def _rule_patterns(self, index: int, rule: Rule) -> tuple[list[Pattern], str]:
        """One rule's patterns and its mode (see ``patterns``)."""
        import regex

        hs = self._hs
        found: list[Pattern] = []
        if rule.content == "binary":
            # Binary rules judge only blobs the sources call binary, which never reach this
            # database (its texts are text): compiled, a DER key's "\A\x30.{16,}" matched at every
            # offset of each text starting with "0", and too many matches sent it to the keyword path.
            return found, "binary"
        if not rule.keywords and rule.path:
            # Chosen by path (.pgpass lines): the sources scan such files whole, never in
            # windows (Detector.reads_path); compiled, "^([^:#\s][^:\s]{0,252}):..." ran an
            # automaton over every line of every other file.
            return found, "path"
        if rule.hyperscan is not None and rule.scope != "text":
            approximation = self._approximate(index, rule)
            if approximation is not None:
                found.append(approximation)
                return found, "approximate"
        mode = "keyword"
        # A rule the detector searches whole texts for only because of a long repetition
        # still has matches a window can hold when its longest match fits MAX_REACH.
        feeds = _max_line_feeds(rule.regex)
        width = _max_width(rule.regex)
        few_lines = feeds <= MAX_LINES
        if rule.scope != "text" and (not rule.whole_text or few_lines or width + BEFORE <= MAX_REACH):
            try:
                groupindex = dict(regex.compile(rule.regex, regex.VERSION0).groupindex)
            except regex.error:
                groupindex = {}
            translated, widened = translate(rule.regex, groupindex)
            expression = translated.encode("utf-8", "surrogatepass")
            db = None if widened else self._try(expression, 0)
            if db is not None:
                mode = "exact"
            else:
                db = self._try(expression, hs.HS_FLAG_PREFILTER)
                mode = "prefilter" if db is not None else "fallback"
            if db is not None and self._unanchored(db, rule):
                mode = "anchored"  # by its keywords, as on the keyword path
            if mode in ("exact", "prefilter"):
                found.append(_windowed(expression, 0 if mode == "exact" else hs.HS_FLAG_PREFILTER,
                                   index, rule, feeds, width))
        if mode == "keyword" and rule.scope == "text" and rule.hyperscan is not None:
            gate = open_loose_repeats(rule.hyperscan)[0].encode("utf-8")  # the bounded-repeat miss
            if self._try(gate, 0) is not None:
                # Its expression, not its keywords, says when the whole text is searched: a
                # Kubernetes Secret's "kind: Secret" line, not "secret" anywhere (express's
                # History.md sent 557 whole versions through kubernetes-secret-data's regex).
                found.append(Pattern(gate, hs.HS_FLAG_SINGLEMATCH, index, -1, 0, 0))
                return found, "gate"
        if mode in ("keyword", "fallback", "anchored"):
            # Without keywords the rule is a candidate everywhere: an empty literal is rejected,
            # so such a rule matches "" at every scan through an always-matching pattern.
            for keyword in rule.keywords or ("",):
                found.append(Pattern(
                    re.escape(keyword).encode("utf-8") if keyword else b"(?s).",
                    hs.HS_FLAG_CASELESS | (hs.HS_FLAG_SINGLEMATCH if mode == "keyword" or not keyword else 0),
                    index, -1 if mode == "keyword" or not keyword else -3 if rule.scope == "line" else -2, 0, 0))
        return found, mode


    def _approximate(self, index: int, rule: Rule) -> Optional[Pattern]:
        """The rule's ``hyperscan`` expression as its pattern (None when Hyperscan rejects it: the rule
        is then compiled as if it had none). It ends on the last line of every regex match, at most
        BEFORE bytes past its end: a line-scoped rule's window is that line, any other's reaches back
        past its longest match plus BEFORE."""
        # the same Hyperscan miss as in translate(): loose bounded repeats compiled open
        expression = open_loose_repeats(rule.hyperscan)[0].encode("utf-8") if rule.hyperscan is not None else b""
        feeds = _max_line_feeds(rule.regex)
        width = _max_width(rule.regex)
        few_lines = feeds <= MAX_LINES
        if rule.whole_text and not few_lines and width + BEFORE > MAX_REACH:
            return None  # no window holds its matches
        if self._try(expression, 0) is None:
            return None
        if rule.scope == "line":
            return Pattern(expression, 0, index, -3, 0, 0)
        return _windowed(expression, 0, index, rule, feeds, width)

    def _compile(self) -> Any:
        """The databases, compiled (the first run on a machine or after a rule change: 10.5 s on one
        core here, half of it Hyperscan trying each expression alone, most of the rest compiling
        the main and shadow databases). Where this process may fork (``compile_processes``), the
        rules are split among forked helpers, and one compiles the main database while this
        process compiles the others."""
        helpers = compile_processes()
        if helpers < 2:
            patterns, self.modes = self.patterns()
            return self._databases(patterns)
        from scanner.forking import forked_pool, ignore_interrupts

        global _COMPILING
        _COMPILING = self
        try:
            with forked_pool(helpers, ignore_interrupts) as pool:
                # every n-th rule to each helper: the costly ones (long regexes) are not adjacent
                parts = pool.map(_rule_patterns_part, [range(k, len(self.rules), helpers) for k in range(helpers)])
                done: dict[int, tuple[list[Pattern], str]] = {}
                for part in parts:
                    done.update(part)
                patterns, self.modes = self.patterns(done)
                return self._databases(patterns, pool)
        finally:
            _COMPILING = None

    def _databases(self, patterns: list[Pattern], pool: Any = None) -> Any:
        """The main database of ``patterns`` and the one without the path rules' (compiled by
        ``pool``'s helpers, when given, while this process compiles the long and shadow ones), and
        the pattern tables."""
        self.pattern_rule = [p.rule for p in patterns]
        self.pattern_reach = [p.reach for p in patterns]
        self.pattern_lines = [p.lines for p in patterns]
        self.pattern_ahead = [p.ahead for p in patterns]
        common_ids = [i for i, p in enumerate(patterns) if p.rule not in self._path_rules]
        common = [patterns[i] for i in common_ids] if len(common_ids) < len(patterns) else []
        main = pool.apply_async(_serialized_database, (patterns,)) if pool is not None else None
        rest = pool.apply_async(_serialized_database, (common, common_ids)) if pool is not None and common else None
        self._long_db, self._long_shadow_db = self._compile_long(patterns)
        self._shadow_db = self._compile_shadow(patterns)
        hs = self._hs
        if common:
            self._common_db = (hs.loadb(rest.get(), hs.HS_MODE_BLOCK) if rest is not None
                               else _database(common, common_ids))
        return hs.loadb(main.get(), hs.HS_MODE_BLOCK) if main is not None else _database(patterns)

    def _compile_long(self, patterns: Sequence[Pattern]) -> tuple[Any, Any]:
        """The databases ``long_match`` scans, on texts and on their shadows: per long rule, the
        literals one of which its every match holds (``required_literals``: a literal search runs
        at memory speed, where the long expressions themselves, wide repeats after "[" or "user",
        ran at half the main database's speed), or its expressions when the regex shows no such
        literal. No shadow database when a pattern cannot be rewritten for shadows."""
        hs = self._hs
        reaches = self._reaches()
        long_rules = sorted({p.rule for p, reach in zip(patterns, reaches) if reach > LONG_REACH})
        rule_reach = {index: max(r for p, r in zip(patterns, reaches) if p.rule == index) for index in long_rules}
        expressions: list[bytes] = []
        flags: list[int] = []
        shadows: Optional[list[bytes]] = []
        self._long_reach = []
        for index in long_rules:
            rule = self.rules[index]
            literals = required_literals(rule.regex)
            sources: list[tuple[bytes, int, str, bool]] = []
            if literals:
                sources = [(re.escape(literal).encode("utf-8"), hs.HS_FLAG_CASELESS, re.escape(literal), True)
                           for literal in rarest(literals, rule.keywords)]
            else:
                sources = [(p.expression, p.flags, rule.regex, False) for p in patterns if p.rule == index]
            for expression, flag, source, caseless in sources:
                expressions.append(expression)
                flags.append(flag | hs.HS_FLAG_SINGLEMATCH)
                self._long_reach.append(rule_reach[index])
                try:
                    if shadows is not None:
                        shadows.append(shadow_pattern(source, ignore_case=caseless).encode("ascii"))
                except (Unshadowable, RecursionError):
                    shadows = None
        if not expressions:
            return None, None
        # Last: the word a Kubernetes Secret manifest needs (long_match's second answer), case as is.
        self._secret_id = len(expressions)
        expressions.append(re.escape(SECRET_WORD).encode("ascii"))
        flags.append(hs.HS_FLAG_SINGLEMATCH)
        self._long_reach.append(0)
        if shadows is not None:
            shadows.append(re.escape(SECRET_WORD).encode("ascii"))
        db = hs.Database(mode=hs.HS_MODE_BLOCK)
        db.compile(expressions=expressions, ids=list(range(len(expressions))), elements=len(expressions), flags=flags)
        shadow_db = None
        if shadows is not None:
            shadow_db = hs.Database(mode=hs.HS_MODE_BLOCK)
            try:
                shadow_db.compile(expressions=shadows, ids=list(range(len(shadows))), elements=len(shadows),
                                  flags=[hs.HS_FLAG_PREFILTER | hs.HS_FLAG_SINGLEMATCH] * len(shadows))
            except Exception:  # a rewritten expression Hyperscan rejects: shadows keep the full reach
                shadow_db = None
        return db, shadow_db

    def _compile_shadow(self, patterns: Sequence[Pattern]) -> Any:
        """The database ``scan_shadow`` runs: each pattern rewritten for the shadow
        (``scanner.shadow``), under its id. A windowed or gate pattern is rewritten from its
        rule's regex (a gate is a superset only on ASCII); a keyword or escape pattern from its
        own expression. An approximated rule (its approximation is a superset only on ASCII) is
        rewritten from its regex's last top-level lookbehind on, where a generic rule keeps the
        key name it needs (without it, its regex matched every assignment); with no such
        lookbehind, its whole regex, when that holds no positive lookbehind and finds the rule's
        examples (``_finds_examples``); where neither can be had or the rewrite still matches
        ordinary code (``_unanchored``), it is anchored by its keywords instead, under new ids
        (keyword windows, as on the keyword path; those rules are ``shadow_keywords``). Compiled
        in prefilter form (a superset; it lets Hyperscan simplify what is too large). A pattern
        that cannot be rewritten or compiled leaves its rule in ``unshadowed``."""
        hs = self._hs
        expressions: list[bytes] = []
        ids: list[int] = []
        flags: list[int] = []
        unshadowed: set[int] = set()
        anchored: list[int] = []
        for number, p in enumerate(patterns):
            rule = self.rules[p.rule] if p.rule < len(self.rules) else None
            mode = self.modes[p.rule] if rule is not None else ""
            if mode == "approximate" and rule is not None and rule.keywords:
                named = self._shadow_rewrite(rule)
                if named is None and "(?<=" not in rule.regex:
                    # No lookbehind to start from: the whole regex, where it is anchored itself
                    # (a directive or call name opens it), beats a window at every keyword. Not
                    # where a positive lookbehind holds its context (an inline assignment's "&" or
                    # flag, a hash line's "}"): the prefilter form drops it, and the rewrite then
                    # matched ordinary assignments and URLs by the thousand.
                    named = self._shadow_rewrite(rule, whole=True)
                if named is None:
                    anchored.append(p.rule)
                    continue
                expressions.append(named)
                ids.append(number)
                flags.append(hs.HS_FLAG_PREFILTER | (p.flags & hs.HS_FLAG_SINGLEMATCH))
                continue
            try:
                if rule is not None and (p.reach >= 0 or mode in ("approximate", "gate")):
                    expression = shadow_pattern(rule.regex)
                else:
                    expression = shadow_pattern(p.expression.decode("utf-8"),
                                                ignore_case=bool(p.flags & hs.HS_FLAG_CASELESS))
            except (Unshadowable, UnicodeDecodeError, RecursionError):
                unshadowed.add(p.rule)
                continue
            expressions.append(expression.encode("ascii"))
            ids.append(number)
            flags.append(hs.HS_FLAG_PREFILTER | (p.flags & hs.HS_FLAG_SINGLEMATCH))
        for index in anchored:
            rule = self.rules[index]
            for keyword in rule.keywords:
                try:
                    expression = shadow_pattern(re.escape(keyword), ignore_case=True)
                except Unshadowable:
                    unshadowed.add(index)
                    continue
                expressions.append(expression.encode("ascii"))
                ids.append(len(self.pattern_rule))
                flags.append(hs.HS_FLAG_PREFILTER)
                self.pattern_rule.append(index)
                self.pattern_reach.append(-3 if rule.scope == "line" else -2)
                self.pattern_lines.append(0)
                self.pattern_ahead.append(0)
        db = self._try_all(expressions, ids, flags, unshadowed)
        self.unshadowed = frozenset(unshadowed)
        self.shadow_keywords = frozenset(anchored)
        return db

    def _shadow_rewrite(self, rule: Rule, whole: bool = False) -> Optional[bytes]:
        """The rule's regex rewritten for shadows from its last top-level lookbehind on
        (``shadow_expression``; with ``whole``, all of it), or None where there is none, Hyperscan
        rejects it or it still matches ordinary code holding none of the rule's keywords."""
        try:
            expression = shadow_pattern(rule.regex, from_lookbehind=not whole).encode("ascii")
        except (Unshadowable, RecursionError):
            return None
        db = self._try(expression, self._hs.HS_FLAG_PREFILTER)
        if db is None or self._unanchored(db, rule):
            return None
        return expression if not whole or self._finds_examples(db, rule) else None

    def _finds_examples(self, db: Any, rule: Rule) -> bool:
        """Does the shadow database ``db`` end a match wherever the rule's regex ends one in its
        examples, as they are and behind other text? Hyperscan was seen to lose a whole rewritten
        regex's match behind twenty word characters (generic-secret-setter-call: found in
        ``Client.builder().withApiKey(...)``, lost in ``Clientxbuilder().withApiKey(...)``, where
        Python's re finds both); such a rule keeps its keyword windows."""
        import regex

        from scanner.regexcache import compile_pattern
        from scanner.shadow import shadow

        # Compiled here, not as ``rule.pattern``: a history's workers compile the large regexes
        # they use themselves (blobs.init_worker); this process keeps none of them.
        pattern = compile_pattern(rule.regex, regex.VERSION0)
        ends: list[int] = []

        def on_match(_pattern: int, _start: int, end: int, *_args: Any) -> None:
            ends.append(end)

        scratch = self._hs.Scratch(db)
        for example in rule.examples:
            texts = [example, example + " \u00e9"]
            for found in pattern.finditer(example):
                at = found.start()
                texts.extend(example[:at] + filler + example[at:]
                             for filler in ("x" * 20, "x" * 20 + "().", "\u00e9", "\u00e9 ", "Client.\u00e9bu"))
            for text in texts:
                matches = [m.end() for m in pattern.finditer(text) if m.end() > m.start()]
                if not matches:
                    continue
                ends.clear()
                try:
                    db.scan(shadow(text.encode("utf-8")), match_event_handler=on_match, scratch=scratch)
                except Exception:
                    return False
                if not set(matches) <= set(ends):
                    return False
        return True

    def _try_all(self, expressions: list[bytes], ids: list[int], flags: list[int], rejected: set[int]) -> Any:
        """One database of the expressions; where Hyperscan rejects it, of those it takes alone
        (the others' rules join ``rejected``)."""
        hs = self._hs
        for attempt in range(2):
            if not expressions:
                return None
            db = hs.Database(mode=hs.HS_MODE_BLOCK)
            try:
                db.compile(expressions=expressions, ids=ids, elements=len(expressions), flags=flags)
                return db
            except Exception:
                if attempt:
                    raise
            kept = [i for i, (e, f) in enumerate(zip(expressions, flags)) if self._try(e, f) is not None]
            rejected.update(self.pattern_rule[ids[i]] for i in set(range(len(ids))) - set(kept))
            expressions, ids, flags = [expressions[i] for i in kept], [ids[i] for i in kept], [flags[i] for i in kept]
        return None

    # -- scanning ----------------------------------------------------------
    @property
    def path(self) -> Optional[str]:
        """The path of the texts being matched (None: unknown, every rule may match)."""
        return self._path

    @path.setter
    def path(self, path: Optional[str]) -> None:
        if path != self._path:  # (a chain sets it for each version of a path)
            self._path, self._runs_here, self._here = path, {}, None

    def _runs(self, rule: int) -> bool:
        """Does ``rule``'s path condition admit the path (always, for the percent-escape pattern)?"""
        runs = self._runs_here.get(rule)
        if runs is None:
            condition = self.rules[rule].path_pattern if rule < len(self.rules) else None
            # (a compiled regex answers a match or None, OutsideVendored a bool)
            runs = self._runs_here[rule] = condition is None or self._path is None or bool(condition.search(self._path))
        return runs

    def scan(self, data: bytes) -> Optional[list[tuple[int, int]]]:
        """``(pattern id, match end)`` for every match in ``data``; None when there were too many.
        Searched without the patterns of the rules for other kinds of file where none of them runs
        (``_path_rules``)."""
        here = self._here
        if here is None:
            common = self._common_db is not None and not any(self._runs(rule) for rule in self._path_rules)
            here = self._here = self._database("common" if common else "db") + (common,)
        if here[2]:
            self.common_scans += 1
        return self._scan(here[0], here[1], data)

    @property
    def shadows(self) -> bool:
        """Can this matcher search shadows (``scan_shadow``)?"""
        return self._shadow_db is not None

    def scan_shadow(self, shadow: bytes) -> Optional[list[tuple[int, int]]]:
        """``scan`` for a text's shadow (``scanner.shadow``): every pattern id whose rule's regex
        could match the text, at the character offset where that match ends."""
        return self._scan(*self._database("shadow"), shadow)

    def _scan(self, db: Any, scratch: Any, data: bytes) -> Optional[list[tuple[int, int]]]:
        if db is None:
            return []
        found: list[tuple[int, int]] = []
        append = found.append

        def on_match(pattern: int, start: int, end: int, flags: int, context: Any) -> Optional[bool]:
            append((pattern, end))
            return len(found) > MAX_MATCHES or None  # True stops the scan

        try:
            db.scan(data, match_event_handler=on_match, scratch=scratch)
        except self._hs.ScanTerminated:
            return None
        except self._hs.error:
            if len(found) > MAX_MATCHES:
                return None
            raise
        return None if len(found) > MAX_MATCHES else found

    def search(self, data: bytes, start: int, end: int, regions: Sequence[tuple[int, int]] = (),
               whole: Optional[Callable[[frozenset[int]], bool]] = None,
               view: Optional[Shadow] = None) -> tuple[Optional[list[Window]], bool]:
        """The windows (``windows``) around the matches in ``data[start:end]``, as byte offsets of
        ``data``; or None, and whether a rule needs the whole text (else: too many matches).

        ``regions`` (of bytes Hyperscan cannot vouch for) are windows for every rule. With ``view``,
        the shadow of ``data`` (``scanner.shadow``), the shadow of the span is searched instead and
        needs no such regions, but for the rules no shadow pattern stands for (``unshadowed``):
        they judge the regions around the span's unvouched characters."""
        text: bytes = data
        region_rules: Optional[frozenset[int]] = None
        if view is not None:
            text, region_rules = view.text, self.unshadowed
            start, end = view.chars(start, end)
            found: Optional[list[tuple[int, int]]] = []
            if region_rules:  # custom rules only: every built-in pattern is rewritten
                found = unvouched_regions(text, self.max_lines, start, end, most=1.0)
                if found is None:
                    return None, False
            regions = [(max(lo, start), min(hi, end)) for lo, hi in found or ()]
            matches = self.scan_shadow(text[start:end] if start or end != len(text) else text)
        else:
            matches = self.scan(data[start:end] if start or end != len(data) else data)
        if matches is None:
            return None, False
        if not matches and not regions:
            return [], False
        if start:
            matches = [(pattern, at + start) for pattern, at in matches]
        windows = self.windows(text, matches, regions, whole=whole, region_rules=region_rules)
        if windows is None:
            return None, True
        return (view.to_bytes(windows) if view is not None else windows), False

    def long_match(self, data: bytes, secret_word: bool = False) -> tuple[int, bool]:
        """How far a long rule's match (a pattern reaching further than LONG_REACH) that lies in
        ``data`` may reach: the largest reach of the long rules whose literal ``data`` holds (0:
        none can match there). With ``secret_word``, also: does ``data`` hold the word ``Secret``
        (a chain asks it of every change, and the gate already reads the bytes around the change:
        one pass, not two)?"""
        return self._gate(self._long_db, self._long_scratch, data, secret_word)

    @property
    def long_shadows(self) -> bool:
        """Can ``long_match_shadow`` answer (every long pattern rewritten for shadows, and no rule
        left to judge the regions around unvouched characters itself)?"""
        return self._long_shadow_db is not None and not self.unshadowed

    def long_match_shadow(self, shadow: bytes, secret_word: bool = False) -> tuple[int, bool]:
        """``long_match`` for a span of a text's shadow (``scanner.shadow``: ASCII stays itself,
        so the word is in the shadow exactly where it is in the text)."""
        return self._gate(self._long_shadow_db, self._long_shadow_scratch, shadow, secret_word)

    def _gate(self, db: Any, scratch: Any, data: bytes, secret_word: bool) -> tuple[int, bool]:
        if db is None:
            return 0, secret_word and SECRET_WORD.encode("ascii") in data
        reach_of, farthest = self._long_reach, self._long_farthest
        reach = [0]  # the largest reach of a long rule whose literal is here
        said = [False]  # the word
        word = self._secret_id

        def on_match(pattern: int, *_args: Any) -> bool:
            if pattern == word:
                said[0] = True
            elif reach_of[pattern] > reach[0]:
                reach[0] = reach_of[pattern]
            return reach[0] == farthest and (said[0] or not secret_word)  # True: all asked is known

        try:
            db.scan(data, match_event_handler=on_match, scratch=scratch)
        except self._hs.ScanTerminated:
            pass
        return reach[0], said[0]

    def windows(self, data: bytes, matches: list[tuple[int, int]], regions: Sequence[tuple[int, int]] = (),
                whole: Optional[Callable[[frozenset[int]], bool]] = None,
                region_rules: Optional[frozenset[int]] = None) -> Optional[list[Window]]:
        """Merged line-aligned ``(start, end, rules)`` windows of ``data`` around ``matches``
        (``end`` before the line feed; ``rules`` the indices of the rules whose matches opened
        it, the only rules that can match in it, or None: any rule). ``regions`` (line-aligned)
        are windows for every rule (for ``region_rules`` only, when given): Hyperscan could not
        vouch for their bytes.

        A rule that needs the whole text makes the answer None, unless ``whole`` is given: it
        tells whether such rules, searched alone on the whole text, find anything. Mostly they
        do not (a curl command without a password, a ``data:`` block in no Secret) and the other
        rules keep their windows; else the answer is one window of the whole text with every
        rule matched, so overlapping hits are weighed against each other as in a whole-text scan."""
        spans: list[tuple[int, int, int]] = [(lo, hi, -1) for lo, hi in regions]
        needs_whole: set[int] = set()
        seen: dict[int, int] = {}  # rule -> end of its last window (later matches inside it add nothing)
        pattern_rule, pattern_reach, pattern_lines = self.pattern_rule, self.pattern_reach, self.pattern_lines
        pattern_ahead = self.pattern_ahead
        runs_here, runs = self._runs_here, self._runs
        for pattern, end in matches:
            rule = pattern_rule[pattern]
            if end <= seen.get(rule, -1):
                continue
            if not (runs_here.get(rule) or runs(rule)):
                seen[rule] = len(data)  # its path condition excludes this text: it cannot match here
                continue
            reach = pattern_reach[pattern]
            if reach == -1:
                self.candidates[rule] += 1
                self.whole_by = rule
                if whole is None:
                    return None
                seen[rule] = len(data)
                needs_whole.add(rule)
                continue
            if reach == -2:  # a keyword: the detector's keyword window
                lo, hi = end - BEFORE, end + AFTER
            elif reach == -3:  # a keyword of a line-scoped rule: its line
                lo = hi = end
            else:
                lo, hi = end - reach, end
            feed = -1 if lo <= 0 else data.rfind(b"\n", 0, lo)  # the line feed before lo's line (-1: none)
            for _ in range(pattern_lines[pattern] + 1):  # back over the lines the match may span, and one more
                if feed < 0:
                    break
                feed = data.rfind(b"\n", 0, feed)
            lo = feed + 1
            hi = min(hi + pattern_ahead[pattern], len(data))  # what its lookaheads read past its line
            nl = data.find(b"\n", hi)
            hi = len(data) if nl == -1 else nl
            seen[rule] = hi
            self.candidates[rule] += 1
            spans.append((lo, hi, rule))
        spans.sort()
        merged: list[tuple[int, int, set[int]]] = []
        for lo, hi, rule in spans:
            if merged and lo <= merged[-1][1] + 1:
                last = merged[-1]
                last[2].add(rule)
                if hi > last[1]:
                    merged[-1] = (last[0], hi, last[2])
            else:
                merged.append((lo, hi, {rule}))
        def named(rules: set[int]) -> Optional[frozenset[int]]:
            if -1 not in rules:
                return frozenset(rules)
            return None if region_rules is None else frozenset(rules - {-1} | region_rules)

        if needs_whole and whole is not None and whole(frozenset(needs_whole)):
            return [(0, len(data), named(set(needs_whole).union(*(rules for _, _, rules in merged))))]
        return [(lo, hi, named(rules)) for lo, hi, rules in merged]

    def report(self) -> dict[str, Any]:
        """Compile modes and candidate counts, for ``stats``."""
        modes: dict[str, int] = {}
        for mode in self.modes:
            modes[mode] = modes.get(mode, 0) + 1
        names = [r.id for r in self.rules] + ["decode:percent"]
        ranked = sorted(((n, names[i]) for i, n in enumerate(self.candidates) if n), reverse=True)
        return {
            "modes": modes,
            "fallback_rules": [r.id for r, m in zip(self.rules, self.modes) if m == "fallback"],
            "unshadowed_rules": [self.rules[i].id for i in sorted(self.unshadowed) if i < len(self.rules)],
            "shadow_keyword_rules": [self.rules[i].id for i in sorted(self.shadow_keywords)],
            "candidates": {rule_id: n for n, rule_id in ranked},
        }


_MATCHERS: dict[int, RuleMatcher] = {}


def rule_matcher(rules: Sequence[Rule]) -> RuleMatcher:
    """One matcher per rule list in this process (workers inherit it over fork)."""
    key = id(rules)
    matcher = _MATCHERS.get(key)
    if matcher is None or matcher.rules != list(rules):
        matcher = _MATCHERS[key] = RuleMatcher(rules)
    return matcher
