"""Multi-literal keyword prefilter: which rules could match this text at all?

Two engines answer the same question in one pass over the data:

* ``HyperscanPrefilter`` compiles every keyword into one Hyperscan database
  (case-insensitive, single-match), so large inputs are scanned at memory
  speed. The compiled database is cached on disk keyed by the keyword set,
  so only the first run after a rule change pays for compilation.
* ``PythonPrefilter`` is the portable path: the keywords folded into one
  trie-shaped regular expression, run once over the lower-cased text.
  It is also what small inputs (a staged diff) use, because it needs no
  Hyperscan import or database load on the commit hot path; inputs of a
  few KB skip even the trie and test each keyword with a substring search.
"""
from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any, Optional, Union

from scanner.paths import atomic_write, cache_dir, prune, touch

# Compiled keyword databases kept in the user cache (one per keyword set: the
# built-in rules of each installed version, plus custom rule sets).
KEEP_DATABASES = 8

Data = Union[str, bytes]

# Up to this size, the Python prefilter tests each keyword with `in`.
SMALL_INPUT = 4096

# The only two characters whose str.lower() holds an ASCII letter: the Kelvin sign ("k") and the
# dotted capital I ("i" and a combining dot). Hyperscan's caseless bytes never take them for a
# keyword's letter, so the Python prefilter does not either: which prefilter a text meets (it goes
# by size) must not decide whether a rule runs on it.
ASCII_LOWERING = {0x212A: "\ufffd", 0x130: "\ufffd"}


def without_ascii_lowering(text: str) -> str:
    """``text`` with both characters replaced (``ASCII_LOWERING``), the same length (``text``
    itself when it holds neither: no copy). Two ``str.replace`` passes, each free on a text
    whose characters are all below them: ``str.translate`` with a table looks each character up
    in Python's mapping, 0.11 s on a 2 MB text decoded with replacement characters (requests'
    logo)."""
    for char, replacement in ASCII_LOWERING.items():
        text = text.replace(chr(char), replacement)
    return text


def _trie_regex(words: Sequence[str]) -> str:
    """An alternation of ``words`` factored into a trie, so matching is one pass
    with no backtracking across alternatives that share a prefix."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = True

    def render(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + render(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?"
        return body

    return render(trie)


class PythonPrefilter:
    """One pass of a trie regex over the lower-cased text.

    The pattern is a lookahead, so it reports the longest keyword starting at
    every position (overlapping hits are not lost); keywords that are
    substrings of a hit are added from a table built once.
    """

    def __init__(self, keywords: Sequence[str]) -> None:
        self.keywords = list(keywords)
        # keyword -> indices of the keywords it contains, filled per keyword the
        # trie reports (all at once was 400,000 substring tests: 14 ms of every
        # staged scan, which never uses the trie)
        self._implied: dict[str, set[int]] = {}
        self._bytes_keywords = [kw.encode("utf-8") for kw in self.keywords]
        self._str: Optional[re.Pattern[str]] = None
        self._bytes: Optional[re.Pattern[bytes]] = None

    def matches(self, data: Data) -> set[int]:
        """Indices of the keywords that occur in ``data`` (case-insensitive)."""
        if not self.keywords:
            return set()
        if isinstance(data, str):
            data = without_ascii_lowering(data)
        if len(data) <= SMALL_INPUT:
            # A diff hunk is a few hundred bytes: a C substring search per
            # keyword finishes before the trie regex would even be compiled.
            lowered = data.lower()
            if isinstance(lowered, bytes):
                return {i for i, kw in enumerate(self._bytes_keywords) if kw in lowered}
            return {i for i, kw in enumerate(self.keywords) if kw in lowered}
        found: set[str] = set()
        if isinstance(data, bytes):
            if self._bytes is None:
                self._bytes = re.compile(b"(?=(" + _trie_regex(self.keywords).encode("utf-8") + b"))")
            for match in self._bytes.finditer(data.lower()):
                found.add(match.group(1).decode("utf-8"))
        else:
            if self._str is None:
                self._str = re.compile("(?=(" + _trie_regex(self.keywords) + "))")
            for text_match in self._str.finditer(data.lower()):
                found.add(text_match.group(1))
        hits: set[int] = set()
        for kw in found:
            implied = self._implied.get(kw)
            if implied is None:
                implied = self._implied[kw] = {i for i, other in enumerate(self.keywords) if other in kw}
            hits |= implied
        return hits


class HyperscanPrefilter:
    """All keywords in one Hyperscan block-mode database."""

    def __init__(self, keywords: Sequence[str]) -> None:
        import hyperscan  # lazy: only large inputs pay for the import

        self._hs = hyperscan
        self.keywords = list(keywords)
        self._db = self._load_or_compile()
        self._scratch = hyperscan.Scratch(self._db) if self.keywords else None

    def _cache_path(self) -> Any:
        import hashlib  # only for the database cache: a staged diff never loads OpenSSL

        digest = hashlib.sha256("\0".join(self.keywords).encode("utf-8")).hexdigest()[:32]
        version = getattr(self._hs, "__version__", "0")
        return cache_dir() / f"hyperscan-{version}-{digest}.db"

    def _compile(self) -> Any:
        hs = self._hs
        db = hs.Database(mode=hs.HS_MODE_BLOCK)
        db.compile(
            expressions=[re.escape(kw).encode("utf-8") for kw in self.keywords],
            ids=list(range(len(self.keywords))),
            elements=len(self.keywords),
            flags=hs.HS_FLAG_CASELESS | hs.HS_FLAG_SINGLEMATCH,
        )
        return db

    def _load_or_compile(self) -> Any:
        if not self.keywords:
            return None
        path = self._cache_path()
        try:
            db = self._hs.loadb(path.read_bytes(), self._hs.HS_MODE_BLOCK)
            touch(path)
            return db
        except Exception:  # missing, stale or corrupt cache: rebuild it
            pass
        db = self._compile()
        try:
            atomic_write(path, self._hs.dumpb(db))
            # one database per keyword set: every rule-set change leaves one behind
            prune(path.parent, "hyperscan-*.db", keep=KEEP_DATABASES)
        except OSError:
            pass  # a read-only cache dir only costs the next run a compile
        return db

    def matches(self, data: Data) -> set[int]:
        """Indices of the keywords that occur in ``data`` (case-insensitive)."""
        if self._db is None:
            return set()
        found: set[int] = set()

        def on_match(kw_id: int, start: int, end: int, flags: int, context: Any) -> None:
            found.add(kw_id)

        raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
        self._db.scan(raw, match_event_handler=on_match, scratch=self._scratch)
        return found


def hyperscan_available() -> bool:
    """True when the ``hyperscan`` wheel imports on this platform.

    ``MCP_SCAN_NO_HYPERSCAN=1`` answers False, so every command takes the
    pure-Python path that platforms without a wheel get (tests compare both).
    """
    if os.environ.get("MCP_SCAN_NO_HYPERSCAN", "") not in ("", "0"):
        return False
    try:
        import hyperscan  # noqa: F401
    except Exception:
        return False
    return True


def make_prefilter(keywords: Sequence[str], engine: str) -> "Union[PythonPrefilter, HyperscanPrefilter]":
    """``engine`` is ``hyperscan``, ``python`` or ``auto`` (Hyperscan when importable)."""
    if engine in ("hyperscan", "auto") and hyperscan_available():
        return HyperscanPrefilter(keywords)
    return PythonPrefilter(keywords)
