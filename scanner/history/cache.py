"""The scanned-blob cache: ``<git-common-dir>/mcp-scan/history-<key>.cache``
(or ``<cache-dir>/<identity>/history-<key>.cache``, see ``scanner.history.store``).

It records every (blob, path class) already scanned with one rule set and
options, plus the hits of the few blobs that had any, so a re-run reads only
new blobs and still reports every finding. Raw secrets are never stored: a hit
keeps its rule id, fingerprint and position, and the *redacted* form of the
secret (what a report shows without ``--show-secrets``); with
``--show-secrets`` the caller re-reads those blobs.

The file is written with ``atomic_write``. Its header names the format, the
cache key (rule set and options) and the repository identity, then a checksum
of the body: a killed run leaves the previous cache, a damaged file
(``corrupt``) or one written for another repository, rule set or format
(``foreign``) is ignored and rebuilt, never trusted.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Optional

from scanner.history.hits import Hit
from scanner.models import REDACTION_MARK, redact
from scanner.paths import atomic_write, prune, touch

# 2: the header names the repository identity (format 1 had none).
# 3: each hit says whether it was reported as a documentation example (Hit.example).
MAGIC = b"mcp-scan-history-cache 3"
_MAGIC_PREFIX = b"mcp-scan-history-cache "


def cache_path(base: Path, key: str) -> Path:
    """Where the cache for ``key`` lives in ``base`` (``<git-common-dir>/mcp-scan`` or a portable store)."""
    return base / f"history-{key[:24]}.cache"


def cache_key(ruleset: str, options: Mapping[str, Any]) -> str:
    """A digest of the rule set hash and every option that changes what a blob yields."""
    text = json.dumps({"rules": ruleset, **options}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def placeholder(redacted: str) -> str:
    """A stand-in secret whose ``redact()`` is exactly ``redacted`` (never the real value)."""
    if not redacted:
        return ""  # there was no secret (an audit-style hit): nothing to stand in for
    prefix = redacted[: -len(REDACTION_MARK)] if redacted.endswith(REDACTION_MARK) else ""
    keep = len(prefix)
    # redact() keeps min(4, len // 4) characters: pad to a length that keeps exactly ``keep``
    # (at least 3 characters, so a fully hidden secret does not come back as "no secret")
    length = 16 if keep >= 4 else (4 * keep or 3)
    return prefix + "*" * (length - keep)


class BlobCache:
    """Scanned keys and their hits, loaded from and saved to one file."""

    def __init__(self, path: Path, key: str, identity: str = "") -> None:
        self.path = path
        self.key = key
        self.identity = identity  # "" in the repository's own git directory
        self.scanned: set[str] = set()
        self.hits: dict[str, list[Hit]] = {}
        self.status = "new"  # new | loaded | corrupt | foreign

    def load(self) -> "BlobCache":
        """Read the file; anything unreadable or damaged counts as an empty cache."""
        try:
            raw = self.path.read_bytes()
        except OSError:
            return self
        try:
            self._parse(raw)
            self.status = "loaded"
            touch(self.path)
        except _Foreign:  # another repository, rule set or format version: start over
            self.scanned, self.hits = set(), {}
            self.status = "foreign"
        except Exception:  # damaged or truncated: start over
            self.scanned, self.hits = set(), {}
            self.status = "corrupt"
        return self

    def _parse(self, raw: bytes) -> None:
        magic = raw.split(b"\n", 1)[0]
        if magic != MAGIC:
            if magic.startswith(_MAGIC_PREFIX):
                raise _Foreign("another format version")
            raise ValueError("not a history cache")
        _, key, identity, digest, body = raw.split(b"\n", 4)
        if key.decode("ascii") != self.key or identity.decode("ascii") != self.identity:
            raise _Foreign("another rule set or repository")
        if hashlib.sha256(body).hexdigest().encode("ascii") != digest:
            raise ValueError("checksum mismatch")
        found, _, keys = body.partition(b"\n")
        hits: dict[str, list[Hit]] = {}
        for entry, rows in json.loads(found).items():
            hits[entry] = [Hit(r[0], r[1], r[2], r[3], r[4], r[5], placeholder(r[6]), bool(r[7])) for r in rows]
        self.scanned = set(keys.decode("ascii").split("\n")) if keys else set()
        self.hits = hits

    def add(self, results: Mapping[str, list[Hit]]) -> None:
        """Record scanned keys and their hits."""
        self.scanned.update(results)
        for entry, found in results.items():
            if found:
                self.hits[entry] = list(found)

    def save(self) -> None:
        """Write atomically (readers see the old file or the new one, never half)."""
        found = {
            entry: [[h.rule_id, h.fingerprint, h.line, h.column, h.end_line, h.end_column, _redacted(h.secret),
                     int(h.example)]
                    for h in rows]
            for entry, rows in self.hits.items()
        }
        body = json.dumps(found, separators=(",", ":")).encode("utf-8") + b"\n" + "\n".join(sorted(self.scanned)).encode("ascii")
        digest = hashlib.sha256(body).hexdigest().encode("ascii")
        atomic_write(self.path, b"\n".join([MAGIC, self.key.encode("ascii"), self.identity.encode("ascii"), digest, body]))
        prune(self.path.parent, "history-*.cache")


class _Foreign(ValueError):
    """A well-formed cache written for another repository, rule set or format version."""


def _redacted(secret: str) -> str:
    # A placeholder loaded from an earlier cache is already safe; redact() of it
    # gives the same text, so stored forms never drift. An empty secret stays
    # empty (placeholder("") is ""), not a marker that reads as a hidden value.
    return redact(secret) if secret else ""


def load_or_empty(path: Optional[Path], key: str, identity: str = "") -> BlobCache:
    """A loaded cache, or an empty one when ``path`` is None (``--no-cache``)."""
    cache = BlobCache(path or Path("/nonexistent"), key, identity)
    return cache.load() if path is not None else cache


def keys_missing(cache: BlobCache, keys: Iterable[str]) -> list[str]:
    """The keys the cache has not scanned yet, in the given order."""
    scanned = cache.scanned
    return [k for k in keys if k not in scanned]
