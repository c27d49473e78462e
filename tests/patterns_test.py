"""Every built-in rule's evidence, run through the whole detector, plus registry-wide checks.

Adding a rule means adding examples to its TOML file; this suite grows with it.
"""
from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator

import pytest

from scanner.cli import main
from scanner.detect import Detector
from scanner.record import replace
from scanner.rulecheck import scan_example
from scanner.rules import Rule, builtin_rules
from tests.fakes import fake

RULES = builtin_rules()
BY_ID = {rule.id: rule for rule in RULES}


def _cases() -> Iterator[object]:
    for rule in RULES:
        for i, text in enumerate(rule.examples):
            yield pytest.param(rule, text, True, id=f"{rule.id}+{i}")
        for i, text in enumerate(rule.negative_examples):
            yield pytest.param(rule, text, False, id=f"{rule.id}-{i}")


@pytest.mark.parametrize(("rule", "text", "expected"), list(_cases()))
def test_rule_example(rule: Rule, text: str, expected: bool) -> None:
    # a single-rule detector, so another rule's overlapping hit cannot mask a miss
    findings = scan_example(Detector([rule], engine="python"), rule, text)
    found = [f for f in findings if f.rule_id == rule.id]
    assert bool(found) is expected, f"{rule.id}: {text[:80]!r} -> {[(f.rule_id, f.secret) for f in findings]}"
    for finding in found:
        # the reported secret is the text at the reported position, never empty
        # (binary content: the base64 of the bytes found)
        raw = base64.b64decode(finding.secret).decode("latin-1") if rule.content == "binary" else finding.secret
        assert raw and raw in text


def test_every_rule_has_examples() -> None:
    thin = [r.id for r in RULES if len(r.examples) < 2 or len(r.negative_examples) < 1]
    assert thin == []


def test_rule_ids_unique() -> None:
    duplicates = [rule_id for rule_id, n in Counter(r.id for r in RULES).items() if n > 1]
    assert duplicates == []


def test_every_rule_has_description_references_and_keywords() -> None:
    # a rule without keywords is chosen by its path (a file kind such as .pgpass or a keystore):
    # without either it would run on every text of every scan
    missing = [r.id for r in RULES if not r.description or not r.references or not (r.keywords or r.path)]
    assert missing == []


def test_binary_rules_and_keywordless_rules_name_their_file_kind() -> None:
    by_path = [r for r in RULES if r.content == "binary" or not r.keywords]
    assert by_path and all(r.path and r.example_path for r in by_path)
    # and their examples are found only at such a path
    for rule in by_path:
        assert not scan_example(Detector([rule], engine="python"),
                                replace(rule, example_path="README.md"), rule.examples[0])


def test_keywords_occur_in_every_example_match() -> None:
    # the prefilter only runs a rule when one of its keywords occurs, so a
    # keyword missing from a match would make the rule silently blind
    problems = []
    for rule in RULES:
        if not rule.keywords:
            continue  # chosen by path, not by keyword
        for text in rule.examples:
            for match in rule.pattern.finditer(text):
                # a scope = "text" rule searches the whole text once a keyword occurs anywhere in
                # it: its keyword may be one its regex requires around the match (a Secret's kind)
                where = text if rule.scope == "text" else match.group(0)
                if not any(k in where.lower() for k in rule.keywords):
                    problems.append(f"{rule.id}: {match.group(0)[:40]!r}")
    assert problems == []


def test_rules_check_command_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check"]) == 0
    assert "OK" in capsys.readouterr().out


@pytest.mark.parametrize(
    "rule_id",
    [
        "github-pat", "github-fine-grained-pat",
        "stripe-live-secret-key", "stripe-live-restricted-key", "stripe-test-secret-key",
        "stripe-test-restricted-key", "stripe-webhook-secret",
        "authorization-bearer-token", "bearer-token", "authorization-basic-credentials",
        "jwt", "mcp-service-key", "mcp-service-key-assigned",
        "aws-access-key-id", "aws-secret-access-key", "private-key-rsa", "private-key-openssh",
        "database-connection-string", "generic-secret", "generic-password",
    ],
)
def test_named_rule_ids_exist(rule_id: str) -> None:
    assert rule_id in BY_ID


def test_stripe_test_keys_rank_below_live_keys() -> None:
    from scanner.models import severity_rank

    assert severity_rank(BY_ID["stripe-test-secret-key"].severity) < severity_rank(BY_ID["stripe-live-secret-key"].severity)
    assert BY_ID["stripe-live-secret-key"].severity == BY_ID["stripe-live-restricted-key"].severity == "critical"


def test_generic_rules_rank_below_provider_rules() -> None:
    from scanner.models import confidence_rank

    generic = [r for r in RULES if r.id.startswith("generic-")]
    assert generic
    assert all(confidence_rank(r.confidence) < confidence_rank("high") for r in generic)
    assert all(r.severity in ("low", "medium") for r in generic)


# Credential *slots*: references, templates and fillers. None of these may be
# reported by any rule, whatever the key is called.
_KEYS = ["API_KEY", "api_key", "apiKey", "SECRET_KEY", "client_secret", "password", "DB_PASSWORD",
         "token", "GITHUB_TOKEN", "MCP_ACCESS_TOKEN", "access_key", "private_key", "STRIPE_SECRET_KEY"]
_VALUES = ["${VAR}", "${API_TOKEN}", "$TOKEN", "$API_KEY", "your_token_here", "your-api-key-here",
           "xxxxxxxxxxxxxxxxxxxxxxxx", "<token>", "<your-api-key>", "changeme", "CHANGEME", "{{ token }}",
           "{{ secrets.API_KEY }}", "${{ secrets.GITHUB_TOKEN }}", "%API_KEY%", "********", "REDACTED",
           "placeholder", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
           "mcp_your_api_key_here", "null", "None", "example-token-value", "dummy_secret_value_1234"]
_FORMS = ['{k}={v}', '{k}="{v}"', "{k}: {v}", '"{k}": "{v}"', "export {k}='{v}'", "{k} = \"{v}\"",
          '<{k}>{v}</{k}>', '  - {k}={v}']
_CODE = [
    "api_key = os.environ['API_KEY']", 'token = os.environ.get("GITHUB_TOKEN")', "const key = process.env.API_KEY;",
    "client_secret = process.env.CLIENT_SECRET", "password = settings.DATABASE_PASSWORD", 'secret = os.getenv("SECRET")',
    '"Authorization": "Bearer ${TOKEN}"', '"Authorization": "Bearer ${MCP_ACCESS_TOKEN}"', 'curl -H "Authorization: Bearer $TOKEN" https://api.x.io',
    'headers = {"Authorization": f"Bearer {token}"}', 'DATABASE_URL=postgres://user:${PASS}@db:5432/app',
    'DATABASE_URL=postgres://user:password@localhost/app', 'redis://:${REDIS_PASSWORD}@redis:6379/0',
    'password = getpass.getpass()', 'token = generate_token(user)', 'api_key: str = Field(..., env="API_KEY")',
    'export MCP_ACCESS_TOKEN=$(security find-generic-password -a $USER -s mcp-token -w)',
    'export MCP_ACCESS_TOKEN="$token"', 'git secrets --add "mcp_[a-zA-Z0-9]+"', 'max_tokens = 4096',
    'mcp_server_name = "filesystem"', 'result = mcp_tool_call(name, args)',
]


def _placeholder_lines() -> Iterator[str]:
    for value in _VALUES:
        for key in _KEYS:
            for form in _FORMS:
                yield form.format(k=key, v=value)
    yield from _CODE


def test_placeholders_are_never_findings() -> None:
    detector = Detector(list(RULES), engine="python")
    reported = []
    for line in _placeholder_lines():
        for finding in detector.scan_text(line, "config.env"):
            reported.append(f"{finding.rule_id}: {line}")
    assert reported == []


def test_real_shapes_next_to_placeholders_are_still_found() -> None:
    # the placeholder filter must not swallow a real key that happens to sit in the same file
    key = "sk_live_" + fake(32, seed=7)
    text = "STRIPE_SECRET_KEY=${STRIPE_SECRET_KEY}\nFALLBACK=" + key + "\n"
    findings = Detector(list(RULES), engine="python").scan_text(text, ".env")
    assert [(f.rule_id, f.line, f.secret) for f in findings] == [("stripe-live-secret-key", 2, key)]


def test_filler_substrings_do_not_hide_long_random_values() -> None:
    # "xxxx" turns up by chance in a 1,300-character key body; it is not a placeholder there
    import base64
    import random

    from scanner.entropy import is_placeholder

    rng = random.Random(3)
    body = base64.b64encode(bytes(rng.randrange(256) for _ in range(900))).decode()
    body = body[:500] + "xXXx" + body[504:]
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    key = f"-----BEGIN RSA PRIVATE KEY-----\n{lines}\n-----END RSA PRIVATE KEY-----\n"
    assert [f.rule_id for f in Detector(list(RULES), engine="python").scan_text(key, "id_rsa")] == ["private-key-rsa"]
    # while short fillers and references stay placeholders
    for value in ("sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "your_token_here", "${TOKEN}", "x" * 80, "a1B2" * 20 + "${FOO}"):
        assert is_placeholder(value), value


def test_line_oriented_generic_rules_skip_source_code() -> None:
    # "TOKEN = some.expression" in code is an expression; in a .env it is a value
    value = fake(24, seed=12)
    line = f"API_TOKEN={value}\n"
    detector = Detector(list(RULES), engine="python")
    assert [f.rule_id for f in detector.scan_text(line, "deploy/.env")] == ["generic-secret-unquoted"]
    assert [f.rule_id for f in detector.scan_text(line, "config/app.properties")] == ["generic-secret-unquoted"]
    assert detector.scan_text(line, "src/app.py") == []
    # a quoted literal is a literal everywhere
    assert [f.rule_id for f in detector.scan_text(f'API_TOKEN = "{value}"\n', "src/app.py")] == ["generic-secret"]
