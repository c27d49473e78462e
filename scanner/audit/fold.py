"""One finding per problem, at the severity the file's content deserves.

The name-based checks (``gitignore``) say what a path *could* hold; the
content verdicts (``content``) say what it does hold. Here the two meet:

- a file holding only certificates or public keys is no secret file: dropped;
- a ``.env`` with no credential-looking value, or a tracked MCP config with
  only ``${VAR}`` references, is reported at low severity and never told to
  rotate a credential it never held (the MCP config as one ``gitignore-missing``);
- a secret file still tracked at HEAD is one problem, not two: its
  ``secret-file-in-history`` finding folds into ``secret-file-tracked``,
  unless an older version held worse than today's (then rotation is a
  separate job and the history finding stays).
"""
from __future__ import annotations

import shlex

from scanner.audit.content import CLEAN, PUBLIC, SECRET, worst
from scanner.audit.findings import make_finding
from scanner.audit.gitignore import classify
from scanner.models import Finding

FILE_RULES = frozenset({"gitignore-missing", "secret-file-tracked", "secret-file-in-history"})
_NOTHING_TO_ROTATE = "It never held a credential-looking value, so there is nothing to rotate."


def _low(finding: Finding, message: str, remediation: str) -> Finding:
    return finding.replace(severity="low", message=finding.message + message, remediation=remediation)


def _clean_mcp(target: str, entry: str) -> Finding:
    return make_finding(
        "gitignore-missing", target,
        f"MCP config {target} is tracked by git; it holds only ${{VAR}} references today (no literal credential, "
        "no plain http, no TLS switched off), but the MCP security guide keeps MCP configs out of git",
        secret=f"tracked: {target}", key=target, severity="low",
        remediation=f"If the team shares it on purpose, keep it: add `{target}` to `allow-paths` in the mcp-scan "
                    "configuration, or set `disable-rules = [\"gitignore-missing\"]`. Otherwise run "
                    f"`git rm --cached -- {shlex.quote(target)}` and add `{entry}` to .gitignore.",
        extra={"entry": entry, "tracked": True, "ignored": False, "content": CLEAN},
    )


def fold(findings: list[Finding], current: dict[str, str], history: dict[str, str]) -> list[Finding]:
    """Apply the content verdicts (``current``: work tree, ``history``: every version) to file findings."""
    tracked = {f.path for f in findings if f.rule_id == "secret-file-tracked"}
    kept: list[Finding] = []
    for finding in findings:
        target = finding.path
        secret = classify(target)
        if finding.rule_id not in FILE_RULES or secret is None or secret.target != target:
            kept.append(finding)
            continue
        now = current.get(target, SECRET)
        if finding.rule_id == "secret-file-in-history":
            past = history.get(target, SECRET)
            if target in tracked and finding.extra.get("present_at_head") and worst([past, now]) == now:
                continue  # the tracked finding already says it is committed: one problem, one finding
            if past == PUBLIC:
                continue
            if past == CLEAN:
                finding = _low(finding, "; no version of it held a credential-looking value",
                               "Remove it from git if it should stay local. " + _NOTHING_TO_ROTATE)
            kept.append(finding)
            continue
        if now == PUBLIC:
            continue  # certificates and public keys: nothing secret to ignore, untrack or rotate
        if now == CLEAN and secret.kind == "mcp" and finding.rule_id == "secret-file-tracked":
            kept.append(_clean_mcp(target, secret.entry))
        elif now == CLEAN:
            what = "only ${VAR} references" if secret.kind == "mcp" else "no credential-looking value"
            remediation = finding.remediation.split("; then rotate")[0].rstrip(".") + ". " + _NOTHING_TO_ROTATE
            kept.append(_low(finding, f" (it holds {what} today)", remediation))
        else:
            kept.append(finding)
    return kept
