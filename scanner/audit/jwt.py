"""Offline JWT analysis: unsigned tokens, lifetimes, expiry state.

Nothing is verified or sent anywhere: the header and payload are base64url
JSON anyone can read, and that is all these checks need. ``analyse_jwt`` is
the core; ``enrich_jwt_message`` lets other commands add the expiry state to
a JWT finding's message; ``scan_worktree`` finds tokens with ``git grep``.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from scanner.audit.findings import make_finding
from scanner.errors import ScanError
from scanner.gitcmd import git_env, git_failure
from scanner.models import Finding

MAX_ACCESS_LIFETIME = 24 * 3600
JWT_RE = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{2,}={0,2}\.eyJ[A-Za-z0-9_-]{2,}={0,2}\.[A-Za-z0-9_-]*")
# The same shape for git grep (POSIX ERE, no look-behind; JWT_RE re-checks each hit).
_GREP_ERE = r"eyJ[A-Za-z0-9_-]{2,}={0,2}\.eyJ[A-Za-z0-9_-]{2,}={0,2}\.[A-Za-z0-9_-]*"


@dataclass(frozen=True)
class JwtProblem:
    """One thing wrong with a token: the audit rule id, a message, a severity."""

    rule_id: str
    message: str
    severity: str


def _parse_int(raw: str) -> Union[int, float]:
    # Past Python's int() digit limit a claim is still a number: an infinite one.
    try:
        return int(raw)
    except ValueError:
        return float(raw)


def _b64json(part: str) -> Optional[dict[str, Any]]:
    try:
        raw = base64.urlsafe_b64decode(part.rstrip("=") + "=" * (-len(part.rstrip("=")) % 4))
        value = json.loads(raw.decode("utf-8"), parse_int=_parse_int)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def decode_jwt(token: str) -> Optional[tuple[dict[str, Any], dict[str, Any]]]:
    """(header, payload) of a compact JWS, or None when it is not one."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    header, payload = _b64json(parts[0]), _b64json(parts[1])
    if header is None or payload is None:
        return None
    return header, payload


def human_duration(seconds: float) -> str:
    """``90061`` -> ``'25 h'``; coarse on purpose (a message, not a timestamp)."""
    if not math.isfinite(seconds):  # callers say "malformed" themselves; never crash on int(inf)
        return "an undefined time" if math.isnan(seconds) else "forever"
    seconds = abs(seconds)
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 2 * 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h"
    if seconds < 730 * 86400:
        return f"{int(seconds // 86400)} days"
    return f"{int(seconds // (365 * 86400))} years"


def _number(value: Any) -> Optional[float]:
    """A claim as seconds; not finite (inf, nan) when JSON said ``Infinity``, ``NaN``, ``1e400`` or a huge integer."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer past float range: as good as infinite
        return math.inf if value > 0 else -math.inf


def shown_number(value: float) -> str:
    """``Infinity``, ``-Infinity`` or ``NaN``: how JSON spells a value that is not a finite number."""
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _malformed_state(exp: float) -> str:
    return f"malformed exp claim ({shown_number(exp)}): it may never expire"


def expiry_state(payload: dict[str, Any], now: Optional[float] = None) -> str:
    """``'expired 3 days ago'``, ``'expires in 2 h'`` or ``'never expires (no exp claim)'``."""
    now = time.time() if now is None else now
    exp = _number(payload.get("exp"))
    if exp is None:
        return "never expires (no exp claim)"
    if not math.isfinite(exp):
        return _malformed_state(exp)
    if exp <= now:
        return f"expired {human_duration(now - exp)} ago"
    return f"expires in {human_duration(exp - now)}"


def analyse_jwt(token: str, now: Optional[float] = None) -> list[JwtProblem]:
    """What is wrong with ``token``: ``jwt-alg-none`` and/or ``jwt-long-lived`` (empty if fine or not a JWT)."""
    decoded = decode_jwt(token)
    if decoded is None:
        return []
    header, payload = decoded
    now = time.time() if now is None else now
    state = expiry_state(payload, now)
    exp = _number(payload.get("exp"))
    problems: list[JwtProblem] = []
    if str(header.get("alg", "")).lower() == "none":
        problems.append(JwtProblem("jwt-alg-none", f"JWT with alg none: unsigned, anyone can forge it; {state}", "high"))
    expired = exp is not None and exp <= now
    severity = "low" if expired else "medium"
    start = _number(payload.get("iat"))
    if start is None:
        start = _number(payload.get("nbf"))
    if start is not None and not math.isfinite(start):
        start = None  # a nonsense issue time says nothing about the lifetime: judge exp alone
    if exp is None:
        problems.append(JwtProblem("jwt-long-lived", "JWT has no exp claim, so it never expires", "medium"))
    elif not math.isfinite(exp):
        # Verifiers disagree on such a token (int(nan) raises, `now > inf` is never true): assume the worst.
        problems.append(JwtProblem(
            "jwt-long-lived", f"JWT has a malformed lifetime: exp is {shown_number(exp)}, not a time, so it may "
                              "never expire", "medium"))
    elif start is not None and exp - start > MAX_ACCESS_LIFETIME:
        problems.append(JwtProblem(
            "jwt-long-lived", f"JWT lifetime is {human_duration(exp - start)} (exp - iat over 24 h); {state}", severity))
    elif start is None and exp - now > MAX_ACCESS_LIFETIME:
        problems.append(JwtProblem(
            "jwt-long-lived", f"JWT is valid for another {human_duration(exp - now)} (no iat; over 24 h); {state}", severity))
    return problems


def enrich_jwt_message(finding: Finding, now: Optional[float] = None) -> Finding:
    """``finding`` with the JWT's expiry state appended to its message (unchanged if no JWT)."""
    match = JWT_RE.search(finding.secret or "")
    decoded = decode_jwt(match.group()) if match else None
    if decoded is None:
        return finding
    state = expiry_state(decoded[1], now)
    if state in finding.message:
        return finding
    return finding.replace(message=f"{finding.message} ({state})")


def find_jwts(text: str) -> Iterator[tuple[int, str]]:
    """(offset, token) for every decodable JWT in ``text``."""
    for match in JWT_RE.finditer(text):
        if decode_jwt(match.group()) is not None:
            yield match.start(), match.group()


def jwt_findings(path: str, token: str, line: int, column: int, now: Optional[float] = None,
                 extra: Optional[dict[str, Any]] = None) -> list[Finding]:
    """Audit findings for one token at one place."""
    return [
        make_finding(problem.rule_id, path, problem.message, secret=token, key=token, line=line, column=column,
                     severity=problem.severity, extra=extra)
        for problem in analyse_jwt(token, now)
    ]


def scan_worktree(root: Path, now: Optional[float] = None) -> list[Finding]:
    """JWT findings in tracked and untracked (not ignored) text files, via one ``git grep``."""
    cmd = ["git", "-c", "core.quotePath=false", "grep", "-I", "-z", "-n", "--column", "-o", "--untracked",
           "-E", _GREP_ERE]
    try:
        proc = subprocess.run(cmd, cwd=str(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=git_env())
    except OSError as exc:
        raise ScanError(f"cannot run git grep: {exc}", "check that git is installed") from None
    if proc.returncode == 1:
        return []  # no match
    if proc.returncode != 0:
        raise git_failure(["grep"], proc.stderr, str(root))
    findings: list[Finding] = []
    for record in proc.stdout.decode("utf-8", "surrogateescape").split("\n"):
        fields = record.split("\0")
        if len(fields) != 4:
            continue
        path, line, column, text = fields
        for _, token in find_jwts(text):
            findings.extend(jwt_findings(path, token, int(line), int(column), now))
    return findings
