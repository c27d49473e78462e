"""Shannon entropy and the placeholder filter: cheap checks run on regex hits only."""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from typing import Optional

from scanner.lazyre import lazy

# Values that look like a credential slot rather than a credential. Matched
# against the lower-cased secret. `${VAR}`, `$VAR`, `%VAR%`, `{{ var }}` and
# `<token>` are references or templates; the words are the fillers people
# leave in docs and examples ("your_token_here", "changeme", "xxxx").
_PLACEHOLDER = lazy(
    r"""
    ^\$\{[^}]*\}$ | ^\$[a-z_][a-z0-9_]*$ | ^%[a-z_][a-z0-9_]*%$ | \{\{.*\}\} | ^<[^>]*>$
    | \$\{(?:env:|secrets?\.|vars\.)?[a-z_][a-z0-9_.]*\}
    | \byour[_\-\s]?(?:own[_\-]?)?(?:api[_\-]?)?(?:key|token|secret|password|pass|access|client|app)
    | ^<?your\S{0,40}?(?:key|token|secret|passw|pwd)  # "yourStrong(!)Password": a vendor's sample slot
    | _here\b | -here\b | \bhere$
    | x{4,} | \*{3,} | \#{4,} | [•●]{3,} | \.{3} | …
    | ^\[[^\]]*\]$ | ^<[^>]*$ | ^[^<]*>$
    | (?<![\w%])%(?:\([\w.-]+\))?[sd](?!\w)
    | \{(?![0-9a-f]{8}-[0-9a-f]{4}-)(?:[a-z_][\w.-]*|\d*)\}  # {name}, {0}, {}: not a braced GUID key
    | changeme | change[_-]me | replace[_-]?me | placeholder | redacted
    | ^(?:none|null|nil|true|false|undefined|password|passwd|pass|pwd|secret|token|api[_-]?key|test|string|value
         |user|username|login|foo|bar|baz|foobar)$
    | ^(?:user(?:name)?|login|foo|test|me)[:/](?:pass(?:word)?|passwd|pwd|pw|bar|test|secret)[a-z0-9]{0,2}$
    """,
    re.VERBOSE,
)

# Filler: a value of the right shape typed by hand for documentation or a test (a vendor's
# EXAMPLE, a dummy, one repeated character). Unlike the slots above it stands where a real
# secret would, so a rule that recognises a provider's own format may report it as an example
# at low confidence instead of dropping it (Detector._accept; see FILLER and SLOT below).
_FILLER = lazy(r"dummy | example | ^(.)\1+$", re.VERBOSE)


# The word "password" in the languages software is most often translated to: a
# label in a translation file ("Password": "Contraseña") or the password slot of
# a fixture written in another script, never a password (English's own word is
# in _PLACEHOLDER above).
PASSWORD_WORDS = frozenset({
    "passwort", "kennwort", "contraseña", "contrasena", "senha", "mot de passe", "motdepasse", "parola",
    "parola d'ordine", "wachtwoord", "hasło", "haslo", "heslo", "lösenord", "losenord", "adgangskode",
    "passord", "salasana", "jelszó", "jelszo", "şifre", "sifre", "parolă", "parola", "lozinka", "geslo",
    "пароль", "лозинка", "парола", "κωδικός", "סיסמה", "كلمة المرور", "كلمة السر", "رمز عبور", "पासवर्ड",
    "密码", "密碼", "パスワード", "비밀번호", "mật khẩu", "mat khau", "kata sandi", "รหัสผ่าน",
})


def ascii_fold(value: str) -> str:
    """``value`` with accents and strokes taken off Latin letters (``ůsername`` -> ``username``,
    ``testƶ`` -> ``testz``), so the placeholder checks see a decorated fixture word as the word.
    Other scripts are kept as they are."""
    if value.isascii():
        return value
    out = []
    for char in unicodedata.normalize("NFKD", value):
        if unicodedata.combining(char):
            continue
        if not char.isascii():
            # letters NFKD keeps whole: LATIN SMALL LETTER Z WITH STROKE, L WITH STROKE, O WITH STROKE
            name = _LATIN_LETTER().match(unicodedata.name(char, ""))
            if name is not None:
                char = name.group(2) if name.group(1) == "CAPITAL" else name.group(2).lower()
        out.append(char)
    return "".join(out)


_LATIN_LETTER = lazy(r"LATIN (SMALL|CAPITAL) LETTER ([A-Z]) WITH ")


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value`` (0.0 for the empty string)."""
    if not value:
        return 0.0
    length = len(value)
    return -sum(n / length * math.log2(n / length) for n in Counter(value).values())


# For long high-entropy values (a private key body, a long token) the filler
# substrings above turn up by chance ("xXXx" in 1,300 base64 characters), so
# only references, templates and long filler runs count there.
_LONG_RANDOM_PLACEHOLDER = lazy(
    r"^\$\{[^}]*\}$ | \{\{.*\}\} | \$\{(?:env:|secrets?\.|vars\.)?[a-z_][a-z0-9_.]*\} | x{8,} | \*{6,} | \.{3} | …"
    # words of five letters or more do not occur in random text by chance
    r" | placeholder | redacted | changeme | change[_-]me | replace[_-]?me",
    re.VERBOSE,
)
# (AWS marks its documented sample tokens with EXAMPLE)
_LONG_RANDOM_FILLER = lazy(r"example | dummy", re.VERBOSE)

# What placeholder_kind calls a value that holds no secret at all: a reference, a template, a
# mask, a slot word ("your_token_here", "changeme"), an identifier.
SLOT = "slot"
# A value of the secret's shape typed by hand: "example"/"dummy" filler, a run of the alphabet or
# the digits, one character repeated.
FILLER = "filler"


def placeholder_kind(secret: str) -> Optional[str]:
    """``SLOT`` or ``FILLER`` when ``secret`` is not a real credential (see those), else None."""
    lowered = secret.lower()
    if len(secret) > 64 and shannon_entropy(secret) >= 4.5:
        if _LONG_RANDOM_PLACEHOLDER().search(lowered):
            return SLOT
        return FILLER if _LONG_RANDOM_FILLER().search(lowered) else None
    if lowered in PASSWORD_WORDS:
        return SLOT
    if not lowered.isascii():
        lowered = ascii_fold(lowered)
    if _PLACEHOLDER().search(lowered) or is_identifier(secret):
        return SLOT
    if _FILLER().search(lowered) or has_sequence(secret) or mostly_repeated(secret):
        return FILLER
    return None


def is_placeholder(secret: str) -> bool:
    """True when ``secret`` is a template, variable reference, filler text, a
    masked value or an identifier (code, not a credential)."""
    return placeholder_kind(secret) is not None


def mostly_repeated(value: str) -> bool:
    """True when one character makes up three quarters of the letters and digits of ``value``
    (``00000000-0000-...``, ``ffffffffffff``, ``aaaaaaaa1``): filler, whatever its punctuation."""
    alnum = [c for c in value if c.isalnum()]
    return len(alnum) >= 8 and 4 * Counter(alnum).most_common(1)[0][1] >= 3 * len(alnum)


def has_sequence(value: str, length: int = 10) -> bool:
    """True when ``value`` holds ``length`` consecutive characters of the alphabet or the digits in
    order (``abcdefghij``, ``ABCDEFGHIJ``): typed by hand, never drawn at random. (Shorter
    runs such as ``123456`` turn up in values upstream suites label as secrets.)"""
    run = 1
    for left, right in zip(value, value[1:]):
        if ord(right) == ord(left) + 1 and right.isalnum() and left.isalnum():
            run += 1
            if run >= length:
                return True
        else:
            run = 1
    return False


# Identifiers: words in camelCase, PascalCase, snake_case or SCREAMING_SNAKE.
_HUMPS = lazy(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_CAMEL = lazy(r"[a-z]{2,}(?:[A-Z][a-z]+){2,}|(?:[A-Z][a-z]+){3,}")
_SNAKE = lazy(r"[a-z]{2,}(?:_[a-z]{2,}){2,}|[A-Z]{2,}(?:_[A-Z]{2,}){2,}")
_MEMBER = lazy(r"[A-Za-z_$][A-Za-z_$]*(?:\.[A-Za-z_$][A-Za-z_$]*)+")
_TYPE = lazy(r"[A-Za-z_][\w.]*\[[\w.\[\], |]*\]")  # Optional[str], dict[str, Any]
# arguments may hold one level of nested call: Column(String(12))
_CALL = lazy(r"(?P<name>[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)"
             r"\((?:[\w\s.,'\"\[\]:=/-]|[A-Za-z_$][\w$.]*\([\w\s.,'\"\[\]:=/-]{0,40}\)){0,80}\)")
# Code between two string literals, which a key-value rule read as a quoted value
# (``"Password:"),d?x.a.createElement("code"`` in a minified bundle): it ends in a
# method call opening. No password ends in ``.createElement(``.
_CALL_OPENING = lazy(r"[\w$)\]]\.[A-Za-z_$][\w$]{2,}\($")
_VOWELS = frozenset("aeiouyAEIOUY")


def _wordy(identifier: str) -> bool:
    """Most of the identifier's words hold a vowel (random letters seldom do)."""
    words = _HUMPS().findall(identifier)
    return bool(words) and 2 * sum(any(c in _VOWELS for c in w) for w in words) > len(words)


def is_identifier(value: str) -> bool:
    """True when ``value`` reads as code rather than a credential: a function call
    (``getToken()``), a type annotation (``Optional[str]``), dotted member access whose parts are words (``config.api.key``,
    ``s.makeClient``), or one identifier of three words or more (``searchUsersByName``,
    ``read_secret_file``). Random tokens have digits, or their letters do not fall into words."""
    if _CALL_OPENING().search(value):
        return True
    value = value.rstrip("=:;,")
    call = _CALL().fullmatch(value)
    if call is not None:
        return _wordy(call.group("name").rsplit(".", 1)[-1].strip("_$"))
    if _TYPE().fullmatch(value):
        return True
    if _MEMBER().fullmatch(value):
        parts = value.split(".")
        if len(parts) >= 3 or any(_CAMEL().fullmatch(p) or _SNAKE().fullmatch(p) for p in parts):
            return 2 * sum(_wordy(p) or len(p) <= 2 for p in parts) > len(parts)
        return False
    return bool(_CAMEL().fullmatch(value) or _SNAKE().fullmatch(value)) and _wordy(value)


def char_classes(value: str) -> int:
    """How many of lower-case, upper-case, digits and symbols ``value`` uses."""
    return sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )
