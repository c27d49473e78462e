"""``mcp-scan audit --hook``: the part of the audit a commit can change, cheap enough for every commit.

A commit changes the index and ``.gitignore`` files, nothing else. So the
hook checks ignore coverage and tracked secret files (git's view of the
index and work tree, a few ``ls-files`` calls), lints the staged MCP configs
and OAuth/token JSON as staged (the index, not the work tree), and takes
``secret-file-in-history`` from the history cache (``history.cached``), which
only new commits update. Left to the full ``mcp-scan audit``: permissions (a
commit cannot change a mode), configs that are not staged, and JWTs in the
work tree (``mcp-scan staged`` scans the added lines for those).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from scanner.audit.common import MAX_CONFIG_SIZE, TOKEN_MARKERS, AuditResult, Reader, current_verdicts, dedupe
from scanner.audit import history as audit_history
from scanner.audit.content import read_blobs
from scanner.audit.fold import fold
from scanner.audit.gitignore import check_coverage, check_history
from scanner.audit.inventory import _split, build_inventory
from scanner.audit.jsonc import JsoncError, parse
from scanner.audit.mcp_config import has_servers, is_known_config, lint_config, looks_like_config
from scanner.audit.ttl import check_tree
from scanner.gitcmd import run_git
from scanner.models import Finding


def staged_paths(root: Path) -> list[str]:
    """Paths added or modified in the index (against HEAD, or everything on an unborn branch)."""
    return _split(run_git(["diff", "--cached", "--name-only", "-z", "--no-renames", "--diff-filter=AM"], str(root)))


def _staged_json(root: Path, paths: list[str]) -> dict[str, bytes]:
    """The index content of the staged JSON files (one ``git cat-file --batch``)."""
    wanted = {p for p in paths if p.lower().endswith((".json", ".jsonc"))}
    if not wanted:
        return {}
    # The whole index rather than a pathspec per file: an initial commit may stage thousands.
    oids: dict[str, str] = {}
    for entry in _split(run_git(["ls-files", "-s", "-z"], str(root))):
        meta, _, path = entry.partition("\t")
        if path in wanted:
            oids[path] = meta.split()[1]
    blobs = read_blobs(root, oids.values(), MAX_CONFIG_SIZE)
    return {path: blobs[oid] for path, oid in oids.items() if oid in blobs}


def run_hook_audit(root: Path, *, detector: Any = None) -> AuditResult:
    """The commit-time audit (see the module docstring)."""
    result = AuditResult()
    inv = build_inventory(root)
    findings: list[Finding] = check_coverage(inv)
    facts = audit_history.cached(root, detector) if inv.has_commits else audit_history.Facts()
    if inv.has_commits:
        findings += check_history(inv, facts.rows)
    staged = staged_paths(root)
    configs: list[str] = []
    for rel, data in _staged_json(root, staged).items():
        text = data.decode("utf-8-sig", "replace")
        if is_known_config(rel) or looks_like_config(data):
            try:
                is_config = is_known_config(rel) or has_servers(parse(text))
            except JsoncError:
                is_config = False
            if is_config:
                configs.append(rel)
                findings += lint_config(rel, text, detector=detector)
                continue
        if any(marker in data for marker in TOKEN_MARKERS):
            try:
                findings += check_tree(rel, parse(text), oauth_everywhere=False)
            except JsoncError:
                pass  # not ours to lint: only MCP configs get a parse-error finding
    current = current_verdicts(inv.tracked + inv.untracked, Reader(root, result), detector)
    result.findings = dedupe(fold(findings, current, facts.target_verdicts()))
    result.stats = {"tracked": len(inv.tracked), "untracked": len(inv.untracked), "staged": len(staged),
                    "mcp_configs": len(configs), "history_walks": facts.walked,
                    "findings": len(result.findings), "errors": len(result.errors), "configs": configs}
    return result
