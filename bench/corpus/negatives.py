"""Hard negatives: files that look secret-ish but hold no credential.

Each generator returns ``(file name, content)``. They cover what makes
scanners cry wolf: placeholders and ``${VAR}`` references (also in MCP
configs), code that reads secrets from the environment, lockfile and SRI
integrity hashes, git SHAs, UUIDs, base64 images, public keys and
certificates, documented example keys, placeholder-shaped provider tokens,
low-entropy test fixtures, prose that names token formats, minified code,
publishable (public) keys and secret-manager references.
"""
from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Callable
from random import Random

from bench.corpus.kinds import ALNUM, HEX, URL64, b64, digits, rand, uuid4

Negative = Callable[[Random], "tuple[str, str]"]

_VARS = ["STRIPE_SECRET_KEY", "OPENAI_API_KEY", "GITHUB_TOKEN", "DATABASE_URL", "AWS_SECRET_ACCESS_KEY",
         "SLACK_BOT_TOKEN", "MCP_API_KEY", "ANTHROPIC_API_KEY", "DB_PASSWORD", "API_KEY", "CLIENT_SECRET",
         "SENDGRID_API_KEY", "DD_API_KEY", "TWILIO_AUTH_TOKEN", "NPM_TOKEN", "JWT_SECRET"]
_PLACEHOLDERS = ["your_api_key_here", "<your-token>", "changeme", "xxxxxxxxxxxxxxxxxxxx", "REPLACE_ME", "TODO",
                 "<redacted>", "********", "dummy", "placeholder", "${{ secrets.TOKEN }}", "{{ .Values.apiKey }}",
                 "your-secret-key", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                 "AKIAXXXXXXXXXXXXXXXX", "sk-...", "<YOUR_MCP_KEY>", "%API_KEY%", "null", "", "insert-key-here"]


def env_placeholders(rng: Random) -> tuple[str, str]:
    lines = [f"{var}={rng.choice(_PLACEHOLDERS)}" for var in rng.sample(_VARS, 6)]
    return ".env.example", "# copy to .env and fill in\n" + "\n".join(lines) + "\n"


def env_references(rng: Random) -> tuple[str, str]:
    refs = ["${%s}", "$%s", "${env:%s}", "${%s:-}", "%%%s%%", "${{ secrets.%s }}", "{{ env \"%s\" }}"]
    lines = [f"{var.lower()}: " + rng.choice(refs) % var for var in rng.sample(_VARS, 5)]
    return "config.yaml", "credentials:\n" + "\n".join("  " + line for line in lines) + "\n"


def mcp_config_refs(rng: Random) -> tuple[str, str]:
    var = rng.choice(_VARS)
    doc = {"mcpServers": {
        "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                   "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": rng.choice(["${GITHUB_TOKEN}", "${env:GITHUB_TOKEN}", "<token>"])}},
        "remote": {"type": "http", "url": "https://mcp.acme.io/mcp",
                   "headers": {"Authorization": rng.choice(["Bearer ${MCP_ACCESS_TOKEN}", "Bearer ${input:token}",
                                                            "Bearer <your-token>", f"Bearer ${{{var}}}"])}},
    }}
    return ".mcp.json", json.dumps(doc, indent=2) + "\n"


def code_reads_env(rng: Random) -> tuple[str, str]:
    var = rng.choice(_VARS)
    snippets = [
        f'import os\n\n{var.lower()} = os.environ["{var}"]\ntoken = os.getenv("{var}", "")\n',
        f"const apiKey = process.env.{var};\nconst headers = {{ Authorization: `Bearer ${{apiKey}}` }};\n",
        f'token := os.Getenv("{var}")\nreq.Header.Set("Authorization", "Bearer "+token)\n',
        f'String secret = System.getenv("{var}");\nclient.setApiKey(secret);\n',
        f"password = ENV.fetch('{var}')\nconfig.secret_key = Rails.application.credentials.secret_key_base\n",
    ]
    return rng.choice(["app.py", "index.js", "main.go", "App.java", "app.rb"]), rng.choice(snippets)


def package_lock(rng: Random) -> tuple[str, str]:
    packages = {}
    for _ in range(rng.randint(4, 10)):
        name = rand(rng, rng.randint(4, 10), string.ascii_lowercase)
        version = f"{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
        packages[f"node_modules/{name}"] = {
            "version": version, "resolved": f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz",
            "integrity": "sha512-" + b64(bytes(rng.getrandbits(8) for _ in range(64))), "license": "MIT"}
    return "package-lock.json", json.dumps({"name": "app", "lockfileVersion": 3, "packages": packages}, indent=2) + "\n"


def poetry_lock(rng: Random) -> tuple[str, str]:
    blocks = []
    for _ in range(rng.randint(2, 5)):
        name = rand(rng, 8, string.ascii_lowercase)
        hashes = ",\n".join(f'    {{file = "{name}-1.0-py3-none-any.whl", hash = "sha256:{rand(rng, 64, HEX)}"}}'
                            for _ in range(2))
        blocks.append(f'[[package]]\nname = "{name}"\nversion = "1.0"\nfiles = [\n{hashes},\n]\n')
    return "poetry.lock", "\n".join(blocks)


def go_sum(rng: Random) -> tuple[str, str]:
    lines = []
    for _ in range(8):
        mod = f"github.com/{rand(rng, 6, string.ascii_lowercase)}/{rand(rng, 5, string.ascii_lowercase)}"
        lines.append(f"{mod} v1.{rng.randint(0, 9)}.0 h1:{b64(bytes(rng.getrandbits(8) for _ in range(32)))}")
        lines.append(f"{mod} v1.{rng.randint(0, 9)}.0/go.mod h1:{b64(bytes(rng.getrandbits(8) for _ in range(32)))}")
    return "go.sum", "\n".join(lines) + "\n"


def sri_html(rng: Random) -> tuple[str, str]:
    integrity = "sha384-" + b64(bytes(rng.getrandbits(8) for _ in range(48)))
    nonce = b64(bytes(rng.getrandbits(8) for _ in range(16)))
    return "index.html", (f'<script src="https://cdn.acme.io/lib.min.js" integrity="{integrity}" crossorigin="anonymous"></script>\n'
                          f'<meta http-equiv="Content-Security-Policy" content="script-src \'nonce-{nonce}\' \'sha256-{b64(hashlib.sha256(nonce.encode()).digest())}\'">\n')


def git_shas(rng: Random) -> tuple[str, str]:
    lines = [f"{rand(rng, 40, HEX)} refs/heads/{rng.choice(['main', 'release', 'dev'])}" for _ in range(3)]
    lines += [f"commit: {rand(rng, 40, HEX)}", f"checksum_sha256: {rand(rng, 64, HEX)}", f"md5: {rand(rng, 32, HEX)}"]
    return "build-info.txt", "\n".join(lines) + "\n"


def uuids_json(rng: Random) -> tuple[str, str]:
    events = [{"request_id": uuid4(rng), "trace_id": rand(rng, 32, HEX), "user_id": uuid4(rng), "status": 200}
              for _ in range(rng.randint(3, 8))]
    return "events.json", json.dumps(events, indent=2) + "\n"


def uuid_constants(rng: Random) -> tuple[str, str]:
    return "ids.py", (f'TENANT_ID = "{uuid4(rng)}"\nSUBSCRIPTION_ID = "{uuid4(rng)}"\n'
                      f'DEFAULT_WORKSPACE = "{uuid4(rng)}"\nCLIENT_ID = "{uuid4(rng)}"\n')


def base64_image(rng: Random) -> tuple[str, str]:
    data = b64(b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(600)))
    return "logo.css", f".logo {{\n  background-image: url(data:image/png;base64,{data});\n}}\n"


def base64_payload(rng: Random) -> tuple[str, str]:
    payload = b64(json.dumps({"event": "order.created", "id": rng.randint(1, 10**6), "items": [1, 2, 3]}).encode())
    return "test_webhook.py", (f'SAMPLE_EVENT = "{payload}"\n\n\ndef test_decode():\n'
                               f"    assert decode(SAMPLE_EVENT)['event'] == 'order.created'\n")


def public_keys(rng: Random) -> tuple[str, str]:
    if rng.random() < 0.5:
        body = b64(b"\x00\x00\x00\x07ssh-rsa" + bytes(rng.getrandbits(8) for _ in range(270)))
        return "authorized_keys", f"ssh-rsa {body} deploy@ci\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{rand(rng, 43, ALNUM + '+/')} me@laptop\n"
    body = b64(bytes(rng.getrandbits(8) for _ in range(294)))
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    label = rng.choice(["PUBLIC KEY", "CERTIFICATE"])
    return rng.choice(["pub.pem", "ca.crt"]), f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


def documented_examples(rng: Random) -> tuple[str, str]:
    return "README.md", ("## Configuration\n\n```ini\n[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                         "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n```\n\n"
                         "Replace the example values above with your own.\n")


def placeholder_tokens(rng: Random) -> tuple[str, str]:
    shapes = ["ghp_" + "x" * 36, "sk_live_" + "X" * 24, "xoxb-000000000000-0000000000000-" + "x" * 24,
              "sk-proj-" + "x" * 48, "glpat-" + "x" * 20, "AKIA" + "X" * 16, "npm_" + "x" * 36,
              "mcp_" + "x" * 32, "hf_" + "x" * 34, "SG." + "x" * 22 + "." + "x" * 43]
    lines = [f"# e.g. {s}" if rng.random() < 0.5 else f"TOKEN_FORMAT={s}" for s in rng.sample(shapes, 4)]
    return "docs.env", "\n".join(lines) + "\n"


def test_fixture_passwords(rng: Random) -> tuple[str, str]:
    pw = rng.choice(["password", "secret", "test", "hunter2", "password123", "admin", "letmein", "testpass"])
    return "test_login.py", (f'def test_login(client):\n    resp = client.post("/login", data={{"username": "alice", '
                             f'"password": "{pw}"}})\n    assert resp.status_code == 200\n')


def prose(rng: Random) -> tuple[str, str]:
    texts = [
        "Stripe secret keys start with `sk_live_` in live mode; never commit them. Use STRIPE_SECRET_KEY instead.\n",
        "Set the `Authorization` header to `Bearer <token>` where the token comes from the MCP_ACCESS_TOKEN variable.\n",
        "GitHub personal access tokens begin with ghp_ and are 40 characters long; fine-grained ones start with github_pat_.\n",
        "The mcp_server_name field names the server; mcp_tool_timeout controls how long a tool call may run.\n",
        "Rotate the api_key and client_secret every 90 days. The password policy requires 12 characters.\n",
        "A JWT has three parts: header.payload.signature, each base64url-encoded (they start with eyJ).\n",
    ]
    return rng.choice(["SECURITY.md", "docs/auth.md", "CHANGELOG.md"]), "".join(rng.sample(texts, 3))


def i18n_strings(rng: Random) -> tuple[str, str]:
    return "en.yml", ("en:\n  auth:\n    token_expired: \"Your session token has expired\"\n"
                      "    password_reset: \"We sent a password reset link\"\n    api_key_label: \"API key\"\n"
                      "    secret_hint: \"Keep your secret safe\"\n")


def form_markup(rng: Random) -> tuple[str, str]:
    return "login.html", ('<form method="post">\n  <input type="password" name="password" autocomplete="current-password">\n'
                          '  <input type="hidden" name="csrf_token" value="{{ csrf_token }}">\n</form>\n')


def settings_names(rng: Random) -> tuple[str, str]:
    return "constants.py", ('PASSWORD_MIN_LENGTH = 12\nTOKEN_TTL_SECONDS = 3600\nSECRET_ROTATION_DAYS = 90\n'
                            'API_KEY_HEADER = "X-API-Key"\nAUTH_SCHEME = "Bearer"\nPASSWORD_FIELD = "password"\n'
                            'SECRET_NAME = "prod/db/password"\nTOKEN_ENDPOINT = "https://auth.acme.io/oauth/token"\n')


def minified_js(rng: Random) -> tuple[str, str]:
    parts = []
    for _ in range(60):
        a, b = rand(rng, 1, string.ascii_letters), rand(rng, 2, string.ascii_letters)
        parts.append(rng.choice([f"var {a}{b}=function({a}){{return {a}.{b}}}",
                                 f"{a}.{b}=\"{rand(rng, rng.randint(4, 12), ALNUM)}\"",
                                 f"{b}[{rng.randint(0, 99)}]={a}&&{a}.length"]))
    return "vendor.min.js", ";".join(parts) + ";\n"


def publishable_keys(rng: Random) -> tuple[str, str]:
    return "public-config.js", (f"export const STRIPE_PUBLISHABLE_KEY = 'pk_live_{rand(rng, 24)}';\n"
                                f"export const MAPBOX_PUBLIC_TOKEN = 'pk.eyJ1Ijoi{rand(rng, 40, URL64)}.{rand(rng, 22, URL64)}';\n"
                                f"export const SENTRY_DSN = 'https://{rand(rng, 32, HEX)}@o{digits(rng, 6)}.ingest.sentry.io/{digits(rng, 7)}';\n")


def secret_manager_refs(rng: Random) -> tuple[str, str]:
    return "task-definition.json", json.dumps({"containerDefinitions": [{"name": "api", "secrets": [
        {"name": "DB_PASSWORD", "valueFrom": f"arn:aws:secretsmanager:eu-west-1:{digits(rng, 12)}:secret:prod/db-{rand(rng, 6)}"},
        {"name": "API_KEY", "valueFrom": f"arn:aws:ssm:eu-west-1:{digits(rng, 12)}:parameter/prod/api-key"}]}]}, indent=2) + "\n"


def k8s_secret_placeholders(rng: Random) -> tuple[str, str]:
    value = rng.choice(["changeme", "REPLACE_ME", "placeholder", "${DB_PASSWORD}"])
    return "secret.yaml", ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\n"
                           f"data:\n  password: {b64(value.encode())}\n")


def docker_digests(rng: Random) -> tuple[str, str]:
    return "images.lock", "\n".join(f"acme/{rand(rng, 5, string.ascii_lowercase)}@sha256:{rand(rng, 64, HEX)}"
                                    for _ in range(5)) + "\n"


def git_lfs_pointer(rng: Random) -> tuple[str, str]:
    return "model.bin", f"version https://git-lfs.github.com/spec/v1\noid sha256:{rand(rng, 64, HEX)}\nsize {rng.randint(10**5, 10**9)}\n"


def css_colors(rng: Random) -> tuple[str, str]:
    rules = "\n".join(f".c{i} {{ color: #{rand(rng, 6, HEX)}; background: #{rand(rng, 6, HEX)}; }}" for i in range(12))
    return "theme.css", rules + "\n"


def hashed_passwords(rng: Random) -> tuple[str, str]:
    salt = rand(rng, 22, ALNUM + "./")
    return "users.fixture.json", json.dumps([{"username": "alice",
                                              "password_hash": f"$2b$12${salt}{rand(rng, 31, ALNUM + './')}"},
                                             {"username": "bob", "password_sha256": rand(rng, 64, HEX)}], indent=2) + "\n"


def url_without_credentials(rng: Random) -> tuple[str, str]:
    return ".env.defaults", ("DATABASE_URL=postgres://localhost:5432/app\nREDIS_URL=redis://cache:6379/0\n"
                             "AMQP_URL=amqp://guest:guest@localhost:5672/\nDATABASE_URL_TEMPLATE=postgres://${DB_USER}:${DB_PASSWORD}@${DB_HOST}/app\n")


def random_ids_in_code(rng: Random) -> tuple[str, str]:
    return "migrations_0042.py", (f'revision = "{rand(rng, 12, HEX)}"\ndown_revision = "{rand(rng, 12, HEX)}"\n'
                                  f'# generated {rand(rng, 40, HEX)}\nCACHE_KEY_PREFIX = "v2:{rand(rng, 8, HEX)}"\n')


def encoded_test_vectors(rng: Random) -> tuple[str, str]:
    vectors = [{"input": rand(rng, 16, ALNUM), "sha1": rand(rng, 40, HEX), "base64": b64(rand(rng, 12).encode())}
               for _ in range(4)]
    return "test_vectors.json", json.dumps(vectors, indent=2) + "\n"


def credential_files_without_credentials(rng: Random) -> tuple[str, str]:
    """Credential-file kinds holding no credential: locked accounts, wildcard or referenced passwords."""
    style = rng.randrange(5)
    if style == 0:
        return "shadow", "root:*:19000:0:99999:7:::\nops:!:19000:0:99999:7:::\nci:!!:19000::::::\n"
    if style == 1:
        return ".pgpass", f"db.internal.acme.io:5432:orders:app:*\n# host:port:database:user:password\n"
    if style == 2:
        return ".netrc", "machine api.acme.io\n  login deploy\n  password ${NETRC_PASSWORD}\n"
    if style == 3:
        return "wg0.conf", "[Interface]\nAddress = 10.8.0.2/24\nPrivateKey = <output of wg genkey>\n"
    return "secret.yaml", ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n"
                           "  password: {{ .Values.db.password }}\n  token: ${API_TOKEN}\n")


NEGATIVES: list[Negative] = [
    env_placeholders, env_references, mcp_config_refs, code_reads_env, package_lock, poetry_lock, go_sum,
    sri_html, git_shas, uuids_json, uuid_constants, base64_image, base64_payload, public_keys,
    documented_examples, placeholder_tokens, test_fixture_passwords, prose, i18n_strings, form_markup,
    settings_names, minified_js, publishable_keys, secret_manager_refs, k8s_secret_placeholders,
    docker_digests, git_lfs_pointer, css_colors, hashed_passwords, url_without_credentials,
    random_ids_in_code, encoded_test_vectors, credential_files_without_credentials,
]
