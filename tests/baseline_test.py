"""Baselines on real repositories: content-keyed, stable, and strict about new secrets."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scanner.baseline import BASELINE_NAME, load_baseline
from scanner.cli import main
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    """A repository with two committed secrets in two files."""
    git_repo.stage("config/prod.env", f"# production\nSTRIPE_KEY={stripe_live_key(1)}\n")
    git_repo.stage("src/app.py", f'API = "{stripe_live_key(2)}"\n')
    git_repo.stage("README.md", "hello\n")
    git_repo.commit("initial")
    return git_repo


def create(repo: GitRepo, *args: str) -> int:
    return main(["baseline", "create", *args, str(repo.path)])


def test_create_writes_stable_json_without_secrets_or_timestamps(repo: GitRepo) -> None:
    assert create(repo) == 0
    path = repo.path / BASELINE_NAME
    first = path.read_bytes()
    text = first.decode()
    assert stripe_live_key(1) not in text and stripe_live_key(2) not in text
    assert stripe_live_key(1)[8:] not in text  # not even the random part
    assert not re.search(r"\d{4}-\d{2}-\d{2}|time|date|line|commit", text, re.IGNORECASE)
    document = json.loads(text)
    assert document["version"] == 1 and document["source"] == "history"
    assert [(e["path"], e["rule_id"]) for e in document["entries"]] == [
        ("config/prod.env", "stripe-live-secret-key"), ("src/app.py", "stripe-live-secret-key")]
    assert text == json.dumps(document, indent=2, sort_keys=True) + "\n"
    # Re-creating an unchanged repository is byte-identical, even after unrelated commits.
    repo.stage("README.md", "hello again\n")
    repo.commit("docs")
    assert create(repo) == 0
    assert path.read_bytes() == first


def test_scanning_commands_suppress_what_the_baseline_lists(repo: GitRepo) -> None:
    assert create(repo) == 0
    baseline = str(repo.path / BASELINE_NAME)
    assert main(["history", str(repo.path)]) == 1
    assert main(["history", str(repo.path), "--baseline", baseline]) == 0
    assert main(["scan", str(repo.path)]) == 1
    assert main(["scan", str(repo.path), "--baseline", baseline]) == 0


def test_scan_from_inside_the_repository_uses_relative_paths(repo: GitRepo) -> None:
    assert create(repo) == 0
    proc = repo.run_mcp_scan("scan", "--baseline", BASELINE_NAME, "config", "src")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_moved_line_stays_suppressed_and_new_secret_fails(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert create(repo) == 0
    baseline = str(repo.path / BASELINE_NAME)
    # The baselined secret moves from line 2 to line 4, on a rewritten line (so the staged diff adds it).
    repo.stage("config/prod.env", f"# production\n\n# moved\nexport STRIPE_KEY='{stripe_live_key(1)}'\n")
    assert main(["staged", "--repo", str(repo.path)]) == 1
    assert main(["staged", "--repo", str(repo.path), "--baseline", baseline]) == 0
    repo.commit("move")
    assert main(["history", str(repo.path), "--baseline", baseline]) == 0
    assert main(["scan", str(repo.path / "config"), "--baseline", baseline]) == 0
    # A new secret in the same file is not covered by the entry for the old one.
    repo.stage("config/prod.env", f"STRIPE_KEY={stripe_live_key(1)}\nSTRIPE_KEY_2={stripe_live_key(3)}\n")
    capsys.readouterr()
    assert main(["staged", "--repo", str(repo.path), "--baseline", baseline, "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["path"], f["line"]) for f in findings] == [("config/prod.env", 2)]


def test_same_secret_in_another_path_is_reported(repo: GitRepo) -> None:
    """Documented choice: entries are per path, so a copy or rename needs `baseline update`."""
    assert create(repo) == 0
    baseline = str(repo.path / BASELINE_NAME)
    repo.git("mv", "src/app.py", "src/main.py")
    repo.commit("rename")
    assert main(["scan", str(repo.path / "src"), "--baseline", baseline]) == 1
    assert main(["baseline", "update", str(repo.path)]) == 0
    assert main(["scan", str(repo.path / "src"), "--baseline", baseline]) == 0


def test_check_and_update_on_the_work_tree(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert create(repo, "--source", "worktree") == 0
    path = repo.path / BASELINE_NAME
    assert load_baseline(path).source == "worktree"
    assert main(["baseline", "check", str(repo.path)]) == 0
    # The secret is removed from the work tree: its entry is stale (check uses the recorded source).
    (repo.path / "src" / "app.py").write_text('API = os.environ["API"]\n')
    capsys.readouterr()
    assert main(["baseline", "check", str(repo.path)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("stale: src/app.py: stripe-live-secret-key (fingerprint ")
    assert stripe_live_key(2) not in out + err
    # A new secret appears; update prunes the stale entry and adds the new one.
    repo.write("deploy/key.env", f"K={stripe_live_key(4)}\n")
    assert main(["baseline", "update", str(repo.path)]) == 0
    assert "1 added, 1 pruned, 1 kept" in capsys.readouterr().err
    assert [e["path"] for e in json.loads(path.read_text())["entries"]] == ["config/prod.env", "deploy/key.env"]
    assert main(["baseline", "check", str(repo.path)]) == 0


def test_history_entries_go_stale_when_history_is_rewritten(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert create(repo) == 0
    assert main(["baseline", "check", str(repo.path)]) == 0
    repo.git("rm", "-q", "src/app.py")
    repo.git("commit", "-q", "--amend", "-m", "initial without the key")
    capsys.readouterr()
    assert main(["baseline", "check", str(repo.path)]) == 1
    assert "stale: src/app.py" in capsys.readouterr().out
    assert main(["baseline", "update", str(repo.path)]) == 0
    assert main(["baseline", "check", str(repo.path)]) == 0


def test_output_option_and_config_key(repo: GitRepo) -> None:
    target = repo.path / ".github" / "secrets-baseline.json"
    assert create(repo, "--output", str(target)) == 0
    assert not (repo.path / BASELINE_NAME).exists()
    assert main(["baseline", "check", "--baseline", str(target), str(repo.path)]) == 0
    repo.write(".mcp-scan.toml", 'baseline = ".github/secrets-baseline.json"\n')
    assert main(["scan", str(repo.path / "src")]) == 0  # the configured baseline applies
    assert main(["baseline", "check", str(repo.path)]) == 0  # and is the default file


def test_baseline_ignores_allowed_paths_and_works_outside_git(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "a.env").write_text(f"K={stripe_live_key(5)}\n")
    assert main(["baseline", "create", str(tmp_path)]) == 0
    document = json.loads((tmp_path / BASELINE_NAME).read_text())
    assert document["source"] == "worktree" and [e["path"] for e in document["entries"]] == ["keys/a.env"]
    assert main(["scan", str(tmp_path), "--baseline", str(tmp_path / BASELINE_NAME)]) == 0


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"version": 2, "entries": []}', '{"version": 1, "entries": [{"path": "a"}]}',
     '{"version": 1, "entries": [{"path": "a", "rule_id": "r", "fingerprint": "sk_live_plaintext"}]}'],
)
def test_malformed_baseline_is_a_usage_error(repo: GitRepo, content: str, capsys: pytest.CaptureFixture[str]) -> None:
    bad = repo.write("bad.json", content)
    assert main(["scan", str(repo.path / "src"), "--baseline", str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_missing_baseline_is_a_usage_error(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "check", str(repo.path)]) == 2
    assert "baseline create" in capsys.readouterr().err
