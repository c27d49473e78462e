"""``mcp-scan history --group secret`` reports one finding per secret, listing every path and commit
it was seen at; the default stays one finding per secret and path.

Real temporary repositories and real git; the secrets are generated fakes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import jsonschema
import pytest

from tests.ci_test import CI_NAMES, CI_PREFIXES
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo
from tests.json_contract_test import schema


def history(repo: GitRepo, *args: str) -> tuple[int, str]:
    proc = repo.run_mcp_scan("history", "--no-cache", *(args if "--group" in args else ("--group", "secret", *args)))
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def history_json(repo: GitRepo, *args: str) -> dict[str, Any]:
    code, out = history(repo, "--format", "json", *args)
    assert code == 1, out
    report: dict[str, Any] = json.loads(out)
    return report


def copied_key(repo: GitRepo) -> tuple[str, list[str]]:
    """One key committed at three paths over three commits (an example copied around), the
    middle copy removed since; and an unrelated second key. Returns the key and the commits."""
    key = stripe_live_key(21)
    repo.stage("examples/a/settings.py", f"KEY = '{key}'\n")
    first = repo.commit("add example a", date="2024-01-01T10:00:00+00:00")
    repo.stage("examples/b/settings.py", f"KEY = '{key}'\n")
    repo.stage("examples/c/settings.py", f"# copy\nKEY = '{key}'\n")  # same commit, two paths: one commit
    second = repo.commit("copy to b and c", date="2024-02-01T10:00:00+00:00")
    repo.git("rm", "-q", "examples/b/settings.py")
    repo.stage("other.py", f"OTHER = '{stripe_live_key(22)}'\n")
    third = repo.commit("drop b, add another key", date="2024-03-01T10:00:00+00:00")
    return key, [first, second, third]


def test_one_secret_at_three_paths_is_one_finding_listing_them(git_repo: GitRepo) -> None:
    key, (first, second, _) = copied_key(git_repo)
    report = history_json(git_repo, "--show-secrets")
    assert report["stats"]["findings"] == len(report["findings"]) == 2
    [copied] = [f for f in report["findings"] if f["secret"] == key]
    # headed by the earliest introduction
    assert (copied["path"], copied["commit"], copied["line"]) == ("examples/a/settings.py", first, 1)
    assert [(loc["path"], loc["commit"], loc["line"]) for loc in copied["locations"]] == [
        ("examples/a/settings.py", first, 1),
        ("examples/b/settings.py", second, 1),
        ("examples/c/settings.py", second, 2),
    ]
    assert copied["paths"] == 3
    # the commits that added a version carrying it, at any path, each once: first and second
    # (second added two copies; the per-path counts sum to 3)
    assert copied["commits"] == 2
    assert copied["present_at_head"] is True  # a and c are still there
    assert [loc["present_at_head"] for loc in copied["locations"]] == [True, False, True]
    assert all("secret" not in loc for loc in copied["locations"])
    jsonschema.Draft202012Validator(schema()).validate(report)


def test_the_default_and_group_path_give_one_finding_per_path(git_repo: GitRepo) -> None:
    key, _ = copied_key(git_repo)
    report = history_json(git_repo, "--show-secrets", "--group", "path")
    assert sorted(f["path"] for f in report["findings"] if f["secret"] == key) == [
        "examples/a/settings.py", "examples/b/settings.py", "examples/c/settings.py"]
    assert all("locations" not in f for f in report["findings"])
    assert report["stats"]["findings"] == 4
    default = json.loads(git_repo.run_mcp_scan("history", "--no-cache", "--format", "json", "--show-secrets").stdout)
    assert default["findings"] == report["findings"]


def test_allow_paths_drop_a_location_before_grouping(git_repo: GitRepo) -> None:
    key, (_, second, _) = copied_key(git_repo)
    git_repo.write(".mcp-scan.toml", 'allow-paths = ["examples/a/**"]\n')
    report = history_json(git_repo, "--show-secrets")
    [copied] = [f for f in report["findings"] if f["secret"] == key]
    assert copied["path"] == "examples/b/settings.py" and copied["commit"] == second
    assert [loc["path"] for loc in copied["locations"]] == ["examples/b/settings.py", "examples/c/settings.py"]
    assert copied["paths"] == 2


def test_text_and_sarif_show_the_other_locations(git_repo: GitRepo) -> None:
    copied_key(git_repo)
    code, text = history(git_repo)
    assert code == 1
    assert text.count("stripe-live-secret-key") >= 2  # two secrets, one block each
    assert "    also at:  examples/b/settings.py:1:" in text
    assert "    also at:  examples/c/settings.py:2:" in text
    assert "2 findings" in text
    code, out = history(git_repo, "--format", "sarif")
    assert code == 1
    results = json.loads(out)["runs"][0]["results"]
    assert len(results) == 2
    related = [r.get("relatedLocations", []) for r in results]
    uris = sorted(loc["physicalLocation"]["artifactLocation"]["uri"] for locs in related for loc in locs)
    assert uris == ["examples/b/settings.py", "examples/c/settings.py"]


def test_grouped_reports_agree_cold_and_warm(git_repo: GitRepo) -> None:
    copied_key(git_repo)

    def grouped(*args: str) -> list[Any]:
        proc = git_repo.run_mcp_scan("history", "--group", "secret", "--format", "json", *args)
        assert proc.returncode == 1
        return sorted((f["fingerprint"], f["path"], f["commits"], f["paths"], json.dumps(f["locations"]))
                      for f in json.loads(proc.stdout)["findings"])

    cold = grouped("--no-cache")
    assert grouped() == grouped() == cold  # the first run writes the cache, the second reads it


ZERO = "0" * 40
RANGE_COMMANDS = {
    "ci": ["ci", "--no-sarif", "--no-annotations", "--no-summary"],
    "pre-push": ["pre-push", "origin", "unused-url"],
    "sweep": ["sweep", "."],
}


@pytest.mark.parametrize("name", list(RANGE_COMMANDS))
def test_the_range_commands_group_by_secret_too(git_repo: GitRepo, name: str) -> None:
    """``ci``, ``pre-push`` and ``sweep`` scan history with the same engine: ``--group secret``
    gives them the same one-finding-per-secret report as ``history``."""
    key, (first, _, _) = copied_key(git_repo)
    tip = git_repo.git("rev-parse", "HEAD").strip()
    # a whole-history CI run, whatever CI this suite itself runs in
    env = {k: v for k, v in os.environ.items() if not k.startswith(CI_PREFIXES) and k not in CI_NAMES}
    stdin = f"refs/heads/main {tip} refs/heads/main {ZERO}\n".encode() if name == "pre-push" else None
    command = [sys.executable, "-m", "scanner", *RANGE_COMMANDS[name], "--format", "json", "--show-secrets",
               "--min-confidence", "low"]
    reports = {}
    for group in ("secret", "path"):
        proc = subprocess.run([*command, "--group", group], cwd=git_repo.path, input=stdin, capture_output=True,
                              env=env)
        assert proc.returncode == 1, proc.stderr
        reports[group] = json.loads(proc.stdout)
    copies = [f for f in reports["secret"]["findings"] if f["secret"] == key]
    assert len(copies) == 1, copies
    assert copies[0]["paths"] == 3 and copies[0]["commit"] == first
    assert len(copies[0]["locations"]) == 3
    assert len([f for f in reports["path"]["findings"] if f["secret"] == key]) == 3
