"""``mcp-scan sweep`` and ``merge``: many real repositories, shards, failures, merged reports."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scanner.errors import EXIT_USAGE, ScanError
from scanner.sweep import discover, finding_from_dict, in_shard, parse_shard, shard_of
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo
from tests.sarif_test import validate


def mcp_scan(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=cwd, capture_output=True, text=True)


def make_repo(path: Path, secret: str = "") -> GitRepo:
    repo = GitRepo.init(path)
    repo.stage("README.md", f"{path.name}\n")
    repo.commit("init")
    if secret:
        repo.stage("conf/.env", f"STRIPE_KEY={secret}\n")
        repo.commit("add key")
        repo.git("rm", "-q", "conf/.env")
        repo.commit("remove key (still in history)")
    return repo


@pytest.fixture
def org(tmp_path: Path) -> dict[str, Any]:
    """repos/: a/ (leaky), b/ (clean), group/c/ (leaky), d.git (bare clone of a), plain dir, nested repo inside a."""
    root = tmp_path / "repos"
    secrets = {"a": stripe_live_key(seed=41), "c": stripe_live_key(seed=42)}
    a = make_repo(root / "a", secrets["a"])
    make_repo(root / "b")
    make_repo(root / "group" / "c", secrets["c"])
    subprocess.run(["git", "clone", "-q", "--bare", str(a.path), str(root / "d.git")], check=True)
    (root / "not-a-repo" / "sub").mkdir(parents=True)
    (root / "not-a-repo" / "sub" / "file.txt").write_text("x\n")
    # A repository inside a work tree (vendored, or an untracked clone) is not swept separately.
    make_repo(root / "a" / "vendor" / "inner", stripe_live_key(seed=43))
    return {"root": root, "secrets": secrets, "cwd": tmp_path}


def test_discover_finds_work_trees_and_bare_repos_without_descending(org: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(org["cwd"])
    names = [t.name for t in discover(["repos"])]
    assert names == ["repos/a", "repos/b", "repos/d.git", "repos/group/c"]
    single = discover(["repos/group/c"])
    assert [t.name for t in single] == ["repos/group/c"]


def test_list_file_relative_to_itself_with_comments(org: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "repos.txt").write_text("# the payments team\n../repos/a\n\n  ../repos/d.git  \n../repos/missing\n../repos/not-a-repo\n")
    monkeypatch.chdir(tmp_path / "repos")  # the working directory does not matter
    targets = discover([str(lists / "repos.txt")])
    assert [t.name for t in targets] == ["../repos/a", "../repos/d.git", "../repos/missing", "../repos/not-a-repo"]
    assert [t.problem for t in targets] == [None, None, "no such directory", "not a git repository"]
    with pytest.raises(ScanError) as info:
        discover([str(tmp_path / "nope")])
    assert info.value.exit_code == EXIT_USAGE


def test_shards_are_disjoint_cover_everything_and_are_stable(org: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(org["cwd"])
    targets = discover(["repos"])
    for total in (1, 2, 3, 7):
        slices = [in_shard(targets, i, total) for i in range(1, total + 1)]
        names = [t.name for s in slices for t in s]
        assert sorted(names) == sorted(t.name for t in targets)  # covered, and nothing twice
        assert len(names) == len(set(names))
    # Order-independent: a shard depends on the name alone.
    assert in_shard(list(reversed(targets)), 1, 3) == list(reversed(in_shard(targets, 1, 3)))
    assert shard_of("repos/a", 5) == shard_of("repos/a", 5)
    assert {shard_of(f"org/repo{i}", 4) for i in range(200)} == {1, 2, 3, 4}
    for bad in ("0/3", "4/3", "x/3", "1/0", "3"):
        with pytest.raises(ScanError):
            parse_shard(bad)
    assert parse_shard("2/4") == (2, 4)


def test_sweep_reports_every_repo_with_repo_field(org: dict[str, Any]) -> None:
    proc = mcp_scan(org["cwd"], "sweep", "repos", "--format", "json", "--jobs", "2")
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout)
    got = sorted((f["repo"], f["path"]) for f in document["findings"])
    assert got == [("repos/a", "conf/.env"), ("repos/d.git", "conf/.env"), ("repos/group/c", "conf/.env")]
    for secret in org["secrets"].values():
        assert secret not in proc.stdout + proc.stderr
    assert document["stats"]["repositories"] == 4 and document["stats"]["failed"] == 0
    assert document["stats"]["errors"] == []
    assert all(f["present_at_head"] is False for f in document["findings"])


def test_a_failing_repo_is_an_error_not_a_stop(org: dict[str, Any]) -> None:
    broken = GitRepo.init(org["root"] / "broken")
    broken.stage("x.txt", "x\n")
    broken.commit("x")
    # Corrupt it: the HEAD commit's object disappears.
    objects = broken.path / ".git" / "objects"
    for path in objects.rglob("*"):
        if path.is_file() and path.parent.name not in ("info", "pack"):
            path.chmod(0o644)
            path.unlink()
    proc = mcp_scan(org["cwd"], "sweep", "repos", "--format", "json")
    assert proc.returncode == 3, proc.stderr
    document = json.loads(proc.stdout)
    assert {f["repo"] for f in document["findings"]} == {"repos/a", "repos/d.git", "repos/group/c"}
    assert [e["repo"] for e in document["stats"]["errors"]] == ["repos/broken"]
    assert "repos/broken" in proc.stderr


def test_shards_then_merge_equals_one_sweep(org: dict[str, Any], tmp_path: Path) -> None:
    cwd = org["cwd"]
    whole = mcp_scan(cwd, "sweep", "repos", "--format", "json", "--jobs", "1")
    reports = []
    for i in (1, 2, 3):
        out = tmp_path / f"shard{i}.json"
        proc = mcp_scan(cwd, "sweep", "repos", "--shard", f"{i}/3", "--format", "json", "-o", str(out))
        assert proc.returncode in (0, 1), proc.stderr
        reports.append(str(out))
    merged = mcp_scan(cwd, "merge", *reports, reports[0])  # a shard given twice is deduplicated
    assert merged.returncode == 1, merged.stderr
    expected = json.loads(whole.stdout)
    document = json.loads(merged.stdout)
    key = lambda f: (f["repo"], f["path"], f["fingerprint"])  # noqa: E731
    assert sorted(map(key, document["findings"])) == sorted(map(key, expected["findings"]))
    assert document["findings"] == sorted(document["findings"], key=lambda f: (f["repo"], f["path"], f["line"]))
    shard1 = json.loads(Path(reports[0]).read_text())
    assert document["stats"]["reports"] == 4
    assert document["stats"]["duplicates"] == len(shard1["findings"])
    assert document["stats"]["repositories"] == expected["stats"]["repositories"] + shard1["stats"]["repositories"]
    assert document["stats"]["commits"] >= expected["stats"]["commits"]
    for secret in org["secrets"].values():
        assert secret not in merged.stdout


def test_merge_to_sarif_and_html_and_text(org: dict[str, Any], tmp_path: Path) -> None:
    cwd = org["cwd"]
    report = tmp_path / "all.json"
    mcp_scan(cwd, "sweep", "repos", "--format", "json", "-o", str(report))
    sarif = mcp_scan(cwd, "merge", str(report), "--format", "sarif")
    assert sarif.returncode == 1
    log = json.loads(sarif.stdout)
    validate(log)
    results = log["runs"][0]["results"]
    assert {r["properties"]["repo"] for r in results} == {"repos/a", "repos/d.git", "repos/group/c"}
    # Redacted once, not redacted again.
    snippets = {r["locations"][0]["physicalLocation"]["region"]["snippet"]["text"] for r in results}
    assert snippets == {"sk_l***REDACTED***"}
    html_out = tmp_path / "all.html"
    assert mcp_scan(cwd, "merge", str(report), "--format", "html", "-o", str(html_out)).returncode == 1
    page = html_out.read_text("utf-8")
    assert page.count('<tr class="finding">') == 3 and "repos/group/c" in page
    text = mcp_scan(cwd, "merge", str(report), "--format", "text")
    assert "repo:     repos/a" in text.stdout and "sk_l***REDACTED***" in text.stdout


def test_merge_redacts_reports_written_with_show_secrets(org: dict[str, Any], tmp_path: Path) -> None:
    cwd = org["cwd"]
    report = tmp_path / "full.json"
    mcp_scan(cwd, "sweep", "repos/group", "--format", "json", "--show-secrets", "-o", str(report))
    assert org["secrets"]["c"] in report.read_text()
    merged = mcp_scan(cwd, "merge", str(report))
    assert org["secrets"]["c"] not in merged.stdout and "REDACTED" in merged.stdout
    shown = mcp_scan(cwd, "merge", str(report), "--show-secrets")
    assert org["secrets"]["c"] in shown.stdout


def test_merge_rejects_what_is_not_a_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"runs": []}')
    proc = mcp_scan(tmp_path, "merge", str(bad))
    assert proc.returncode == EXIT_USAGE and "bad.json" in proc.stderr
    (tmp_path / "junk.json").write_text("not json")
    assert mcp_scan(tmp_path, "merge", str(tmp_path / "junk.json")).returncode == EXIT_USAGE
    assert mcp_scan(tmp_path, "merge", str(tmp_path / "missing.json")).returncode == EXIT_USAGE


def test_finding_from_dict_keeps_extra_fields() -> None:
    finding = finding_from_dict({"rule_id": "r", "severity": "high", "message": "R detected", "path": "p", "line": 3,
                                 "column": 4, "secret": "abcd***REDACTED***", "fingerprint": "f", "repo": "x",
                                 "present_at_head": True})
    assert finding.extra == {"repo": "x", "present_at_head": True}
    assert finding.secret == "abcd***REDACTED***" and finding.description == "R"
    assert finding_from_dict({"rule_id": "r", "secret": "s3cr3tvalue1"}).secret != "s3cr3tvalue1"


def test_sweep_list_and_shard_usage(org: dict[str, Any]) -> None:
    listed = mcp_scan(org["cwd"], "sweep", "repos", "--list")
    assert listed.stdout.split() == ["repos/a", "repos/b", "repos/d.git", "repos/group/c"]
    parts = [mcp_scan(org["cwd"], "sweep", "repos", "--list", "--shard", f"{i}/2").stdout.split() for i in (1, 2)]
    assert sorted(parts[0] + parts[1]) == listed.stdout.split() and not set(parts[0]) & set(parts[1])
    bad = mcp_scan(org["cwd"], "sweep", "repos", "--shard", "3/2")
    assert bad.returncode == EXIT_USAGE and "--shard" in bad.stderr
