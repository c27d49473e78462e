"""The staged source: what ``git commit`` is about to record.

One ``git diff --cached`` call gives the added lines of the index against
HEAD (against the empty tree before the first commit: git does that by
itself on an unborn branch). Deleted files add nothing; renames and copies
report only the lines they add, at their new path and line numbers.
Binary-looking files are skipped unless they are UTF-16/32 text with a BOM,
which git calls binary but people do write secrets into.
"""
from __future__ import annotations

from collections.abc import Iterator

from scanner.detect import decode_blob
from scanner.gitcmd import run_git
from scanner.models import Fragment
from scanner.sources._diff import GITLINK_MODE, SYMLINK_MODE, FileDiff, parse_diff

DIFF_ARGS = (
    "diff", "--cached", "--raw", "-p", "-z", "-U0", "--no-color", "--no-ext-diff",
    "--no-textconv", "--find-renames", "--find-copies", "--diff-filter=d",
)
MAX_BINARY_CHECK = 10 * 1024 * 1024


class StagedSource:
    """Added lines of the index, one fragment per hunk."""

    def __init__(self, repo: str = ".") -> None:
        self.repo = repo

    def fragments(self) -> Iterator[Fragment]:
        diffs = parse_diff(run_git(DIFF_ARGS, cwd=self.repo))
        binary: list[FileDiff] = []
        for diff in diffs:
            if diff.new_mode in (GITLINK_MODE, SYMLINK_MODE):
                continue
            if diff.binary:
                binary.append(diff)
                continue
            for hunk in diff.hunks:
                text = decode_blob(hunk.data)
                if text:
                    yield Fragment(text=text, path=diff.path, start_line=hunk.start, blob=diff.new_blob)
        yield from self._wide_text(binary)

    def _wide_text(self, diffs: list[FileDiff]) -> Iterator[Fragment]:
        """Whole-file fragments for "binary" files that are really UTF-16/32 text."""
        if not diffs:
            return
        request = b"".join(d.new_blob.encode("ascii") + b"\n" for d in diffs)
        out = run_git(["cat-file", "--batch"], cwd=self.repo, input=request)
        pos = 0
        for diff in diffs:
            header_end = out.index(b"\n", pos)
            header = out[pos:header_end].split()
            pos = header_end + 1
            if len(header) < 3 or header[1] != b"blob":
                continue
            size = int(header[2])
            data = out[pos : pos + size]
            pos += size + 1
            if size > MAX_BINARY_CHECK or data[:2] not in (b"\xff\xfe", b"\xfe\xff"):
                continue
            text = decode_blob(data)
            if text:
                yield Fragment(text=text, path=diff.path, start_line=1, blob=diff.new_blob)
