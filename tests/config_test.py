"""Configuration: discovery, every key, flags on top, and errors that name file, key and value."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.config import load_config, path_matches
from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo

ACME_RULE = """
[[rules]]
id = "acme-token"
description = "Acme API token"
severity = "high"
confidence = "low"
regex = '''\\b(?P<secret>acme_[0-9a-z]{24})\\b'''
keywords = ["acme_"]
"""


def acme_token(seed: int = 0) -> str:
    return "acme_" + fake(24, "abcdefghijklmnopqrstuvwxyz0123456789", seed=seed)


def scan(*args: str) -> int:
    return main(["scan", "--format", "json", *args])


def found(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    findings: list[dict[str, object]] = json.loads(capsys.readouterr().out)["findings"]
    return findings


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("app/settings.env", f"STRIPE_KEY={stripe_live_key(1)}\n")
    return git_repo


# -- discovery ---------------------------------------------------------------
def test_without_config_the_secret_is_found(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert scan(str(repo.path / "app")) == 1
    assert [f["rule_id"] for f in found(capsys)] == ["stripe-live-secret-key"]


def test_config_found_by_walking_up_from_the_scanned_path(repo: GitRepo) -> None:
    repo.write(".mcp-scan.toml", 'disable-rules = ["stripe-live-secret-key"]\n')
    assert scan(str(repo.path / "app")) == 0
    assert scan(str(repo.path / "app" / "settings.env")) == 0


def test_discovery_stops_at_the_repository_root(repo: GitRepo) -> None:
    # A config above the repository belongs to someone else (a home directory, a monorepo parent).
    (repo.path.parent / ".mcp-scan.toml").write_text('disable-rules = ["stripe-live-secret-key"]\n')
    assert scan(str(repo.path / "app")) == 1


def test_discovery_without_git_goes_up_to_the_filesystem_root(tmp_path: Path) -> None:
    (tmp_path / ".mcp-scan.toml").write_text('disable-rules = ["stripe-live-secret-key"]\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (deep / "x.env").write_text(f"K={stripe_live_key(2)}\n")
    assert scan(str(deep)) == 0


def test_pyproject_tool_table_is_read(repo: GitRepo) -> None:
    repo.write("pyproject.toml", '[project]\nname = "x"\n\n[tool.mcp-scan]\ndisable-rules = ["stripe-live-secret-key"]\n')
    assert scan(str(repo.path / "app")) == 0


def test_dedicated_file_wins_over_pyproject_in_the_same_directory(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("pyproject.toml", '[tool.mcp-scan]\ndisable-rules = ["stripe-live-secret-key"]\n')
    repo.write(".mcp-scan.toml", 'min-confidence = "low"\n')
    assert scan(str(repo.path / "app")) == 1
    err = capsys.readouterr().err
    assert "pyproject.toml: [tool.mcp-scan] is ignored" in err


def test_nearer_file_wins_and_pyproject_without_table_is_skipped(repo: GitRepo) -> None:
    repo.write(".mcp-scan.toml", 'disable-rules = ["stripe-live-secret-key"]\n')
    repo.write("app/pyproject.toml", '[project]\nname = "app"\n')  # no [tool.mcp-scan]: keep walking
    assert scan(str(repo.path / "app")) == 0
    repo.write("app/.mcp-scan.toml", "stopwords = []\n")  # nearer, and it does not disable the rule
    assert scan(str(repo.path / "app")) == 1


def test_explicit_config_overrides_discovery(repo: GitRepo, tmp_path: Path) -> None:
    repo.write(".mcp-scan.toml", 'disable-rules = ["stripe-live-secret-key"]\n')
    other = tmp_path / "other.toml"
    other.write_text("stopwords = []\n")
    assert scan("--config", str(other), str(repo.path / "app")) == 1
    assert scan("--no-config", str(repo.path / "app")) == 1
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.mcp-scan]\ndisable-rules = ["stripe-live-secret-key"]\n')
    assert scan("--config", str(pyproject), str(repo.path / "app")) == 0


def test_discovery_from_the_working_directory_in_a_subprocess(repo: GitRepo) -> None:
    repo.write(".mcp-scan.toml", 'allow-paths = ["app/"]\n')
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", "settings.env"], cwd=repo.path / "app",
                          capture_output=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", "--no-config", "settings.env"],
                          cwd=repo.path / "app", capture_output=True)
    assert proc.returncode == 1


# -- every key ---------------------------------------------------------------
def test_extra_patterns_are_relative_to_the_config_file(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("config/rules/acme.toml", ACME_RULE)
    repo.write("config/.mcp-scan.toml", 'extra-patterns = ["rules/acme.toml"]\n')
    repo.write("config/acme.txt", f"ACME={acme_token()}\n")  # no word the generic rules key on
    assert scan(str(repo.path / "config")) == 1
    assert [f["rule_id"] for f in found(capsys)] == ["acme-token"]
    repo.write("config/.mcp-scan.toml", 'extra-patterns = ["rules"]\n')  # a directory of rule files works too
    assert scan(str(repo.path / "config")) == 1


def test_allow_paths_and_negation(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("tests/fixtures/keys.json", json.dumps({"k": stripe_live_key(3)}))
    repo.write("tests/fixtures/real/keys.json", json.dumps({"k": stripe_live_key(4)}))
    repo.write(".mcp-scan.toml", 'allow-paths = ["**/fixtures/*.json", "app/"]\n')
    assert scan(str(repo.path)) == 1
    assert [f["path"] for f in found(capsys)] == [str(repo.path / "tests/fixtures/real/keys.json")]
    repo.write(".mcp-scan.toml", 'allow-paths = ["tests/**", "app/**", "!tests/fixtures/real/**"]\n')
    assert scan(str(repo.path)) == 1
    assert [f["path"] for f in found(capsys)] == [str(repo.path / "tests/fixtures/real/keys.json")]


def test_allow_paths_match_repository_relative_paths_of_staged_scans(repo: GitRepo) -> None:
    repo.write(".mcp-scan.toml", 'allow-paths = ["fixtures/**"]\n')
    repo.stage("fixtures/deep/key.env", f"K={stripe_live_key(5)}\n")
    assert main(["staged", "--repo", str(repo.path)]) == 0
    repo.stage("src/key.env", f"K={stripe_live_key(6)}\n")
    assert main(["staged", "--repo", str(repo.path)]) == 1


def test_allow_regexes_and_stopwords(repo: GitRepo) -> None:
    key = stripe_live_key(1)
    repo.write(".mcp-scan.toml", f'allow-regexes = ["^{key[:12]}"]\n')
    assert scan(str(repo.path / "app")) == 0
    repo.write(".mcp-scan.toml", 'allow-regexes = ["^sk_live_NOPE"]\n')
    assert scan(str(repo.path / "app")) == 1
    repo.write(".mcp-scan.toml", f'stopwords = ["{key[10:16].upper()}"]\n')  # case-insensitive, inside the secret
    assert scan(str(repo.path / "app")) == 0


def test_min_confidence_and_flag_override(repo: GitRepo) -> None:
    repo.write("rules/acme.toml", ACME_RULE)
    repo.write("app/settings.env", f"ACME={acme_token()}\n")
    repo.write(".mcp-scan.toml", 'extra-patterns = ["rules/acme.toml"]\nmin-confidence = "medium"\n')
    assert scan(str(repo.path / "app")) == 0  # the acme rule is low confidence
    assert scan("--min-confidence", "low", str(repo.path / "app")) == 1  # flags override the file


def test_max_blob_size_accepts_units(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("app/big.env", f"K={stripe_live_key(7)}\n" + "x" * 3000 + "\n")
    repo.write(".mcp-scan.toml", 'max-blob-size = "2KB"\n')
    assert scan(str(repo.path / "app")) == 1
    assert [Path(str(f["path"])).name for f in found(capsys)] == ["settings.env"]
    repo.write(".mcp-scan.toml", "max-blob-size = 100000\n")
    assert scan(str(repo.path / "app")) == 1
    assert len(found(capsys)) == 2


def test_gitleaks_config_and_baseline_keys(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("ci/gitleaks.toml", "[[rules]]\nid = \"acme\"\nregex = '''acme_[0-9a-z]{24}'''\nkeywords = [\"acme_\"]\n")
    repo.write("app/acme.txt", f"{acme_token(9)}\n")
    repo.write(".mcp-scan.toml", 'gitleaks-config = "ci/gitleaks.toml"\n')
    assert scan(str(repo.path / "app")) == 1
    assert sorted(f["rule_id"] for f in found(capsys)) == ["acme", "stripe-live-secret-key"]
    assert main(["baseline", "create", "--source", "worktree", str(repo.path)]) == 0
    repo.write(".mcp-scan.toml", 'gitleaks-config = "ci/gitleaks.toml"\nbaseline = ".mcp-scan-baseline.json"\n')
    assert scan(str(repo.path / "app")) == 0


# -- errors ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("colour = true\n", "colour", "True"),
        ("allow_paths = ['x']\n", "allow_paths", "['x']"),
        ('min-confidence = "extreme"\n', "min-confidence", "'extreme'"),
        ("max-blob-size = -5\n", "max-blob-size", "-5"),
        ('max-blob-size = "ten megs"\n', "max-blob-size", "'ten megs'"),
        ('allow-regexes = ["sk_(live"]\n', "allow-regexes", "'sk_(live'"),
        ('disable-rules = "stripe-live-secret-key"\n', "disable-rules", "'stripe-live-secret-key'"),
        ('disable-rules = ["no-such-rule"]\n', "disable-rules", "['no-such-rule']"),
        ('extra-patterns = ["missing.toml"]\n', "extra-patterns", "'missing.toml'"),
        ('allow-paths = ["[abc"]\n', "allow-paths", "'[abc'"),
        ("stopwords = [1, 2]\n", "stopwords", "[1, 2]"),
        ('gitleaks-config = "nope.toml"\n', "gitleaks-config", "'nope.toml'"),
    ],
)
def test_bad_settings_exit_2_naming_file_key_and_value(repo: GitRepo, capsys: pytest.CaptureFixture[str],
                                                       text: str, key: str, value: str) -> None:
    repo.write(".mcp-scan.toml", text)
    assert scan(str(repo.path / "app")) == 2
    err = capsys.readouterr().err
    assert str(repo.path / ".mcp-scan.toml") in err
    assert key in err and value in err
    assert "Traceback" not in err


def test_bad_setting_in_pyproject_names_the_file(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("pyproject.toml", '[tool.mcp-scan]\nmin-confidence = 3\n')
    assert scan(str(repo.path / "app")) == 2
    err = capsys.readouterr().err
    assert "pyproject.toml: min-confidence = 3" in err


def test_invalid_toml_and_missing_explicit_file(repo: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(".mcp-scan.toml", "disable-rules = [\n")
    assert scan(str(repo.path / "app")) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert scan("--config", str(tmp_path / "absent.toml"), str(repo.path / "app")) == 2
    assert "absent.toml does not exist" in capsys.readouterr().err


def test_load_config_defaults_and_values(tmp_path: Path) -> None:
    assert load_config(None, tmp_path).source is None
    (tmp_path / ".mcp-scan.toml").write_text('max-blob-size = "1MiB"\nstopwords = ["Fixture"]\n')
    config = load_config(None, tmp_path)
    assert config.max_blob_size == 1024 * 1024
    assert config.stopwords == ["fixture"]
    assert config.root == tmp_path.resolve()


# -- gitignore-style globs ---------------------------------------------------
@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("patterns/aws.toml", ["patterns/**"], True),
        ("patterns/sub/aws.toml", ["patterns/**"], True),
        ("src/patterns/aws.toml", ["patterns/**"], False),  # a pattern with a '/' is anchored
        ("fixtures/a.json", ["**/fixtures/*.json"], True),
        ("a/b/fixtures/a.json", ["**/fixtures/*.json"], True),
        ("a/fixtures/deeper/a.json", ["**/fixtures/*.json"], False),  # '*' stays in one directory
        ("a/fixtures/a.yaml", ["**/fixtures/*.json"], False),
        ("tests/x.py", ["tests/"], True),
        ("src/tests/x.py", ["tests/"], True),  # no inner '/': matches at any depth
        ("tests", ["tests/"], False),  # trailing '/': directories only
        ("mytests/x.py", ["tests/"], False),
        ("a/b/key.pem", ["*.pem"], True),
        ("a/b", ["a/**/b"], True),
        ("a/x/y/b", ["a/**/b"], True),
        ("xa/b", ["a/**/b"], False),
        ("docs/guide.md", ["/docs"], True),
        ("src/docs/guide.md", ["/docs"], False),
        ("f7.txt", ["f[0-9].txt"], True),
        ("fx.txt", ["f[!0-9].txt"], True),
        ("tests/keep/x.py", ["tests/", "!tests/keep/**"], False),  # last match wins, as in .gitignore
        ("./patterns/aws.toml", ["patterns/**"], True),
    ],
)
def test_glob_semantics(path: str, patterns: list[str], expected: bool) -> None:
    assert path_matches(path, patterns) is expected


def test_globs_match_paths_relative_to_the_config_root(tmp_path: Path) -> None:
    assert path_matches(str(tmp_path / "patterns" / "x.toml"), ["patterns/**"], tmp_path.resolve())
    assert not path_matches(str(tmp_path / "other" / "x.toml"), ["patterns/**"], tmp_path.resolve())


GIT_PATTERNS = ["tests/", "patterns/**", "**/fixtures/*.json", "*.pem", "/docs", "docs", "a/**/b", "src/*.py",
                "**/b", "a/*/c", "*.json", "?.txt", "[ab].txt", "a/**", "**/x/**", "x/**/*.json"]
GIT_PATHS = ["tests/x.py", "src/tests/x.py", "tests", "mytests/x.py", "patterns/a.toml", "patterns/d/a.toml",
             "src/patterns/a.toml", "fixtures/a.json", "a/b/fixtures/a.json", "a/fixtures/x/a.json", "k/x.pem",
             "x.pem", "docs/g.md", "src/docs/g.md", "docs", "a/b", "a/x/y/b", "a/b/c", "ab/b", "b", "src/m.py",
             "src/sub/m.py", "a/q/c", "a/q/r/c", "c.json", "d/c.json", "a.txt", "b.txt", "c.txt", "ab.txt",
             "x/y.json", "x/y/z.json", "q/x/y", "x"]


@pytest.mark.parametrize("pattern", GIT_PATTERNS)
def test_globs_agree_with_git_check_ignore(git_repo: GitRepo, pattern: str) -> None:
    """Without '!', allow-paths mean what the same line means in .gitignore (git is the oracle)."""
    git_repo.write(".gitignore", pattern + "\n")
    proc = subprocess.run(["git", "check-ignore", "--no-index", "--stdin", "-v", "-n"], cwd=git_repo.path,
                          input="\n".join(GIT_PATHS) + "\n", capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    ignored = {line.split("\t", 1)[1] for line in proc.stdout.splitlines() if not line.startswith("::")}
    ours = {p for p in GIT_PATHS if path_matches(p, [pattern])}
    assert ours == ignored


def test_allow_paths_match_repository_paths_from_any_working_directory(git_repo: GitRepo) -> None:
    """A git source's paths are relative to the work tree, not to where mcp-scan runs: run from
    ``docs/``, a secret in ``app.env`` is not ``docs/app.env`` and ``allow-paths = ["docs/**"]``
    must not hide it (it did, for history, staged and every range scan)."""
    git_repo.write(".mcp-scan.toml", 'allow-paths = ["docs/**"]\n')
    git_repo.stage("docs/guide.md", "# guide\n")
    git_repo.stage("docs/sample.env", f"STRIPE_KEY={stripe_live_key(41)}\n")  # allowed, as configured
    git_repo.stage("app.env", f"STRIPE_KEY={stripe_live_key(42)}\n")
    docs = git_repo.path / "docs"
    for command in (["staged"], ["history", "--no-cache"]):
        proc = subprocess.run([sys.executable, "-m", "scanner", *command, "--format", "json"], cwd=docs,
                              capture_output=True, text=True)
        assert proc.returncode == 1, (command, proc.stderr)
        assert [f["path"] for f in json.loads(proc.stdout)["findings"]] == ["app.env"], command
        if command == ["staged"]:
            git_repo.commit("add")
