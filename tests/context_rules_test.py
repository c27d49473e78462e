"""Context-aware generic rules (issue 14, items 4 and 5) through the whole shipped registry.

Credentials without a provider prefix are found by their context (an
Authorization header of any scheme, a custom credential header, curl -u, a
connection URL), and documentation examples are dropped or reported at low
confidence, never high. Values are generated fakes.
"""
from __future__ import annotations

import base64

from scanner.detect import Detector
from scanner.models import Finding
from scanner.rules import builtin_rules
from tests.fakes import fake


# A plain text file outside any doc/ directory: these cases judge the rules' own tiers. In prose
# documentation (notes.md) the generic and -local rules do not run at all (documentation_test.py).
def scan(text: str, path: str = "notes.txt") -> list[Finding]:
    return Detector(builtin_rules()).scan_text(text, path)


def found(text: str) -> list[tuple[str, str, str]]:
    return [(f.rule_id, f.confidence, f.secret) for f in scan(text)]


def test_documentation_dsns_are_dropped_or_low_and_real_hosts_high() -> None:
    password = fake(14, seed=101)
    # Oracle's demo account, a default account (user == password), a template host: dropped
    assert found('engine = create_engine("postgresql://scott:tiger@localhost/test")\n') == []
    assert found("DATABASE_URL=postgres://postgres:postgres@db.prod.corp:5432/app\n") == []
    assert found('"dbtype://username:apples%2Foranges@hostspec/database"\n') == []
    # a loopback, documentation or single-label host: low confidence
    assert found(f"DATABASE_URL=postgres://app:{password}@localhost:5432/app\n") == [
        ("database-connection-string-local", "low", password)]
    assert found("mongo: mongodb://app:p%40ssw0rd123@db.example.com/admin\n") == [
        ("database-connection-string-local", "low", "p%40ssw0rd123")]
    # ...unless a documentation host carries a password drawn at random (upper, lower, digits,
    # ten or more): a real URL whose host was redacted; medium, so the commit hook blocks it
    assert found(f"mongo: mongodb://app:{password}@db.example.com/admin\n") == [
        ("database-connection-string-doc-host", "medium", password)]
    assert found(f"spring.data.mongodb.uri=mongodb://svc:{password}@mongo1.internal.example:27017/app\n") == [
        ("database-connection-string-doc-host", "medium", password)]
    assert found(f"REDIS_URL=redis://:{password}@redis:6379/0\n") == [
        ("database-connection-string-local", "low", password)]
    # scott's passwords are test fixtures on any host (SQLAlchemy's CI DSNs)
    assert found(f"mssql+pyodbc://scott:{password}@192.168.0.199:1433/test\n") == [
        ("database-connection-string-local", "low", password)]
    # a routable host: high
    assert found(f"DATABASE_URL=postgres://app:{password}@db.prod.corp:5432/app\n") == [
        ("database-connection-string", "high", password)]


def test_authorization_header_with_any_scheme_or_none() -> None:
    key = fake(40, seed=102)
    assert found(f'curl -H "Authorization: SSWS {key}" https://corp.okta.com/api/v1/users\n') == [
        ("authorization-token-header", "medium", key)]
    assert found(f'req.Header.Set("Authorization", "GenieKey {key}")\n') == [
        ("authorization-token-header", "medium", key)]
    assert found(f"curl --header 'Authorization: {key}' https://api.corp.io/v1/jobs\n") == [
        ("authorization-raw-token", "medium", key)]
    # per-request signatures and handshake blobs are not reusable credentials
    assert found(f'Authorization: Digest username="ops", realm="api", response="{fake(32, "0123456789abcdef", 103)}"\n') == []
    assert found('authorization = request.headers.get("Authorization")\n') == []


def test_custom_credential_headers_in_curl_and_code() -> None:
    short = fake(11, seed=104)
    assert found(f'curl -X POST --header "Api-Token: {short}" https://api.corp.io\n') == [
        ("request-header-credential", "medium", short)]
    key = fake(32, seed=105)
    assert found(f"X-Octopus-ApiKey: {key}\n") == [("api-key-header", "medium", key)]
    assert found(f"X-CSRF-Token: {key}\n") == []


def test_curl_user_on_a_continuation_line_and_a_key_as_user() -> None:
    password = fake(14, seed=106)
    text = f'curl -k -X POST https://cache.corp.io/rest \\\n  -H "Content-type: text/plain" \\\n  -u developer:{password}\n'
    assert found(text) == [("curl-user-password", "medium", password)]
    key = fake(28, seed=107)
    assert found(f'curl -u "{key}:" https://api.payments.io/v1/charges\n') == [("curl-user-password", "medium", key)]
    # a shorter key (10-15 characters) counts when its digits sit among mixed-case letters
    short = "Tq8vZ2m!Wx7L"  # shape of a generated key: upper, lower, digits inside
    assert found(f'curl -u "{short}:" https://search.corp.io:9200\n') == [("curl-user-password", "medium", short)]
    assert found(f"http -a {short}: https://api.billing.io/v1/invoices\n") == [("httpie-auth-password", "medium", short)]
    # a user name alone with an empty password is not a key
    assert found('curl -u "MyUser2024:" https://api.corp.io\n') == []
    assert found("curl -u jenkins-bot7: https://ci.corp.io\n") == []
    assert found("curl --user neo4j:[PASSWORD] http://[IP]:7474/db/data/\n") == []
    assert found("curl -u <user:password> https://api.corp.io/endpoint\n") == []


def test_basic_value_assigned_to_an_auth_key_is_judged_by_its_decoding() -> None:
    value = base64.b64encode(f"svc-export:{fake(16, seed=108)}".encode()).decode()
    assert found(f'"user_auth": "{value}"\n') == [("basic-auth-assignment", "medium", value)]
    placeholder = base64.b64encode(b"user:password").decode()
    assert found(f'"user_auth": "{placeholder}"\n') == []


def test_basic_credentials_built_in_code_from_literals() -> None:
    password = fake(14, seed=109)
    # a literal "user:password" encoded for a Basic header, or handed to CURLOPT_USERPWD
    assert found(f'const auth = "Basic " + btoa("svc-export:{password}");\n') == [
        ("basic-auth-encoded-literal", "medium", password)]
    assert found(f'token = base64.b64encode(b"deploy:{password}").decode()\n') == [
        ("basic-auth-encoded-literal", "medium", password)]
    assert found(f'curl_setopt($ch, CURLOPT_USERPWD, "api:{password}");\n') == [
        ("basic-auth-encoded-literal", "medium", password)]
    assert found('const auth = "Basic " + btoa(user + ":" + pass);\n') == []
    assert found('btoa("user:password")\n') == []
    # the documented (user, password) credential constructors
    assert found(f'Credentials c = new UsernamePasswordCredentials("svc-export", "{password}");\n') == [
        ("basic-auth-tuple", "medium", password)]
    assert found(f'var cred = new NetworkCredential("svc-export", "{password}");\n') == [
        ("basic-auth-tuple", "medium", password)]
    assert found("var cred = new NetworkCredential(user, password);\n") == []
