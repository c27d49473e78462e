"""Importing a gitleaks config: custom rules fire, allowlists suppress, the untranslatable is reported."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import regex

from scanner.cli import main
from scanner.gitleaks_import import TranslationError, load_gitleaks_config, translate_re2
from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo

HEX = "0123456789ABCDEF"

# A team's own config, written for these tests (not gitleaks' default rules). Test
# content avoids words the built-in generic rules key on (token, secret, key).
TEAM_CONFIG = r"""
title = "team rules"

[extend]
useDefault = true

[[rules]]
id = "acme-internal-token"
description = "Acme internal service token"
regex = '''(?i)acme[_-]?(?:id|ref)\s*[:=]\s*["']?(ACME-[[:xdigit:]]{32})\b'''
secretGroup = 1
entropy = 2.5
keywords = ["acme"]
tags = ["internal"]
  [[rules.allowlists]]
  stopwords = ["cafebabe"]
  [[rules.allowlists]]
  paths = ['''(^|/)testdata/''']

[[rules]]
id = "widget-key"
description = "Widget key with a case-insensitive tail"
regex = '''widget=(?i)(wk_[a-z]{16})\z'''
keywords = ["widget="]

[[rules]]
id = "lazy-rule"
regex = '''(?U)lazy_[a-z]+'''

[[rules]]
id = "raw-bytes"
regex = '''\Ckey_[0-9]+'''

[[rules]]
id = "pem-file"
path = '''\.pem$'''

[allowlist]
description = "vendored code"
paths = ['''^vendor/''']
"""


def acme_token(seed: int = 0) -> str:
    return "ACME-" + fake(32, HEX, seed=seed)


@pytest.fixture
def team(tmp_path: Path) -> Path:
    path = tmp_path / ".gitleaks.toml"
    path.write_text(TEAM_CONFIG)
    return path


def scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, object]], str]:
    code = main(["scan", "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out)["findings"] if out else [], err


def test_custom_rule_fires(team: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "src" / "settings.py"
    target.parent.mkdir()
    target.write_text(f'ACME_ID = "{acme_token()}"\n')
    code, findings, _ = scan_json(capsys, str(target))
    assert code == 0 and findings == []  # not a built-in rule
    code, findings, err = scan_json(capsys, "--gitleaks-config", str(team), str(target))
    assert code == 1
    assert [(f["rule_id"], f["line"]) for f in findings] == [("acme-internal-token", 1)]
    assert acme_token() not in json.dumps(findings)  # redacted like every finding


def test_untranslatable_rules_are_reported_and_skipped(team: Path, capsys: pytest.CaptureFixture[str]) -> None:
    imported = load_gitleaks_config(team)
    assert sorted(r.id for r in imported.rules) == ["acme-internal-token", "widget-key"]
    assert sorted(imported.skipped) == ["lazy-rule", "pem-file", "raw-bytes"]
    text = "\n".join(imported.warnings)
    assert "'lazy-rule': skipped: (?U) ungreedy mode has no equivalent" in text
    assert "'raw-bytes': skipped: \\C (any byte) has no equivalent" in text
    assert "'pem-file': skipped: path-only rules" in text
    assert "extend.useDefault" in text
    # The command prints the same on stderr and still scans with what it could import.
    code, _, err = scan_json(capsys, "--gitleaks-config", str(team), str(team))
    assert code == 0
    assert "mcp-scan: warning:" in err and "lazy-rule" in err and "3 gitleaks rule(s) not imported" in err
    code, _, err = scan_json(capsys, "-q", "--gitleaks-config", str(team), str(team))
    assert err == ""


def test_mid_pattern_flags_and_end_of_text(team: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "wk_" + fake(16, "abcdefghijklmnopqrstuvwxyz", seed=3)
    hit = tmp_path / "hit.txt"
    hit.write_text(f"widget={secret.upper()}")  # (?i) covers the tail
    miss_prefix = tmp_path / "miss1.txt"
    miss_prefix.write_text(f"WIDGET={secret}")  # the part before (?i) stays case-sensitive
    miss_end = tmp_path / "miss2.txt"
    miss_end.write_text(f"widget={secret}\n")  # \z: the very end of the text, not before a newline
    code, findings, _ = scan_json(capsys, "--gitleaks-config", str(team), str(hit), str(miss_prefix), str(miss_end))
    assert [Path(str(f["path"])).name for f in findings] == ["hit.txt"]
    assert findings[0]["rule_id"] == "widget-key"


def test_rule_allowlists_suppress_only_their_rule(team: Path, git_repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    git_repo.stage("src/a.py", f'acme_ref = "{acme_token(1)}"\n')
    git_repo.stage("src/b.py", f'acme_ref = "ACME-CAFEBABE{fake(24, HEX, seed=9)}"\n')  # stopword
    git_repo.stage("pkg/testdata/c.py", f'acme_ref = "{acme_token(2)}"\nSTRIPE = "{stripe_live_key(1)}"\n')
    code = main(["staged", "--repo", str(git_repo.path), "--gitleaks-config", str(team), "--format", "json", "-q"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    assert sorted((f["path"], f["rule_id"]) for f in findings) == [
        ("pkg/testdata/c.py", "stripe-live-secret-key"),  # the testdata allowlist belongs to the acme rule
        ("src/a.py", "acme-internal-token"),
    ]


def test_global_allowlist_applies_to_built_in_rules(team: Path, git_repo: GitRepo) -> None:
    git_repo.stage("vendor/lib/keys.py", f'STRIPE = "{stripe_live_key(2)}"\n')
    assert main(["staged", "--repo", str(git_repo.path), "-q"]) == 1
    assert main(["staged", "--repo", str(git_repo.path), "-q", "--gitleaks-config", str(team)]) == 0


def test_global_allowlists_with_target_rules_condition_and_commits(tmp_path: Path, git_repo: GitRepo) -> None:
    git_repo.stage("app/one.py", f'STRIPE = "{stripe_live_key(3)}"\n')
    first = git_repo.commit("one")
    git_repo.stage("app/two.py", f'STRIPE = "{stripe_live_key(4)}"\n')
    git_repo.commit("two")
    config = tmp_path / "gl.toml"
    config.write_text(f"""
[[allowlists]]
targetRules = ["stripe-live-secret-key"]
commits = ["{first[:12]}"]

[[allowlists]]
condition = "AND"
paths = ['''two\\.py$''']
regexes = ['''^sk_live_NOTTHIS''']
""")
    history = ["history", str(git_repo.path), "--format", "json", "-q", "--no-cache"]
    assert main([*history]) == 1
    code = main([*history, "--gitleaks-config", str(config), "-o", str(tmp_path / "r.json")])
    paths = [f["path"] for f in json.loads((tmp_path / "r.json").read_text())["findings"]]
    assert code == 1 and paths == ["app/two.py"]  # AND: the path matches but the regex does not
    config.write_text(config.read_text().replace("^sk_live_NOTTHIS", "^sk_live_"))
    assert main([*history, "--gitleaks-config", str(config)]) == 0


def test_imported_rule_replaces_built_in_rule_with_the_same_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gl.toml"
    config.write_text("""
[[rules]]
id = "stripe-live-secret-key"
description = "Stripe key (team version)"
regex = '''sk_live_[0-9A-Za-z]{24}'''
keywords = ["sk_live_"]
[rules.allowlist]
regexTarget = "line"
regexes = ['''^sk_live_''']
""")
    target = tmp_path / "k.env"
    target.write_text(f"K={stripe_live_key(5)}\n")
    code, findings, err = scan_json(capsys, "--gitleaks-config", str(config), str(target))
    assert "regexTarget 'line' is approximated" in err
    # the old singular [rules.allowlist] applies (approximated against the secret)
    assert code == 0 and findings == []


def test_extend_path_and_disabled_rules(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text("""
[[rules]]
id = "base-one"
regex = '''one_[a-z]{8}'''
[[rules]]
id = "base-two"
regex = '''two_[a-z]{8}'''
""")
    (tmp_path / "team.toml").write_text("""
[extend]
path = "base.toml"
disabledRules = ["base-two"]
[[rules]]
id = "team"
regex = '''team_[a-z]{8}'''
""")
    assert sorted(r.id for r in load_gitleaks_config(tmp_path / "team.toml").rules) == ["base-one", "team"]


def test_bad_gitleaks_config_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--gitleaks-config", str(tmp_path / "absent.toml"), str(tmp_path)]) == 2
    assert "absent.toml does not exist" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text("[[rules]\nid = 1\n")
    assert main(["scan", "--gitleaks-config", str(broken), str(tmp_path)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    broken.write_text('rules = "x"\n')
    assert main(["scan", "--gitleaks-config", str(broken), str(tmp_path)]) == 2


def test_every_scanning_command_takes_the_flag() -> None:
    from scanner.cli import build_parser

    parser = build_parser()
    for command in (["scan", "x"], ["staged"], ["history"], ["ci"], ["pre-push"], ["sweep", "d"], ["baseline", "create"]):
        args = parser.parse_args([*command, "--gitleaks-config", "g.toml"])
        assert args.gitleaks_config == "g.toml"


@pytest.mark.parametrize(
    ("re2", "text", "expected"),
    [
        (r"abc(?i)def", "abcDEF", True),
        (r"abc(?i)def", "ABCdef", False),
        (r"a(?i)b|c", "C", True),  # RE2: the flag runs across '|' to the end of the group
        (r"a(?i)b|c", "xB", False),
        (r"(x(?i)y)z", "xYz", True),
        (r"(x(?i)y)z", "xYZ", False),  # ... and stops at the group's ')'
        (r"(?i)token", "TOKEN", True),
        (r"(?s:a.b)", "a\nb", True),
        (r"key\z", "key", True),
        (r"key\z", "key\n", False),
        (r"^[[:alpha:]]+$", "abc", True),
        (r"[[:alpha:]]", "é", False),  # RE2's POSIX classes are ASCII
        (r"^[[:^digit:]]$", "5", False),
        (r"^[[:^digit:]]$", "x", True),
        (r"\Qa.b*\E", "a.b*", True),
        (r"\Qa.b*\E", "axbb", False),
        (r"\x{41}", "A", True),
        (r"\101", "A", True),
        (r"\w+", "é", False),  # RE2's \w is ASCII
        (r"(?P<key>[a-z]+)", "abc", True),
        (r"[a-z[]", "[", True),
        (r"^x{,3}$", "x{,3}", True),  # not a repeat in RE2: literal braces
        (r"^x{,3}$", "xx", False),
        (r"^x{2,}$", "xxx", True),
    ],
)
def test_translate_re2(re2: str, text: str, expected: bool) -> None:
    assert bool(regex.search(translate_re2(re2), text)) is expected


@pytest.mark.parametrize(("re2", "reason"), [(r"(?U)a+", "ungreedy"), (r"\C", "any byte"), (r"a(", "missing )"),
                                             (r"a)", "unbalanced"), (r"[[:nope:]]", "POSIX"), (r"\1", "backreference")])
def test_translate_re2_rejects(re2: str, reason: str) -> None:
    with pytest.raises(TranslationError, match=regex.escape(reason)):
        translate_re2(re2)


def test_disabled_rules_also_disable_a_built_in_rule_and_duplicates_warn(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gl.toml"
    config.write_text("""
[extend]
useDefault = true
disabledRules = ["stripe-live-secret-key"]
[[rules]]
id = "dup"
regex = '''dup_[a-z]{8}'''
[[rules]]
id = "dup"
regex = '''dup_[0-9]{8}'''
""")
    target = tmp_path / "k.env"
    target.write_text(f"STRIPE={stripe_live_key(6)}\n")
    code, _, err = scan_json(capsys, str(target))
    assert code == 1
    code, _, err = scan_json(capsys, "--gitleaks-config", str(config), str(target))
    assert code == 0
    assert "rule id 'dup' is defined twice" in err


def test_specific_imported_rule_wins_over_a_generic_one_on_the_same_secret(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """As gitleaks drops generic-api-key hits that a specific rule also reports."""
    config = tmp_path / "gl.toml"
    config.write_text("""
[[rules]]
id = "generic-api-key"
regex = '''(?i)(?:api|acme)[\\w.-]{0,20}\\s*[:=]\\s*["']?([\\w-]{20,60})'''
[[rules]]
id = "acme-ref"
regex = '''\\b(ACME-[[:xdigit:]]{32})\\b'''
""")
    target = tmp_path / "a.txt"
    target.write_text(f"acme_ref = {acme_token(11)}\n")
    code, findings, _ = scan_json(capsys, "--gitleaks-config", str(config), str(target))
    assert [f["rule_id"] for f in findings] == ["acme-ref"]
