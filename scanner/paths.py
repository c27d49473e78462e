"""Where mcp-scan keeps its per-user cache, and where the registry lives."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional


def cache_dir() -> Path:
    """``$MCP_SCAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/mcp-scan``, else ``~/.cache/mcp-scan``."""
    explicit = os.environ.get("MCP_SCAN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mcp-scan"


def builtin_patterns_dir() -> Path:
    """The rule registry shipped with the package.

    An installed wheel carries ``scanner/patterns`` (hatch force-include); a
    source checkout or editable install reads the top-level ``patterns/``.
    """
    from importlib import resources  # lazy: it pulls in zipfile and friends

    packaged = resources.files("scanner").joinpath("patterns")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "patterns"


def atomic_write(path: Path, data: bytes, new_mode: Optional[int] = None) -> None:
    """Write ``data`` to ``path`` so readers see the old or new file, never half of one.

    Only regular files are replaced by a rename. A symlink is followed (its
    target gets the new content, the link stays), and anything else that
    already exists (``/dev/null``, ``/dev/stdout``, a FIFO from ``>(...)``) is
    written in place: renaming over it would replace a device node with a
    regular file, as root, for every program on the machine.

    A replaced file keeps its permission bits (someone made that report 0600
    for a reason). A new file gets ``new_mode``, or 0666 minus the umask when
    it is None. The data is never readable by others on the way: the
    temporary file is created 0600 whenever the final mode is set explicitly.
    """
    import stat

    path = Path(os.path.realpath(path))
    try:
        existing = os.stat(path).st_mode
    except OSError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing):
        with open(path, "wb") as stream:
            stream.write(data)
        return
    mode = existing & 0o777 if existing is not None else new_mode
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_temporaries(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if not _write_unnamed(path.parent, tmp, data, mode):
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 if mode is None else 0o600)
            with os.fdopen(fd, "wb") as handle:
                if mode is not None:
                    os.fchmod(fd, mode)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# A writer's temporary file or clone untouched this long, whose process is gone, is a leftover.
# (The age guards writers whose process ids mean nothing here: another container or host
# sharing a CI cache or a network file system.)
STALE_AFTER = 3600.0


def remove_dead_temporaries(path: Path) -> None:
    """Remove what writers of ``path`` killed mid-write left (SIGKILL, power loss: nothing ran to
    clean up): the temporary files and directories named ``.<name>.<pid>.tmp`` whose process is
    gone and in which nothing was written for ``STALE_AFTER`` seconds. A running writer's is kept."""
    import glob
    import shutil
    import time

    if os.name != "posix":
        return  # os.kill(pid, 0) asks nothing on Windows: it sends CTRL_C_EVENT
    try:
        found = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
    except OSError:
        return  # a directory we may write to but not list: nothing to tidy
    for stale in found:
        pid = stale.name[len(path.name) + 2 : -len(".tmp")]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # alive
        except ProcessLookupError:
            pass  # its writer is gone, here at least
        except OSError:
            continue  # alive (another user's process, or no permission to ask): leave it
        try:
            if time.time() - _last_written(stale) < STALE_AFTER:
                continue
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink()
        except OSError:
            pass  # gone already, or not ours to remove


def _last_written(entry: Path) -> float:
    """The newest modification time in ``entry`` (a file, or a directory and everything in it)."""
    newest = entry.lstat().st_mtime
    if entry.is_dir() and not entry.is_symlink():
        for root, dirs, files in os.walk(entry):
            for name in dirs + files:
                try:
                    newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
                except OSError:
                    pass
    return newest


def _write_unnamed(directory: Path, name: Path, data: bytes, mode: Optional[int] = None) -> bool:
    """Write and sync ``data`` as an unnamed file in ``directory`` (Linux ``O_TMPFILE``), then name it.

    The name exists only between the link and the caller's rename, so a run
    killed while writing (SIGKILL, power loss) leaves no temporary file
    behind. ``mode`` as in ``atomic_write``. False where the OS or file system
    cannot: the caller writes a named temporary file instead.
    """
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd") or os.link not in os.supports_dir_fd:
        return False
    try:
        fd = os.open(directory, flag | os.O_WRONLY, 0o666 if mode is None else 0o600)
    except OSError:
        return False
    with os.fdopen(fd, "wb") as handle:
        if mode is not None:
            os.fchmod(fd, mode)
        handle.write(data)
        handle.flush()
        os.fsync(fd)
        try:
            # Without a dir_fd CPython calls link(2), which links the
            # /proc/self/fd entry itself (EXDEV) instead of the file it names;
            # with one it calls linkat(2) with AT_SYMLINK_FOLLOW, which works.
            parent = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.link(f"/proc/self/fd/{fd}", name.name, dst_dir_fd=parent, follow_symlinks=True)
            finally:
                os.close(parent)
        except OSError:
            return False
    return True


# Cache files kept per kind (history caches per repository, Hyperscan databases
# per user): each rule-set or option change (an upgrade, a config edit) starts a
# new file, so the least recently used go.
KEEP_FILES = 4


def prune(directory: Path, pattern: str, keep: int = KEEP_FILES) -> None:
    """Delete all but the ``keep`` most recently used files matching ``pattern`` in ``directory``."""
    try:
        found = sorted(directory.glob(pattern), key=lambda f: f.stat().st_mtime, reverse=True)
        for stale in found[keep:]:
            stale.unlink()
    except OSError:
        pass  # read-only, or another run pruned first: nothing is lost


def touch(path: Path) -> None:
    """Mark ``path`` as used now (pruning keeps the most recently used files)."""
    try:
        path.touch(exist_ok=True)
    except OSError:
        pass


def tree_size(root: Path) -> int:
    """Bytes of the regular files under ``root`` (entries that vanish meanwhile count nothing)."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total
