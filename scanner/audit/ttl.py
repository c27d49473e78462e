"""Token lifetimes and OAuth scopes in JSON: ``token-ttl-excessive``, ``oauth-overbroad-scope``.

Applied to MCP configs (where any ``scope`` or ``expires_in`` is OAuth's) and
to other JSON in the tree, where an object must look like OAuth (a token
response, a client registration, an ``oauth`` section) before its keys count,
so a cache's ``expires_in`` is left alone.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Optional, Union

from scanner.audit.findings import make_finding
from scanner.audit.jsonc import Node
from scanner.models import Finding

MAX_ACCESS_TTL = 24 * 3600
MAX_REFRESH_TTL = 90 * 86400

# Scope words that grant everything or destroy things (the guide's examples, plus obvious kin).
BROAD_SCOPES = frozenset({"admin", "full_access", "fullaccess", "full-access", "delete", "*", "all", "root",
                          "superuser", "sudo"})
SCOPE_KEYS = frozenset({"scope", "scopes", "requested_scopes", "requestedscopes", "default_scopes", "defaultscopes"})
# `expires_in` alone means an access token only inside an OAuth-looking object.
ACCESS_TTL_GENERIC = frozenset({"expires_in", "expiresin"})
ACCESS_TTL_KEYS = frozenset({"access_token_expires_in", "accesstokenexpiresin", "access_token_ttl", "accesstokenttl",
                             "access_token_lifetime", "accesstokenlifetime", "access_token_validity"})
REFRESH_TTL_KEYS = frozenset({"refresh_token_expires_in", "refreshtokenexpiresin", "refresh_expires_in",
                              "refresh_token_ttl", "refreshtokenttl", "refresh_token_lifetime",
                              "refreshtokenlifetime", "refresh_token_validity"})
OAUTH_MARKERS = frozenset({"access_token", "refresh_token", "token_type", "id_token", "client_id", "client_secret",
                           "grant_type", "token_endpoint", "authorization_endpoint", "code_challenge_method"})
OAUTH_SECTIONS = frozenset({"oauth", "oauth2", "auth", "authorization", "authentication"})

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|"
                       r"w|weeks?|y|years?)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def duration_seconds(node: Node) -> Optional[float]:
    """Seconds for a number or a string such as ``"3600"``, ``"30d"``, ``"1y"``.

    ``inf`` for a value past float range (``1e999``, a 400-digit integer): the
    caller reports it as a malformed lifetime rather than compute with it.
    """
    if node.kind == "number":
        try:
            return float(node.value)
        except OverflowError:  # an integer too large for a float
            return math.inf if node.value > 0 else -math.inf
    if node.kind != "string":
        return None
    match = _DURATION.match(node.value)
    if not match:
        return None
    unit = (match.group(2) or "s").lower()
    return float(match.group(1)) * _UNITS["m" if unit.startswith("mi") else unit[0]]


def _shown(node: Node) -> str:
    # A huge integer's str() can hit Python's digit limit, and JSON has no "inf": say what kind of value it was.
    if node.kind == "number" and isinstance(node.value, float):
        return "NaN" if math.isnan(node.value) else ("Infinity" if node.value > 0 else "-Infinity")
    if node.kind == "number":
        return "a huge integer"
    return str(node.value)


def broad_scopes(value: Union[str, Iterable[str]]) -> list[str]:
    """The over-broad words in a scope string (space, ``+`` or comma separated) or list."""
    words = re.split(r"[\s+,]+", value) if isinstance(value, str) else [w for w in value if isinstance(w, str)]
    broad = []
    for word in words:
        parts = [p for p in re.split(r"[:./]", word.lower()) if p]
        if word.lower() in BROAD_SCOPES or any(p in BROAD_SCOPES for p in parts) or word.endswith(":*"):
            broad.append(word)
    return broad


def _oauth_like(node: Node) -> bool:
    return any(key.lower() in OAUTH_MARKERS for key, _, _ in node.members)


def _scope_text(node: Node) -> Optional[Union[str, list[str]]]:
    if node.kind == "string":
        return str(node.value)
    if node.kind == "array":
        return [str(item.value) for item in node.items if item.kind == "string"]
    return None


def check_tree(path: str, root: Node, *, oauth_everywhere: bool, label: str = "") -> list[Finding]:
    """Scope and lifetime findings for every object in ``root``.

    ``oauth_everywhere`` treats every object as OAuth's (an MCP config);
    otherwise only objects with OAuth keys or under an ``oauth``-like key count.
    """
    findings: list[Finding] = []
    where = f" in {label}" if label else ""

    def visit(node: Node, keys: tuple[str, ...], in_oauth: bool) -> None:
        if node.kind == "array":
            for index, item in enumerate(node.items):
                visit(item, keys + (str(index),), in_oauth)
            return
        if node.kind != "object":
            return
        oauth = in_oauth or oauth_everywhere or _oauth_like(node)
        for key, _, value in node.members:
            name = key.lower()
            pointer = "/".join(keys + (key,))
            if oauth and name in SCOPE_KEYS:
                scopes = _scope_text(value)
                broad = broad_scopes(scopes) if scopes is not None else []
                if broad:
                    findings.append(make_finding(
                        "oauth-overbroad-scope", path,
                        f"OAuth scope requests {', '.join(broad)}{where}; ask only for what the server needs",
                        evidence=" ".join(broad), key=pointer, line=value.line, column=value.column))
            limit = None
            kind = ""
            if name in REFRESH_TTL_KEYS:
                limit, kind = MAX_REFRESH_TTL, "refresh token"
            elif name in ACCESS_TTL_KEYS or (oauth and name in ACCESS_TTL_GENERIC):
                limit, kind = MAX_ACCESS_TTL, "access token"
            seconds = duration_seconds(value) if limit else None
            if limit and seconds is not None and not math.isfinite(seconds):
                # 1e999 parses as inf: no server can honour it, and one that clamps or
                # skips the check issues a token that never expires.
                findings.append(make_finding(
                    "token-ttl-excessive", path,
                    f"{kind} lifetime {key} is a malformed lifetime (not a finite number of seconds){where}; "
                    "the token may never expire",
                    evidence=f"{key}={_shown(value)}", key=pointer, line=value.line, column=value.column,
                    extra={"seconds": None, "limit_seconds": limit}))
            elif limit and seconds is not None and seconds > limit:
                from scanner.audit.jwt import human_duration

                findings.append(make_finding(
                    "token-ttl-excessive", path,
                    f"{kind} lifetime {key} = {human_duration(seconds)}{where} exceeds the "
                    f"{'24 h' if limit == MAX_ACCESS_TTL else '90 day'} maximum",
                    evidence=f"{key}={value.value}", key=pointer, line=value.line, column=value.column,
                    extra={"seconds": seconds, "limit_seconds": limit}))
            visit(value, keys + (key,), oauth or name in OAUTH_SECTIONS)

    visit(root, (), False)
    return findings
