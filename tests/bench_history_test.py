"""bench/history.py: its arguments, the planted secrets and their bookkeeping, on tiny real repositories.

Peers are not needed: with no peers venv the benchmark leaves their columns
out and says so (tested here by pointing it at an empty directory).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import history
from tests.git_helpers import GitRepo


@pytest.fixture
def small_repo(git_repo: GitRepo) -> GitRepo:
    for i in range(3):
        git_repo.stage("app.py", "".join(f"value_{n} = {n}\n" for n in range(i + 1)))
        git_repo.commit(f"change {i}")
    return git_repo


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "work"
    where.mkdir()
    monkeypatch.setattr(history, "WORK", where)
    monkeypatch.setattr(history, "PEER_SITE", tmp_path / "no-peers")
    monkeypatch.setenv("MCP_SCAN_CACHE_DIR", str(tmp_path / "cache"))
    return where


def test_secrets_are_planted_on_a_side_branch_and_deleted_one_commit_later(small_repo: GitRepo, work: Path) -> None:
    refs_before = small_repo.git("for-each-ref")
    manifest = history.plant_real(small_repo.path, work / "copy.git", seed=3)
    copy = GitRepo(work / "copy.git")
    planted = manifest["planted"]
    assert [p["kind"] for p in planted] == ["stripe", "github", "aws", "private-key"]
    introducing = planted[0]["commit"]
    assert {p["commit"] for p in planted} == {introducing}
    tip = copy.git("rev-parse", history.PLANTED_BRANCH).strip()
    assert copy.git("rev-parse", f"{tip}^").strip() == introducing
    assert copy.git("rev-parse", f"{introducing}^").strip() == small_repo.git("rev-parse", "HEAD").strip()
    added = copy.git("show", f"{introducing}:{history.PLANTED_PATH}")
    for p in planted:
        assert p["secret"] in added
        assert added.splitlines()[p["line"] - 1].find(p["secret"]) >= 0
    assert history.PLANTED_PATH not in copy.git("ls-tree", "-r", "--name-only", tip)
    assert manifest["stats"]["commits"] == 5
    assert small_repo.git("for-each-ref") == refs_before  # the original is never written
    # the same seed plants the same values
    again = history.plant_real(small_repo.path, work / "again.git", seed=3)
    assert [p["secret"] for p in again["planted"]] == [p["secret"] for p in planted]


def test_recall_needs_the_secret_and_the_introducing_commit_in_one_finding(small_repo: GitRepo, work: Path,
                                                                          tmp_path: Path) -> None:
    manifest = history.plant_real(small_repo.path, work / "copy.git", seed=5)
    planted = manifest["planted"]
    commit = planted[0]["commit"]
    report = tmp_path / "report.json"
    findings = [{"Secret": p["secret"], "Commit": commit, "File": p["path"]} for p in planted]
    report.write_text(json.dumps(findings))
    assert history.recall(report, planted) == (4, 4)
    # a short commit id is enough; another commit is not the introducing one
    findings[0]["Commit"] = commit[:8]
    findings[1]["Commit"] = "0" * 40
    report.write_text(json.dumps({"findings": findings}))
    assert history.recall(report, planted) == (4, 3)
    # the commit in another finding does not attribute a secret
    report.write_text(json.dumps([{"Secret": planted[0]["secret"]}, {"Commit": commit}]))
    assert history.recall(report, planted) == (1, 0)
    report.write_text("")
    assert history.recall(report, planted) == (0, 0)
    assert history.recall(tmp_path / "missing.json", planted) == (0, 0)


def test_a_run_without_peers_reports_mcp_scan_and_names_the_missing_peers(
        small_repo: GitRepo, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert history.main(["--repo", str(small_repo.path), "--runs", "1", "--seed", "9"]) == 0
    out = capsys.readouterr().out
    assert "peers not installed (left out): gitleaks, betterleaks, kingfisher" in out
    rows = {row["tool"]: row for row in json.loads((work / "history-results.json").read_text())[0]["rows"]}
    assert set(rows) == {"mcp-scan (cold)", "mcp-scan (warm)", "mcp-scan (cold, pure Python)"}
    for row in rows.values():
        assert (row["found"], row["attributed"], row["planted"]) == (4, 4, 4)
        assert row["exit"] == [1]
        assert row["ratios"] == {}
    assert "mcp-scan (cold)" in out and " 4/4 " in out


def test_arguments(small_repo: GitRepo, work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> None:
    def usage_error(*argv: str) -> str:
        with pytest.raises(SystemExit) as exc:
            history.main(list(argv))
        assert exc.value.code == 2
        return capsys.readouterr().err

    assert "is not a git repository" in usage_error("--repo", str(tmp_path))
    assert "--runs must be at least 1" in usage_error("--repo", str(small_repo.path), "--runs", "0")
    monkeypatch.setenv("MCP_SCAN_BENCH_REPOS", str(tmp_path / "none"))
    assert "no repositories" in usage_error()
    # the default: every mirror under $MCP_SCAN_BENCH_REPOS; --build-only prepares them and stops
    mirrors = tmp_path / "mirrors"
    mirrors.mkdir()
    small_repo.git("clone", "-q", "--mirror", str(small_repo.path), str(mirrors / "small.git"))
    monkeypatch.setenv("MCP_SCAN_BENCH_REPOS", str(mirrors))
    assert history.main(["--build-only"]) == 0
    assert "small: " in capsys.readouterr().out
    assert (work / "real" / "small.git" / "refs").is_dir()
