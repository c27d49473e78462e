"""Baselines: the findings a team has accepted, keyed so the file never churns.

An entry is (path, rule id, fingerprint), where the fingerprint is the
finding's ``sha256(rule_id + secret)``. No line numbers (a secret that moves
to another line stays suppressed), no timestamps, no secrets, and the
entries are sorted and written with sorted keys and a trailing newline, so
re-creating a baseline of an unchanged repository is byte-identical and two
branches' baselines merge like any sorted text file.

Paths are part of the key on purpose: the same secret showing up in another
file (a copy, or a rename) is a new exposure for someone to look at, so it is
reported until ``mcp-scan baseline update`` accepts it. One entry covers
every occurrence of that secret in that file.

Paths are stored relative to the repository root. When matching, a finding's
path is tried as reported (git sources report repository-relative paths) and
relative to the root guessed from the baseline file's location (``mcp-scan
scan`` reports paths as given on its command line).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from scanner.config import relative_candidates
from scanner.errors import config_error
from scanner.models import Finding

BASELINE_NAME = ".mcp-scan-baseline.json"
FORMAT_VERSION = 1
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, order=True)
class Entry:
    """One accepted secret in one file."""

    path: str
    rule_id: str
    fingerprint: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "rule_id": self.rule_id, "fingerprint": self.fingerprint}


def entry_for(finding: Finding) -> Entry:
    """The baseline entry that accepts ``finding``."""
    path = finding.path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return Entry(path=path, rule_id=finding.rule_id, fingerprint=finding.fingerprint)


@dataclass
class Baseline:
    """A set of entries, plus the scan kind that made it and the repository root for matching."""

    entries: frozenset[Entry]
    source: Optional[str] = None
    root: Optional[Path] = None

    @classmethod
    def from_findings(cls, findings: Iterable[Finding], source: Optional[str] = None) -> "Baseline":
        """A baseline that accepts every one of ``findings``."""
        return cls(frozenset(entry_for(f) for f in findings), source=source)

    def contains(self, finding: Finding) -> bool:
        """True when ``finding`` is accepted (same rule, same secret, same file; any line)."""
        return any(Entry(path, finding.rule_id, finding.fingerprint) in self.entries
                   for path in relative_candidates(finding.path, self.root))

    def filter(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings this baseline does not accept."""
        return [f for f in findings if not self.contains(f)]

    def stale(self, findings: Iterable[Finding]) -> list[Entry]:
        """Entries that none of ``findings`` (a fresh full scan) matches any more."""
        current = {entry_for(f) for f in findings}
        return sorted(self.entries - current)

    def dumps(self) -> str:
        """Stable JSON: sorted entries and keys, two-space indent, trailing newline."""
        document: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "tool": "mcp-scan",
            "entries": [e.as_dict() for e in sorted(self.entries)],
        }
        if self.source:
            document["source"] = self.source
        from scanner.jsontext import dumps

        return dumps(document, indent=2, sort_keys=True) + "\n"


def guess_root(path: Path) -> Path:
    """The repository root for a baseline file: the nearest ancestor holding ``.git``."""
    directory = path.resolve().parent
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return directory


def load_baseline(path: Path) -> Baseline:
    """Read and validate a baseline file; a missing or malformed one is a config error (exit 2)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise config_error(f"baseline file {path} does not exist",
                           "create it with `mcp-scan baseline create`") from None
    except OSError as exc:
        raise config_error(f"cannot read baseline file {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise config_error(f"{path}: not a valid baseline (invalid JSON: {exc})") from None
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        raise config_error(f"{path}: not an mcp-scan baseline (expected \"version\": {FORMAT_VERSION})")
    raw = document.get("entries")
    if not isinstance(raw, list):
        raise config_error(f"{path}: \"entries\" must be a list")
    entries = set()
    for index, item in enumerate(raw):
        if (not isinstance(item, dict) or set(item) != {"path", "rule_id", "fingerprint"}
                or not all(isinstance(v, str) and v for v in item.values())
                or not _FINGERPRINT.match(item["fingerprint"])):
            raise config_error(f"{path}: entries[{index}] must be {{\"path\", \"rule_id\", \"fingerprint\" "
                               "(64 hex digits)}}")
        entries.add(Entry(item["path"], item["rule_id"], item["fingerprint"]))
    source = document.get("source")
    return Baseline(frozenset(entries), source=source if isinstance(source, str) else None, root=guess_root(path))


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Write ``baseline`` atomically (readers never see half a file)."""
    from scanner.paths import atomic_write

    atomic_write(path, baseline.dumps().encode("utf-8"))


def describe(entries: Sequence[Entry]) -> list[str]:
    """One line per entry for people: path, rule, and a short fingerprint (never the secret)."""
    return [f"{e.path}: {e.rule_id} (fingerprint {e.fingerprint[:12]})" for e in entries]
