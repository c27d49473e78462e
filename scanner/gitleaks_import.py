"""Import a gitleaks ``.gitleaks.toml``: its rules and allowlists, so teams migrate intact.

Gitleaks rules are RE2 regexes (Go's ``regexp``). Most of RE2 means the same
in Python's ``regex`` module; ``translate_re2`` rewrites what does not:

* ``(?i)`` (any flag group) in the middle of a pattern applies in RE2 up to
  the end of the enclosing group, across ``|``; it becomes scoped groups
  ``(?i:...)`` re-opened after each ``|``.
* ``\\z`` becomes ``\\Z``; ``\\x{10FFFF}`` and octal ``\\123`` become ``\\U``/``\\x``
  escapes; ``\\Q...\\E`` becomes escaped literals.
* POSIX classes ``[[:alpha:]]`` become explicit ASCII ranges (RE2's are ASCII).
* A ``{`` that does not start an RE2 repeat (``x{,3}``, ``{abc}``) is a literal.
* ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII in RE2, so patterns get ``(?a)``.

What has no equivalent (``(?U)`` ungreedy mode, ``\\C``) or fails to compile
is reported as a warning and the rule is skipped. Imported rules carry no
examples; ``rules check`` does not apply to them.

Allowlists become post-filters on findings (``GitleaksImport.allows``):
per-rule ``[[rules.allowlists]]`` / ``[rules.allowlist]`` and global
``[allowlist]`` / ``[[allowlists]]`` (with ``targetRules``), with their
``paths``, ``regexes``, ``stopwords``, ``commits`` and ``condition``.
``regexTarget = "match"`` or ``"line"`` is approximated by testing the regex
against the secret (a warning says so): a suppression may then not apply,
so the finding is reported rather than silently dropped.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import regex

from scanner.config import relative_candidates
from scanner.errors import config_error
from scanner.models import Finding
from scanner.rules import Rule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

# Gitleaks has no severity or confidence; imported rules sit between our
# generic rules and the provider-specific ones, and still fire in the hook.
IMPORTED_SEVERITY = "high"
GENERIC_SEVERITY = "medium"
IMPORTED_CONFIDENCE = "medium"
_MAX_EXTEND_DEPTH = 2  # as gitleaks
_RULE_KEYS = frozenset({"id", "description", "regex", "secretGroup", "entropy", "keywords", "path", "tags",
                        "allowlist", "allowlists", "required", "skipReport", "reportGroup"})
_ALLOWLIST_KEYS = frozenset({"description", "condition", "commits", "paths", "regexes", "regexTarget",
                             "stopwords", "targetRules"})
_TOP_KEYS = frozenset({"title", "description", "minVersion", "extend", "rules", "allowlist", "allowlists"})

# RE2's POSIX classes are ASCII-only: (lo, hi) code point ranges.
_POSIX: dict[str, list[tuple[int, int]]] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_OCTAL = "01234567"


class TranslationError(ValueError):
    """An RE2 construct with no equivalent in Python's ``regex`` module."""


def _char(code: int) -> str:
    """A code point as an escape that is valid inside and outside a class."""
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _ranges(ranges: Iterable[tuple[int, int]]) -> str:
    return "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, low = [], 0
    for lo, hi in sorted(ranges):
        if lo > low:
            out.append((low, lo - 1))
        low = max(low, hi + 1)
    if low <= 0x10FFFF:
        out.append((low, 0x10FFFF))
    return out


def _escape(p: str, i: int, in_class: bool) -> tuple[str, int]:
    """Translate the escape starting at ``p[i] == '\\\\'``; return (text, next index)."""
    if i + 1 >= len(p):
        raise TranslationError("trailing backslash")
    c = p[i + 1]
    if c == "Q":
        end = p.find("\\E", i + 2)
        literal = p[i + 2 :] if end == -1 else p[i + 2 : end]
        text = "".join(_char(ord(ch)) if in_class else regex.escape(ch) for ch in literal)
        return text, len(p) if end == -1 else end + 2
    if c == "E":
        return "", i + 2  # a stray \E is ignored by RE2
    if c == "z" and not in_class:
        return "\\Z", i + 2
    if c == "C":
        raise TranslationError("\\C (any byte) has no equivalent")
    if c == "x" and p[i + 2 : i + 3] == "{":
        end = p.find("}", i + 3)
        if end == -1:
            raise TranslationError("unterminated \\x{")
        try:
            code = int(p[i + 3 : end], 16)
        except ValueError:
            raise TranslationError(f"bad hex escape {p[i:end + 1]}") from None
        if code > 0x10FFFF:
            raise TranslationError(f"code point out of range {p[i:end + 1]}")
        return _char(code), end + 1
    if c in _OCTAL and (c == "0" or p[i + 2 : i + 3] in tuple(_OCTAL)):
        j = i + 2
        while j < len(p) and j < i + 4 and p[j] in _OCTAL:
            j += 1
        return _char(int(p[i + 1 : j], 8)), j
    if c in "123456789":
        raise TranslationError(f"backreference \\{c} (RE2 rejects it too)")
    if c in "pP":
        if p[i + 2 : i + 3] == "{":
            end = p.find("}", i + 3)
            if end == -1:
                raise TranslationError("unterminated \\p{")
            return p[i : end + 1], end + 1
        return p[i : i + 3], i + 3
    return p[i : i + 2], i + 2


def _class(p: str, i: int) -> tuple[str, int]:
    """Translate the character class starting at ``p[i] == '['``."""
    out = ["["]
    j = i + 1
    if p[j : j + 1] == "^":
        out.append("^")
        j += 1
    first = True
    while j < len(p):
        c = p[j]
        if c == "]" and not first:
            out.append("]")
            return "".join(out), j + 1
        first = False
        if c == "[" and p[j + 1 : j + 2] == ":":
            end = p.find(":]", j + 2)
            if end == -1:
                raise TranslationError("unterminated POSIX class")
            name = p[j + 2 : end]
            negated = name.startswith("^")
            name = name[1:] if negated else name
            if name not in _POSIX:
                raise TranslationError(f"unknown POSIX class [:{name}:]")
            ranges = _POSIX[name]
            out.append(_ranges(_complement(ranges) if negated else ranges))
            j = end + 2
        elif c == "\\":
            text, j = _escape(p, j, in_class=True)
            out.append(text)
        elif c in "[&~|":
            out.append("\\" + c)  # literal in RE2; Python may read "[" as a nested set
            j += 1
        else:
            out.append(c)
            j += 1
    raise TranslationError("missing closing ]")


def translate_re2(pattern: str) -> str:
    """An RE2 pattern rewritten for Python's ``regex`` module (raises TranslationError)."""
    p = pattern
    out: list[str] = []
    # For each open group, the flag scopes "(?i:" opened inside it by "(?i)".
    scopes: list[list[str]] = [[]]
    i = 0
    while i < len(p):
        c = p[i]
        if c == "\\":
            text, i = _escape(p, i, in_class=False)
            out.append(text)
        elif c == "[":
            text, i = _class(p, i)
            out.append(text)
        elif c == "(" and p[i + 1 : i + 2] == "?":
            m = regex.match(r"\(\?([a-zA-Z]*(?:-[a-zA-Z]*)?)([:)])", p[i:])
            if m and m.group(1):
                flags = m.group(1)
                if "U" in flags:
                    raise TranslationError("(?U) ungreedy mode has no equivalent")
                if set(flags) - set("imsU-"):
                    raise TranslationError(f"unknown flags (?{flags})")
                opener = f"(?{flags}:"
                out.append(opener)
                if m.group(2) == ")":
                    scopes[-1].append(opener)  # flags run to the end of the enclosing group
                else:
                    scopes.append([])
                i += m.end()
            else:
                named = regex.match(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>", p[i:])
                if named:
                    out.append(f"(?P<{named.group(1)}>")
                    i += named.end()
                else:
                    out.append("(?")
                    i += 2
                scopes.append([])
        elif c == "(":
            out.append("(")
            scopes.append([])
            i += 1
        elif c == ")":
            if len(scopes) == 1:
                raise TranslationError("unbalanced )")
            out.append(")" * len(scopes.pop()) + ")")
            i += 1
        elif c == "{" and not regex.match(r"\{[0-9]+(?:,[0-9]*)?\}", p[i:]):
            out.append("\\{")  # not a repeat in RE2, so a literal brace (Python would read {,3} as one)
            i += 1
        elif c == "|":
            open_here = scopes[-1]
            out.append(")" * len(open_here) + "|" + "".join(open_here))
            i += 1
        else:
            out.append(c)
            i += 1
    if len(scopes) != 1:
        raise TranslationError("missing )")
    out.append(")" * len(scopes[0]))
    translated = "(?a)" + "".join(out)
    try:
        regex.compile(translated, regex.VERSION0)
    except regex.error as exc:
        raise TranslationError(f"does not compile after translation: {exc}") from None
    return translated


# -- allowlists -------------------------------------------------------------
@dataclass(frozen=True)
class Allowlist:
    """One gitleaks allowlist; ``rule_ids`` None means it applies to every rule."""

    condition: str = "OR"
    commits: tuple[str, ...] = ()
    paths: tuple[Any, ...] = ()
    regexes: tuple[Any, ...] = ()
    stopwords: tuple[str, ...] = ()
    rule_ids: Optional[frozenset[str]] = None

    def allows(self, finding: Finding, root: Optional[Path]) -> bool:
        """True when this allowlist suppresses ``finding``."""
        if self.rule_ids is not None and finding.rule_id not in self.rule_ids:
            return False
        checks: list[bool] = []
        if self.commits:
            commit = finding.commit or ""
            checks.append(bool(commit) and any(commit.startswith(c) for c in self.commits))
        if self.paths:
            candidates = relative_candidates(finding.path, root)
            checks.append(any(p.search(c) for p in self.paths for c in candidates))
        if self.regexes:
            checks.append(any(p.search(finding.secret) for p in self.regexes))
        if self.stopwords:
            lowered = finding.secret.lower()
            checks.append(any(w in lowered for w in self.stopwords))
        if not checks:
            return False
        return all(checks) if self.condition == "AND" else any(checks)


@dataclass
class GitleaksImport:
    """What a gitleaks config contributes: rules, allowlists, and what was left out."""

    path: Path
    rules: list[Rule] = field(default_factory=list)
    allowlists: list[Allowlist] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    root: Optional[Path] = None
    # extend.disabledRules ids that no imported rule has (gitleaks default rule ids)
    disabled: set[str] = field(default_factory=set)

    def allows(self, finding: Finding) -> bool:
        """True when an imported allowlist suppresses ``finding``."""
        return any(a.allows(finding, self.root) for a in self.allowlists)

    def tests_secrets(self) -> bool:
        """True when an allowlist looks at the secret itself (regexes, stopwords): then findings
        answered from the history cache need their real secret, not its redacted stand-in."""
        return any(a.regexes or a.stopwords for a in self.allowlists)


class _Loader:
    def __init__(self, result: GitleaksImport) -> None:
        self.result = result

    def warn(self, where: str, message: str) -> None:
        self.result.warnings.append(f"{where}: {message}")

    def strings(self, where: str, key: str, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TranslationError(f"{key} must be a list of strings")
        return tuple(value)

    def compile_all(self, where: str, key: str, value: Any) -> tuple[Any, ...]:
        compiled = []
        for pattern in self.strings(where, key, value):
            try:
                compiled.append(regex.compile(translate_re2(pattern), regex.VERSION0))
            except TranslationError as exc:
                raise TranslationError(f"{key} entry {pattern!r}: {exc}") from None
        return tuple(compiled)

    def allowlist(self, where: str, table: Any, rule_ids: Optional[frozenset[str]]) -> Optional[Allowlist]:
        """One allowlist table; an untranslatable one is dropped whole (findings stay visible)."""
        if not isinstance(table, dict):
            self.warn(where, "allowlist is not a table; ignored")
            return None
        for key in sorted(set(table) - _ALLOWLIST_KEYS):
            self.warn(where, f"allowlist key {key!r} is not supported; ignored")
        try:
            condition = str(table.get("condition", "OR")).upper()
            if condition not in ("OR", "AND"):
                raise TranslationError(f"condition {table.get('condition')!r} is not OR or AND")
            target = table.get("regexTarget", "secret")
            if target not in ("secret", "match", "line"):
                raise TranslationError(f"regexTarget {target!r} is not secret, match or line")
            if target != "secret" and table.get("regexes"):
                self.warn(where, f"allowlist regexTarget {target!r} is approximated: its regexes are tested "
                                 "against the secret only, so some findings gitleaks allowed may be reported")
            targets = self.strings(where, "targetRules", table.get("targetRules"))
            if targets:
                rule_ids = frozenset(targets)
            return Allowlist(
                condition=condition,
                commits=self.strings(where, "commits", table.get("commits")),
                paths=self.compile_all(where, "paths", table.get("paths")),
                regexes=self.compile_all(where, "regexes", table.get("regexes")),
                stopwords=tuple(s.lower() for s in self.strings(where, "stopwords", table.get("stopwords"))),
                rule_ids=rule_ids,
            )
        except TranslationError as exc:
            self.warn(where, f"allowlist not imported: {exc}")
            return None

    def rule(self, source: str, table: Any, index: int) -> Optional[Rule]:
        """One ``[[rules]]`` table as a Rule, or None (with a warning) when it cannot be imported."""
        if not isinstance(table, dict) or not isinstance(table.get("id"), str) or not table["id"]:
            self.warn(f"{source}: rules[{index}]", "rule without an 'id'; skipped")
            return None
        rule_id = table["id"]
        where = f"{source}: rule {rule_id!r}"
        for key in sorted(set(table) - _RULE_KEYS):
            self.warn(where, f"key {key!r} is not supported; ignored")
        try:
            if table.get("required"):
                raise TranslationError("composite rules ([[rules.required]]) are not supported")
            if not table.get("regex"):
                raise TranslationError("path-only rules (no 'regex') are not supported")
            pattern = translate_re2(str(table["regex"]))
            compiled = regex.compile(pattern, regex.VERSION0)
            path = translate_re2(str(table["path"])) if table.get("path") else None
            group = table.get("secretGroup", 0)
            if not isinstance(group, int) or isinstance(group, bool) or group < 0 or group > compiled.groups:
                raise TranslationError(f"secretGroup {group!r} is not a group of the regex")
            entropy = table.get("entropy")
            if entropy is not None and (not isinstance(entropy, (int, float)) or isinstance(entropy, bool)):
                raise TranslationError(f"entropy {entropy!r} is not a number")
            keywords = tuple(k.lower() for k in self.strings(where, "keywords", table.get("keywords")) if k)
            tags = self.strings(where, "tags", table.get("tags"))
        except TranslationError as exc:
            self.warn(where, f"skipped: {exc}")
            self.result.skipped.append(rule_id)
            return None
        only = frozenset({rule_id})
        for entry in _allowlist_tables(table):
            allowlist = self.allowlist(f"{where} allowlist", entry, only)
            if allowlist is not None:
                self.result.allowlists.append(allowlist)
        return Rule(
            id=rule_id,
            description=str(table.get("description") or rule_id),
            # Where a generic rule and a specific one match the same secret, the
            # detector keeps the more severe hit; gitleaks likewise drops
            # generic-api-key findings that a specific rule also reports.
            severity=GENERIC_SEVERITY if "generic" in rule_id.lower() else IMPORTED_SEVERITY,
            confidence=IMPORTED_CONFIDENCE,
            regex=pattern,
            # gitleaks' default is the first group (when there is one), else the match
            secret_group=str(group or (1 if compiled.groups else 0)),
            keywords=keywords,
            min_entropy=float(entropy) if entropy is not None else None,
            path=path,
            tags=("gitleaks-import", *tags),
            source=source,
        )


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise config_error(f"cannot read gitleaks config {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise config_error(f"{path}: not valid TOML: {exc}") from None


def _allowlist_tables(table: dict[str, Any]) -> list[Any]:
    """A table's allowlists: the old single ``[allowlist]`` form first, then ``[[allowlists]]``."""
    lists = table.get("allowlists", [])
    lists = lists if isinstance(lists, list) else [lists]
    return [table["allowlist"], *lists] if "allowlist" in table else lists


def _load_rules(loader: _Loader, path: Path, depth: int) -> dict[str, Rule]:
    """Rules of ``path`` and of the configs it extends (the extending file wins on an id)."""
    data = _read(path)
    source = str(path)
    for key in sorted(set(data) - _TOP_KEYS):
        loader.warn(source, f"top-level key {key!r} is not supported; ignored")
    rules: dict[str, Rule] = {}
    extend = data.get("extend", {})
    if isinstance(extend, dict) and extend:
        if extend.get("useDefault"):
            loader.warn(source, "extend.useDefault: gitleaks' default rules are not imported; "
                                "mcp-scan's built-in rules run instead")
        base = extend.get("path")
        if isinstance(base, str) and base:
            if depth >= _MAX_EXTEND_DEPTH:
                loader.warn(source, f"extend.path {base!r} not followed (more than {_MAX_EXTEND_DEPTH} levels)")
            else:
                target = path.parent / base if (path.parent / base).is_file() else Path(base)
                if not target.is_file():
                    raise config_error(f"{source}: extend.path = {base!r}: no such file")
                rules.update(_load_rules(loader, target, depth + 1))
        for rule_id in extend.get("disabledRules", []) or []:
            if rules.pop(str(rule_id), None) is None:
                # With useDefault this names one of gitleaks' default rules; a
                # built-in rule with the same id is disabled instead.
                loader.result.disabled.add(str(rule_id))
    tables = data.get("rules", [])
    if not isinstance(tables, list):
        raise config_error(f"{source}: 'rules' must be an array of tables ([[rules]])")
    for index, table in enumerate(tables):
        rule = loader.rule(source, table, index)
        if rule is not None:
            if rule.id in rules and rules[rule.id].source == source:
                loader.warn(source, f"rule id {rule.id!r} is defined twice; the later definition is used")
            rules[rule.id] = rule
    for entry in _allowlist_tables(data):
        allowlist = loader.allowlist(f"{source}: global allowlist", entry, None)
        if allowlist is not None:
            loader.result.allowlists.append(allowlist)
    return rules


def load_gitleaks_config(path: Path) -> GitleaksImport:
    """Import ``path`` (a ``.gitleaks.toml``); problems with single rules become warnings."""
    if not path.is_file():
        raise config_error(f"gitleaks config {path} does not exist")
    result = GitleaksImport(path=path, root=_repo_root(path))
    loader = _Loader(result)
    result.rules = list(_load_rules(loader, path, 0).values())
    if result.skipped:
        result.warnings.append(f"{path}: {len(result.skipped)} gitleaks rule(s) not imported: "
                               f"{', '.join(result.skipped)}")
    return result


def _repo_root(path: Path) -> Path:
    """Gitleaks paths are relative to the repository; guess it from where the config sits."""
    directory = path.resolve().parent
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return directory
