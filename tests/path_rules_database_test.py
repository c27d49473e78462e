"""Rules written for kinds of file other than source code (a ``path`` condition) are left out of
the Hyperscan search of texts none of them may match: a second database holds every other pattern
under the same ids (``RuleMatcher.scan``). It must report exactly the full database's matches less
those rules', and a path one of those rules may match must get the full database."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

pytest.importorskip("hyperscan")

from scanner.detect import Detector  # noqa: E402
from scanner.history.scan import scan_history  # noqa: E402
from scanner.rulematch import SOURCE_FILES, RuleMatcher, rule_matcher  # noqa: E402
from scanner.rules import Rule, builtin_rules  # noqa: E402
from tests.git_helpers import GitRepo  # noqa: E402

RULES = builtin_rules()


def _path_rules() -> Iterator[Rule]:
    return (rule for rule in RULES if rule.path and rule.examples and rule.example_path and rule.keywords)


@pytest.fixture
def matcher() -> Iterator[RuleMatcher]:
    shared = rule_matcher(RULES)  # the process's matcher: other tests must find its path unset
    yield shared
    shared.path = None


def test_a_path_no_path_rule_admits_gets_the_full_matches_less_the_path_rules(matcher: RuleMatcher) -> None:
    path_rule_ids = {i for i, rule in enumerate(matcher.rules)
                     if rule.path and not any(rule.path_pattern.search(p) for p in SOURCE_FILES)}
    assert "csv-password-column" in {matcher.rules[i].id for i in path_rule_ids}
    seen_path_rule = 0
    before = matcher.common_scans
    texts = [x.encode("utf-8", "replace") for rule in RULES for x in rule.examples + rule.negative_examples]
    for text in texts:  # every rule's examples: every pattern's matches, one text at a time
        matcher.path = None
        full = sorted(matcher.scan(text) or [])
        matcher.path = "src/app.py"
        common = sorted(matcher.scan(text) or [])
        seen_path_rule += any(matcher.pattern_rule[p] in path_rule_ids for p, _ in full)
        assert common == [(p, end) for p, end in full if matcher.pattern_rule[p] not in path_rule_ids], text
    assert matcher.common_scans == before + len(texts)
    assert seen_path_rule >= 10  # the full database did report the path rules' matches


@pytest.mark.parametrize("rule", list(_path_rules()), ids=lambda r: r.id)
def test_a_path_rule_is_searched_at_its_own_kind_of_file(matcher: RuleMatcher, rule: Rule) -> None:
    index = matcher.rules.index(rule)
    if not any(matcher.pattern_rule[p] == index for p in range(len(matcher.pattern_rule))):
        pytest.skip("no Hyperscan pattern (a path-mode rule)")
    matcher.path = rule.example_path
    before = matcher.common_scans
    found = matcher.scan(rule.examples[0].encode("utf-8")) or []
    if not any(rule.path_pattern.search(p) for p in SOURCE_FILES):  # a rule for other kinds of file:
        assert matcher.common_scans == before  # its own kind gets the full database
    assert any(matcher.pattern_rule[p] == index for p, _ in found)


def test_history_and_scan_find_path_rules_at_their_paths_and_not_elsewhere(git_repo: GitRepo) -> None:
    """Each path rule's example at its own kind of file and, commented out, in a Python file: history
    and ``scan`` (Hyperscan, the database chosen per path) report what the pure-Python engine reports."""
    rules = list(_path_rules())
    for number, rule in enumerate(rules):
        git_repo.stage(f"r{number}/{rule.example_path}", rule.examples[0] + "\n")
        git_repo.stage(f"r{number}/elsewhere/notes.py", "# " + rule.examples[0].replace("\n", "\n# ") + "\n")
    git_repo.commit("path rules")

    def history(engine: str) -> set[tuple[str, str]]:
        result = scan_history(str(git_repo.path), Detector(list(RULES), engine=engine), jobs=1, use_cache=False)
        return {(f.rule_id, f.path) for f in result.findings}

    found = history("hyperscan")
    assert found == history("python")
    out = subprocess.run([sys.executable, "-m", "scanner", "scan", str(git_repo.path), "--no-config", "--format", "json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 1, out.stderr
    assert {(f["rule_id"], os.path.relpath(f["path"], git_repo.path))
            for f in json.loads(out.stdout)["findings"]} == found
    for number, rule in enumerate(rules):
        assert any(path == f"r{number}/{rule.example_path}" for _, path in found), rule.id
        assert (rule.id, f"r{number}/elsewhere/notes.py") not in found, rule.id
