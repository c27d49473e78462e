"""Precision gates (issue 14, item 5): values that are not credentials never become findings.

Placeholders and templates, masked values, filler made of repeated or sequential
characters, identifiers and function calls, and key blocks with no body. Each
is checked on the gate itself and through the whole detector with the built-in
rules, next to a generated random value in the same place that is still found.
"""
from __future__ import annotations

import pytest

from scanner.detect import Detector
from scanner.entropy import has_sequence, is_identifier, is_placeholder, mostly_repeated
from scanner.rules import builtin_rules
from tests.fakes import fake

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(list(builtin_rules()), engine="python")


@pytest.mark.parametrize("value", [
    "[PASSWORD]", "[your-api-key]", "<user:password", "password>",
    "%s", "%(db_password)s", "{password}", "{{ .Values.token }}", "${API_TOKEN}",
    "####################", "sk_live_####################", "••••••••", "ab12****",
])
def test_templates_brackets_and_masks_are_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["yourStrong(!)Password", "YourSecretApiKey", "<yourpassword>", "yourtoken123"])
def test_a_value_that_opens_with_your_and_names_a_credential_is_a_slot(value: str) -> None:
    """A vendor's sample (SQL Server's documented SA password) and the slots people copy from it."""
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["Yoursa1fe9ZqLm", "younger9Zq8Lm", "Kq7yourZx2Vw9"])
def test_a_random_value_holding_your_is_not_a_slot(value: str) -> None:
    assert not is_placeholder(value)


@pytest.mark.parametrize("value", [
    "00000000-0000-0000-0000-000000000000", "ffffffffffffffffffff", "aaaaaaaaaaaaaaaa1",
])
def test_values_mostly_of_one_repeated_character_are_filler(value: str) -> None:
    assert mostly_repeated(value) and is_placeholder(value)


def test_a_random_value_with_a_short_run_is_not_filler() -> None:
    value = fake(40, seed=3)[:20] + "000000" + fake(40, seed=4)[:20]
    assert not mostly_repeated(value)
    assert not is_placeholder(value)


def test_sequences_typed_by_hand() -> None:
    assert has_sequence("sk_live_abcdefghijklmnopqrstuvwxyz0123")
    assert has_sequence("ABCDEFGHIJKL")
    assert has_sequence("0123456789ab")
    assert not has_sequence("abc123def456")
    assert not has_sequence(fake(64, seed=5))
    # upstream suites label values with shorter runs (``12345678``) as secrets: not dropped
    assert not has_sequence("12345678-ABCD")


@pytest.mark.parametrize("value", [
    "searchUsersByName", "GetAccessTokenForUser", "read_secret_from_file", "API_TOKEN_FROM_ENV",
    "s.makeClientConfig", "config.database.password", "jdbc.snowflake.url=",
    "os.getenv(\"API_KEY\")", "getPassword()", "self.settings.get_secret()",
])
def test_identifiers_member_access_and_calls_are_code(value: str) -> None:
    assert is_identifier(value)
    assert is_placeholder(value)


@pytest.mark.parametrize("seed", range(40))
def test_random_tokens_are_not_identifiers(seed: int) -> None:
    for length in (12, 24, 40):
        token = fake(length, seed=seed)
        assert not is_identifier(token), token
        assert not is_identifier("s." + token), token
        letters = fake(length, alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", seed=seed)
        assert not is_identifier(letters), letters


def test_real_passwords_are_not_identifiers() -> None:
    for value in ("Tr0ub4dor&3", "hunter2hunter2", "s.Zq3kP9xLmN2bVc8R", "correct-horse-battery"):
        assert not is_identifier(value)


@pytest.mark.parametrize(("template", "where"), [
    ('API_TOKEN = "{}"\n', "settings.py"),
    ("password: {}\n", "config.yml"),
    ("curl --user deploy:{} https://ci.internal.test/api\n", "deploy.sh"),
])
def test_through_the_detector_random_found_placeholders_not(detector: Detector, template: str, where: str) -> None:
    secret = fake(20, seed=7) + "9aZ"
    assert [f.secret for f in detector.scan_text(template.format(secret), where)] == [secret]
    for filler in ("[PASSWORD]", "%(password)s", "{password}", "####################",
                   "getPasswordFromVault()", "config.credentials.apiPassword", "00000000000000000000"):
        assert detector.scan_text(template.format(filler), where) == [], filler


def test_through_the_detector_a_placeholder_github_token_is_dropped(detector: Detector) -> None:
    assert detector.scan_text("token: ghp_abcdefghijklmnopqrstuvwxyz0123456789\n", "a.yml") == []


def test_key_block_without_a_body_is_not_a_key(detector: Detector) -> None:
    for text in ("-----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----\n",
                 "-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----\n",
                 'key = "-----BEGIN RSA PRIVATE KEY-----\\n\\n-----END RSA PRIVATE KEY-----"\n'):
        assert detector.scan_text(text, "key.pem") == [], text
    body = "\n".join(fake(64, alphabet=B64, seed=40 + i) for i in range(10))
    found = detector.scan_text(f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n", "key.pem")
    assert [f.rule_id for f in found] == ["private-key-pkcs8"]
    # a truncated key (a real body cut short) is still worth a look
    cut = f"-----BEGIN EC PRIVATE KEY-----\n{fake(28, alphabet=B64, seed=50)}\n-----END EC PRIVATE KEY-----\n"
    assert [f.rule_id for f in detector.scan_text(cut, "key.pem")] == ["private-key-header"]


def test_a_percent_sign_inside_a_random_password_is_not_a_format_string() -> None:
    assert not is_placeholder("7tfdOdhG%StyrJhBuqpHvMc")
    assert not is_placeholder(fake(10, seed=8) + "%d" + fake(10, seed=9))
    assert is_placeholder("user:%s") and is_placeholder("%(password)s")


@pytest.mark.parametrize("value", ["pass", "pwd", "bbbb", "aaaa", "user:pass", "user:pwd", "foo:bar", "Optional[str]",
                                   "dict[str, Any]"])
def test_fixture_words_pairs_and_type_annotations_are_placeholders(value: str) -> None:
    assert is_placeholder(value)


def test_through_the_detector_fixture_credentials_in_netrc_and_basic_auth(detector: Detector) -> None:
    import base64

    def basic(pair: str) -> str:
        return f'headers = {{"Proxy-Authorization": "Basic {base64.b64encode(pair.encode()).decode()}"}}\n'

    assert detector.scan_text(basic("user:pass"), "test_proxy.py") == []
    assert detector.scan_text(basic("user:pwd"), "test_proxy.py") == []
    real = "deploy:" + fake(18, seed=60)
    assert [f.rule_id for f in detector.scan_text(basic(real), "test_proxy.py")] == ["authorization-basic-credentials"]
    assert detector.scan_text("machine example.com login aaaa password bbbb\n", ".netrc") == []
    assert detector.scan_text("machine example.com login user password pass\n", ".netrc") == []
    secret = fake(20, seed=61)
    # (a machine under the documentation domains is a sample whatever its password: a real host here)
    assert [f.secret for f in detector.scan_text(f"machine git.corp.net login deploy password {secret}\n", ".netrc")] == [secret]
    # a type annotation in code after a username line is no INI section's password (.pypirc or other)
    code = "class URL:\n    username: Optional[str] = None,\n    password: Optional[str] = None,\n"
    for path in ("url.py", ".pypirc"):
        assert [f for f in detector.scan_text("[tool]\n" + code, path)
                if f.rule_id in ("pypirc-password", "ini-section-password")] == [], path


def test_a_random_password_with_parentheses_is_not_a_call() -> None:
    assert not is_identifier("tcGM2q_(lelAUxSS!m#@l0FwkxwiTK1ehgs^FgsTRQMfGSCDr)")
    assert not is_identifier("Xq7vB2_(" + fake(12, seed=70) + ")")
    assert is_identifier("vault.read_secret('db/password')")


def test_a_value_overrunning_its_string_literal_is_judged_by_what_the_literal_held(detector: Detector) -> None:
    for filler in ("bbbb", "pass", "pass\\ndefault"):
        text = f'    f.write("machine example.com login user password {filler}\\n")\n'
        assert detector.scan_text(text, "test_utils.py") == [], filler
    secret = fake(18, seed=80)
    text = f'    f.write("machine git.corp.net login deploy password {secret}\\n")\n'
    assert [f.rule_id for f in detector.scan_text(text, "test_utils.py")] == ["netrc-password"]


def test_a_braced_guid_is_a_key_not_a_format_slot() -> None:
    from scanner.entropy import is_placeholder

    assert is_placeholder("{api_key}") and is_placeholder("{0}") and is_placeholder("{}")
    assert not is_placeholder("{7d3f2a9c-4b1e-4c8d-9e5f-0a6b2c1d3e4f}")


def test_a_short_provider_prefixed_value_is_a_stub_not_a_generic_secret(detector: Detector) -> None:
    # the provider rules did not match these (too short for their formats); the generic
    # secret-named rules must not report them as unknown secrets instead
    for value in ("AstraCS:" + fake(6, seed=91), "ucat_" + fake(7, seed=92), "glpat-" + fake(8, seed=93)):
        assert detector.scan_text(f"SERVICE_API_TOKEN={value}\n", "app.env") == [], value
    # a long one the provider rule rejects is still a secret-named value with a random body
    long_value = "glpat-" + fake(30, seed=94) + "!" + fake(8, seed=95)
    assert [f.rule_id for f in detector.scan_text(f"SERVICE_API_TOKEN={long_value}\n", "app.env")]


def _basic(pair: str) -> str:
    import base64

    return base64.b64encode(pair.encode("utf-8")).decode("ascii")


@pytest.mark.parametrize("pair", [
    "пользователь:пароль", "usuario:contraseña", "nutzer:Passwort",  # the password slot named in another language
    "ŭsername:tëstƶ", "üser:päss1", "løgin:pässwørd",                 # an English fixture pair with decorated letters
])
def test_basic_auth_fixture_pairs_in_other_scripts_are_not_credentials(detector: Detector, pair: str) -> None:
    assert not detector.scan_text(f"headers = {{'Authorization': 'Basic {_basic(pair)}'}}\n", "tests/test_auth.py")


@pytest.mark.parametrize("pair", [
    "иван:" + fake(12, seed=21), "josé:" + fake(12, seed=22) + "ñ", "пароль:" + fake(12, seed=23),
])
def test_basic_auth_with_a_real_looking_password_in_any_script_is_still_found(detector: Detector, pair: str) -> None:
    found = detector.scan_text(f"headers = {{'Authorization': 'Basic {_basic(pair)}'}}\n", "tests/test_auth.py")
    assert [f.rule_id for f in found] == ["authorization-basic-credentials"]


def test_a_translated_password_label_is_not_a_password(detector: Detector) -> None:
    assert not detector.scan_text('{"Password": "Contraseña", "Username": "Usuario"}\n', "static/lang/es.js")
    real = "Contraseña" + fake(6, seed=24) + "!"
    assert [f.rule_id for f in detector.scan_text(f'{{"password": "{real}"}}\n', "config/app.json")] == ["generic-password"]


def test_code_between_two_string_literals_is_not_a_value(detector: Detector) -> None:
    minified = 'x.a.createElement("label",null,"Password:"),d?x.a.createElement("code",null," ** ")\n'
    assert not detector.scan_text(minified, "static/bundle.js")
    assert is_identifier("),d?x.a.createElement(") and is_identifier("Column(String(12))")
    assert not is_identifier("pa55(" + fake(10, seed=25))


def test_a_maintainer_handle_after_a_header_like_name_is_not_a_key(detector: Detector) -> None:
    assert not detector.scan_text("- `jshttp/basic-auth`: @blakeembrey\n", "Contributing.md")
    key = fake(32, seed=26)
    assert [f.rule_id for f in detector.scan_text(f"X-Api-Key: {key}\n", "api.http")] == ["api-key-header"]


STRIPE_SAMPLE = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"  # Stripe's documentation's sample test key


@pytest.mark.parametrize(("path", "template"), [
    ("README.md", "curl https://api.stripe.com/v1/charges \\\n  -u {s}: \\\n  -d amount=2000\n"),
    ("app.py", 'stripe.api_key = "{s}"\n'),
    ("docs/setup.md", "STRIPE_SECRET_KEY={s}\n"),
])
def test_a_vendors_documented_sample_is_reported_by_no_rule(detector: Detector, path: str, template: str) -> None:
    """The Stripe rule claims its documented sample and reports nothing; no other rule (the curl
    -u rule, the generic ones) may report it in its place. A generated key there is reported."""
    assert not detector.scan_text(template.format(s=STRIPE_SAMPLE), path)
    other = "sk_test_" + fake(24, seed=9490)
    assert other in {f.secret for f in detector.scan_text(template.format(s=other), path)}


def test_every_documented_sample_is_claimed_by_its_rule() -> None:
    samples = [(rule, s) for rule in builtin_rules() for s in rule.documented_samples]
    assert samples
    full = Detector(list(builtin_rules()), engine="python")
    for rule, sample in samples:
        alone = Detector([rule], engine="python")
        assert [h[2].id for h in alone.raw_hits(f"key = {sample}\n", "app.txt")] == [rule.id]
        assert not full.scan_text(f'key = "{sample}"\n', "app.txt")


def test_a_documented_sample_hides_nothing_beside_or_around_it(detector: Detector) -> None:
    """An attacker's way in: the sample as curl's user with a real password after it, and a real
    key that starts with the sample. Each is still reported."""
    password = "Kv" + fake(12, seed=9491)
    longer = STRIPE_SAMPLE + fake(6, seed=9492)
    found = detector.scan_text(f"curl -u {STRIPE_SAMPLE}:{password} https://api.example.com\n"
                               f'key = "{longer}"\n', "deploy.sh")
    assert {password, longer} <= {f.secret for f in found}
