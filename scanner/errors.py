"""The one exception type mcp-scan raises; the CLI maps it to an exit code."""
from __future__ import annotations

# Exit codes, shared by every command (pre-commit's map plus 2 for usage).
EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_RUNTIME = 3
EXIT_INTERRUPTED = 130


class ScanError(RuntimeError):
    """A failure the user can act on.

    ``message`` says what failed, ``hint`` what to do about it. ``exit_code``
    is EXIT_USAGE for bad flags or configuration, EXIT_RUNTIME otherwise.
    """

    def __init__(self, message: str, hint: str = "", exit_code: int = EXIT_RUNTIME) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


def config_error(message: str, hint: str = "") -> ScanError:
    """A ScanError for invalid flags, configuration or rule files (exit 2)."""
    return ScanError(message, hint, exit_code=EXIT_USAGE)
