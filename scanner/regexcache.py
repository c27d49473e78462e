"""Rule regexes compiled once per machine, not once per process.

``regex`` parses a pattern in Python before its C engine takes the result: the
secret-named rules' regexes cost 7-16 ms each to compile, and every process
that searches with them paid that again (each history worker, each commit-hook
run): 0.17 s of CPU in a history scan of gin, across its three processes. What
the parser hands the engine (``_regex.compile``'s arguments: the pattern, its
flags, the compiled code as integers, the group tables) is kept per pattern in
the cache directory, written with ``marshal``, under the ``regex`` version and
its engine's code format (``_regex.MAGIC``); the next process hands it straight
to the engine (the ten largest rule regexes: 79 ms -> 1.6 ms).

This reads ``regex`` internals (``regex._main._regex``), so every step checks
itself and falls back to ``regex.compile``, which is always right: a stored
entry is used only when the engine accepts it and it is for this very pattern;
an entry is stored only when exactly one engine call compiled this pattern and
the engine rebuilds the same pattern from what was recorded. A missing,
damaged or foreign file, an unwritable directory, or a ``regex`` release that
works differently inside costs the parse, never a wrong pattern.
"""
from __future__ import annotations

import marshal
import os
import threading
from pathlib import Path
from typing import Any, Optional

from scanner.digest import sha256_hex
from scanner.paths import cache_dir, prune, touch

_RECORDING = threading.Lock()  # the engine is swapped for a recorder module-wide while one compiles
# Entries kept per regex version, the most recently used first (the built-in rules need about a
# thousand; older rule versions' entries go once there are more).
KEEP_ENTRIES = 4096
_tidied = False  # whether this process has pruned the cache directory (once, on its first store)


def compile_pattern(pattern: str, flags: int = 0) -> Any:
    """``regex.compile(pattern, flags)``, from the cache directory when it was compiled before."""
    import regex

    try:
        engine = _internals()._regex
        path = _entry(pattern, flags, engine)
    except Exception:  # another regex layout: compile as usual
        return regex.compile(pattern, flags)
    try:
        compiled = engine.compile(*marshal.loads(path.read_bytes()))
        if compiled.pattern == pattern:
            touch(path)  # used: pruning keeps it
            return compiled
    except Exception:  # no entry yet, or a damaged or foreign one: compiled and stored anew below
        pass
    compiled, recorded = _compile_recording(pattern, flags)
    if recorded is not None:
        _store(path, recorded)
    return compiled


def _internals() -> Any:
    """``regex._main``, the module whose ``_regex`` (the engine) this reads and swaps."""
    import importlib

    return importlib.import_module("regex._main")


def _entry(pattern: str, flags: int, engine: Any) -> Path:
    import regex

    key = sha256_hex(f"{flags}\0{pattern}".encode("utf-8", "surrogatepass"))[:32]
    return cache_dir() / f"regex-{regex.__version__}-{engine.MAGIC}" / f"{key}.marshal"


class _Recorder:
    """Stands in for the engine module during one compile, noting each ``compile`` call's arguments."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def compile(self, *args: Any) -> Any:
        self.calls.append(args)
        return self.engine.compile(*args)


def _compile_recording(pattern: str, flags: int) -> tuple[Any, Optional[tuple[Any, ...]]]:
    """The compiled pattern, and the engine arguments that rebuild it (None when not certain)."""
    import regex

    _main = _internals()
    with _RECORDING:
        engine = _main._regex
        recorder = _Recorder(engine)
        _main._regex = recorder
        try:
            compiled = regex.compile(pattern, flags)
        finally:
            _main._regex = engine
    if len(recorder.calls) != 1:  # regex's own in-process cache answered, or it works differently
        return compiled, None
    args = recorder.calls[0]
    try:
        args = tuple(_plain(arg) for arg in args)
        rebuilt = engine.compile(*args)
        same = (rebuilt.pattern == pattern and rebuilt.flags == compiled.flags
                and rebuilt.groupindex == compiled.groupindex and rebuilt.groups == compiled.groups)
    except Exception:
        same = False
    return compiled, args if same else None


def _plain(value: Any) -> Any:
    """``value`` with every int subclass (the flags come as ``RegexFlag``) an int: marshal takes
    no enum. Containers are rebuilt as they were; anything else marshal refuses on storing."""
    if isinstance(value, int) and type(value) is not int and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, tuple, frozenset, set)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def _store(path: Path, args: tuple[Any, ...]) -> None:
    """Write the entry (no fsync: a torn file fails to load and is rebuilt); errors are ignored."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        data = marshal.dumps(args)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(tmp, path)
    except (OSError, ValueError):  # read-only or full disk, or arguments marshal cannot write
        try:
            tmp.unlink()
        except OSError:
            pass
        return
    _tidy(path.parent)


def _tidy(directory: Path) -> None:
    """Once per process, on its first new entry: drop other regex versions' directories, and all
    but the KEEP_ENTRIES most recently used entries of this one."""
    global _tidied
    if _tidied:
        return
    _tidied = True
    import shutil

    try:
        for stale in directory.parent.glob("regex-*"):
            if stale != directory and stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
    except OSError:
        pass
    prune(directory, "*.marshal", keep=KEEP_ENTRIES)
