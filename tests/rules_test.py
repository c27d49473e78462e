"""The rule loader: errors name the file and the rule; `rules check` on user files."""
from __future__ import annotations

from pathlib import Path

import pytest

from scanner.cli import main
from scanner.errors import EXIT_USAGE, ScanError
from scanner.rules import load_rules, ruleset_hash
from tests.fakes import fake

GOOD = f"""
[[rules]]
id = "acme-token"
description = "Acme API token"
severity = "high"
regex = '''\\b(acme_[0-9a-f]{{32}})\\b'''
keywords = ["acme_"]
min_entropy = 3.0
examples = ["ACME=acme_{fake(32, '0123456789abcdef', 1)}", "token: acme_{fake(32, '0123456789abcdef', 2)}"]
negative_examples = ["acme_0000000000000000000000000000000"]
"""


def write(tmp_path: Path, text: str, name: str = "user.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_rule_file_passes_rules_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check", str(write(tmp_path, GOOD))]) == 0
    assert "1 rules OK" in capsys.readouterr().out


def test_rules_check_reports_a_missed_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = GOOD.replace('keywords = ["acme_"]', 'keywords = ["acmx_"]')
    assert main(["rules", "check", str(write(tmp_path, bad))]) == 1
    assert "acme-token: example 1 is not detected" in capsys.readouterr().out


def test_rules_check_reports_a_detected_negative(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = GOOD.replace('negative_examples = ["acme_0000000000000000000000000000000"]',
                       f'negative_examples = ["acme_{fake(32, "0123456789abcdef", 5)}"]')
    assert main(["rules", "check", str(write(tmp_path, bad))]) == 1
    assert "negative example 1 is detected" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (('severity = "high"', 'severity = "dire"'), "severity 'dire'"),
        (('id = "acme-token"', 'id = "Acme Token"'), "'id' must be"),
        (("regex = '''", "regex = '''(unclosed"), "invalid regex"),
        (('min_entropy = 3.0', 'min_entropy = 3.0\ncolour = "red"'), "unknown key(s) colour"),
        (('description = "Acme API token"\n', ""), "'description' is required"),
    ],
)
def test_loader_errors_name_file_and_rule(tmp_path: Path, mutation: tuple[str, str], message: str) -> None:
    path = write(tmp_path, GOOD.replace(*mutation))
    with pytest.raises(ScanError) as info:
        load_rules([path])
    assert info.value.exit_code == EXIT_USAGE
    assert str(path) in info.value.message and message in info.value.message


def test_duplicate_ids_across_files_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.toml")
    write(tmp_path, GOOD, "b.toml")
    with pytest.raises(ScanError, match="duplicate rule id"):
        load_rules([tmp_path])


def test_invalid_toml_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check", str(write(tmp_path, "[[rules]\nid="))]) == EXIT_USAGE
    assert "not valid TOML" in capsys.readouterr().err


def test_ruleset_hash_changes_with_the_rules(tmp_path: Path) -> None:
    first = ruleset_hash(load_rules([write(tmp_path, GOOD)]))
    second = ruleset_hash(load_rules([write(tmp_path, GOOD.replace("{32}", "{33}"))]))
    assert first != second


def test_user_rules_are_used_by_scans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = write(tmp_path, GOOD)
    target = write(tmp_path, f"x = acme_{fake(32, '0123456789abcdef', 7)}\n", "code.txt")
    assert main(["scan", "--rules", str(rules), str(target)]) == 1
    assert "acme-token" in capsys.readouterr().out


def test_rules_list_shows_builtin_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list"]) == 0
    assert "stripe-live-secret-key" in capsys.readouterr().out
