"""``mcp-scan audit``: secret-file hygiene and MCP configuration checks on one repository.

``run_audit`` ties the checks together: git's view of the work tree
(``inventory``), .gitignore coverage and history (``gitignore``), MCP configs
(``mcp_config`` + ``ttl``), OAuth/token JSON elsewhere in the tree (``ttl``),
JWTs (``jwt``) and permissions (``permissions``). ``fix`` applies ``--fix``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

# The package's names for what its checks share (``run_audit`` returns an AuditResult).
from scanner.audit.common import MAX_CONFIG_SIZE, TOKEN_MARKERS, AuditResult, Reader, current_verdicts, dedupe
from scanner.models import Finding

# Client configs that live at fixed places under the repository root; checked even
# when git collapses an ignored parent directory into one entry.
ROOT_CONFIGS = (".mcp.json", "mcp.json", ".cursor/mcp.json", ".vscode/mcp.json", ".vscode/settings.json",
                ".roo/mcp.json", ".amazonq/mcp.json", ".kiro/settings/mcp.json", ".claude/settings.json",
                ".claude/settings.local.json", ".claude.json", "claude_desktop_config.json", ".gemini/settings.json",
                ".windsurf/mcp_config.json", ".codeium/windsurf/mcp_config.json", "cline_mcp_settings.json",
                ".continue/config.json", ".zed/settings.json", "opencode.json")
ROOT_CONFIG_GLOBS = (".claude/mcp/*.json", ".continue/mcpServers/*.json")


def _not_allowed(findings: list[Finding], read: Reader) -> list[Finding]:
    """Line findings from a grep of the tree, less those whose line carries an allow marker.
    Only files with a finding are read, so a tree without JWTs costs nothing here."""
    from scanner.audit.findings import drop_allowed

    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    kept: list[Finding] = []
    for path, found in by_path.items():
        data = read(path)
        kept += found if data is None else drop_allowed(found, data.decode("utf-8", "replace"))
    return kept


def run_audit(root: Path, *, detector: Any = None, now: Optional[float] = None, history: bool = True,
              hook: bool = False) -> AuditResult:
    """Every audit check on the work tree at ``root`` (and its history unless ``history=False``).

    ``hook`` (``mcp-scan audit --hook``) checks only what a commit can change
    (see ``hook.run_hook_audit``) and takes history from the cache.
    """
    from scanner.audit import content, gitignore, jwt, mcp_config, permissions, ttl
    from scanner.audit import history as audit_history
    from scanner.audit.findings import drop_allowed
    from scanner.audit.fold import fold
    from scanner.audit.inventory import build_inventory
    from scanner.audit.jsonc import JsoncError, parse

    if hook:
        from scanner.audit.hook import run_hook_audit

        return run_hook_audit(root, detector=detector)
    result = AuditResult()
    inv = build_inventory(root)
    read = Reader(root, result)
    findings: list[Finding] = []
    findings += gitignore.check_coverage(inv)
    past: dict[str, str] = {}
    if history and inv.has_commits:
        facts = audit_history.collect(root, detector)
        findings += gitignore.check_history(inv, facts.rows)
        past = facts.target_verdicts()

    ignored_files = [p for p in inv.ignored if not p.endswith("/")]
    extra_roots = [p for p in ROOT_CONFIGS if (root / p).is_file()]
    for pattern in ROOT_CONFIG_GLOBS:
        extra_roots += sorted(p.relative_to(root).as_posix() for p in root.glob(pattern))
    candidates = list(dict.fromkeys(inv.visible() + ignored_files + extra_roots))
    visible = set(inv.visible())
    tracked = set(inv.tracked)
    configs: list[str] = []
    for rel in candidates:
        if mcp_config.is_known_config(rel):
            configs.append(rel)
            continue
        if not rel.lower().endswith((".json", ".jsonc")):
            continue
        # One read and at most one parse per JSON file serves both shape discovery and the token lint.
        data = read(rel)
        if data is None:
            continue
        maybe_config = mcp_config.looks_like_config(data)
        maybe_tokens = rel in visible and any(marker in data for marker in TOKEN_MARKERS)
        if not (maybe_config or maybe_tokens):
            continue
        text = data.decode("utf-8-sig", "replace")
        try:
            tree = parse(text)
        except JsoncError:
            continue  # not ours to lint: only MCP configs get a parse-error finding
        if maybe_config and mcp_config.has_servers(tree):
            configs.append(rel)
        elif maybe_tokens:
            findings += drop_allowed(ttl.check_tree(rel, tree, oauth_everywhere=False), text)
    for rel in configs:
        data = read(rel, required=True)
        if data is None:
            continue
        text = data.decode("utf-8-sig", "replace")
        local_only = rel not in visible and rel not in tracked
        note = " (the file is git-ignored, but still keep credentials out of it)" if local_only else ""
        findings += mcp_config.lint_config(rel, text, detector=detector, severity="medium" if local_only else None,
                                           note=note)

    findings += _not_allowed(jwt.scan_worktree(root, now), read)
    everything = inv.tracked + inv.untracked + inv.ignored + extra_roots
    current = current_verdicts(everything, read, detector)
    findings = fold(findings, current, past)
    # Nothing credential-looking to protect: the mode of such a file is no finding.
    harmless = {t for t, v in current.items() if v in (content.PUBLIC, content.CLEAN)}
    findings += permissions.check_permissions(root, everything, tracked=inv.tracked, skip=harmless)
    result.findings = dedupe(findings)
    result.stats = {"tracked": len(inv.tracked), "untracked": len(inv.untracked), "mcp_configs": len(configs),
                    "findings": len(result.findings), "errors": len(result.errors)}
    result.stats["configs"] = configs
    return result
