"""mcp-scan's version, in a module of its own so that any layer (rules, reporters, the CLI) can read
it without importing the package's entry point, which imports the CLI."""
from __future__ import annotations

__version__ = "0.1.0"  # keep in step with pyproject.toml's [project] version
