"""Vendored third-party trees: code a repository carries but did not write.

A committed virtualenv (``venv/lib/python3.12/site-packages/``), ``node_modules/``,
Go's and Composer's ``vendor/``, pip's ``_vendor/``: the files there are other
projects' code, tests and documentation. A rule that judges a value by the name it
is assigned to (``password = "..."``, an ``Authorization: Basic`` header, a
``user:pass@`` URL) finds those projects' fixtures and examples there, never a
credential of this repository, so such rules say ``vendored = false`` in their
rule file and do not run inside these trees. Rules that recognise a provider's own
token format (an AWS key, a GitHub token, a PEM private key) still do: a real
token pasted into vendored code is as live as anywhere else.

Only directory names that mean third-party code by convention are listed: not
``packages/`` or ``lib/`` alone (a monorepo's own packages live there), nor
``build/`` (a copy of the project's own code).
"""
from __future__ import annotations

import re
from functools import lru_cache

from scanner.lazyre import lazy

# One path component each (matched after "/" or at the start of the path).
VENDORED_DIRS = (
    "node_modules", "bower_components", "jspm_packages",  # npm, Bower, jspm
    "site-packages", "dist-packages",                      # Python installs (virtualenvs, system)
    "vendor", "_vendor", "vendored",                       # Go, Composer, Bundler; pip's and botocore's copies
    "third_party", "third-party", "thirdparty",            # Chromium-style imported sources
)

# lib/python3.12/ (a committed virtualenv or interpreter: its standard library
# carries test passwords too) as well as the directory names above.
VENDORED = lazy(
    r"(?:^|/)(?:" + "|".join(re.escape(d) for d in VENDORED_DIRS) + r"|lib(?:64)?/python\d(?:\.\d+)?)/"
)


# Cached: a history plan asks it of each path once per path rule (5,791 paths, 75,283 calls on
# requests' history), and workers again per version.
@lru_cache(maxsize=1 << 16)
def is_vendored(path: str) -> bool:
    """True when ``path`` lies inside a vendored third-party tree."""
    return VENDORED().search(path) is not None
