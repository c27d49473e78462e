"""The files source: ``mcp-scan scan PATH...`` and ``mcp-scan scan -``.

Works without git. Directories are walked without following symlinked
directories; a symlinked file is read only when its target stays inside the
directory being scanned. ``.git`` directories are skipped. Files that vanish
mid-scan are ignored (nothing left to leak); unreadable ones are recorded in
``errors`` so the command can fail closed.

Listing and reading are separate steps (``entries`` then ``read``): the
scan command lists in one process and may read in worker processes.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple, Optional

from scanner.encodings import decode_blob
from scanner.models import Fragment

DEFAULT_MAX_FILE_SIZE = 25 * 1024 * 1024
SKIP_DIRS = frozenset({".git", ".hg", ".svn"})
STDIN = "-"


class Entry(NamedTuple):
    """A regular file to read (``path`` as it will be reported), with its size when listed."""

    path: str
    size: int


class FilesSource:
    """Files and directory trees from the file system, or standard input for ``-``."""

    def __init__(self, paths: Sequence[str], *, max_size: int = DEFAULT_MAX_FILE_SIZE,
                 stdin: Optional[BinaryIO] = None, stdin_name: str = "-") -> None:
        self.paths = list(paths)
        self.max_size = max_size
        self.stdin = stdin
        self.stdin_name = stdin_name
        self.errors: list[str] = []
        self.skipped: list[str] = []
        self.files = 0

    def fragments(self) -> Iterator[Fragment]:
        """Every file's content as one fragment each (binary content as latin-1, ``binary`` set)."""
        for entry in self.entries():
            data = self.read(entry, self.errors)
            if data is None:
                continue
            self.files += 1
            path = self.stdin_name if entry.path == STDIN else entry.path
            text = decode_blob(data)
            if text is not None:
                yield Fragment(text=text, path=path)
            else:  # a keystore or DER key is binary: rules with content = "binary" read it by path
                yield Fragment(text=data.decode("latin-1"), path=path, binary=True)

    def entries(self) -> Iterator[Entry]:
        """The files to read, in scan order, none over the size limit (those go to ``skipped``).

        Standard input is the entry ``-`` (size unknown: -1).
        """
        for raw in self.paths:
            if raw == STDIN:
                yield Entry(STDIN, -1)
                continue
            path = Path(raw)
            if path.is_dir():
                yield from self._walk(path)
            elif path.exists() or path.is_symlink():
                yield from self._file(path, root=None)
            else:
                self.errors.append(f"{raw}: no such file or directory")

    def read(self, entry: Entry, errors: list[str]) -> Optional[bytes]:
        """The content of ``entry``; None when it vanished, or could not be read (said in ``errors``).

        ``errors`` is the caller's: a worker process reports into its own list.
        """
        if entry.path == STDIN:
            return (self.stdin or sys.stdin.buffer).read()
        return read_file(entry.path, self.max_size, errors)

    def _walk(self, root: Path) -> Iterator[Entry]:
        real_root = os.path.realpath(root)

        def on_error(exc: OSError) -> None:
            if not isinstance(exc, FileNotFoundError):
                self.errors.append(f"{exc.filename}: {exc.strerror}")

        for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in sorted(filenames):
                yield from self._file(Path(dirpath) / name, root=real_root)

    def _file(self, path: Path, root: Optional[str]) -> Iterator[Entry]:
        if path.is_symlink() and root is not None:
            target = os.path.realpath(path)
            if os.path.commonpath([target, root]) != root:
                self.skipped.append(f"{path}: symlink leads outside {root}")
                return
        try:
            if not path.is_file():
                return  # sockets, fifos, devices: never read (a fifo would block)
            size = path.stat().st_size
        except FileNotFoundError:
            return
        except OSError as exc:
            self.errors.append(f"{path}: {exc.strerror or exc}")
            return
        if size > self.max_size:
            self.skipped.append(f"{path}: {size} bytes is over the {self.max_size}-byte limit")
            return
        yield Entry(str(path), size)


def read_file(path: str, max_size: int, errors: list[str]) -> Optional[bytes]:
    """The first ``max_size + 1`` bytes of ``path``; None when it vanished or is unreadable (said in ``errors``)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(max_size + 1)
    except FileNotFoundError:
        return None  # deleted since the listing: nothing left to leak
    except OSError as exc:
        errors.append(f"{path}: {exc.strerror or exc}")
        return None
