"""Where mcp-scan keeps its per-user cache, and where the registry lives."""
from __future__ import annotations

import os
from pathlib import Path


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


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old or new file, never half of one.

    Only regular files are replaced by a rename. A symlink is followed (its
    target gets the new content, the link stays), and anything else that
    already exists (``/dev/null``, ``/dev/stdout``, a FIFO from ``>(...)``) is
    written in place: renaming over it would replace a device node with a
    regular file, as root, for every program on the machine.
    """
    import stat

    path = Path(os.path.realpath(path))
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(path, "wb") as stream:
            stream.write(data)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if not _write_unnamed(path.parent, tmp, data):
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_unnamed(directory: Path, name: Path, data: bytes) -> bool:
    """Write and sync ``data`` as an unnamed file in ``directory`` (Linux ``O_TMPFILE``), then name it.

    The name exists only between the link and the caller's rename, so a run
    killed while writing (SIGKILL, power loss) leaves no temporary file
    behind. False where the OS or file system cannot: the caller writes a
    named temporary file instead.
    """
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return False
    try:
        fd = os.open(directory, flag | os.O_WRONLY, 0o666)
    except OSError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(fd)
        try:
            os.link(f"/proc/self/fd/{fd}", name, follow_symlinks=True)
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
