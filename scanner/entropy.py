"""Shannon entropy and the placeholder filter: cheap checks run on regex hits only."""
from __future__ import annotations

import math
import re
from collections import Counter

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
    | _here\b | -here\b | \bhere$
    | x{4,} | \*{3,} | \.{3} | …
    | changeme | change[_-]me | replace[_-]?me | placeholder | redacted | dummy | example
    | ^(?:none|null|nil|true|false|undefined|password|passwd|secret|token|api[_-]?key|test|string|value)$
    """,
    re.VERBOSE,
)


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
    # words of five letters or more do not occur in random text by chance (AWS marks its
    # documented sample tokens with EXAMPLE)
    r" | example | dummy | placeholder | redacted | changeme | change[_-]me | replace[_-]?me",
    re.VERBOSE,
)


def is_placeholder(secret: str) -> bool:
    """True when ``secret`` is a template, variable reference or filler text."""
    lowered = secret.lower()
    if len(secret) > 64 and shannon_entropy(secret) >= 4.5:
        return bool(_LONG_RANDOM_PLACEHOLDER().search(lowered))
    return bool(_PLACEHOLDER().search(lowered))


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
