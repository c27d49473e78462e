"""``mcp-scan audit --user``: the current user's own MCP client configs, outside any repository.

The configs are found at the clients' documented places
(``mcp_config.USER_CONFIGS``), linted exactly as repository configs are
(``mcp_config.lint_config``) and checked for group/other access
(``permissions.mode_finding``). Paths are reported with ``~`` for the home
directory: reports get shared, and a user name in every path says nothing useful.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scanner.audit.common import MAX_CONFIG_SIZE, AuditResult, dedupe


def shown_path(path: Path, home: Path) -> str:
    """``path`` as reports show it: ``~/...`` under the home directory, else as it is."""
    try:
        return "~/" + path.relative_to(home).as_posix()
    except ValueError:
        return str(path)


def run_user_audit(home: Path, environ: Mapping[str, str], *, detector: Any = None) -> AuditResult:
    """Lint every MCP client config the user has; an unreadable one is an error (exit 3)."""
    from scanner.audit import mcp_config, permissions

    result = AuditResult()
    checked: list[str] = []
    for _client, path in mcp_config.user_configs(home, environ):
        shown = shown_path(path, home)
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                continue
            if info.st_size > MAX_CONFIG_SIZE:
                result.warnings.append(f"{shown}: {info.st_size} bytes is over the {MAX_CONFIG_SIZE}-byte limit; "
                                       "not checked")
                continue
            with open(path, "rb") as handle:
                data = handle.read(MAX_CONFIG_SIZE + 1)
        except FileNotFoundError:
            continue  # removed while we looked
        except OSError as exc:
            result.errors.append(f"{shown}: {exc.strerror or exc}")
            continue
        checked.append(shown)
        result.findings += mcp_config.lint_config(shown, data.decode("utf-8-sig", "replace"), detector=detector)
        if permissions.supported():
            finding = permissions.mode_finding(path, shown, follow_symlinks=True, fixable=False)
            if finding is not None:
                result.findings.append(finding)
    result.findings = dedupe(result.findings)
    result.stats = {"mcp_configs": len(checked), "configs": checked, "findings": len(result.findings),
                    "errors": len(result.errors)}
    return result
