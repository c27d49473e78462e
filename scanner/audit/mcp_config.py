"""MCP client configs: where they live, and what is wrong in them.

Discovery is by known client paths (``KNOWN_CONFIGS`` in a repository,
``USER_CONFIGS`` in the user's home for ``audit --user``; both listed in
docs/audit.md) and by shape (a JSON file with an ``mcpServers``/``servers`` map of server
entries). ``lint_config`` checks one file's text and is what the staged hook
can call too: literal credentials (``mcp-hardcoded-credential``), plain-http
remotes (``mcp-insecure-transport``), TLS verification switched off
(``mcp-tls-verification-disabled``), plus the OAuth scope and token lifetime
checks from ``ttl``.
"""
from __future__ import annotations

import fnmatch
import ipaddress
import os
import re
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qsl, urlsplit

from scanner.audit import ttl
from scanner.audit.findings import drop_allowed, make_finding
from scanner.audit.jsonc import JsoncError, Node, parse
from scanner.audit.jwt import find_jwts, jwt_findings
from scanner.entropy import is_identifier, is_placeholder, shannon_entropy
from scanner.models import Finding

# Known client config locations (glob over the repository-relative path; `**/` = any depth).
KNOWN_CONFIGS = (
    "**/.mcp.json",                         # Claude Code (project scope)
    "**/mcp.json",                          # generic; also .cursor/, .vscode/, .roo/, .amazonq/, .kiro/settings/
    "**/.claude/mcp/*.json",                # claudefig / Claude Code per-server files
    "**/.claude/settings*.json",            # Claude Code settings (env, mcpServers)
    "**/.claude.json",                      # Claude Code user/project state
    "**/claude_desktop_config.json",        # Claude Desktop
    "**/.gemini/settings.json",             # Gemini CLI
    "**/.windsurf/mcp_config.json",         # Windsurf
    "**/.codeium/windsurf/mcp_config.json",  # Windsurf (user dir checked in)
    "**/cline_mcp_settings.json",           # Cline
    "**/mcp_settings.json",                 # Roo Code (global settings file)
    "**/.continue/config.json",             # Continue
    "**/.continue/mcpServers/*.json",       # Continue (per-server JSON)
    "**/.zed/settings.json",                # Zed (context_servers)
    "**/opencode.json",                     # opencode (mcp)
    "**/.vscode/settings.json",             # VS Code user/workspace settings (mcp.servers)
)
# The user's own client configs (``mcp-scan audit --user``): (client, base, path under the base).
# Bases: "home" (~), "config" ($XDG_CONFIG_HOME, else ~/.config), "appsupport"
# (~/Library/Application Support, macOS) and "appdata" (%APPDATA%, Windows).
# Every platform's paths are tried: one that does not exist costs a stat.
USER_CONFIGS = (
    ("Claude Desktop", "appsupport", "Claude/claude_desktop_config.json"),
    ("Claude Desktop", "config", "Claude/claude_desktop_config.json"),
    ("Claude Desktop", "appdata", "Claude/claude_desktop_config.json"),
    ("Claude Code", "home", ".claude.json"),
    ("Claude Code", "home", ".claude/settings.json"),
    ("Claude Code", "home", ".claude/settings.local.json"),
    ("Claude Code", "home", ".claude/mcp/*.json"),
    ("Cursor", "home", ".cursor/mcp.json"),
    ("VS Code", "config", "Code/User/settings.json"),
    ("VS Code", "config", "Code/User/mcp.json"),
    ("VS Code", "appsupport", "Code/User/settings.json"),
    ("VS Code", "appsupport", "Code/User/mcp.json"),
    ("VS Code", "appdata", "Code/User/settings.json"),
    ("VS Code", "appdata", "Code/User/mcp.json"),
    ("Windsurf", "home", ".codeium/windsurf/mcp_config.json"),
    ("Gemini CLI", "home", ".gemini/settings.json"),
    ("Amazon Q", "home", ".aws/amazonq/mcp.json"),
    ("Kiro", "home", ".kiro/settings/mcp.json"),
    ("Cline", "config", "Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"),
    ("Cline", "appsupport", "Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"),
    ("Cline", "appdata", "Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"),
    ("Roo Code", "config", "Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json"),
    ("Roo Code", "appsupport", "Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json"),
    ("Roo Code", "appdata", "Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json"),
    ("Continue", "home", ".continue/config.json"),
    ("Continue", "home", ".continue/mcpServers/*.json"),
    ("Zed", "config", "zed/settings.json"),
    ("opencode", "config", "opencode/opencode.json"),
)


def user_config_bases(home: Path, environ: Mapping[str, str]) -> dict[str, Path]:
    """Where each ``USER_CONFIGS`` base is for this user (an unset ``%APPDATA%`` is left out)."""
    bases = {"home": home, "config": Path(environ.get("XDG_CONFIG_HOME") or home / ".config"),
             "appsupport": home / "Library" / "Application Support"}
    if environ.get("APPDATA"):
        bases["appdata"] = Path(environ["APPDATA"])
    return bases


def user_configs(home: Path, environ: Mapping[str, str]) -> list[tuple[str, Path]]:
    """The user's MCP client configs that exist: (client, path), each file once."""
    found: list[tuple[str, Path]] = []
    seen: set[str] = set()
    bases = user_config_bases(home, environ)
    for client, base, rel in USER_CONFIGS:
        if base not in bases:
            continue
        root = bases[base]
        paths = sorted(root.glob(rel)) if "*" in rel else [root / rel]
        for path in paths:
            real = os.path.realpath(path)
            if real not in seen and os.path.isfile(path):
                seen.add(real)
                found.append((client, path))
    return found


# Keys whose object (or array) holds server entries, by client.
SERVER_MAP_KEYS = frozenset({"mcpservers", "servers", "context_servers", "mcp_servers", "modelcontextprotocolservers",
                             "mcp"})
SERVER_FIELDS = frozenset({"command", "url", "serverurl", "httpurl", "args", "env", "headers", "transport", "type"})
MCP_TRANSPORTS = frozenset({"stdio", "sse", "http", "streamable-http", "streamablehttp", "streamable_http", "ws",
                            "websocket", "local", "remote"})
SHAPE_MARKERS = (b"mcpServers", b'"servers"', b"context_servers", b"mcp_servers", b"modelContextProtocolServers")
URL_KEYS = frozenset({"url", "serverurl", "httpurl", "endpoint", "uri", "baseurl", "base_url", "server_url", "sseurl"})
ENV_KEYS = frozenset({"env", "environment"})
# TLS switches: the key (lower-case, punctuation removed) and the value that turns checking off.
TLS_OFF_WHEN_FALSE = frozenset({"rejectunauthorized", "verify", "verifyssl", "sslverify", "strictssl", "tlsverify",
                                "verifycertificate", "verifycertificates", "checkcertificate",
                                "validatecertificate", "validatecertificates", "tlsrejectunauthorized"})
TLS_OFF_WHEN_TRUE = frozenset({"insecure", "insecureskipverify", "skiptlsverify", "skipsslverify", "allowinsecure",
                               "ignorecertificateerrors", "ignoresslerrors", "disablesslverification", "tlsinsecure",
                               "insecuretls", "sslnoverify", "gitsslnoverify", "curlinsecure"})
TLS_ENV_OFF = {"NODE_TLS_REJECT_UNAUTHORIZED": "0", "PYTHONHTTPSVERIFY": "0"}
TLS_EMPTY_DISABLES = frozenset({"CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"})  # requests: "" turns verification off
TLS_ARGS = frozenset({"--insecure", "-k", "--no-verify", "--no-check-certificate", "--ignore-certificate-errors",
                      "--ignore-ssl-errors", "--disable-ssl-verification", "--skip-tls-verify", "--tls-skip-verify",
                      "--insecure-skip-tls-verify", "--no-ssl-verify", "--ssl-no-verify", "--allow-insecure",
                      "--tls-no-verify", "--insecure-skip-verify"})
AUTH_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "apikey",
                          "x-auth-token", "x-access-token", "private-token", "x-goog-api-key"})

_SECRET_WORDS = frozenset({"token", "secret", "password", "passwd", "passphrase", "credential", "credentials",
                           "apikey", "pat", "bearer", "authorization", "authtoken", "accesstoken", "privatekey",
                           "clientsecret", "pwd"})
_KEY_QUALIFIERS = frozenset({"api", "access", "secret", "private", "auth", "client", "signing", "encryption", "master",
                             "session", "license", "app", "service", "account", "admin", "x"})
_NOT_SECRET_LAST = frozenset({"file", "path", "dir", "url", "uri", "endpoint", "host", "id", "name", "type", "header",
                              "env", "var", "mode", "method", "location", "enabled", "ttl", "count", "limit",
                              "length", "size", "format", "prefix", "suffix", "scope", "scopes", "expiry", "expires",
                              "in", "cmd", "command", "helper", "source", "store", "required", "policy", "field"})
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_REFERENCE = re.compile(r"\$\{[^}]+\}|\{\{[^}]+\}\}|^\$[A-Za-z_][A-Za-z0-9_]*$|^%[A-Za-z_][A-Za-z0-9_]*%$"
                        r"|^\$\([^)]+\)$|^env:[A-Za-z_][A-Za-z0-9_]*$")
_AUTH_SCHEME = re.compile(r"^(?:bearer|basic|token|bot|digest|apikey|api-key|key)\s+", re.IGNORECASE)
_QUERY_SECRET = frozenset({"api_key", "apikey", "key", "token", "access_token", "auth", "auth_token", "secret",
                           "password", "pass", "client_secret", "sig", "signature", "private_token", "session"})


# One regex for all known locations; fnmatch per pattern per path is slow on big trees.
_KNOWN = re.compile("|".join(fnmatch.translate("*/" + pattern[3:]) for pattern in KNOWN_CONFIGS))


def is_known_config(path: str) -> bool:
    """True when ``path`` (repository-relative) is a known MCP client config location."""
    return path.endswith(".json") and _KNOWN.match("/" + path) is not None


def looks_like_config(data: bytes) -> bool:
    """Cheap byte test before parsing an unknown JSON file: could it hold server entries?"""
    return any(marker in data for marker in SHAPE_MARKERS)


def secret_name(name: str) -> bool:
    """True when a variable/field/header/flag name says its value is a credential."""
    words = [w.lower() for w in _WORDS.findall(name)]
    if not words or words[-1] in _NOT_SECRET_LAST:
        return False
    if any(w in _SECRET_WORDS for w in words) or "".join(words) in _SECRET_WORDS:
        return True
    for index, word in enumerate(words):
        if word == "key" and (len(words) == 1 or (index and words[index - 1] in _KEY_QUALIFIERS)):
            return True
    return False


_PATH_SEGMENT = re.compile(r"[A-Za-z0-9_-]{24,256}")


def path_token(segment: str) -> bool:
    """Is this URL path segment a random key? Long, upper and lower case and digits (no UUID, hex
    digest or slug has all three), random-looking, not words (``ListIssues2024``) nor a filler."""
    return (_PATH_SEGMENT.fullmatch(segment) is not None and any(c.isupper() for c in segment)
            and any(c.islower() for c in segment) and any(c.isdigit() for c in segment)
            and shannon_entropy(segment) >= 4.0 and not is_identifier(segment.rstrip("0123456789"))
            and literal_secret(segment) is not None)


def is_reference(value: str) -> bool:
    """True for ``${VAR}``, ``${env:VAR}``, ``${input:id}``, ``$VAR``, ``{{VAR}}`` and kin."""
    return bool(_REFERENCE.search(value.strip()))


def literal_secret(value: str) -> Optional[str]:
    """The literal credential in a value (auth scheme stripped), or None for references/fillers."""
    rest = _AUTH_SCHEME.sub("", value.strip())
    if not rest or is_reference(rest) or is_placeholder(rest):
        return None
    if len(rest) < 6 or rest.lower() in ("true", "false", "none", "null", "yes", "no"):
        return None
    if any(c.isspace() for c in rest) or rest.startswith(("/", "./", "~", "http://", "https://")):
        return None
    if rest.isdigit() and len(rest) < 16:
        return None
    return rest


def is_loopback(host: str) -> bool:
    """``localhost``, ``*.localhost``, ``127.0.0.0/8``, ``::1`` (and ``0.0.0.0``, which only means local)."""
    host = host.strip("[]").lower()
    if host in ("localhost", "0.0.0.0") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _falsy(node: Node) -> bool:
    return node.value is False or (node.kind in ("string", "number") and str(node.value).strip().lower() in ("false", "0", "no", "off"))


def _truthy(node: Node) -> bool:
    return node.value is True or (node.kind in ("string", "number") and str(node.value).strip().lower() in ("true", "1", "yes", "on"))


def _label(server: str) -> str:
    return f"MCP server '{server}'" if server else "MCP config"


def _env_name(hint: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "_", hint).strip("_").upper()
    return name or "SECRET"


class _Linter:
    """Walks one parsed config and collects findings (at most one per rule and key)."""

    def __init__(self, path: str, detector: Any, severity: Optional[str], note: str) -> None:
        self.path = path
        self.detector = detector
        self.severity = severity
        self.note = note
        self.findings: list[Finding] = []
        self.seen: set[tuple[str, str]] = set()

    def add(self, rule_id: str, node: Node, pointer: str, message: str, value: str,
            extra: Optional[dict[str, Any]] = None) -> None:
        """``value`` is the credential for mcp-hardcoded-credential (redacted in reports), else
        evidence that is no secret (``verify=false``, ``http://host``) and is shown as is."""
        if (rule_id, pointer) in self.seen:
            return
        self.seen.add((rule_id, pointer))
        credential = rule_id == "mcp-hardcoded-credential"
        severity = self.severity if credential else None
        self.findings.append(make_finding(rule_id, self.path, message + self.note, key=pointer,
                                          secret=value if credential else "", evidence="" if credential else value,
                                          line=node.line, column=node.column, severity=severity,
                                          extra={"key": pointer, **(extra or {})}))

    def credential(self, node: Node, pointer: str, where: str, secret: str, use: str) -> None:
        self.add("mcp-hardcoded-credential", node, pointer,
                 f"literal credential in {where}; use {use} and keep the value in the environment", secret,
                 {"suggestion": use})

    # -- the walk -------------------------------------------------------------
    def walk(self, node: Node, keys: tuple[str, ...], server: str) -> None:
        if node.kind == "array":
            for index, item in enumerate(node.items):
                self.walk(item, keys + (str(index),), server)
            return
        if node.kind == "string":
            self.string(node, keys, server)
            return
        if node.kind != "object":
            return
        for key, _, value in node.members:
            lower = key.lower()
            child = keys + (key,)
            pointer = "/".join(child)
            label = _label(server)
            if lower in ENV_KEYS and value.kind == "object":
                self.env(value, child, server)
            elif lower == "headers" and value.kind == "object":
                self.headers(value, child, server)
            elif lower == "args" and value.kind == "array":
                self.args([(i, item) for i, item in enumerate(value.items)], child, server)
            elif lower == "command" and value.kind == "string" and " " in value.value:
                try:
                    words = shlex.split(value.value)
                except ValueError:
                    words = value.value.split()
                self.args([(i, Node("string", value.line, value.column, value=w)) for i, w in enumerate(words)],
                          child, server)
            norm = re.sub(r"[^a-z0-9]", "", lower)
            if (norm in TLS_OFF_WHEN_FALSE and _falsy(value)) or (norm in TLS_OFF_WHEN_TRUE and _truthy(value)):
                self.add("mcp-tls-verification-disabled", value, pointer,
                         f"{key}: {str(value.value).lower()} switches off TLS certificate verification for {label}",
                         f"{key}={value.value}")
            if lower in URL_KEYS and value.kind == "string":
                self.transport(value, pointer, label)
            if value.kind == "string" and secret_name(key) and lower not in ENV_KEYS:
                secret = literal_secret(value.value)
                if secret:
                    self.credential(value, pointer, f"{key} of {label}", secret, f'"${{{_env_name(key)}}}"')
            is_map = lower in SERVER_MAP_KEYS and value.kind in ("object", "array")
            if is_map and value.kind == "object":
                for name, _, entry in value.members:
                    self.walk(entry, child + (name,), name if entry.kind == "object" else server)
            elif is_map:
                for index, entry in enumerate(value.items):
                    named = entry.get("name") if entry.kind == "object" else None
                    self.walk(entry, child + (str(index),), str(named.value) if named and named.kind == "string" else str(index))
            elif not (lower in ENV_KEYS and value.kind == "object") and not (lower == "headers" and value.kind == "object") \
                    and not (lower == "args" and value.kind == "array") and not (lower == "command" and " " in str(value.value)):
                self.walk(value, child, server)  # (env/headers/args/a full command line were checked above)

    def string(self, node: Node, keys: tuple[str, ...], server: str) -> None:
        """Checks for any string value: provider-shaped secrets, URL credentials, JWTs."""
        pointer = "/".join(keys)
        value = str(node.value)
        label = _label(server)
        if "://" in value:
            self.url_credentials(node, value, pointer, label)
        if self.detector is not None and len(value) >= 8:
            for hit in self.detector.scan_text(value, self.path):
                if not is_placeholder(hit.secret):
                    self.credential(node, pointer, f"{keys[-1] if keys else 'a value'} of {label} ({hit.rule_id})",
                                    hit.secret, f'"${{{_env_name(keys[-1] if keys else "secret")}}}"')
                    break
        for _, token in find_jwts(value):
            for finding in jwt_findings(self.path, token, node.line, node.column):
                self.findings.append(finding)

    def env(self, env: Node, keys: tuple[str, ...], server: str) -> None:
        label = _label(server)
        for name, _, value in env.members:
            pointer = "/".join(keys + (name,))
            text = "" if value.value is None else str(value.value)
            upper = name.upper()
            if value.kind in ("string", "number", "bool"):
                lowered = text.strip().lower()
                if (TLS_ENV_OFF.get(upper) == lowered or (upper in TLS_EMPTY_DISABLES and not text.strip())
                        or (upper == "GIT_SSL_NO_VERIFY" and _truthy(value))
                        or (re.search(r"(?:^|_)(?:INSECURE|SKIP_TLS_VERIFY|TLS_INSECURE|INSECURE_SKIP_VERIFY)$", upper)
                            and _truthy(value))
                        or (re.search(r"(?:SSL_VERIFY|VERIFY_SSL|TLS_VERIFY|VERIFY_TLS|REJECT_UNAUTHORIZED)$", upper)
                            and _falsy(value))):
                    self.add("mcp-tls-verification-disabled", value, pointer,
                             f"env {name}={text} switches off TLS certificate verification for {label}", f"{name}={text}")
            if value.kind != "string":
                continue
            if secret_name(name):
                secret = literal_secret(text)
                if secret:
                    self.credential(value, pointer, f"env {name} of {label}", secret, f'"{name}": "${{{name}}}"')
            if re.search(r"(?:URL|URI|ENDPOINT|HOST|BASE)$", upper) and "://" in text:
                self.transport(value, pointer, label)
            self.string(value, keys + (name,), server)

    def headers(self, headers: Node, keys: tuple[str, ...], server: str) -> None:
        label = _label(server)
        for name, _, value in headers.members:
            pointer = "/".join(keys + (name,))
            if value.kind != "string":
                continue
            if name.lower() in AUTH_HEADERS or secret_name(name):
                secret = literal_secret(value.value)
                if secret:
                    scheme = _AUTH_SCHEME.match(value.value.strip())
                    prefix = scheme.group(0) if scheme else ""
                    var = _env_name(f"{server or 'MCP'}_TOKEN")
                    self.credential(value, pointer, f"header {name} of {label}", secret,
                                    f'"{name}": "{prefix}${{{var}}}"')
            self.string(value, keys + (name,), server)

    def args(self, items: list[tuple[int, Node]], keys: tuple[str, ...], server: str) -> None:
        label = _label(server)
        for position, (index, node) in enumerate(items):
            if node.kind != "string":
                continue
            arg = str(node.value)
            pointer = "/".join(keys + (str(index),))
            flag, eq, inline = arg.partition("=")
            if arg in TLS_ARGS or (eq and flag.startswith("-") and re.sub(r"[^a-z]", "", flag.lower()) in TLS_OFF_WHEN_FALSE
                                   and inline.strip().lower() in ("false", "0", "no")):
                self.add("mcp-tls-verification-disabled", node, pointer,
                         f"argument {arg} switches off TLS certificate verification for {label}", arg)
            if flag.startswith("-") and secret_name(flag.lstrip("-")):
                value_node: Optional[Node] = None
                value_pointer = pointer
                value = inline if eq else None
                if not eq and position + 1 < len(items) and items[position + 1][1].kind == "string":
                    nxt = str(items[position + 1][1].value)
                    if not nxt.startswith("-"):
                        value_node, value = items[position + 1][1], nxt
                        value_pointer = "/".join(keys + (str(items[position + 1][0]),))
                secret = literal_secret(value) if value is not None else None
                if secret:
                    var = _env_name(flag.lstrip("-"))
                    use = f'"{flag}=${{{var}}}"' if eq else f'"{flag}", "${{{var}}}"'
                    self.credential(value_node or node, value_pointer, f"argument {flag} of {label}", secret, use)
            elif eq and not flag.startswith("-") and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", flag):
                # docker-style `-e NAME=value`
                if secret_name(flag) and literal_secret(inline):
                    self.credential(node, pointer, f"argument {flag}=... of {label}", inline,
                                    f'"{flag}" (pass the value through env as "${{{flag}}}")')
                if TLS_ENV_OFF.get(flag.upper()) == inline.strip():
                    self.add("mcp-tls-verification-disabled", node, pointer,
                             f"argument {arg} switches off TLS certificate verification for {label}", arg)
            if "://" in arg:
                start = arg.find("://")
                scheme_start = max(arg.rfind("=", 0, start), arg.rfind(" ", 0, start)) + 1
                self.transport(Node("string", node.line, node.column, value=arg[scheme_start:]), pointer, label)
            self.string(node, keys + (str(index),), server)

    def transport(self, node: Node, pointer: str, label: str) -> None:
        value = str(node.value).strip()
        if not value.lower().startswith(("http://", "ws://")):
            return
        try:
            host = urlsplit(value).hostname or ""
        except ValueError:
            return
        if host and not is_loopback(host) and not is_reference(host):
            scheme = value.split(":", 1)[0].lower()
            self.add("mcp-insecure-transport", node, pointer,
                     f"{label} is reached over plain {scheme}:// at {host}; use {'https' if scheme == 'http' else 'wss'}://",
                     f"{scheme}://{host}", {"host": host})

    def url_credentials(self, node: Node, value: str, pointer: str, label: str) -> None:
        start = value.find("://")
        begin = max(value.rfind("=", 0, start), value.rfind(" ", 0, start), value.rfind('"', 0, start)) + 1
        url = value[begin:].split()[0] if value[begin:].split() else ""
        try:
            parts = urlsplit(url)
            password = parts.password
        except ValueError:
            return
        if password and literal_secret(password):
            self.credential(node, pointer, f"the URL password of {label}", password,
                            "a URL without user:password@ and the password in \"${VAR}\"")
        for name, query_value in parse_qsl(parts.query, keep_blank_values=False):
            if name.lower() in ttl.SCOPE_KEYS:
                broad = ttl.broad_scopes(query_value)
                if broad:
                    self.add("oauth-overbroad-scope", node, pointer + "?" + name,
                             f"OAuth scope in the URL of {label} requests {', '.join(broad)}; ask only for what it needs",
                             " ".join(broad))
            elif (name.lower() in _QUERY_SECRET or secret_name(name)) and literal_secret(query_value):
                self.credential(node, pointer, f"the URL query parameter {name} of {label}", query_value,
                                f"a header such as \"Authorization\": \"Bearer ${{{_env_name(name)}}}\"")
        for segment in parts.path.split("/"):
            if path_token(segment):
                # Hosted servers hand out URLs whose path is the key (https://host/mcp/KEY/sse):
                # the URL is the credential, whatever it is called.
                self.credential(node, pointer, f"the URL path of {label}", segment,
                                "\"Authorization\": \"Bearer ${MCP_TOKEN}\" (or the server's OAuth sign-in) "
                                "and a URL without the key")
                break


def lint_config(path: str, text: str, *, detector: Any = None, severity: Optional[str] = None,
                note: str = "") -> list[Finding]:
    """All MCP-config findings for one file's text (invalid JSON is a finding too).

    ``detector`` (a ``scanner.detect.Detector``) flags provider-shaped tokens
    in any value; ``severity`` overrides the credential finding's severity
    (the audit lowers it for git-ignored local files); ``note`` is appended to messages.
    """
    try:
        root = parse(text)
    except JsoncError as exc:
        return [make_finding("mcp-config-invalid", path, f"cannot parse MCP config: {exc}", evidence=exc.reason,
                             key="parse", line=exc.line, column=exc.column)]
    linter = _Linter(path, detector, severity, note)
    linter.walk(root, (), "")
    findings = linter.findings + ttl.check_tree(path, root, oauth_everywhere=True, label="MCP config")
    return drop_allowed(findings, text)


def _mcp_entry(entry: Node, strict: bool) -> bool:
    """Does one server-map entry look like an MCP server? ``strict`` for generic map names."""
    if entry.kind != "object":
        return False
    if not strict:
        return any(k.lower() in SERVER_FIELDS for k, _, _ in entry.members)
    kind = entry.get("type")
    return entry.get("command") is not None or (
        kind is not None and kind.kind == "string" and str(kind.value).lower() in MCP_TRANSPORTS)


def has_servers(root: Node) -> bool:
    """True when the document holds a server map whose entries look like MCP servers.

    ``mcpServers`` (and the other MCP-only names) need entries with any server
    field; a plain ``servers`` map must have a ``command`` or an MCP transport
    ``type``, since deployment files have ``servers`` with ``url``s too.
    """
    for _, node in root.walk():
        for key, _, value in node.members:
            lower = key.lower()
            if lower not in SERVER_MAP_KEYS:
                continue
            strict = lower in ("servers", "mcp")
            entries: Iterable[Node] = (v for _, _, v in value.members) if value.kind == "object" else value.items
            if any(_mcp_entry(e, strict) for e in entries):
                return True
    return False
