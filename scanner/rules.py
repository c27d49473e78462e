"""The rule registry: TOML files of rules that carry their own examples.

A rule file holds ``[[rules]]`` tables. Each rule names the secret with a
named group ``secret`` (or the first group), lists the literal ``keywords``
the prefilter looks for, and brings ``examples`` that must be found and
``negative_examples`` that must not. ``check_rules`` runs both through the
whole detector, so a missing keyword or an entropy gate that rejects a real
positive fails the check, not just a regex that does not match.

A rule may name the file kind it reads with ``path`` (a regex on the
path): one without ``keywords`` then runs on every text at such a path, and
one with ``content = "binary"`` reads binary files there (keystores, DER
keys), each byte one character. ``example_path`` is where its examples are
checked. ``vendored = false`` keeps a rule out of vendored third-party trees
(``node_modules/``, ``site-packages/``, ``vendor/``; see ``scanner/vendored.py``):
the rules that judge a value by its context rather than a provider's format.
``docs = false`` keeps a rule out of prose documentation (READMEs, ``.rst``
guides, ``docs/``; see ``scanner/documentation.py``), where such values are examples.

A file may also hold ``[providers.<name>]`` tables whose ``remediation`` a
rule inherits with ``provider = "<name>"`` (its own ``remediation`` wins):
one provider's rotation steps are written once, not in each of its rules.

``hyperscan`` (optional) is what the rules' Hyperscan database compiles for
the rule instead of its regex (``scanner/rulematch.py``), where the regex's
own translation is slow or opens a window on nearly every line: a plain
expression that matches wherever the regex does, ending on the last line of
each regex match, at most 256 bytes (``rulematch.BEFORE``) past its end
(``tests/hyperscan_anchor_test.py`` checks it on every example). It decides only where the regex runs, never what it finds.
For a ``scope = "text"`` rule it is a gate instead: an expression that matches
somewhere in every text the regex matches in; the whole text is searched only
where it does (its keywords still gate the pure-Python path).
"""
from __future__ import annotations

import functools
import re
import sys
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:  # mypy checks them as the dataclasses they behave as
    from dataclasses import dataclass, field, fields
else:  # at run time: without importing dataclasses (scanner/record.py says why)
    from scanner.record import dataclass, field, fields

# ``regex`` is imported where a pattern is compiled, not here: a staged diff
# that holds no rule keyword never compiles a rule, and importing ``regex``
# costs about a tenth of `mcp-scan staged`'s start-up.
if TYPE_CHECKING:
    from regex._main import Match, Pattern

from scanner.errors import config_error
from scanner.models import CONFIDENCES, SEVERITIES
from scanner.paths import atomic_write, builtin_patterns_dir, cache_dir
from scanner.documentation import is_documentation
from scanner.vendored import is_vendored


_REQUIRED = ("id", "description", "severity", "regex")
_KNOWN = frozenset(
    {
        "id", "description", "severity", "confidence", "regex", "secret_group",
        "keywords", "min_entropy", "min_char_classes", "references", "examples",
        "negative_examples", "path", "example_path", "stopwords", "allow_regexes",
        "remediation", "tags", "decode", "scope", "validate", "provider", "content", "vendored", "docs",
        "hyperscan", "filler", "documented_samples",
    }
)
_PROVIDER_KEYS = frozenset({"remediation"})
_FILE_KEYS = frozenset({"rules", "providers"})
# A repetition bound at least this long makes a rule search whole texts
# (see Rule.whole_text; the detector's keyword windows reach 1 KB forward).
LONG_MATCH = 512
_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Words that make a keyword a credential's name rather than a provider's token prefix
# (``api_key_``, ``token:``): Detector._provider_prefixes leaves out keywords holding one.
CREDENTIAL_WORDS = ("key", "token", "secret", "pass", "auth", "cred", "api", "user", "client")
# A keyword part (letters and digits between separators) made only of such words, or of digits,
# names a credential, not a provider: "api-", "token:", "_authtoken", "client_secret", "$1$".
# A part with anything else in it is the provider's own mark: "sk-ant-api" (sk, ant), "nvapi-",
# "tskey-", "begin rsa private key" (begin, rsa), "bedrock-api-key-".
_CREDENTIAL_PART = (r"(?:key|token|secret|pass(?:word|wd)?|pwd|auth|cred(?:ential)?s?|api|user(?:name)?|client"
                    r"|access|refresh|session|private|bearer|oauth|login|id|app|sdk|account|shared|encrypted"
                    r"|identity|registry)+")
# What a finding of ``Rule.as_example`` adds to its rule's description.
EXAMPLE_NOTE = "looks like a documentation example: filler or a typed sequence in the value"
_BOUND = r"(?<!\\)\{\d*,(\d+)\}"  # the upper bound of a {m,n} repetition


@dataclass(frozen=True)
class Rule:
    """One detection rule. See the module docstring for the file format."""

    id: str
    description: str
    severity: str
    regex: str
    keywords: tuple[str, ...] = ()
    confidence: str = "high"
    secret_group: Optional[str] = None
    min_entropy: Optional[float] = None
    min_char_classes: int = 0
    references: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()
    path: Optional[str] = None
    example_path: Optional[str] = None
    stopwords: tuple[str, ...] = ()
    allow_regexes: tuple[str, ...] = ()
    remediation: str = ""
    tags: tuple[str, ...] = ()
    decode: tuple[str, ...] = ()
    validate: Optional[str] = None
    # "keyword": in large texts the regex runs near keyword occurrences only;
    # "line": in every text, only on the lines holding a keyword (each match is
    #   one such line: a secret-named key and its value);
    # "text": always over the whole text (matches that reach far from a keyword).
    scope: str = "keyword"
    # "text": the rule reads text (files, diff hunks, blobs that decode as text).
    # "binary": it reads files git and the sources call binary (keystores,
    #   DER keys), each byte one character (latin-1), and only at paths its
    #   ``path`` selects: a binary rule always names the file kind it reads.
    content: str = "text"
    # False: the rule judges a value by its context (the name it is assigned
    # to, a header, a URL), not by a provider's format, and does not run inside
    # vendored third-party trees (scanner/vendored.py), where such hits are other
    # projects' fixtures and examples.
    vendored: bool = True
    # False: the rule judges a value by its context and does not run in prose
    # documentation (scanner/documentation.py), where such values are examples.
    docs: bool = True
    # What the Hyperscan database compiles instead of the regex (module docstring).
    hyperscan: Optional[str] = None
    # What a value of the right shape made of filler is (see ``reports_filler``): "example"
    # (reported at low confidence as a documentation example) or "drop"; unset, the rule's kind decides.
    filler: Optional[str] = None
    # A vendor's samples from its own documentation, verbatim (Stripe's sample test key): public,
    # so never reported; a match of one still claims its text, so no other rule reports it either
    # (a curl -u line holding Stripe's sample is not a curl password).
    documented_samples: tuple[str, ...] = ()
    # True for the copy Rule.as_example makes (never set from a rule file): its findings are
    # marked as examples, and history keeps that decision with each hit (scanner/history/hits.py).
    example: bool = False
    source: str = field(default="", compare=False)

    @functools.cached_property
    def pattern(self) -> "Pattern[str]":
        """The compiled regex, built on first use (most rules never run on a small diff)."""
        import regex

        from scanner.regexcache import compile_pattern

        return compile_pattern(self.regex, regex.VERSION0)

    @functools.cached_property
    def whole_text(self) -> bool:
        """True when the regex must see the whole text, not windows around keywords.

        Set explicitly with ``scope = "text"``, or implied by a repetition
        whose bound reaches past a window (a PEM body, a long bearer token):
        a window would cut such a match short. Never for ``scope = "line"``,
        whose windows are whole lines.
        """
        if self.scope == "text":
            return True
        if self.scope == "line":
            # Its windows are whole lines (the keyword path's and Hyperscan's alike), which hold
            # a match of any length: a long value bound says nothing about how far it reaches.
            # Searched whole, request-header-credential ({8,512}) and basic-auth-assignment
            # ({12,1024}) ran over every non-ASCII text holding "header" or "auth".
            return False
        bounds = [int(b) for b in re.findall(_BOUND, self.regex)]
        return any(b >= LONG_MATCH for b in bounds)

    @functools.cached_property
    def whole_file(self) -> bool:
        """True when the regex is anchored at the start of the text (``\\A``): it describes a whole file
        (a key file holding nothing else), not a line that may sit anywhere in a larger one."""
        return re.match(r"(?:\(\?[a-zA-Z]+\))?\\A", self.regex) is not None

    @functools.cached_property
    def path_pattern(self) -> "Optional[Any]":
        """The path condition, with a ``search(path)`` answering whether the rule reads ``path``:
        its ``path`` regex (the standard library's ``re`` where it accepts the pattern, so a staged
        scan never loads ``regex``) and, for ``vendored = false``, not inside a vendored tree."""
        own: Optional[Any] = None
        if self.path:
            try:
                own = re.compile(self.path)
            except re.error:
                import regex

                own = regex.compile(self.path)
        if self.vendored and self.docs:
            return own
        return OutsideVendored(own, vendored=not self.vendored, docs=not self.docs)

    @functools.cached_property
    def reports_filler(self) -> bool:
        """True when a match that only its filler makes look fake (``EXAMPLE``, a typed run of the
        alphabet, one repeated character: ``entropy.FILLER``) is reported at low confidence as an
        example rather than dropped: for rules that recognise a provider's own format or key name,
        where such a value still names the provider and may be a real key someone dressed up.
        Not for the rules that judge a value by its context alone (``generic-*``, ``vendored =
        false`` or ``docs = false``, or a keyword that is a credential word such as ``token:``):
        there a typed filler is all the evidence, and it says "example".
        ``filler = "drop"`` or ``"example"`` in the rule file overrides this, with a comment saying why
        (a prefix several providers share names none of them); a rule keeps its vendor's verbatim
        documented samples dropped with ``stopwords``."""
        if self.filler is not None:
            return self.filler == "example"
        if not (self.vendored and self.docs) or self.id.startswith("generic-") or not self.keywords:
            return False
        # Every keyword names the provider (its prefix, host or brand: "da2-", "hooks.slack.com",
        # "datadog", "sk-ant-api"), none is only credential words ("token:", "password",
        # "client_secret"): the match is anchored by the provider, not by a name any config may use.
        return all(any(re.search("[a-z]", part) and not re.fullmatch(_CREDENTIAL_PART, part)
                           for part in re.split(r"[^a-z0-9]+", keyword))
                   for keyword in self.keywords)

    @functools.cached_property
    def as_example(self) -> "Rule":
        """This rule at low confidence, describing its match as a likely documentation example."""
        from scanner.record import replace

        if self.example:
            return self
        return replace(self, confidence="low", description=f"{self.description} ({EXAMPLE_NOTE})", example=True)

    @functools.cached_property
    def allow_patterns(self) -> "tuple[Pattern[str], ...]":
        from scanner.regexcache import compile_pattern

        return tuple(compile_pattern(p) for p in self.allow_regexes)

    def secret_span(self, match: "Match[str]") -> tuple[int, int]:
        """Where the secret sits inside a match of this rule's regex."""
        if self.secret_group is not None:
            group: Any = int(self.secret_group) if self.secret_group.isdigit() else self.secret_group
            return match.span(group)
        if "secret" in match.re.groupindex:
            return match.span("secret")
        if match.re.groups:
            return match.span(1)
        return match.span(0)


def _fail(source: str, rule_id: str, problem: str) -> Exception:
    where = f"{source}: rule {rule_id!r}" if rule_id else source
    return config_error(f"{where}: {problem}", "fix the rule file (its format: the README's \"Rules\" section; `mcp-scan rules check FILE` checks it)")


def _strings(value: Any, source: str, rule_id: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, rule_id, f"{key!r} must be a list of strings")
    return tuple(value)


def _text(value: Any, source: str, rule_id: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, rule_id, f"{key!r} must be a non-empty string")
    return value


def _providers(data: Any, source: str) -> dict[str, str]:
    """The ``[providers.<name>]`` tables of one file: each provider's remediation."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _fail(source, "", "'providers' must be a table of [providers.<name>] tables")
    remediations: dict[str, str] = {}
    for name, table in data.items():
        where = f"provider {name!r}"
        if not re.match(_ID, name) or not isinstance(table, dict):
            raise _fail(source, "", f"{where}: a provider is a [providers.<lower-case-name>] table")
        unknown = sorted(set(table) - _PROVIDER_KEYS)
        if unknown:
            raise _fail(source, "", f"{where}: unknown key(s) {', '.join(unknown)}")
        remediations[name] = _text(table.get("remediation"), source, "", f"providers.{name}.remediation")
    return remediations


def rule_from_dict(data: dict[str, Any], source: str, providers: Optional[dict[str, str]] = None) -> Rule:
    """Validate one ``[[rules]]`` table and build a Rule; errors name file and rule id.

    ``providers`` maps the file's provider names to their remediation, which
    a rule naming its ``provider`` inherits unless it sets its own.
    """
    import regex

    rule_id = data.get("id", "")
    if not isinstance(rule_id, str) or not re.match(_ID, rule_id):
        raise _fail(source, str(rule_id), "'id' must be lower-case words joined by '-'")
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise _fail(source, rule_id, f"unknown key(s) {', '.join(unknown)}")
    for key in _REQUIRED:
        if not isinstance(data.get(key), str) or not data[key]:
            raise _fail(source, rule_id, f"{key!r} is required and must be a string")
    if data["severity"] not in SEVERITIES:
        raise _fail(source, rule_id, f"severity {data['severity']!r} is not one of {', '.join(SEVERITIES)}")
    confidence = data.get("confidence", "high")
    if confidence not in CONFIDENCES:
        raise _fail(source, rule_id, f"confidence {confidence!r} is not one of {', '.join(CONFIDENCES)}")
    try:
        compiled = regex.compile(data["regex"], regex.VERSION0)
        for extra in ("path",):
            if data.get(extra):
                regex.compile(data[extra])
        for allow in data.get("allow_regexes", []) or []:
            regex.compile(allow)
    except (regex.error, TypeError) as exc:
        raise _fail(source, rule_id, f"invalid regex: {exc}") from None
    group = data.get("secret_group")
    if group is not None:
        group = str(group)
        if not (group.isdigit() and int(group) <= compiled.groups) and group not in compiled.groupindex:
            raise _fail(source, rule_id, f"secret_group {group!r} is not a group of the regex")
    min_entropy = data.get("min_entropy")
    if min_entropy is not None and not isinstance(min_entropy, (int, float)):
        raise _fail(source, rule_id, "'min_entropy' must be a number")
    scope = data.get("scope", "keyword")
    if scope not in ("keyword", "line", "text"):
        raise _fail(source, rule_id, f"scope {scope!r} is not one of keyword, line, text")
    content = data.get("content", "text")
    if content not in ("text", "binary"):
        raise _fail(source, rule_id, f"content {content!r} is not one of text, binary")
    if content == "binary" and not data.get("path"):
        raise _fail(source, rule_id, "a content = \"binary\" rule needs a 'path': binary files are read only at the paths a rule names")
    validator = data.get("validate")
    if validator is not None:
        from scanner.validators import VALIDATORS, known_validator

        if not isinstance(validator, str) or not known_validator(validator):
            raise _fail(source, rule_id, f"validate {validator!r} is not one of {', '.join(sorted(VALIDATORS))} "
                                         "(or one of them negated with a leading '!')")
    decode = _strings(data.get("decode"), source, rule_id, "decode")
    from scanner.encodings import DECODERS

    if any(d not in DECODERS for d in decode):
        raise _fail(source, rule_id, f"decode must list only {', '.join(sorted(DECODERS))}")
    remediation = _text(data["remediation"], source, rule_id, "remediation") if "remediation" in data else ""
    provider = data.get("provider")
    if provider is not None:
        known = providers or {}
        if not isinstance(provider, str) or provider not in known:
            hint = f"one of {', '.join(sorted(known))}" if known else "none is defined in this file"
            raise _fail(source, rule_id, f"provider {provider!r} has no [providers.{provider}] table ({hint})")
        remediation = remediation or known[provider]
    vendored = data.get("vendored", True)
    if not isinstance(vendored, bool):
        raise _fail(source, rule_id, "'vendored' must be true or false")
    docs = data.get("docs", True)
    if not isinstance(docs, bool):
        raise _fail(source, rule_id, "'docs' must be true or false")
    filler = data.get("filler")
    if filler is not None and filler not in ("example", "drop"):
        raise _fail(source, rule_id, f"filler {filler!r} is not one of example, drop")
    hyperscan = data.get("hyperscan")
    if hyperscan is not None and (not isinstance(hyperscan, str) or not hyperscan):
        raise _fail(source, rule_id, "'hyperscan' must be a non-empty string (an expression Hyperscan compiles)")
    keywords = tuple(k.lower() for k in _strings(data.get("keywords"), source, rule_id, "keywords"))
    if any(not k for k in keywords):
        raise _fail(source, rule_id, "keywords must not be empty strings")
    return Rule(
        id=rule_id,
        description=data["description"],
        severity=data["severity"],
        confidence=confidence,
        regex=data["regex"],
        secret_group=group,
        keywords=keywords,
        min_entropy=float(min_entropy) if min_entropy is not None else None,
        min_char_classes=int(data.get("min_char_classes", 0)),
        references=_strings(data.get("references"), source, rule_id, "references"),
        examples=_strings(data.get("examples"), source, rule_id, "examples"),
        negative_examples=_strings(data.get("negative_examples"), source, rule_id, "negative_examples"),
        path=data.get("path"),
        example_path=data.get("example_path"),
        stopwords=tuple(s.lower() for s in _strings(data.get("stopwords"), source, rule_id, "stopwords")),
        allow_regexes=_strings(data.get("allow_regexes"), source, rule_id, "allow_regexes"),
        remediation=remediation,
        tags=_strings(data.get("tags"), source, rule_id, "tags"),
        decode=decode,
        validate=validator,
        scope=scope,
        content=content,
        vendored=vendored,
        docs=docs,
        hyperscan=hyperscan,
        filler=filler,
        documented_samples=_strings(data.get("documented_samples"), source, rule_id, "documented_samples"),
        source=source,
    )


def load_rule_file(path: Path) -> list[Rule]:
    """Parse one TOML rule file."""
    if sys.version_info >= (3, 11):  # imported here: a cached registry never needs TOML
        import tomllib
    else:  # pragma: no cover - exercised on 3.9/3.10 only
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise config_error(f"cannot read rule file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise config_error(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:  # a misspelt [provider.x] would otherwise leave its rules without their remediation
        raise _fail(str(path), "", f"unknown top-level key(s) {', '.join(unknown)} (a rule file holds [[rules]] and [providers.<name>])")
    tables = data.get("rules", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise config_error(f"{path}: 'rules' must be an array of tables ([[rules]])")
    providers = _providers(data.get("providers"), str(path))
    rules = [rule_from_dict(table, str(path), providers) for table in tables]
    unused = sorted(set(providers) - {t.get("provider") for t in tables})
    if unused:
        raise _fail(str(path), "", f"provider(s) {', '.join(unused)} defined but no rule names them with provider = \"...\"")
    return rules


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into their ``*.toml`` files, sorted for a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.toml")))
        elif path.exists():
            files.append(path)
        else:
            raise config_error(f"rule file {path} does not exist")
    return files


def load_rules(paths: Sequence[Path]) -> list[Rule]:
    """Load rules from files and directories; ids must be unique across all of them."""
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for file in rule_files(paths):
        for rule in load_rule_file(file):
            if rule.id in seen:
                raise _fail(str(file), rule.id, f"duplicate rule id (first defined in {seen[rule.id]})")
            seen[rule.id] = str(file)
            rules.append(rule)
    return rules


class OutsideVendored:
    """A ``vendored = false`` (or ``docs = false``) rule's path condition: outside vendored trees
    (and, with ``docs``, outside prose documentation), and its own ``path`` if any."""

    __slots__ = ("own", "vendored", "docs")

    def __init__(self, own: Optional[Any], vendored: bool = True, docs: bool = False) -> None:
        self.own = own
        self.vendored = vendored
        self.docs = docs

    def search(self, path: str) -> bool:
        return (not (self.vendored and is_vendored(path)) and not (self.docs and is_documentation(path))
                and (self.own is None or self.own.search(path) is not None))


def _stamp(file: Path) -> tuple[Any, ...]:
    stat = file.stat()
    return (str(file), stat.st_mtime_ns, stat.st_size)


def _registry_cache() -> Path:
    """Where this installation's validated registry is cached.

    zlib, not hashlib, names it: loading OpenSSL costs the staged hook 2-3 ms;
    the key only tells installations (and Python versions: marshal's format is
    theirs) apart, the stamps inside judge freshness.
    """
    import marshal

    from scanner.version import __version__

    where = f"{__version__}\0{__file__}\0{sys.version_info[:2]}\0{marshal.version}".encode("utf-8", "surrogateescape")
    key = f"{zlib.crc32(where):08x}{zlib.adler32(where):08x}{len(where):x}"
    return cache_dir() / f"rules-{key}.marshal"


def _restore(names: Sequence[str], row: tuple[Any, ...]) -> Rule:
    """A Rule from a cached row, without running ``__init__`` (371 frozen inits of 23 fields
    cost the staged hook more than the rest of loading; the row was a validated Rule's fields)."""
    rule = object.__new__(Rule)
    rule.__dict__.update(zip(names, row))
    return rule


@functools.lru_cache(maxsize=1)
def builtin_rules() -> tuple[Rule, ...]:
    """The shipped registry, parsed once per process.

    Locating the registry (importlib.resources) and parsing TOML and
    validating every regex cost more than a whole staged scan, so the
    validated rules are cached together with the files' paths, sizes and
    mtimes. A hit re-checks those stamps with a few ``stat`` calls and builds
    the rules without compiling anything (each pattern compiles on first use).

    The cache is plain data (strings, numbers, tuples) in ``marshal``'s format,
    never pickle: loading it runs no code, and it reads ~10x faster than the
    same data as JSON (~1 ms against ~10 ms for 685 rules).
    """
    import marshal

    cache = _registry_cache()
    names = tuple(f.name for f in fields(Rule))
    try:
        cached_names, stamps, rows = marshal.loads(cache.read_bytes())
        if (cached_names == names and stamps and Path(stamps[0][0]).is_dir()
                and all(_stamp(Path(s[0])) == s for s in stamps)
                and all(type(row) is tuple and len(row) == len(names) for row in rows)):
            return tuple(_restore(names, row) for row in rows)
    except (OSError, ValueError, TypeError, EOFError, IndexError):
        pass  # no cache yet, stale, or written by another version: rebuild it
    files = rule_files([builtin_patterns_dir()])
    rules = tuple(load_rules(files))
    # the directory's own stamp too: adding or removing a rule file changes it
    document = (names, tuple(_stamp(f) for f in [builtin_patterns_dir(), *files]),
                tuple(tuple(getattr(rule, name) for name in names) for rule in rules))
    try:
        atomic_write(cache, marshal.dumps(document))
    except OSError:
        pass  # an unwritable cache only costs the next run a parse
    return rules


def _digest_rules(digest: Any, rules: Iterable[Rule]) -> None:
    for rule in rules:
        for value in (rule.id, rule.regex, rule.confidence, rule.severity, repr(rule.keywords),
                      repr(rule.min_entropy), str(rule.min_char_classes), rule.path or "",
                      repr(rule.stopwords), repr(rule.allow_regexes), repr(rule.decode), rule.validate or "", rule.scope,
                      rule.content, str(rule.vendored), str(rule.docs), repr(rule.documented_samples)):
            digest.update(value.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")


def ruleset_hash(rules: Iterable[Rule], claim_rules: Sequence[Rule] = ()) -> str:
    """A digest of everything that changes what a rule set finds (for caches).

    ``claim_rules`` are a detector's disabled rules, which still own the text
    they match (see ``Detector``); without any, the digest is that of ``rules`` alone.
    """
    import hashlib  # here, not at the top: a clean staged scan never loads OpenSSL

    digest = hashlib.sha256()
    _digest_rules(digest, rules)
    if claim_rules:
        digest.update(b"\0claim-rules\0")
        _digest_rules(digest, claim_rules)
    return digest.hexdigest()
