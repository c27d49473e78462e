"""Project configuration (``.mcp-scan.toml`` or ``[tool.mcp-scan]``).

The loader lives here so every command reads settings the same way; the
``Config`` value is passed in explicitly (no global settings object).

Discovery walks up from the scanned path. In each directory a
``.mcp-scan.toml`` wins over a ``pyproject.toml`` (the dedicated file is the
more specific one, as with ruff's ``.ruff.toml``); a ``pyproject.toml``
without a ``[tool.mcp-scan]`` table does not count, so the walk goes on. The
walk stops after the repository root (the first directory holding ``.git``)
or at the file-system root. ``--config FILE`` skips discovery.

Every setting is validated here; an unknown key or a bad value is a config
error (exit 2) that names the file, the key and the value.
"""
from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Optional, Union

if TYPE_CHECKING:  # mypy checks them as the dataclasses they behave as
    from dataclasses import dataclass, field
else:  # at run time: without importing dataclasses (scanner/record.py says why)
    from scanner.record import dataclass, field

from scanner.errors import config_error
from scanner.models import CONFIDENCES

CONFIG_NAME = ".mcp-scan.toml"
PYPROJECT = "pyproject.toml"
_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2,
               "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3}


@dataclass
class Config:
    """Settings that change what is found; defaults when no file is present.

    Paths in the file (``extra-patterns``, ``gitleaks-config``, ``baseline``)
    are resolved against the file's directory; ``allow-paths`` globs are
    matched relative to ``root`` (that same directory).
    """

    extra_patterns: list[Path] = field(default_factory=list)
    disable_rules: set[str] = field(default_factory=set)
    allow_paths: list[str] = field(default_factory=list)
    allow_regexes: list[str] = field(default_factory=list)
    stopwords: list[str] = field(default_factory=list)
    min_confidence: Optional[str] = None
    max_blob_size: Optional[int] = None
    gitleaks_config: Optional[Path] = None
    baseline: Optional[Path] = None
    # The portable history cache (scanner.history.store): a directory, and its pruning limits.
    cache_dir: Optional[Path] = None
    cache_max_age: Optional[float] = None  # seconds
    cache_max_size: Optional[int] = None
    source: Optional[Path] = None
    root: Optional[Path] = None
    warnings: list[str] = field(default_factory=list)
    # The imported gitleaks configuration (scanner.gitleaks_import.GitleaksImport),
    # loaded once by the command layer; Any keeps this module free of that import.
    gitleaks: Any = None


# -- discovery --------------------------------------------------------------
def find_config(start: Path) -> Optional[tuple[Path, dict[str, Any]]]:
    """The nearest config file above ``start`` and its mcp-scan table, or None."""
    here = start.resolve() if start.exists() else Path.cwd() / start
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        dedicated = directory / CONFIG_NAME
        if dedicated.is_file():
            return dedicated, _read_table(dedicated)
        pyproject = directory / PYPROJECT
        if pyproject.is_file():
            table = _pyproject_table(pyproject, required=False)
            if table is not None:
                return pyproject, table
        if (directory / ".git").exists():
            break  # the repository root: settings above it belong to someone else
    return None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise config_error(f"cannot read config file {path}: {exc.strerror or exc}") from None


def _parse(path: Path, raw: Optional[bytes] = None) -> dict[str, Any]:
    # Imported here: most runs find no config file and never parse TOML.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.9/3.10 only
        import tomli as tomllib

    try:
        return tomllib.loads((_read(path) if raw is None else raw).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise config_error(f"{path}: not valid TOML: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise config_error(f"{path}: not valid TOML: {exc}") from None


def _pyproject_table(path: Path, *, required: bool) -> Optional[dict[str, Any]]:
    raw = _read(path)
    if b"mcp-scan" not in raw and not required:
        return None  # no [tool.mcp-scan] table can be there: skip parsing the file
    data = _parse(path, raw)
    tool = data.get("tool", {})
    table = tool.get("mcp-scan") if isinstance(tool, dict) else None
    if table is None:
        if required:
            raise config_error(f"{path}: no [tool.mcp-scan] table")
        return None
    if not isinstance(table, dict):
        raise config_error(f"{path}: [tool.mcp-scan] must be a table")
    return table


def _read_table(path: Path) -> dict[str, Any]:
    if path.name == PYPROJECT:
        table = _pyproject_table(path, required=True)
        assert table is not None
        return table
    return _parse(path)


# -- validation -------------------------------------------------------------
def _bad(path: Path, key: str, value: Any, problem: str) -> Exception:
    return config_error(f"{path}: {key} = {value!r}: {problem}",
                        "docs/configuration.md lists the accepted keys")


def _string_list(path: Path, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _bad(path, key, value, "must be a list of non-empty strings")
    return list(value)


SIZE_SYNTAX = "must be a positive byte count such as 10485760, 10MB or 512KiB"


def parse_size(value: Any) -> int:
    """A positive byte count: an integer, or a string such as ``"10MB"`` or ``"512KiB"``.

    The one parser for every size setting, in the config and on the command
    line alike (``size_arg``); raises ValueError saying what is accepted.
    """
    if isinstance(value, bool):
        raise ValueError(SIZE_SYNTAX)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = text[len(digits):]
        if not digits.isdigit() or unit not in _SIZE_UNITS:
            raise ValueError(SIZE_SYNTAX)
        number = int(digits) * _SIZE_UNITS[unit]
    else:
        raise ValueError(SIZE_SYNTAX)
    if number <= 0:
        raise ValueError(SIZE_SYNTAX)
    return number


def size_arg(text: str) -> int:
    """``parse_size`` as an argparse ``type``: a bad value is a usage error (exit 2) naming the flag."""
    import argparse

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} {exc} (units: B, KB, KiB, MB, MiB, GB, GiB)") from None


def _size(path: Path, key: str, value: Any) -> int:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise _bad(path, key, value, str(exc)) from None


def _set_extra_patterns(config: Config, path: Path, key: str, value: Any) -> None:
    for item in _string_list(path, key, value):
        target = path.parent / item
        if not target.exists():
            raise _bad(path, key, item, f"no such file or directory ({target})")
        config.extra_patterns.append(target)


def _set_allow_paths(config: Config, path: Path, key: str, value: Any) -> None:
    for item in _string_list(path, key, value):
        try:
            glob_regex(item[1:] if item.startswith("!") else item)
        except ValueError as exc:
            raise _bad(path, key, item, str(exc)) from None
        config.allow_paths.append(item)


def _set_allow_regexes(config: Config, path: Path, key: str, value: Any) -> None:
    import regex

    for item in _string_list(path, key, value):
        try:
            regex.compile(item)
        except regex.error as exc:
            raise _bad(path, key, item, f"invalid regex: {exc}") from None
        config.allow_regexes.append(item)


def _set_min_confidence(config: Config, path: Path, key: str, value: Any) -> None:
    if value not in CONFIDENCES:
        raise _bad(path, key, value, f"must be one of {', '.join(CONFIDENCES)}")
    config.min_confidence = value


def _set_file(attr: str) -> Any:
    def setter(config: Config, path: Path, key: str, value: Any) -> None:
        if not isinstance(value, str) or not value:
            raise _bad(path, key, value, "must be a file path")
        target = path.parent / value
        if attr == "gitleaks_config" and not target.is_file():
            raise _bad(path, key, value, f"no such file ({target})")
        setattr(config, attr, target)
    return setter


def _set_cache_dir(config: Config, path: Path, key: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise _bad(path, key, value, "must be a directory path")
    config.cache_dir = path.parent / Path(value).expanduser()


def _set_cache_max_age(config: Config, path: Path, key: str, value: Any) -> None:
    from scanner.history.store import parse_age

    try:
        config.cache_max_age = parse_age(value)
    except ValueError as exc:
        raise _bad(path, key, value, str(exc)) from None


_SETTERS: dict[str, Any] = {
    "extra-patterns": _set_extra_patterns,
    "disable-rules": lambda c, p, k, v: c.disable_rules.update(_string_list(p, k, v)),
    "allow-paths": _set_allow_paths,
    "allow-regexes": _set_allow_regexes,
    "stopwords": lambda c, p, k, v: c.stopwords.extend(s.lower() for s in _string_list(p, k, v)),
    "min-confidence": _set_min_confidence,
    "max-blob-size": lambda c, p, k, v: setattr(c, "max_blob_size", _size(p, k, v)),
    "gitleaks-config": _set_file("gitleaks_config"),
    "baseline": _set_file("baseline"),
    "cache-dir": _set_cache_dir,
    "cache-max-age": _set_cache_max_age,
    "cache-max-size": lambda c, p, k, v: setattr(c, "cache_max_size", _size(p, k, v)),
}
KNOWN_KEYS = tuple(_SETTERS)


def config_from_table(table: dict[str, Any], path: Path) -> Config:
    """Validate one settings table read from ``path`` and build a Config."""
    config = Config(source=path, root=path.parent.resolve())
    for key, value in table.items():
        setter = _SETTERS.get(key)
        if setter is None:
            hint = f"; did you mean {key.replace('_', '-')!r}?" if key.replace("_", "-") in _SETTERS else ""
            raise _bad(path, key, value, f"unknown key (known: {', '.join(KNOWN_KEYS)}){hint}")
        setter(config, path, key, value)
    return config


def load_config(explicit: Optional[str], start: Path) -> Config:
    """The configuration for a scan rooted at ``start`` (``--config`` wins)."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise config_error(f"config file {explicit} does not exist")
        return config_from_table(_read_table(path), path)
    found = find_config(start)
    if found is None:
        return Config()
    path, table = found
    config = config_from_table(table, path)
    if path.name == CONFIG_NAME:
        sibling = path.parent / PYPROJECT
        if sibling.is_file():
            try:
                shadowed = _pyproject_table(sibling, required=False) is not None
            except Exception:  # a broken pyproject.toml that we are not using is not our error
                shadowed = False
            if shadowed:
                config.warnings.append(f"{sibling}: [tool.mcp-scan] is ignored because {path} exists")
    return config


# -- gitignore-style globs --------------------------------------------------
@functools.lru_cache(maxsize=512)
def glob_regex(pattern: str) -> "Any":
    """Compile a gitignore-style glob to a regex over ``/``-separated relative paths.

    ``*`` and ``?`` stay within one path component, ``**/`` spans any number
    of directories (including none), a trailing ``/**`` matches everything
    below. A pattern with no ``/`` except a trailing one matches at any depth
    (``*.pem``, ``tests/``); any other pattern is anchored at the config
    file's directory (``patterns/**``, ``/secrets.env``). A pattern that
    names a directory also matches every file below it; a trailing ``/``
    matches directories only.
    """
    import re

    body = pattern
    directory_only = body.endswith("/")
    body = body.rstrip("/")
    if not body:
        raise ValueError("empty pattern")
    anchored = "/" in body
    body = body.lstrip("/")
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if body.startswith("**", i) and (i == 0 or body[i - 1] == "/") and (i + 2 == len(body) or body[i + 2] == "/"):
            if i + 2 == len(body):
                out.append(".*")  # trailing "/**": everything below
                i += 2
            else:
                out.append("(?:.*/)?")  # "**/": zero or more directories
                i += 3
        elif c == "*":
            while i < len(body) and body[i] == "*":  # other runs of '*' are a plain '*'
                i += 1
            out.append("[^/]*")
            continue
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = body.find("]", i + 2 if body[i + 1 : i + 2] in ("!", "^", "]") else i + 1)
            if end == -1:
                raise ValueError("unterminated '[' in glob")
            inner = body[i + 1 : end]
            negate = inner[:1] in ("!", "^")
            inner = inner[1:] if negate else inner
            chars = "".join("\\" + ch if ch in "\\^[]" else ch for ch in inner)
            out.append(f"[^/{chars}]" if negate else f"[{chars}]")
            i = end + 1
        elif c == "\\" and i + 1 < len(body):
            out.append(re.escape(body[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    suffix = "/.*" if directory_only else "(?:/.*)?"
    return re.compile(f"^{prefix}{''.join(out)}{suffix}$", re.DOTALL)


# ``base`` of a path given on the command line: the working directory.
CWD = "cwd"


def relative_candidates(path: str, root: Optional[Path], base: Union[Path, str, None] = CWD) -> list[str]:
    """``path`` as it may be matched against root-relative patterns.

    ``base`` is the directory ``path`` is relative to: the working directory
    (``CWD``) for ``mcp-scan scan``'s paths as given on the command line, the
    work tree's top level for git sources (repository-relative paths, from
    whatever directory the command runs in), None for a bare repository's
    paths, which lie nowhere on disk. Both the path as reported and, when it
    lies under ``root``, its form relative to ``root`` are candidates.
    """
    posix = path.replace("\\", "/")
    while posix.startswith("./"):
        posix = posix[2:]
    candidates = [posix]
    if root is not None and base is not None:
        import os

        start = os.getcwd() if base == CWD else os.fspath(base)
        absolute = os.path.realpath(path if os.path.isabs(path) else os.path.join(start, path))
        try:
            rel = PurePosixPath(Path(absolute).relative_to(root).as_posix())
        except ValueError:
            rel = None
        if rel is not None and str(rel) not in candidates and str(rel) != ".":
            candidates.append(str(rel))
    return candidates


def path_matches(path: str, patterns: Sequence[str], root: Optional[Path] = None,
                 base: Union[Path, str, None] = CWD) -> bool:
    """True when ``path`` matches the gitignore-style ``patterns``.

    As in ``.gitignore``, the last matching pattern decides, and a leading
    ``!`` turns a pattern into an exception (``!tests/keep/**``).
    """
    if not patterns:
        return False
    candidates = relative_candidates(path, root, base)
    allowed = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        compiled = glob_regex(pattern[1:] if negated else pattern)
        if any(compiled.match(c) for c in candidates):
            allowed = not negated
    return allowed
