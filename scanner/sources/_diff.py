"""Parse ``git diff --raw -p -z -U<n>`` output into added-line hunks and the text around them.

Paths come from the NUL-separated raw section, never from the quoted patch
headers, so names with spaces, quotes, tabs, newlines or non-ASCII bytes
arrive intact. Git writes one patch section per raw entry, in the same order,
which is how the two halves are paired.
"""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # mypy checks them as the dataclasses they behave as
    from dataclasses import dataclass, field
else:  # at run time: without importing dataclasses (scanner/record.py says why)
    from scanner.record import dataclass, field

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_SECTION = re.compile(rb"^(?:diff --git |\* Unmerged path )", re.MULTILINE)

GITLINK_MODE = "160000"  # a submodule pointer: its "content" is a commit id
SYMLINK_MODE = "120000"  # a symlink: its content is the link target


@dataclass
class Hunk:
    """Consecutive added lines, starting at ``start`` (1-based) in the new file."""

    start: int
    lines: list[bytes] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        return b"".join(self.lines)


@dataclass
class Section:
    """One hunk of git's patch as the new file reads: its lines from ``start`` (1-based), context
    and added alike, and the ``(first, last)`` line ranges that were added."""

    start: int
    lines: list[bytes] = field(default_factory=list)
    added: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class FileDiff:
    """One file pair of a diff: where it ends up, and what was added to it."""

    path: str
    status: str
    new_mode: str
    new_blob: str
    old_path: Optional[str] = None
    binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)  # runs of added lines
    sections: list[Section] = field(default_factory=list)  # git's hunks, with their context lines


def _fs(raw: bytes) -> str:
    # Paths are bytes in git; decode them the way Python decodes file names
    # so a non-UTF-8 name still round-trips to the file system.
    return os.fsdecode(raw)


def parse_raw(data: bytes) -> tuple[list[FileDiff], bytes]:
    """Split off the raw section: the file pairs, then the rest (the patch)."""
    files: list[FileDiff] = []
    pos = 0
    while data.startswith(b":", pos):
        meta_end = data.index(b"\0", pos)
        meta = data[pos + 1 : meta_end].split(b" ")
        _old_mode, new_mode, _old_blob, new_blob, status = (m.decode("ascii") for m in meta[:5])
        pos = meta_end + 1
        first_end = data.index(b"\0", pos)
        first = data[pos:first_end]
        pos = first_end + 1
        old_path = None
        if status[:1] in ("R", "C"):
            second_end = data.index(b"\0", pos)
            old_path, path = _fs(first), _fs(data[pos:second_end])
            pos = second_end + 1
        else:
            path = _fs(first)
        files.append(FileDiff(path=path, status=status[:1], new_mode=new_mode, new_blob=new_blob, old_path=old_path))
    if data.startswith(b"\0", pos):
        pos += 1  # with -z, a NUL (not a blank line) separates raw from patch
    return files, data[pos:]


def _parse_section(section: bytes, diff: FileDiff) -> None:
    hunk: Optional[Hunk] = None
    part: Optional[Section] = None
    number = 0  # the new file's line number of the next context or added line
    in_header = True
    # Split on "\n" only: a CR-only file is one long diff line whose CRs
    # are content (bytes.splitlines would break it apart and lose them).
    for line in section.split(b"\n"):
        line += b"\n"
        if in_header:
            if line.startswith(b"Binary files ") or line.startswith(b"GIT binary patch"):
                diff.binary = True
                return
            if not line.startswith(b"@@"):
                continue
            in_header = False
        if line.startswith(b"@@"):
            match = _HUNK.match(line)
            hunk = None
            part = Section(start=int(match.group(1))) if match else None
            if part is not None:
                diff.sections.append(part)
                number = part.start
        elif part is None:
            continue
        elif line.startswith(b"+"):
            if hunk is None:  # a run of added lines starts
                hunk = Hunk(start=number)
                diff.hunks.append(hunk)
                part.added.append((number, number))
            hunk.lines.append(line[1:])
            part.lines.append(line[1:])
            part.added[-1] = (part.added[-1][0], number)
            number += 1
        elif line.startswith(b" "):
            hunk = None
            part.lines.append(line[1:])
            number += 1
        elif line.startswith(b"-"):
            hunk = None  # a deleted line parts two runs of added lines
        # "\\ No newline at end of file" and the empty tail of the split add nothing
    diff.sections = [p for p in diff.sections if p.added]


def parse_diff(data: bytes) -> list[FileDiff]:
    """Every file pair of a ``--raw -p -z`` diff with its added-line hunks.

    A type change (``T``: file <-> symlink or submodule) is one raw entry but
    two patch sections, the old side's deletion then the new side's creation;
    the creation's added lines are the entry's. Output that does not pair up
    raises ScanError: misread hunks could hide a secret (fail closed).
    """
    try:
        files, patch = parse_raw(data)
    except (ValueError, IndexError) as exc:  # UnicodeDecodeError is a ValueError
        raise _unparsable(f"bad raw entry ({exc})") from None
    starts = [m.start() for m in _SECTION.finditer(patch)]
    sections = [patch[s:e] for s, e in zip(starts, starts[1:] + [len(patch)])]
    index = 0
    for diff in files:
        if diff.status == "T" and index + 1 < len(sections):
            index += 1  # skip the deletion of the old type
        if index >= len(sections):
            raise _unparsable(f"no patch for {diff.path!r}")
        _parse_section(sections[index], diff)
        index += 1
    if index != len(sections):
        raise _unparsable(f"{len(sections)} patch sections for {len(files)} files")
    return files


def _unparsable(detail: str) -> Exception:
    from scanner.errors import ScanError

    return ScanError(f"cannot parse git's diff output: {detail}",
                     "this is a bug; rerun with MCP_SCAN_DEBUG=1 and report it (the commit is blocked to be safe)")
