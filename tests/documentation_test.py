"""Prose documentation (issue 14, item 5): context-only rules stay out, provider formats stay in.

A README or a ``.rst`` guide shows ``password = "..."`` and ``user:pw@localhost``
DSNs as illustrations; the rules that say ``docs = false`` (generic assignments,
the loopback/tutorial URL rules) do not run there. A provider-format key pasted
into a doc is still a high-confidence finding, and the same generic password or
local DSN in code, configuration or tests is still reported. The history cases
run ``mcp-scan history`` on real temporary git repositories; values are fakes.
"""
from __future__ import annotations

import json
import string
from typing import Any

import pytest

from scanner.documentation import is_documentation
from scanner.rules import builtin_rules, load_rules
from scanner.errors import ScanError
from tests.fakes import fake
from tests.git_helpers import GitRepo

PASSWORD = fake(14, seed=601) + "#7"
GOOGLE_KEY = "AIza" + fake(35, alphabet=string.ascii_letters + string.digits + "_-", seed=602)
LOCAL_DSN = f"postgresql://svc:{fake(12, seed=603)}@localhost:5432/app"
GUIDE = (
    "Configuration\n=============\n\nSet the password in ``settings.py``::\n\n"
    f'    DB_PASSWORD = "{PASSWORD}"\n    DATABASE_URL = "{LOCAL_DSN}"\n'
)


@pytest.mark.parametrize("path", [
    "README.md", "docs/guide/setup.rst", "CHANGELOG.markdown", "doc/build/core/engines.rst",
    "doc/build/content/sqlconstruction.txt", "docs/_templates/sidebar.html", "manual.adoc",
    "lib/Foo.pod", "Documentation/howto.txt",
])
def test_documentation_paths(path: str) -> None:
    assert is_documentation(path)


@pytest.mark.parametrize("path", [
    "settings.py", "requirements.txt", "notes/case.txt", "setup.cfg", "src/docstring.py",
    "mydocs/conf.py", "tests/doc_test.py", "README",
    # configuration, environment files and code of a docs site hold its real credentials
    "docs/.env", "docs/conf.py", "doc/deploy/settings.json", "docs/netlify.toml", "docs/.env.production",
])
def test_not_documentation_paths(path: str) -> None:
    assert not is_documentation(path)


def test_the_context_rules_say_docs_false_and_provider_rules_do_not() -> None:
    rules = {r.id: r for r in builtin_rules()}
    for rule_id in ("generic-password", "generic-secret", "generic-secret-unquoted",
                    "database-connection-string-local", "url-credentials-local"):
        assert rules[rule_id].docs is False, rule_id
    for rule_id in ("gcp-api-key", "private-key-rsa", "database-connection-string", "aws-access-key-id"):
        assert rules[rule_id].docs is True, rule_id


def test_docs_must_be_a_boolean(tmp_path: Any) -> None:
    rule_file = tmp_path / "r.toml"
    rule_file.write_text('[[rules]]\nid = "x"\ndescription = "x"\nseverity = "low"\nregex = \'\'\'x\'\'\'\n'
                         'docs = "no"\n')
    with pytest.raises(ScanError, match="'docs' must be true or false"):
        load_rules([rule_file])


def _history(repo: GitRepo) -> dict[str, Any]:
    proc = repo.run_mcp_scan("history", "--no-cache", "--format", "json", "--group", "path")
    assert proc.returncode == 1, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def test_history_drops_doc_examples_keeps_code_and_provider_keys(git_repo: GitRepo) -> None:
    git_repo.stage("docs/setup.rst", GUIDE)
    git_repo.stage("README.md", f"# App\n\n```python\nDB_PASSWORD = \"{PASSWORD}\"\n```\n")
    git_repo.stage("SECURITY.md", f"Report issues.\n\ncurl 'https://example.test/v1?key={GOOGLE_KEY}'\n")
    git_repo.stage("app/settings.py", f'DB_PASSWORD = "{PASSWORD}"\nDATABASE_URL = "{LOCAL_DSN}"\n')
    git_repo.commit("docs and settings")
    found = {(f["rule_id"], f["path"]): f for f in _history(git_repo)["findings"]}
    assert ("generic-password", "app/settings.py") in found
    assert ("database-connection-string-local", "app/settings.py") in found
    assert found[("gcp-api-key", "SECURITY.md")]["confidence"] == "high"
    assert not [key for key in found if key[1] in ("docs/setup.rst", "README.md") or key == ("generic-password", "SECURITY.md")]


def test_a_docs_sites_own_configuration_is_still_scanned(git_repo: GitRepo) -> None:
    """The staged hook blocks a password in ``docs/.env``: only pages count as documentation."""
    git_repo.stage("docs/.env", f"DB_PASSWORD={PASSWORD}\n")
    proc = git_repo.run_mcp_scan("staged", "--format", "json")
    assert proc.returncode == 1, proc.stdout
    assert ("generic-password-unquoted", "docs/.env") in {
        (f["rule_id"], f["path"]) for f in json.loads(proc.stdout)["findings"]}


def test_scan_drops_doc_examples_too(git_repo: GitRepo) -> None:
    git_repo.write("docs/setup.rst", GUIDE)
    git_repo.write("app/settings.py", GUIDE)
    proc = git_repo.run_mcp_scan("scan", ".", "--format", "json")
    assert proc.returncode == 1
    paths = {f["path"] for f in json.loads(proc.stdout)["findings"]}
    assert paths == {"app/settings.py"}


# Doctests: documentation inside code. Values are fakes.
DOCTEST_PASSWORD = fake(14, seed=611)
DOCTEST_URL = f"http://otheruser:{fake(12, seed=612)}@localhost:8080/"


def _found(text: str, path: str = "pkg/urls.py") -> list[tuple[str, str]]:
    from scanner.detect import Detector

    return [(f.rule_id, f.secret) for f in Detector(list(builtin_rules())).scan_text(text, path)]


@pytest.mark.parametrize("text", [
    f'    >>> connect(host="db", user="app", password="{DOCTEST_PASSWORD}")\n',   # an input line
    f'    >>> conn = connect(\n    ...     password="{DOCTEST_PASSWORD}")\n',     # a continuation
    f'    >>> print(URLObject("http://x").with_auth("otheruser", "pw"))\n    {DOCTEST_URL}\n',  # output
    f'>>> print(URLObject("{DOCTEST_URL}").password)\n',
    # PowerShell comment-based help: an example session line
    f'    PS C:\\> New-DbaLogin -Login app -SecurePassword (ConvertTo-SecureString "{DOCTEST_PASSWORD}" -AsPlainText -Force)\n',
    f'PS> Connect-Db -Password (ConvertTo-SecureString -String "{DOCTEST_PASSWORD}" -AsPlainText -Force)\n',
])
def test_doctests_are_examples_for_the_context_rules(text: str) -> None:
    assert _found(text) == []


def test_the_same_values_in_code_and_provider_keys_in_doctests_are_found() -> None:
    assert ("generic-password", DOCTEST_PASSWORD) in _found(f'conn = connect(password="{DOCTEST_PASSWORD}")\n')
    assert ("url-credentials-local", DOCTEST_URL[len("http://otheruser:"):-len("@localhost:8080/")]) in _found(
        f'URL = "{DOCTEST_URL}"\n')
    # a line under a prompt line's output is code again
    assert _found(f'    >>> f()\n    1\n    \n    password = "{DOCTEST_PASSWORD}"\n')
    assert _found(f'$pw = ConvertTo-SecureString "{DOCTEST_PASSWORD}" -AsPlainText -Force\n', "deploy.ps1")
    google = _found(f'    >>> client = Client(key="{GOOGLE_KEY}")\n')
    assert [rule for rule, _ in google] == ["gcp-api-key"]


def test_history_skips_doctests_in_every_version(git_repo: GitRepo) -> None:
    """A later version adds a doctest in the middle of a long module: history judges that
    version by its changed lines (windows), and the prompt line above the output is in them."""
    filler = "".join(f"def f{i}():\n    return {i}\n\n" for i in range(60))
    git_repo.stage("pkg/urls.py", filler + filler)
    git_repo.commit("module")
    doc = ('def with_auth():\n    """Add credentials.\n\n'
           '    >>> print(URLObject("http://x").with_auth("otheruser", "pw"))\n'
           f'    {DOCTEST_URL}\n    """\n\n')
    git_repo.stage("pkg/urls.py", filler + doc + f'SERVICE_PASSWORD = "{DOCTEST_PASSWORD}"\n' + filler)
    git_repo.commit("document with_auth")
    found = {(f["rule_id"], f["line"]) for f in _history(git_repo)["findings"]}
    assert found == {("generic-password", 60 * 3 + 8)}
