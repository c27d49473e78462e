"""Prose documentation: files written to explain, where credentials are illustrations.

READMEs, guides, changelogs and a documentation site's sources show how to
configure a program: ``password = "..."`` or ``postgres://user:pw@localhost/db``
there is an example for the reader to replace. Rules that judge a value only by
its context (a password-named key, a loopback DSN) say ``docs = false`` in their
rule file and do not run in these files; each rule file names that decision.
Rules that recognise a provider's own format (an AWS key, a Google API key, a
PEM private key) still run: a real token pasted into a README is as live there
as anywhere, and such leaks happen (a key pasted under a curl example).

A path is documentation when its file is in a prose markup format (Markdown,
reStructuredText, AsciiDoc, RDoc, Textile, POD), or when it is a page of a
documentation directory (``doc/``, ``docs/``, ``documentation/``): plain text or
a page template there. Plain ``.txt`` files count only there: elsewhere they are
as often data, fixtures or configuration. Configuration, environment files and
code under a docs directory are not documentation: a ``docs/.env`` or the docs
site's deploy settings hold the site's real credentials.
"""
from __future__ import annotations

from functools import lru_cache

from scanner.lazyre import lazy

DOC_EXTENSIONS = ("md", "markdown", "mdown", "mkd", "mdx", "rst", "adoc", "asciidoc", "rdoc", "textile", "pod")
DOC_DIRS = ("doc", "docs", "documentation")
# pages of a documentation directory besides prose markup: plain text and page templates
DOC_PAGES = ("txt", "text", "html", "htm", "myt", "mako", "jinja", "jinja2", "j2", "tmpl")

DOCUMENTATION = lazy(
    r"(?i)(?:\.(?:" + "|".join(DOC_EXTENSIONS) + r")$|(?:^|/)(?:" + "|".join(DOC_DIRS)
    + r")/(?:[^/]+/)*[^/]*\.(?:" + "|".join(DOC_PAGES) + r")$)"
)


# Cached: a history plan asks it of each path once per path rule (5,791 paths, 75,283 calls on
# requests' history), and workers again per version.
@lru_cache(maxsize=1 << 16)
def is_documentation(path: str) -> bool:
    """True when ``path`` is prose documentation (see the module docstring)."""
    return DOCUMENTATION().search(path) is not None


# Python's interactive prompts as doctest writes them: ">>> " starts an input line, "... " continues
# one (JavaScript's spread "...args" has no space after the dots); PowerShell's "PS> " and
# "PS C:\path> ", as comment-based help writes its examples.
_PROMPT = lazy(r"[ \t]*(?:>>>|\.\.\.)(?:[ \t]|$)|[ \t]*PS(?:[ \t]+[A-Za-z]:\\[^>\r\n]{0,200})?>[ \t]")
_INPUT = lazy(r"[ \t]*>>>(?:[ \t]|$)")


def in_doctest(line: str, previous: str) -> bool:
    """True when ``line`` belongs to an interactive-session example (a doctest in a docstring, a
    REPL transcript, a PowerShell help example): it starts with a prompt, or it is the output
    printed under a ``>>>`` line.

    A doctest must run the same way every time, so a credential in one is a fixture of the example,
    not a deployment's secret. Judged from the line and the one above it only, as the allow
    markers are, so every engine and every history window sees the same context."""
    if _PROMPT().match(line):
        return True
    return bool(line.strip()) and _INPUT().match(previous) is not None
