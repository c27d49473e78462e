"""`.gitignore` coverage, tracked secret files and secret files in history, on real repositories."""
from __future__ import annotations

from pathlib import Path

import pytest

from scanner.audit import run_audit
from scanner.audit.gitignore import classify
from scanner.models import Finding
from tests.fakes import fake
from tests.git_helpers import GitRepo

# A value the secret-name heuristic flags, so a .env holding it keeps its high severity.
CREDENTIAL = f"API_TOKEN={fake(32, seed=5)}\n"


def _by_rule(repo: GitRepo, rule_id: str) -> dict[str, Finding]:
    return {f.path: f for f in run_audit(repo.path).findings if f.rule_id == rule_id}


@pytest.mark.parametrize(
    ("path", "entry"),
    [
        (".env", ".env"),
        ("app/.env", ".env"),
        (".env.local", ".env.*"),
        (".mcp.json", ".mcp.json"),
        (".claude/mcp/github.json", ".claude/mcp/*.json"),
        ("pkg/.claude/mcp/github.json", "**/.claude/mcp/*.json"),
        ("deploy-secrets/token.txt", "*-secrets/"),
        ("certs/server.key", "*.key"),
        ("tls.pem", "*.pem"),
        ("client.p12", "*.p12"),
        ("db.backup", "*.backup"),
        ("config.bak", "*.bak"),
        ("notes.txt~", "*~"),
    ],
)
def test_classify_secret_shaped_paths(path: str, entry: str) -> None:
    secret = classify(path)
    assert secret is not None and secret.entry == entry


@pytest.mark.parametrize("path", [".env.example", ".env.sample", ".env.template", "README.md", "keys.py",
                                  "pem", ".envrc", "src/env.py", ".claude/settings.json", "-secrets/x"])
def test_classify_leaves_other_paths_alone(path: str) -> None:
    assert classify(path) is None


def test_repository_without_secret_files_is_clean_even_without_gitignore(git_repo: GitRepo) -> None:
    git_repo.stage("README.md", "hello\n")
    git_repo.commit()
    assert run_audit(git_repo.path).findings == []


def test_empty_repository_without_commits_does_not_fail(git_repo: GitRepo) -> None:
    git_repo.write(".env", "A=1\n")
    result = run_audit(git_repo.path)
    assert {f.rule_id for f in result.findings} >= {"gitignore-missing"}
    assert not [f for f in result.findings if f.rule_id == "secret-file-in-history"]


def test_unignored_env_is_reported_and_ignored_env_is_not(git_repo: GitRepo) -> None:
    git_repo.write(".env", "A=1\n")
    git_repo.write("tls.pem", "x\n")
    git_repo.write(".gitignore", "*.pem\n")
    missing = _by_rule(git_repo, "gitignore-missing")
    assert set(missing) == {".env"}
    assert missing[".env"].extra["entry"] == ".env"
    assert missing[".env"].line == 0


def test_nested_gitignore_info_exclude_and_global_excludes_count(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("sub/.env", "A=1\n")
    git_repo.write("sub/.gitignore", ".env\n")
    git_repo.write(".mcp.json", "{}\n")
    (git_repo.path / ".git" / "info").mkdir(exist_ok=True)
    (git_repo.path / ".git" / "info" / "exclude").write_text(".mcp.json\n")
    excludes = tmp_path / "global-excludes"
    excludes.write_text("*.key\n")
    git_repo.git("config", "core.excludesFile", str(excludes))
    git_repo.write("server.key", "k\n")
    git_repo.write(".env", "A=1\n")  # the nested .gitignore does not cover the top level
    assert set(_by_rule(git_repo, "gitignore-missing")) == {".env"}


def test_negations_are_honoured(git_repo: GitRepo) -> None:
    git_repo.write(".gitignore", ".env*\n!.env.example\n*.key\n!server.key\n")
    git_repo.write(".env.example", "A=\n")  # a template: fine to keep visible
    git_repo.write(".env.local", "A=1\n")  # ignored by .env*
    git_repo.write("server.key", "k\n")  # re-included by the negation: exposed
    git_repo.write("other.key", "k\n")
    assert set(_by_rule(git_repo, "gitignore-missing")) == {"server.key"}


def test_secrets_directory_is_one_finding(git_repo: GitRepo) -> None:
    git_repo.write("deploy-secrets/a.txt", "1\n")
    git_repo.write("deploy-secrets/b/c.txt", "2\n")
    missing = _by_rule(git_repo, "gitignore-missing")
    assert set(missing) == {"deploy-secrets/"}
    assert missing["deploy-secrets/"].extra["entry"] == "*-secrets/"


def test_tracked_secret_file_gets_git_rm_cached_advice(git_repo: GitRepo) -> None:
    git_repo.stage(".env.production", "A=1\n")
    git_repo.commit()
    tracked = _by_rule(git_repo, "secret-file-tracked")
    finding = tracked[".env.production"]
    assert "git rm --cached -- .env.production" in finding.remediation
    assert finding.extra["ignored"] is False and finding.extra["entry"] == ".env.*"
    assert ".env.production" not in _by_rule(git_repo, "gitignore-missing")


def test_tracked_although_ignored(git_repo: GitRepo) -> None:
    git_repo.stage(".env", CREDENTIAL)
    git_repo.stage("build/out.js", "x\n")
    git_repo.stage(".env.example", "A=\n")
    git_repo.commit()
    git_repo.stage(".gitignore", ".env*\nbuild/\n")
    git_repo.commit()
    tracked = _by_rule(git_repo, "secret-file-tracked")
    assert tracked[".env"].extra["ignored"] is True
    assert "although .gitignore excludes it" in tracked[".env"].message
    assert tracked[".env"].severity == "high"
    # an ignored, tracked file that is not secret-shaped is reported too, at low severity
    assert tracked["build/out.js"].severity == "low" and tracked["build/out.js"].confidence == "low"
    assert ".env.example" not in tracked  # a template force-added past `.env*` on purpose


def test_untracked_clean_file_is_not_tracked_finding(git_repo: GitRepo) -> None:
    git_repo.write(".gitignore", ".env\n")
    git_repo.write(".env", "A=1\n")
    assert _by_rule(git_repo, "secret-file-tracked") == {}


def test_secret_file_in_history_after_deletion(git_repo: GitRepo) -> None:
    git_repo.stage("README.md", "x\n")
    git_repo.commit("first")
    git_repo.stage("config/.env", "A=1\n")
    added = git_repo.commit("add env")
    git_repo.git("rm", "-q", "--cached", "config/.env")
    git_repo.stage(".gitignore", ".env\n")
    git_repo.commit("remove env")
    history = _by_rule(git_repo, "secret-file-in-history")
    finding = history["config/.env"]
    assert finding.commit == added
    assert finding.extra["present_at_head"] is False
    assert finding.author == "Test Author <author@example.com>"  # as history findings name authors
    # no longer tracked and ignored now: only the history finding remains for it
    assert "config/.env" not in _by_rule(git_repo, "secret-file-tracked")


def test_history_covers_other_branches_and_renames(git_repo: GitRepo) -> None:
    git_repo.stage("README.md", "x\n")
    git_repo.commit()
    git_repo.git("checkout", "-q", "-b", "side")
    git_repo.stage("server.pem", "k\n")
    side = git_repo.commit("key on a branch")
    git_repo.git("checkout", "-q", "main")
    git_repo.stage("settings", "A=1\n")
    git_repo.commit()
    git_repo.git("mv", "settings", ".env")
    renamed = git_repo.commit("rename to .env")
    git_repo.git("rm", "-q", ".env")  # still tracked, it would be one secret-file-tracked finding (folded)
    git_repo.commit()
    history = _by_rule(git_repo, "secret-file-in-history")
    assert history["server.pem"].commit == side
    assert history[".env"].commit == renamed
    assert history[".env"].extra["present_at_head"] is False


def test_history_reports_first_commit_and_lists_all(git_repo: GitRepo) -> None:
    git_repo.stage(".env", "A=1\n")
    first = git_repo.commit()
    git_repo.git("rm", "-q", ".env")
    git_repo.commit()
    git_repo.stage(".env", "A=2\n")
    second = git_repo.commit()
    git_repo.git("rm", "-q", ".env")  # still tracked, the history finding would fold into secret-file-tracked
    git_repo.commit()
    finding = _by_rule(git_repo, "secret-file-in-history")[".env"]
    assert finding.commit == first
    assert finding.extra["commit_ids"] == [first, second]
    assert finding.extra["commits"] == 2 and finding.extra["paths"] == 1 and finding.extra["path_list"] == [".env"]


def test_templates_in_history_are_not_reported(git_repo: GitRepo) -> None:
    git_repo.stage(".env.example", "A=\n")
    git_repo.commit()
    assert _by_rule(git_repo, "secret-file-in-history") == {}


def test_tracked_mcp_config_is_medium_and_env_is_high(git_repo: GitRepo) -> None:
    # Plain http to a remote host: not a clean config, so the name-based severity applies.
    git_repo.stage(".mcp.json", '{"mcpServers": {"s": {"url": "http://mcp.example.com/"}}}\n')
    git_repo.stage(".env", CREDENTIAL)
    git_repo.commit()
    git_repo.git("rm", "-q", "--cached", ".mcp.json", ".env")
    git_repo.commit()
    git_repo.write(".gitignore", ".mcp.json\n.env\n")
    git_repo.git("add", "-f", ".mcp.json", ".env")
    git_repo.git("commit", "-q", "-m", "again")
    tracked = _by_rule(git_repo, "secret-file-tracked")
    assert tracked[".mcp.json"].severity == "medium" and "deliberate" in tracked[".mcp.json"].message
    assert tracked[".env"].severity == "high"
