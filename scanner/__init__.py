"""mcp-scan: keeps credentials out of git, offline and fast."""
from __future__ import annotations

from collections.abc import Sequence

from scanner.version import __version__ as __version__  # the package's version, as Python packages show it


def main(argv: "Sequence[str] | None" = None) -> int:
    """The ``mcp-scan`` command (console script, ``python -m scanner`` and the native hooks).

    Importing the CLI takes a few dozen milliseconds; Ctrl-C in that window is
    answered like Ctrl-C at any other time (exit 130, one line, no traceback).
    """
    try:
        from scanner.cli import main as cli_main
    except KeyboardInterrupt:
        import sys

        print("mcp-scan: interrupted", file=sys.stderr)
        return 130  # scanner.errors.EXIT_INTERRUPTED (not imported: it may be what was interrupted)
    return cli_main(argv)
