"""Slack webhook URLs as they appear outside a plain https:// string (issue 14).

JSON writers that escape slashes (PHP's json_encode, some loggers) turn the URL
into ``https:\\/\\/hooks.slack.com\\/services\\/...``; configs and chat logs drop
the scheme; GovSlack serves webhooks from hooks.slack-gov.com. Each is still the
same credential. Values are generated fakes.
"""
from __future__ import annotations

import pytest

from scanner.detect import Detector
from scanner.prefilter import hyperscan_available
from scanner.rules import builtin_rules
from tests.fakes import fake

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
TEAM = "T" + fake(8, _UPPER, seed=301)
HOOK = "B" + fake(10, _UPPER, seed=302)
SECRET = fake(24, seed=303)


def rule_ids(text: str, engine: str = "auto") -> list[str]:
    return [f.rule_id for f in Detector(builtin_rules(), engine=engine).scan_text(text, "notify.json")]


@pytest.mark.parametrize("engine", ["python"] + (["hyperscan"] if hyperscan_available() else []))
@pytest.mark.parametrize("url", [
    f"https:\\/\\/hooks.slack.com\\/services\\/{TEAM}\\/{HOOK}\\/{SECRET}",
    f"hooks.slack.com/services/{TEAM}/{HOOK}/{SECRET}",
    f"https://hooks.slack-gov.com/services/{TEAM}/{HOOK}/{SECRET}",
])
def test_webhook_url_variants_are_found(url: str, engine: str) -> None:
    padding = '{"pad": "' + "lorem ipsum " * 500 + '"}\n' if engine == "hyperscan" else ""
    assert rule_ids(f'{padding}{{"webhook_url": "{url}"}}\n', engine) == ["slack-webhook-url"]


def test_workflow_webhook_with_escaped_slashes() -> None:
    url = f"https:\\/\\/hooks.slack.com\\/triggers\\/{TEAM}AB\\/{fake(13, '0123456789', seed=304)}\\/{SECRET}"
    assert rule_ids(f'"trigger": "{url}"\n') == ["slack-workflow-webhook-url"]


def test_lookalike_host_is_not_a_slack_webhook() -> None:
    assert rule_ids(f"https://webhooks.slack.com.evil.io/services/{TEAM}/{HOOK}/{SECRET}\n") == []
