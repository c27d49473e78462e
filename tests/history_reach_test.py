"""History judges a match anew whenever a change touches any part of it, not only its secret.

A rule's match may reach lines away from the secret it holds: a service-account JSON's
``"type": "service_account"`` ten lines above its ``private_key_id``. The version chain
scans only the changed lines of each version and carries the other hits over; these
histories change only the context, never the secret's line, and the findings (and the
commits they are attributed to) must equal a whole-file scan of every version.
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from scanner.detect import Detector
from scanner.history.scan import scan_history
from scanner.rules import builtin_rules
from tests.fakes import fake
from tests.git_helpers import GitRepo

KEY_ID = fake(40, "0123456789abcdef")
PAD = [f'  "setting_{i}": "value number {i}",' for i in range(300)]


def _account(kind: str, gap: int = 8) -> str:
    middle = [f'  "field_{i}": "plain value {i}",' for i in range(gap)]
    return "\n".join(["{", *PAD, f'  "type": "{kind}",', '  "project_id": "demo-project",', *middle,
                      f'  "private_key_id": "{KEY_ID}",',
                      '  "client_email": "bot@demo-project.iam.gserviceaccount.com"', *PAD, "}"]) + "\n"


def _findings(repo: GitRepo, engine: str, line_delta: bool = True) -> list[tuple[Any, ...]]:
    result = scan_history(str(repo.path), Detector(list(builtin_rules()), engine=engine), jobs=1,
                          use_cache=False, line_delta=line_delta)
    return sorted((f.rule_id, f.path, f.line, f.commit) for f in result.findings)


ENGINES = ["hyperscan", "python"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_secret_made_by_changing_its_context_lines_away_is_found(git_repo: GitRepo, engine: str) -> None:
    if engine == "hyperscan":
        pytest.importorskip("hyperscan")
    git_repo.stage("key.json", _account("service_account"))
    introduced = git_repo.commit("add a service account key")
    git_repo.stage("key.json", _account("authorized_user"))  # the secret's line is untouched
    git_repo.commit("retype the file")
    found = _findings(git_repo, engine)
    assert [(rule, commit) for rule, _, _, commit in found] == [("gcp-service-account-key", introduced)]
    assert found == _findings(git_repo, engine, line_delta=False)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_finding_is_attributed_to_the_commit_whose_context_made_it(git_repo: GitRepo, engine: str) -> None:
    if engine == "hyperscan":
        pytest.importorskip("hyperscan")
    git_repo.stage("key.json", _account("authorized_user"))
    git_repo.commit("a user credential file: no service-account key yet")
    git_repo.stage("key.json", _account("service_account"))
    made = git_repo.commit("now it is a service account key")
    found = _findings(git_repo, engine)
    assert [(rule, commit) for rule, _, _, commit in found] == [("gcp-service-account-key", made)]
    assert found == _findings(git_repo, engine, line_delta=False)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_secret_made_by_deleting_the_lines_between_is_found(git_repo: GitRepo, engine: str) -> None:
    """Deleted lines leave no new line to look around: the junction still counts as changed."""
    if engine == "hyperscan":
        pytest.importorskip("hyperscan")
    git_repo.stage("key.json", _account("service_account", gap=80))  # too far apart to be one match
    git_repo.commit("far apart")
    git_repo.stage("key.json", _account("service_account", gap=2))
    closer = git_repo.commit("closer")
    found = _findings(git_repo, engine)
    assert [(rule, commit) for rule, _, _, commit in found] == [("gcp-service-account-key", closer)]
    assert found == _findings(git_repo, engine, line_delta=False)


def test_the_cli_reports_it_too(git_repo: GitRepo) -> None:
    git_repo.stage("key.json", _account("service_account"))
    git_repo.commit("add")
    git_repo.stage("key.json", _account("authorized_user"))
    git_repo.commit("retype")
    run = git_repo.run_mcp_scan("history", "--no-cache", "--format", "json")
    assert run.returncode == 1, run.stderr
    assert [f["rule_id"] for f in json.loads(run.stdout)["findings"]] == ["gcp-service-account-key"]
    assert KEY_ID not in run.stdout.decode()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_secret_on_a_last_line_without_a_line_feed_is_found(git_repo: GitRepo, engine: str) -> None:
    """The zone counts a final line with no line feed as a line: its old hit is not carried past
    the end, and its new one is kept."""
    if engine == "hyperscan":
        pytest.importorskip("hyperscan")
    key = "sk_live_" + fake(24)
    git_repo.stage("app.py", f'x = 1\nSTRIPE = "{key}"')  # no line feed after the secret
    introduced = git_repo.commit("a key on the last line")
    git_repo.stage("app.py", 'x = 1\nSTRIPE = os.environ["STRIPE"]')
    git_repo.commit("read it from the environment")
    git_repo.stage("app.py", f'x = 1\nSTRIPE = "{key}"\n')
    git_repo.commit("and back, with a line feed")
    found = _findings(git_repo, engine)
    assert [(rule, commit) for rule, _, _, commit in found] == [("stripe-live-secret-key", introduced)]
    assert found == _findings(git_repo, engine, line_delta=False)


# Some rules read far past their secret: an ADAL token cache's "refreshToken" counts only in an
# entry whose "_clientId" may come thousands of characters later, and a JWK's private member "d"
# up to 2,400 after its "kty". Further from a change than most rules ever reach
# (rulematch.LONG_REACH): a version chain widens its zone that far only where such a rule's
# literal lies that close to the change, or its previous version had such a hit (MatchedChain._reach).
MEMBERS = [f'  "x5t_{i}": "{fake(40, "abcdefghijklmnop0123456789")}",' for i in range(41)]  # 2.3 KB
REFRESH = "0." + fake(180, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
JWK_D = fake(43, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _token_cache(client: bool, accent: str = "") -> str:
    tail = ['  "_clientId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"'] if client else ['  "scope": "openid"']
    members = [m.replace('": "', f'": "{accent}') for m in MEMBERS] if accent else MEMBERS
    return "\n".join(["[{", *PAD[:40], f'  "refreshToken": "{REFRESH}",', *members, *tail,
                      f'  "userName": "Jürgen {accent}"' if accent else '  "userName": "jo"', "}]"]) + "\n"


def _jwk(kty: str, accent: str = "") -> str:
    members = [m.replace('": "', f'": "{accent}') for m in MEMBERS] if accent else MEMBERS
    return "\n".join(["{", *PAD[:40], f'  "kty": "{kty}",', f'  "name": "Jürgen {accent}",' if accent else '',
                      '  "crv": "P-256",', *members, f'  "d": "{JWK_D}"', "}"]) + "\n"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_long_match_made_by_a_change_far_below_its_secret_is_found(git_repo: GitRepo, engine: str) -> None:
    if engine == "hyperscan":
        pytest.importorskip("hyperscan")
    git_repo.stage("accessTokens.json", _token_cache(client=False))
    before = git_repo.commit("a token cache entry without its client")
    git_repo.stage("accessTokens.json", _token_cache(client=True))  # 2.3 KB below the token
    made = git_repo.commit("now it names its client")
    found = _findings(git_repo, engine)
    # generic-secret reported the token before; the cache entry's own rule does once it names its client
    assert [(rule, commit) for rule, _, _, commit in found] == [("adal-token-cache-refresh-token", made),
                                                              ("generic-secret", before)]
    assert found == _findings(git_repo, engine, line_delta=False)


def test_a_long_match_undone_among_other_characters_is_gone_at_head(git_repo: GitRepo) -> None:
    """The same where the change and the lines around it hold characters Hyperscan cannot vouch
    for: the long rules' literals are sought in the version's shadow (MatchedChain._reach); found
    nowhere, the short reach would carry the old hit past the change that undid it."""
    pytest.importorskip("hyperscan")
    git_repo.stage("jwk.json", _jwk("EC", accent="é"))
    made = git_repo.commit("a private key")
    git_repo.stage("jwk.json", _jwk("oct", accent="é"))
    git_repo.commit("retyped")
    result = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False)
    assert [(f.rule_id, f.commit, f.extra["present_at_head"]) for f in result.findings] == [
        ("jwk-private-key", made, False)]
    assert result.stats["matching"]["shadowed"] > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_long_match_undone_by_a_change_far_above_its_secret_is_gone_at_head(git_repo: GitRepo,
                                                                               engine: str) -> None:
    """The previous version's long hit is judged anew, not carried to a version that lost it."""
    if engine == "hyperscan":
        pytest.importorskip("hyperscan")
    git_repo.stage("jwk.json", _jwk("EC"))
    made = git_repo.commit("a private key")
    git_repo.stage("jwk.json", _jwk("oct"))  # no longer an RSA/EC/OKP key, 2.3 KB above its "d"
    git_repo.commit("retyped")
    result = scan_history(str(git_repo.path), Detector(list(builtin_rules()), engine=engine), jobs=1,
                          use_cache=False)
    assert [(f.rule_id, f.commit, f.extra["present_at_head"]) for f in result.findings] == [
        ("jwk-private-key", made, False)]


def test_a_change_is_widened_only_by_the_reach_of_the_long_rules_whose_literal_is_near() -> None:
    """The gate answers the largest reach among the long rules that can match around a change
    (their literal is there), not the longest rule's whenever any literal is."""
    hs = pytest.importorskip("hyperscan")
    assert hs
    from scanner.rulematch import RuleMatcher

    matcher = RuleMatcher(list(builtin_rules()))
    reach_of = {rule.id: max(r for i, r in enumerate(matcher._reaches()) if matcher.pattern_rule[i] == index)
                for index, rule in enumerate(matcher.rules) if rule.id in matcher.long_rules}
    short, full = matcher.short_reach[1], matcher.reach[1]
    assert full == max(reach_of.values()) > reach_of["connection-string-password"] > short
    code = b"x = compute(y)\n" * 40
    assert matcher.long_match(code) == (0, False)
    assert matcher.long_match(code + b"db_password = get()\n" + code)[0] == max(
        reach_of[rule] for rule in ("connection-string-password", "pypirc-password", "ini-section-password"))
    assert matcher.long_match(code + b"machine example.org\n" + code)[0] == reach_of["netrc-password"] == full
    assert matcher.long_match(code + b"kind: Secret\n", True) == (0, True)
