"""Filler in a provider's own format is reported as an example at low confidence (issue 14, item 5).

A value typed by hand for documentation (``EXAMPLE`` filler, a run of the alphabet) in a format
anchored by the provider's prefix or host still names the provider: it is reported at low
confidence with a message saying it looks like an example, so an audit shows it and the commit
hook (medium and above) does not block on it. Slots (templates, masks, ``xxxx``) are still
dropped, as is filler judged only by its context (a ``token:`` key), filler after a prefix several
providers share (``filler = "drop"``), and AWS's documented samples (stopwords).
"""
from __future__ import annotations

import base64
import json
import string

import pytest

from scanner.detect import Detector
from scanner.entropy import FILLER, SLOT, placeholder_kind
from scanner.errors import ScanError
from scanner.rules import EXAMPLE_NOTE, builtin_rules, rule_from_dict
from tests.fakes import fake
from tests.git_helpers import GitRepo

LOWER_DIGITS = string.ascii_lowercase + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(list(builtin_rules()), engine="python")


def appsync_filler() -> str:
    # an AppSync key (da2- + 26 lower-case letters and digits) whose first half is typed by hand
    return "da2-" + "mnopqrstuvwxy" + fake(13, alphabet=LOWER_DIGITS, seed=1)


def slack_webhook_filler() -> str:
    return ("https://hooks.slack.com/services/T" + "EXAMPLE" + fake(3, alphabet=UPPER_DIGITS, seed=2)
            + "/B" + fake(9, alphabet=UPPER_DIGITS, seed=3) + "/" + fake(24, seed=4))


def test_filler_and_slots_are_told_apart() -> None:
    assert placeholder_kind("mnopqrstuvwxyz" + fake(8, seed=5)) == FILLER
    assert placeholder_kind("T" + "EXAMPLE" + fake(12, seed=6)) == FILLER
    assert placeholder_kind("Q" * 30) == FILLER
    for slot in ("${API_TOKEN}", "{{ .Values.key }}", "xxxxxxxxxxxx", "your_api_key_here", "<token>", "getToken()"):
        assert placeholder_kind(slot) == SLOT, slot
    assert placeholder_kind(fake(32, seed=7)) is None


@pytest.mark.parametrize(("make", "rule_id"), [
    (appsync_filler, "aws-appsync-api-key"),
    (slack_webhook_filler, "slack-webhook-url"),
])
def test_filler_in_a_prefixed_format_is_a_low_confidence_example(detector: Detector, make: object, rule_id: str) -> None:
    value = make()  # type: ignore[operator]
    [finding] = detector.scan_text(f'const key = "{value}";\n', "src/client.js")
    assert (finding.rule_id, finding.confidence) == (rule_id, "low")
    assert EXAMPLE_NOTE in finding.message and EXAMPLE_NOTE in finding.description
    # the same format with a random body is the rule's own confidence, without the note
    real = make().replace("mnopqrstuvwxy", fake(13, alphabet=LOWER_DIGITS, seed=8)).replace(  # type: ignore[operator]
        "EXAMPLE", fake(7, alphabet=UPPER_DIGITS, seed=9))
    [finding] = detector.scan_text(f'const key = "{real}";\n', "src/client.js")
    assert finding.rule_id == rule_id and finding.confidence != "low" and EXAMPLE_NOTE not in finding.message


def test_slots_in_a_prefixed_format_are_still_dropped(detector: Detector) -> None:
    for value in ("da2-" + "x" * 26, "da2-${APPSYNC}"):
        assert detector.scan_text(f"APPSYNC_API_KEY={value}\n", "app.env") == [], value


def test_filler_judged_by_context_alone_is_still_dropped(detector: Detector) -> None:
    # kubeconfig-token's keyword is "token:", a credential word: no provider anchors the value
    text = "users:\n- name: ci\n  user:\n    token: " + "abcdefghijklmnopqrstuvwxyz" + fake(12, seed=10) + "\n"
    assert detector.scan_text(text, "kubeconfig") == []


def test_filler_after_a_shared_prefix_and_aws_samples_are_dropped(detector: Detector) -> None:
    # sk_live_ is Stripe's, Clerk's and WorkOS's: stripe.toml says filler = "drop"
    assert detector.scan_text("SECRET_KEY=sk_live_" + "abcdefghijklmnopq" + fake(16, seed=11) + "\n", "app.env") == []
    # AWS's documented samples, published verbatim (stopwords in aws.toml)
    assert detector.scan_text("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", "credentials") == []
    assert detector.scan_text("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", "credentials") == []


def test_a_secret_manifest_whose_value_holds_an_example_host_is_an_example(detector: Detector) -> None:
    auth = base64.b64encode(f"ci:{fake(16, seed=12)}".encode()).decode()
    config = json.dumps({"auths": {"https://registry.example.com/v1/": {"auth": auth}}})
    manifest = ("apiVersion: v1\ndata:\n  .dockercfg: |\n    " + base64.b64encode(config.encode()).decode()
                + "\nmetadata:\n  name: pull\ntype: kubernetes.io/dockercfg\nkind: Secret\n")
    found = [(f.rule_id, f.confidence) for f in detector.scan_text(manifest, "deploy/pull-secret.yaml")]
    assert found == [("kubernetes-secret-data", "low")]


def test_the_filler_key_is_validated() -> None:
    rule = {"id": "acme-token", "description": "Acme token", "severity": "high", "regex": r"acme_[a-z]{8}",
            "keywords": ["acme_"], "filler": "keep"}
    with pytest.raises(ScanError, match="filler 'keep' is not one of example, drop"):
        rule_from_dict(rule, "acme.toml")
    assert rule_from_dict({**rule, "filler": "drop"}, "acme.toml").reports_filler is False
    assert rule_from_dict({k: v for k, v in rule.items() if k != "filler"}, "acme.toml").reports_filler is True


def test_the_commit_hook_does_not_block_on_an_example_but_a_scan_shows_it(git_repo: GitRepo) -> None:
    git_repo.stage("src/client.js", f'const key = "{appsync_filler()}";\n')
    staged = git_repo.run_mcp_scan("staged", "--format", "json")
    assert staged.returncode == 0, staged.stderr
    scanned = git_repo.run_mcp_scan("scan", "--format", "json", "src/client.js")
    assert scanned.returncode == 1, scanned.stderr
    [finding] = json.loads(scanned.stdout)["findings"]
    assert (finding["rule_id"], finding["confidence"]) == ("aws-appsync-api-key", "low")
    assert appsync_filler() not in scanned.stdout.decode()  # redacted without --show-secrets


@pytest.mark.parametrize(("keywords", "anchored"), [
    (["da2-"], True), (["hooks.slack.com/services/"], True), (["datadog", "dd_api"], True),
    (["sk-ant-api"], True), (["nvapi-"], True), (["begin rsa private key"], True), (["auth0"], True),
    (["token:"], False), (["api-"], False), (["client_secret"], False), (["_authtoken"], False),
    (["accountkey"], False), (["$1$"], False), (["datadog", "api_key"], False), ([], False),
])
def test_a_rule_is_anchored_by_its_provider_when_every_keyword_names_one(keywords: list[str], anchored: bool) -> None:
    rule = {"id": "acme-token", "description": "Acme token", "severity": "high", "regex": r"acme_[a-z]{8}",
            "keywords": keywords}
    assert rule_from_dict(rule, "acme.toml").reports_filler is anchored
    assert rule_from_dict({**rule, "id": "generic-acme"}, "acme.toml").reports_filler is False
    assert rule_from_dict({**rule, "vendored": False}, "acme.toml").reports_filler is False


def _history(repo: GitRepo, *args: str) -> list[tuple[str, str, str, bool]]:
    proc = repo.run_mcp_scan("history", "--format", "json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return sorted((f["rule_id"], f["path"], f["confidence"], EXAMPLE_NOTE in f["message"])
                  for f in json.loads(proc.stdout)["findings"])


def test_history_reports_an_example_as_a_scan_does_cold_and_warm(git_repo: GitRepo) -> None:
    git_repo.stage("src/client.js", f'const key = "{appsync_filler()}";\n')
    git_repo.commit(f"add the client\n\nwebhook: {slack_webhook_filler()}\n")
    expected = [("aws-appsync-api-key", "src/client.js", "low", True),
                ("slack-webhook-url", "(commit message)", "low", True)]
    found = _history(git_repo, "--no-cache")
    assert [(r, c, e) for r, _, c, e in found] == [(r, c, e) for r, _, c, e in expected], found
    assert _history(git_repo) == found  # cold: writes the cache
    assert _history(git_repo) == found  # warm: read from it
    assert _history(git_repo, "--min-confidence", "medium") == []
