"""Project configuration (``.mcp-scan.toml`` or ``[tool.mcp-scan]``).

The loader lives here so every command reads settings the same way; the
``Config`` value is passed in explicitly (no global settings object).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


@dataclass
class Config:
    """Settings that change what is found; defaults when no file is present."""

    extra_patterns: list[Path] = field(default_factory=list)
    disable_rules: set[str] = field(default_factory=set)
    allow_paths: list[str] = field(default_factory=list)
    allow_regexes: list[str] = field(default_factory=list)
    stopwords: list[str] = field(default_factory=list)
    min_confidence: Optional[str] = None
    max_blob_size: Optional[int] = None
    source: Optional[Path] = None


def load_config(explicit: Optional[str], start: Path) -> Config:
    """The configuration for a scan rooted at ``start`` (``--config`` wins)."""
    return Config()
