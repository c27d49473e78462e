"""Credential kinds for the accuracy corpus: how to generate a fake of each.

Each kind knows its category, the environment-variable name people give it
and how to make a random value of the provider's documented shape (prefix,
length, alphabet, checksum). Values are random, so no real key is ever
produced; they are written here independently of the rule files' own
examples so the benchmark does not grade the rules against themselves.

Kinds whose natural home is a whole file (private keys, service-account
JSON, ``.netrc``, kubeconfig, ...) carry a ``render`` that writes that file.
"""
from __future__ import annotations

import base64
import json
import string
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Optional

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URL64 = ALNUM + "-_"
BASE62_DIGITS = string.digits + string.ascii_uppercase + string.ascii_lowercase
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_AVOID = ("xxxx", "example", "dummy", "test", "fake", "sample", "placeholder", "redact", "change", "here")


def rand(rng: Random, n: int, alphabet: str = ALNUM) -> str:
    """``n`` random characters that do not spell a placeholder word by chance."""
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(n))
        if not any(word in value.lower() for word in _AVOID):
            return value


def digits(rng: Random, n: int) -> str:
    return rng.choice("123456789") + "".join(rng.choice(string.digits) for _ in range(n - 1))


def uuid4(rng: Random) -> str:
    h = lambda n: rand(rng, n, HEX)  # noqa: E731 - local shorthand
    return f"{h(8)}-{h(4)}-4{h(3)}-{rng.choice('89ab')}{h(3)}-{h(12)}"


def crc32_token(rng: Random, prefix: str) -> str:
    """GitHub/npm style: 30 random base62 characters and a base62 CRC32 tail."""
    body = rand(rng, 30)
    number, tail = zlib.crc32(body.encode()), ""
    while number:
        number, rest = divmod(number, 62)
        tail = BASE62_DIGITS[rest] + tail
    return prefix + body + tail.rjust(6, "0")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url_json(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def jwt(rng: Random) -> str:
    header = b64url_json({"alg": rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"})
    payload = b64url_json({"sub": uuid4(rng), "iss": rng.choice(["https://auth.acme.io", "mcp-gateway", "api"]),
                           "iat": 1700000000 + rng.randint(0, 9**7), "scope": rng.choice(["tools:read", "admin", "mcp"])})
    return f"{header}.{payload}.{rand(rng, 43, URL64)}"


def password(rng: Random) -> str:
    """A human-chosen-looking strong password: letters, digits and a symbol or two."""
    core = rand(rng, rng.randint(14, 22))
    cut = rng.randint(3, len(core) - 3)
    return core[:cut] + rng.choice("!#%^*-_.@+") + core[cut:]


def pem_body(rng: Random, nbytes: int) -> list[str]:
    body = b64(bytes(rng.getrandbits(8) for _ in range(nbytes)))
    return [body[i:i + 64] for i in range(0, len(body), 64)]


def pem(rng: Random, label: str, nbytes: int = 1190) -> str:
    lines = pem_body(rng, nbytes)
    if label == "RSA PRIVATE KEY":
        lines[0] = "MIIEow" + lines[0][6:]
    elif label == "PRIVATE KEY":
        lines[0] = "MIIEvQ" + lines[0][6:]
    elif label == "EC PRIVATE KEY":
        lines[0] = "MHcCAQEE" + lines[0][8:]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def openssh_key(rng: Random) -> str:
    raw = b"openssh-key-v1\x00" + bytes(rng.getrandbits(8) for _ in range(380))
    body = b64(raw)
    lines = [body[i:i + 70] for i in range(0, len(body), 70)]
    return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END OPENSSH PRIVATE KEY-----\n"


def pgp_key(rng: Random) -> str:
    lines = pem_body(rng, 900)
    return ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + "\n".join(lines) + f"\n={rand(rng, 4, B64)}\n"
            "-----END PGP PRIVATE KEY BLOCK-----\n")


# -- whole-file renderers: (rng, secret) -> (file name, content) ---------------
Render = Callable[[Random, str], "tuple[str, str]"]


def _pem_file(name: str) -> Render:
    def render(rng: Random, secret: str) -> tuple[str, str]:
        style = rng.randrange(3)
        if style == 0:
            return name, secret
        if style == 1:
            escaped = secret.replace("\n", "\\n")
            return "credentials.json", json.dumps({"name": "deploy", "private_key": escaped}, indent=2).replace("\\\\n", "\\n") + "\n"
        indented = "\n".join("    " + line for line in secret.strip().splitlines())
        return "values.yaml", f"tls:\n  enabled: true\n  privateKey: |\n{indented}\n"
    return render


def _gcp_sa(rng: Random, secret: str) -> tuple[str, str]:
    project = rng.choice(["acme-prod", "data-pipeline-3321", "mcp-tools"]) + "-" + digits(rng, 4)
    doc = {
        "type": "service_account", "project_id": project, "private_key_id": rand(rng, 40, HEX),
        "private_key": secret, "client_email": f"deployer@{project}.iam.gserviceaccount.com",
        "client_id": digits(rng, 21), "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return "service-account.json", json.dumps(doc, indent=2) + "\n"


def _netrc(rng: Random, secret: str) -> tuple[str, str]:
    host = rng.choice(["api.heroku.com", "github.com", "git.internal.corp", "urs.earthdata.nasa.gov"])
    return ".netrc", f"machine {host}\n  login deploy@acme.io\n  password {secret}\n"


def _npmrc(rng: Random, secret: str) -> tuple[str, str]:
    reg = rng.choice(["registry.npmjs.org", "npm.pkg.github.com", "acme.jfrog.io/artifactory/api/npm/npm"])
    return ".npmrc", f"@acme:registry=https://{reg}/\n//{reg}/:_authToken={secret}\nalways-auth=true\n"


def _pypirc(rng: Random, secret: str) -> tuple[str, str]:
    return ".pypirc", ("[distutils]\nindex-servers =\n    internal\n\n[internal]\n"
                       f"repository = https://pypi.acme.io/simple/\nusername = ci-bot\npassword = {secret}\n")


def _git_credentials(rng: Random, secret: str) -> tuple[str, str]:
    host = rng.choice(["github.com", "gitlab.acme.io", "bitbucket.org", "dev.azure.com"])
    return ".git-credentials", f"https://{rng.choice(['ci', 'deploy', 'jdoe'])}:{secret}@{host}\n"


def _docker_config(rng: Random, secret: str) -> tuple[str, str]:
    auth = b64(f"{rng.choice(['ci', 'robot$acme', 'deploy'])}:{secret}".encode())
    reg = rng.choice(["https://index.docker.io/v1/", "ghcr.io", "registry.acme.io"])
    return "config.json", json.dumps({"auths": {reg: {"auth": auth}}}, indent=2) + "\n"


def _kubeconfig(rng: Random, secret: str) -> tuple[str, str]:
    return "kubeconfig", (
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://10.0.12.4:6443\n  name: prod\n"
        "contexts:\n- context:\n    cluster: prod\n    user: ci\n  name: prod\ncurrent-context: prod\n"
        f"users:\n- name: ci\n  user:\n    token: {secret}\n")


def _k8s_secret(rng: Random, secret: str) -> tuple[str, str]:
    key = rng.choice(["DB_PASSWORD", "API_TOKEN", "password", "client-secret"])
    return "secret.yaml", ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-credentials\ntype: Opaque\n"
                           f"data:\n  username: {b64(b'app')}\n  {key}: {b64(secret.encode())}\n")


CRYPT64 = "./" + string.digits + string.ascii_uppercase + string.ascii_lowercase


def _pgpass(rng: Random, secret: str) -> tuple[str, str]:
    host = rng.choice(["db.internal.acme.io", "10.0.3.12", "*"])
    return ".pgpass", f"{host}:5432:{rng.choice(['orders', '*'])}:{rng.choice(['app', 'replicator'])}:{secret}\n"


def _htpasswd(rng: Random, secret: str) -> tuple[str, str]:
    return ".htpasswd", f"{rng.choice(['admin', 'deploy', 'metrics'])}:{secret}\n"


def _shadow(rng: Random, secret: str) -> tuple[str, str]:
    return "shadow", ("daemon:*:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n"
                      f"{rng.choice(['root', 'ops', 'ubuntu'])}:{secret}:19{digits(rng, 3)}:0:99999:7:::\n")


def _sql_dump(rng: Random, secret: str) -> tuple[str, str]:
    return "dump.sql", ("-- MySQL dump\nLOCK TABLES `users` WRITE;\n"
                        f"INSERT INTO `users` VALUES (1,'{rand(rng, 6, string.ascii_lowercase)}','a@acme.io','{secret}',"
                        "'2024-03-01 10:00:00');\nUNLOCK TABLES;\n")


def _pg_roles(rng: Random, secret: str) -> tuple[str, str]:
    return "roles.sql", f"CREATE ROLE app;\nALTER ROLE app WITH NOSUPERUSER INHERIT LOGIN PASSWORD '{secret}';\n"


def _wireguard(rng: Random, secret: str) -> tuple[str, str]:
    return "wg0.conf", (f"[Interface]\nAddress = 10.8.0.{rng.randint(2, 250)}/24\nPrivateKey = {secret}\n"
                        f"\n[Peer]\nPublicKey = {b64(bytes(rng.getrandbits(8) for _ in range(32)))}\n"
                        "Endpoint = vpn.acme.io:51820\nAllowedIPs = 10.8.0.0/24\n")


def _openvpn(rng: Random, secret: str) -> tuple[str, str]:
    return "ta.key", f"#\n# 2048 bit OpenVPN static key\n#\n{secret}\n"


def _rails_master_key(rng: Random, secret: str) -> tuple[str, str]:
    return "config/master.key", secret


def crypt_hash(rng: Random) -> str:
    """An htpasswd / shadow / crypt(3) hash: apr1-MD5, bcrypt, SHA-512 or yescrypt."""
    style = rng.randrange(4)
    if style == 0:
        return f"$apr1${rand(rng, 8, CRYPT64)}${rand(rng, 22, CRYPT64)}"
    if style == 1:
        return f"$2y$10${rand(rng, 53, CRYPT64)}"
    if style == 2:
        return f"$6${rand(rng, 16, CRYPT64)}${rand(rng, 86, CRYPT64)}"
    return f"$y$j9T${rand(rng, 22, CRYPT64)}${rand(rng, 43, CRYPT64)}"


def scram_verifier(rng: Random) -> str:
    raw = lambda n: b64(bytes(rng.getrandbits(8) for _ in range(n)))  # noqa: E731 - local shorthand
    return f"SCRAM-SHA-256$4096:{raw(16)}${raw(32)}:{raw(32)}"


def openvpn_key(rng: Random) -> str:
    lines = "\n".join(rand(rng, 32, HEX) for _ in range(16))
    return f"-----BEGIN OpenVPN Static key V1-----\n{lines}\n-----END OpenVPN Static key V1-----"


def _basic_header(rng: Random, secret: str) -> tuple[str, str]:
    token = b64(f"{rng.choice(['admin', 'svc-mcp', 'jenkins'])}:{secret}".encode())
    style = rng.randrange(2)
    if style == 0:
        return "request.http", f"GET https://api.acme.io/v2/items\nAuthorization: Basic {token}\nAccept: application/json\n"
    return "client.py", f"import requests\n\nHEADERS = {{\"Authorization\": \"Basic {token}\"}}\nrequests.get(URL, headers=HEADERS)\n"


@dataclass(frozen=True)
class Kind:
    """One credential format in the corpus."""

    name: str
    category: str
    var: str
    make: Callable[[Random], str]
    render: Optional[Render] = None
    mcp: bool = False


def _k(name: str, category: str, var: str, make: Callable[[Random], str], render: Optional[Render] = None,
       mcp: bool = False) -> Kind:
    return Kind(name, category, var, make, render, mcp)


R = rand
KINDS: list[Kind] = [
    # MCP kinds: the product's reason to exist
    _k("stripe-live-secret", "mcp", "STRIPE_SECRET_KEY", lambda g: "sk_live_" + R(g, g.choice([24, 99])), mcp=True),
    _k("stripe-restricted", "mcp", "STRIPE_RESTRICTED_KEY", lambda g: "rk_live_" + R(g, g.choice([24, 99])), mcp=True),
    _k("stripe-webhook-secret", "mcp", "STRIPE_WEBHOOK_SECRET", lambda g: "whsec_" + R(g, 32), mcp=True),
    _k("bearer-token", "mcp", "MCP_AUTH_HEADER", lambda g: "Bearer " + R(g, g.choice([32, 40, 64]), URL64), mcp=True),
    _k("jwt", "mcp", "MCP_ACCESS_TOKEN", jwt, mcp=True),
    _k("mcp-service-key", "mcp", "MCP_API_KEY", lambda g: "mcp_" + g.choice(["", "live_", "sk_"]) + R(g, 32) + digits(g, 2), mcp=True),
    # cloud
    _k("aws-access-key-pair", "cloud", "AWS_SECRET_ACCESS_KEY", lambda g: R(g, 40, B64)),
    _k("aws-access-key-id", "cloud", "AWS_ACCESS_KEY_ID", lambda g: g.choice(["AKIA", "ASIA"]) + R(g, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")),
    _k("gcp-service-account", "cloud", "GOOGLE_APPLICATION_CREDENTIALS", lambda g: pem(g, "PRIVATE KEY"), render=_gcp_sa),
    _k("google-api-key", "cloud", "GOOGLE_API_KEY", lambda g: "AIza" + R(g, 35, URL64)),
    _k("azure-storage-connection", "cloud", "AZURE_STORAGE_CONNECTION_STRING",
       lambda g: f"DefaultEndpointsProtocol=https;AccountName=acme{R(g, 6, LOWER_ALNUM)};AccountKey={b64(bytes(g.getrandbits(8) for _ in range(64)))};EndpointSuffix=core.windows.net"),
    _k("azure-client-secret", "cloud", "AZURE_CLIENT_SECRET", lambda g: R(g, 3, ALNUM) + str(g.randint(0, 9)) + "Q~" + R(g, 34, ALNUM + "._~-")),
    _k("digitalocean-token", "cloud", "DIGITALOCEAN_TOKEN", lambda g: "dop_v1_" + R(g, 64, HEX)),
    _k("cloudflare-api-token", "cloud", "CLOUDFLARE_API_TOKEN", lambda g: R(g, 40, URL64)),
    _k("heroku-api-key", "cloud", "HEROKU_API_KEY", lambda g: "HRKU-AA" + R(g, 58, URL64)),
    _k("vercel-token", "cloud", "VERCEL_TOKEN", lambda g: R(g, 24)),
    _k("netlify-token", "cloud", "NETLIFY_AUTH_TOKEN", lambda g: "nfp_" + R(g, 36)),
    _k("supabase-token", "cloud", "SUPABASE_ACCESS_TOKEN", lambda g: "sbp_" + R(g, 40, HEX)),
    # code hosting and CI
    _k("github-pat", "vcs", "GITHUB_TOKEN", lambda g: crc32_token(g, "ghp_")),
    _k("github-fine-grained", "vcs", "GH_TOKEN", lambda g: "github_pat_11" + R(g, 20, UPPER_ALNUM) + "_" + R(g, 59)),
    _k("github-app-token", "vcs", "GITHUB_APP_TOKEN", lambda g: crc32_token(g, g.choice(["ghs_", "gho_", "ghu_"]))),
    _k("gitlab-pat", "vcs", "GITLAB_TOKEN", lambda g: "glpat-" + R(g, 20, URL64)),
    _k("gitlab-runner", "vcs", "CI_RUNNER_TOKEN", lambda g: "glrt-" + R(g, 20, URL64)),
    _k("bitbucket-app-password", "vcs", "BITBUCKET_APP_PASSWORD", lambda g: "ATBB" + R(g, 32)),
    _k("azure-devops-pat", "vcs", "AZURE_DEVOPS_PAT", lambda g: R(g, 52, "abcdefghijklmnopqrstuvwxyz234567")),
    # package registries
    _k("npm-token", "registry", "NPM_TOKEN", lambda g: crc32_token(g, "npm_")),
    _k("pypi-token", "registry", "PYPI_API_TOKEN", lambda g: "pypi-AgEIcHlwaS5vcmc" + R(g, 160, URL64)),
    _k("rubygems-key", "registry", "GEM_HOST_API_KEY", lambda g: "rubygems_" + R(g, 48, HEX)),
    _k("nuget-key", "registry", "NUGET_API_KEY", lambda g: "oy2" + R(g, 43, LOWER_ALNUM)),
    _k("dockerhub-pat", "registry", "DOCKERHUB_TOKEN", lambda g: "dckr_pat_" + R(g, 27, URL64)),
    _k("jfrog-api-key", "registry", "ARTIFACTORY_API_KEY", lambda g: "AKCp" + R(g, 69)),
    # AI services
    _k("openai-project", "ai", "OPENAI_API_KEY", lambda g: "sk-proj-" + R(g, 74, URL64) + "T3BlbkFJ" + R(g, 74, URL64)),
    _k("openai-legacy", "ai", "OPENAI_API_KEY", lambda g: "sk-" + R(g, 20) + "T3BlbkFJ" + R(g, 20)),
    _k("anthropic", "ai", "ANTHROPIC_API_KEY", lambda g: "sk-ant-api03-" + R(g, 93, URL64) + "AA"),
    _k("huggingface", "ai", "HF_TOKEN", lambda g: "hf_" + R(g, 34, string.ascii_letters)),
    _k("groq", "ai", "GROQ_API_KEY", lambda g: "gsk_" + R(g, 52)),
    _k("replicate", "ai", "REPLICATE_API_TOKEN", lambda g: "r8_" + R(g, 37)),
    _k("openrouter", "ai", "OPENROUTER_API_KEY", lambda g: "sk-or-v1-" + R(g, 64, HEX)),
    _k("langsmith", "ai", "LANGSMITH_API_KEY", lambda g: f"lsv2_{g.choice(['pt', 'sk'])}_{R(g, 32, HEX)}_{R(g, 10, HEX)}"),
    _k("pinecone", "ai", "PINECONE_API_KEY", lambda g: f"pcsk_{R(g, 5)}_{R(g, 63)}"),
    _k("perplexity", "ai", "PERPLEXITY_API_KEY", lambda g: "pplx-" + R(g, 48)),
    _k("xai", "ai", "XAI_API_KEY", lambda g: "xai-" + R(g, 80)),
    _k("mistral", "ai", "MISTRAL_API_KEY", lambda g: R(g, 32)),
    _k("cohere", "ai", "COHERE_API_KEY", lambda g: R(g, 40)),
    # messaging
    _k("slack-bot", "messaging", "SLACK_BOT_TOKEN", lambda g: f"xoxb-{digits(g, 12)}-{digits(g, 13)}-{R(g, 24)}"),
    _k("slack-user", "messaging", "SLACK_USER_TOKEN", lambda g: f"xoxp-{digits(g, 12)}-{digits(g, 12)}-{digits(g, 13)}-{R(g, 32, HEX)}"),
    _k("slack-webhook", "messaging", "SLACK_WEBHOOK_URL",
       lambda g: f"https://hooks.slack.com/services/T{R(g, 10, UPPER_ALNUM)}/B{R(g, 10, UPPER_ALNUM)}/{R(g, 24)}"),
    _k("discord-webhook", "messaging", "DISCORD_WEBHOOK_URL", lambda g: f"https://discord.com/api/webhooks/{digits(g, 19)}/{R(g, 68, URL64)}"),
    _k("telegram-bot", "messaging", "TELEGRAM_BOT_TOKEN", lambda g: f"{digits(g, 10)}:AA{R(g, 33, URL64)}"),
    _k("twilio-auth-token", "messaging", "TWILIO_AUTH_TOKEN", lambda g: R(g, 32, HEX)),
    _k("sendgrid", "messaging", "SENDGRID_API_KEY", lambda g: f"SG.{R(g, 22, URL64)}.{R(g, 43, URL64)}"),
    _k("mailgun", "messaging", "MAILGUN_API_KEY", lambda g: "key-" + R(g, 32, HEX)),
    _k("mailchimp", "messaging", "MAILCHIMP_API_KEY", lambda g: f"{R(g, 32, HEX)}-us{g.randint(1, 21)}"),
    _k("postmark", "messaging", "POSTMARK_SERVER_TOKEN", uuid4),
    # payments
    _k("square", "payments", "SQUARE_ACCESS_TOKEN", lambda g: "EAAA" + R(g, 60, URL64)),
    _k("shopify", "payments", "SHOPIFY_ACCESS_TOKEN", lambda g: g.choice(["shpat_", "shpss_", "shpca_"]) + R(g, 32, HEX)),
    _k("braintree", "payments", "BRAINTREE_ACCESS_TOKEN", lambda g: f"access_token$production${R(g, 16, LOWER_ALNUM)}${R(g, 32, HEX)}"),
    _k("plaid", "payments", "PLAID_SECRET", lambda g: R(g, 30, HEX)),
    _k("razorpay", "payments", "RAZORPAY_KEY_SECRET", lambda g: R(g, 24)),
    # observability
    _k("datadog-api-key", "observability", "DD_API_KEY", lambda g: R(g, 32, HEX)),
    _k("newrelic", "observability", "NEW_RELIC_API_KEY", lambda g: "NRAK-" + R(g, 27, UPPER_ALNUM)),
    _k("sentry-token", "observability", "SENTRY_AUTH_TOKEN", lambda g: "sntryu_" + R(g, 64, HEX)),
    _k("grafana", "observability", "GRAFANA_SERVICE_ACCOUNT_TOKEN", lambda g: f"glsa_{R(g, 32)}_{R(g, 8, HEX)}"),
    _k("dynatrace", "observability", "DT_API_TOKEN", lambda g: f"dt0c01.{R(g, 24, UPPER_ALNUM)}.{R(g, 64, UPPER_ALNUM)}"),
    _k("pagerduty", "observability", "PAGERDUTY_API_TOKEN", lambda g: "u+" + R(g, 18, URL64)),
    # SaaS and infrastructure
    _k("atlassian", "saas", "JIRA_API_TOKEN", lambda g: "ATATT3xFfGF0" + R(g, 172, URL64) + "=" + R(g, 8, "0123456789ABCDEF")),
    _k("notion", "saas", "NOTION_API_KEY", lambda g: "ntn_" + digits(g, 11) + R(g, 35)),
    _k("linear", "saas", "LINEAR_API_KEY", lambda g: "lin_api_" + R(g, 40)),
    _k("figma", "saas", "FIGMA_TOKEN", lambda g: "figd_" + R(g, 40, URL64)),
    _k("hubspot", "saas", "HUBSPOT_ACCESS_TOKEN", lambda g: "pat-na1-" + uuid4(g)),
    _k("airtable", "saas", "AIRTABLE_TOKEN", lambda g: f"pat{R(g, 14)}.{R(g, 64, HEX)}"),
    _k("okta", "saas", "OKTA_API_TOKEN", lambda g: "00" + R(g, 40, URL64)),
    _k("auth0", "saas", "AUTH0_CLIENT_SECRET", lambda g: R(g, 64, URL64)),
    _k("postman", "saas", "POSTMAN_API_KEY", lambda g: f"PMAK-{R(g, 24, HEX)}-{R(g, 34, HEX)}"),
    _k("mapbox", "saas", "MAPBOX_SECRET_TOKEN", lambda g: f"sk.eyJ1Ijoi{R(g, 60, URL64)}.{R(g, 22, URL64)}"),
    _k("doppler", "saas", "DOPPLER_TOKEN", lambda g: "dp.pt." + R(g, 43)),
    _k("vault", "infra", "VAULT_TOKEN", lambda g: "hvs." + R(g, 90, URL64)),
    _k("terraform-cloud", "infra", "TFE_TOKEN", lambda g: f"{R(g, 14)}.atlasv1.{R(g, 67, URL64)}"),
    _k("pulumi", "infra", "PULUMI_ACCESS_TOKEN", lambda g: "pul-" + R(g, 40, HEX)),
    _k("databricks", "infra", "DATABRICKS_TOKEN", lambda g: "dapi" + R(g, 32, HEX)),
    _k("tailscale", "infra", "TS_AUTHKEY", lambda g: f"tskey-auth-k{R(g, 11)}CNTRL-{R(g, 33)}"),
    _k("onepassword", "infra", "OP_SERVICE_ACCOUNT_TOKEN", lambda g: "ops_" + b64url_json({"signInAddress": "acme.1password.com", "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256", "salt": R(g, 22, URL64)}, "secretKey": "A3-" + R(g, 33, UPPER_ALNUM), "srpX": R(g, 64, HEX), "muk": {"k": R(g, 43, URL64)}})),
    _k("age-key", "infra", "SOPS_AGE_KEY", lambda g: "AGE-SECRET-KEY-1" + R(g, 58, BECH32).upper()),
    # private keys (whole blocks)
    _k("rsa-private-key", "private-key", "", lambda g: pem(g, "RSA PRIVATE KEY"), render=_pem_file("id_rsa")),
    _k("pkcs8-private-key", "private-key", "", lambda g: pem(g, "PRIVATE KEY"), render=_pem_file("server.key")),
    _k("ec-private-key", "private-key", "", lambda g: pem(g, "EC PRIVATE KEY", 121), render=_pem_file("ec.pem")),
    _k("openssh-private-key", "private-key", "", openssh_key, render=_pem_file("id_ed25519")),
    _k("pgp-private-key", "private-key", "", pgp_key, render=_pem_file("private.asc")),
    # credentials in URLs and connection strings
    _k("postgres-url", "url", "DATABASE_URL", lambda g: f"postgres://app_user:{password(g)}@db.internal.acme.io:5432/orders"),
    _k("mysql-url", "url", "MYSQL_URL", lambda g: f"mysql://root:{password(g)}@10.2.0.15:3306/shop"),
    _k("mongodb-url", "url", "MONGODB_URI", lambda g: f"mongodb+srv://svc:{R(g, 20)}@cluster0.{R(g, 5, LOWER_ALNUM)}.mongodb.net/prod?retryWrites=true"),
    _k("redis-url", "url", "REDIS_URL", lambda g: f"redis://:{R(g, 32)}@cache.acme.io:6379/0"),
    _k("amqp-url", "url", "RABBITMQ_URL", lambda g: f"amqps://worker:{password(g)}@mq.acme.io:5671/vhost"),
    _k("https-userinfo", "url", "PACKAGE_INDEX_URL", lambda g: f"https://deploy:{R(g, 24)}@nexus.acme.io/repository/pypi/simple"),
    _k("sqlserver-connstr", "url", "ConnectionStrings__Default",
       lambda g: f"Server=tcp:acme.database.windows.net,1433;Database=app;User ID=app;Password={password(g)};Encrypt=True;"),
    _k("jdbc-url", "url", "SPRING_DATASOURCE_URL", lambda g: f"jdbc:postgresql://db:5432/app?user=app&password={password(g)}"),
    # credential files
    _k("netrc", "config-file", "", password, render=_netrc),
    _k("npmrc-legacy", "config-file", "", uuid4, render=_npmrc),
    _k("pypirc", "config-file", "", password, render=_pypirc),
    _k("git-credentials", "config-file", "", lambda g: R(g, 40, HEX), render=_git_credentials),
    _k("docker-config-auth", "config-file", "", password, render=_docker_config),
    _k("kubeconfig-token", "config-file", "", lambda g: R(g, 6, LOWER_ALNUM) + "." + R(g, 16, LOWER_ALNUM), render=_kubeconfig),
    _k("basic-auth-header", "config-file", "", password, render=_basic_header),
    _k("k8s-secret-base64", "config-file", "", password, render=_k8s_secret),
    _k("pgpass", "config-file", "", password, render=_pgpass),
    _k("htpasswd", "config-file", "", crypt_hash, render=_htpasswd),
    _k("shadow", "config-file", "", crypt_hash, render=_shadow),
    _k("sql-dump-bcrypt", "config-file", "", lambda g: f"$2y$10${R(g, 53, CRYPT64)}", render=_sql_dump),
    _k("postgres-role-scram", "config-file", "", scram_verifier, render=_pg_roles),
    _k("wireguard-private-key", "private-key", "", lambda g: b64(bytes(g.getrandbits(8) for _ in range(32))),
       render=_wireguard),
    _k("openvpn-static-key", "private-key", "", openvpn_key, render=_openvpn),
    _k("rails-master-key", "config-file", "", lambda g: R(g, 32, HEX), render=_rails_master_key),
    # generic secret-named assignments with no provider format
    _k("generic-password", "generic", "DB_PASSWORD", password),
    _k("generic-api-key", "generic", "API_KEY", lambda g: R(g, g.choice([32, 40]))),
    _k("generic-secret-key", "generic", "SECRET_KEY", lambda g: R(g, 50, ALNUM + "!@#%^&*(-_=+)")),
    _k("generic-client-secret", "generic", "CLIENT_SECRET", lambda g: R(g, 40, URL64)),
    _k("generic-token", "generic", "SERVICE_TOKEN", lambda g: R(g, 48, HEX)),
    _k("generic-private-key-b64", "generic", "SIGNING_KEY", lambda g: b64(bytes(g.getrandbits(8) for _ in range(32)))),
]


def by_name() -> dict[str, Kind]:
    return {kind.name: kind for kind in KINDS}
