"""The staged source: what ``git commit`` is about to record.

One ``git diff --cached`` call gives the added lines of the index against
HEAD (against the empty tree before the first commit: git does that by
itself on an unborn branch), with ``CONTEXT_LINES`` unchanged lines around them. Deleted files add nothing; renames and copies
report only the lines they add, at their new path and line numbers.
Binary-looking files are skipped unless they are UTF-16/32 text with a BOM,
which git calls binary but people do write secrets into.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Optional

from scanner.encodings import decode_blob, has_lone_cr
from scanner.errors import ScanError, config_error
from scanner.gitcmd import run_git, run_git_capped
from scanner.lazyre import lazy
from scanner.models import Fragment
from scanner.sources._diff import GITLINK_MODE, SYMLINK_MODE, FileDiff, Hunk, parse_diff, parse_raw

# Lines of the staged file around each added run: a secret on an added line can need an unchanged
# neighbour to be seen (the "machine" line of a .netrc entry, a "[pypi]" header, a JSON key on the
# line above), so each fragment holds them, and only what touches an added line is reported.
# More than the most line feeds a windowed rule's match holds (scanner.rulematch.MAX_LINES, 16;
# a test keeps the two in step) and than the 20 blank lines a .netrc entry's fields may sit apart.
CONTEXT_LINES = 21
DIFF_ARGS = (
    "diff", "--cached", "--raw", "-p", "-z", f"-U{CONTEXT_LINES}", "--no-color", "--no-ext-diff",
    "--no-textconv", "--find-renames", "--find-copies", "--diff-filter=d",
    # full blob ids: an abbreviated one can be ambiguous for `cat-file` in a big repository
    "--no-abbrev",
)
# The hook reads at most this much diff output: a commit adding more text is
# refused (exit 3) rather than read into memory whole, or waved through unread.
MAX_STAGED_DIFF = 32 * 1024 * 1024
MAX_BINARY_CHECK = 10 * 1024 * 1024
MAX_WHOLE_FILE = 2 * 1024 * 1024  # configs larger than this are not linted (the audit's own cap)
# Raw diff statuses of a file pair with a HEAD side: modified, renamed, copied, type-changed.
_HEAD_SIDE = frozenset("MRCT")
# A run of base64 this long with upper, lower and digits looks like part of a
# key body (PEM lines are 64 characters, OpenSSH 70). A modified file whose
# added lines hold one is scanned whole, reporting only what touches the added
# lines: the BEGIN/END lines around a pasted body may be old, unchanged lines.
_BODY_RUN = lazy(rb"[A-Za-z0-9+/]{32,}")
# ... or three lines that are nothing but base64 (a body re-wrapped to short lines).
_BODY_LINE = lazy(rb"^[ \t\"'`]*[A-Za-z0-9+/=]{16,}[ \t\"'`,+]*(?:\\n)?[ \t\"'`,+]*\r?$", re.MULTILINE)


def _looks_like_key_body(data: bytes) -> bool:
    for match in _BODY_RUN().finditer(data):
        run = match.group()
        if run.upper() != run and run.lower() != run and any(48 <= c <= 57 for c in run):
            return True
    lines = 0
    for _match in _BODY_LINE().finditer(data):
        lines += 1
        if lines == 3:
            return True
    return False


class StagedSource:
    """Added lines of the index, one fragment per hunk."""

    def __init__(self, repo: str = ".", max_diff: int = MAX_STAGED_DIFF) -> None:
        self.repo = repo
        self.max_diff = max_diff
        self.diffs: list[FileDiff] = []  # every staged file pair, once fragments() has run

    def fragments(self) -> Iterator[Fragment]:
        try:
            out = run_git_capped(DIFF_ARGS, cwd=self.repo, limit=self.max_diff)
        except ScanError:
            # Outside a repository `git diff --cached` fails with a usage
            # message about --cached; say what is really wrong.
            run_git(["rev-parse", "--git-dir"], cwd=self.repo)
            raise
        if out is None:
            raise self._too_large()
        if not out:
            self._check_not_bare()
        diffs = self.diffs = parse_diff(out)
        binary: list[FileDiff] = []
        in_context: list[FileDiff] = []
        for diff in diffs:
            if diff.new_mode in (GITLINK_MODE, SYMLINK_MODE):
                continue
            if diff.binary:
                binary.append(diff)
                continue
            if diff.status != "A" and any(_looks_like_key_body(h.data) for h in diff.hunks):
                in_context.append(diff)
                continue
            yield from self._hunks(diff)
        yield from self._in_context(in_context)
        yield from self._wide_text(binary)

    @staticmethod
    def _hunks(diff: FileDiff) -> Iterator[Fragment]:
        """One fragment per hunk of the diff: its added lines with their context, reporting only
        what touches an added line (what is only on context lines was committed before)."""
        if any(has_lone_cr(b"".join(part.lines)) for part in diff.sections):
            # The detector ends a line at a lone CR, git does not: their line numbers part, so the
            # added lines go alone, as git numbers them (an old Mac file is one line to git).
            yield from StagedSource._added_alone(diff, diff.hunks)
            return
        for part in diff.sections:
            data = b"".join(part.lines)
            text = decode_blob(data) if b"\0" not in data else None
            if text:
                yield Fragment(text=text, path=diff.path, start_line=part.start, blob=diff.new_blob,
                               report_lines=tuple(part.added))
                continue
            # A NUL on a context line (git calls a file text when its first 8000 bytes have none)
            # would make the whole hunk binary: its added lines go alone, as they always did.
            last = part.start + len(part.lines) - 1
            yield from StagedSource._added_alone(diff, [h for h in diff.hunks if part.start <= h.start <= last])

    @staticmethod
    def _added_alone(diff: FileDiff, hunks: list[Hunk]) -> Iterator[Fragment]:
        """Runs of added lines without their context, at the line numbers git gives them."""
        for hunk in hunks:
            text = decode_blob(hunk.data)
            if text:
                yield Fragment(text=text, path=diff.path, start_line=hunk.start, blob=diff.new_blob)

    def _in_context(self, diffs: list[FileDiff]) -> Iterator[Fragment]:
        """Whole staged files, reporting only what touches their added lines (see ``_BODY_RUN``)."""
        whole = {d.path: data for d, data in self._blobs(diffs, MAX_BINARY_CHECK)}
        for diff in diffs:
            data = whole.get(diff.path)
            text = decode_blob(data) if data is not None else None
            if not text:
                yield from self._hunks(diff)  # too large to read whole: its added lines at least
                continue
            added = tuple(lines for part in diff.sections for lines in part.added)
            yield Fragment(text=text, path=diff.path, start_line=1, blob=diff.new_blob, report_lines=added)

    def before_first_commit(self) -> bool:
        """True when HEAD names no commit yet (``git restore --staged`` does not work then)."""
        # Before the first commit git diffs the index against the empty tree, so
        # every staged file is an addition: a file staged as modified, renamed,
        # copied or type-changed proves HEAD is a commit, without one more git
        # process (one is ~3 ms of the hook's start-up).
        if any(d.status in _HEAD_SIDE for d in self.diffs):
            return False
        return not run_git(["rev-parse", "--verify", "--quiet", "HEAD"], cwd=self.repo, check=False).strip()

    def _check_not_bare(self) -> None:
        """Nothing staged: fine in a work tree, a usage error in a bare repository (it has no index,
        so a hook there would pass every commit without looking at anything)."""
        if run_git(["rev-parse", "--is-bare-repository"], cwd=self.repo).strip() == b"true":
            raise config_error(f"{self.repo} is a bare repository: it has no index, so nothing can be staged there",
                               "run `mcp-scan staged` in a work tree; to scan commits use `mcp-scan history` "
                               "or `mcp-scan ci --base REV`")

    def _too_large(self) -> ScanError:
        """Fail closed on a diff too large to read, naming the largest staged files."""
        raw = run_git(["diff", "--cached", "--raw", "-z", "--no-abbrev", "--diff-filter=d", "--no-renames"],
                      cwd=self.repo)
        files, _ = parse_raw(raw)
        blobs = [d for d in files if d.new_mode not in (GITLINK_MODE, SYMLINK_MODE)]
        sizes: list[tuple[int, str]] = []
        if blobs:
            request = b"".join(d.new_blob.encode("ascii") + b"\n" for d in blobs)
            checks = run_git(["cat-file", "--batch-check"], cwd=self.repo, input=request).splitlines()
            for diff, check in zip(blobs, checks):
                header = check.split()
                if len(header) >= 3 and header[2].isdigit():
                    sizes.append((int(header[2]), diff.path))
        largest = ", ".join(f"{path} ({size / 1048576:.1f} MiB)" for size, path in sorted(sizes, reverse=True)[:3])
        return ScanError(
            f"the staged changes are more than {self.max_diff // 1048576} MiB of diff: too large for the commit "
            f"hook to scan{'; largest: ' + largest if largest else ''}",
            "the commit is blocked to be safe: commit large generated files separately and scan them with "
            "`mcp-scan scan FILE`, then commit with --no-verify",
        )

    def _wide_text(self, diffs: list[FileDiff]) -> Iterator[Fragment]:
        """Whole-file fragments for "binary" files: UTF-16/32 text as text, the rest as binary
        content (keystores and DER keys are binary; the detector reads those by path)."""
        for diff, data in self._blobs(diffs, MAX_BINARY_CHECK):
            if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
                text = decode_blob(data)
                if text:
                    yield Fragment(text=text, path=diff.path, start_line=1, blob=diff.new_blob)
            elif decode_blob(data) is None:
                yield Fragment(text=data.decode("latin-1"), path=diff.path, start_line=1, blob=diff.new_blob,
                               binary=True)

    def whole_files(self, paths: set[str]) -> dict[str, Optional[str]]:
        """The full staged text of ``paths`` (None for binary content).

        Checks that need a whole file rather than its added lines (an MCP
        config must parse) ask for just the few paths they care about.
        """
        wanted = [d for d in self.diffs if d.path in paths and d.new_mode not in (GITLINK_MODE, SYMLINK_MODE)]
        return {diff.path: decode_blob(data) for diff, data in self._blobs(wanted, MAX_WHOLE_FILE)}

    def _blobs(self, diffs: list[FileDiff], max_size: int) -> Iterator[tuple[FileDiff, bytes]]:
        """The staged content of ``diffs`` up to ``max_size`` bytes each, in two git calls.

        Sizes come first (``--batch-check``) so large blobs are never read
        into memory; a blob git cannot find fails the scan (fail closed).
        """
        if not diffs:
            return
        request = b"".join(d.new_blob.encode("ascii") + b"\n" for d in diffs)
        checks = run_git(["cat-file", "--batch-check"], cwd=self.repo, input=request).splitlines()
        small: list[FileDiff] = []
        for diff, check in zip(diffs, checks):
            header = check.split()
            if len(header) < 3:
                raise ScanError(f"cannot read the staged content of {diff.path!r}: object {diff.new_blob} is "
                                f"{header[-1].decode('ascii', 'replace') if header else 'unreadable'}",
                                "the repository is corrupt; run `git fsck` and re-add the file")
            if header[1] == b"blob" and int(header[2]) <= max_size:
                small.append(diff)
        if not small:
            return
        request = b"".join(d.new_blob.encode("ascii") + b"\n" for d in small)
        out = run_git(["cat-file", "--batch"], cwd=self.repo, input=request)
        pos = 0
        for diff in small:
            header_end = out.index(b"\n", pos)
            header = out[pos:header_end].split()
            pos = header_end + 1
            if len(header) < 3:
                raise ScanError(f"cannot read the staged content of {diff.path!r}",
                                "the repository is corrupt; run `git fsck` and re-add the file")
            size = int(header[2])
            yield diff, out[pos : pos + size]
            pos += size + 1
