"""A warm history run reports exactly what a cold one does, for every suppression feature (issue 12, item 4).

The history cache stores a redacted stand-in for each secret, never the
secret. Anything that looks at the secret after the scan (imported gitleaks
allowlists' regexes and stopwords, the JWT expiry line of a report) used to
judge the stand-in on warm runs: a key reported cold was hidden warm, or the
other way round. Each feature here runs through the real CLI three times:
``--no-cache``, then filling the cache, then from it.
"""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo

STRIPE = stripe_live_key(seed=81)
GITHUB = "ghp_" + fake(36, seed=82)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


# A JWT that expired long ago: reports say so ("expired ... ago"), which only the token tells.
JWT = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': 'svc', 'iat': 1500000000, 'exp': 1500003600})}.{fake(43, seed=83)}"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    repo = GitRepo.init(tmp_path_factory.mktemp("warmcold") / "repo")
    repo.stage("app/settings.py", f'STRIPE = "{STRIPE}"\n')
    repo.stage("app/github.py", f'GH = "{GITHUB}"\n')
    repo.commit("keys")
    repo.stage("vendor/lib.py", f'VENDORED = "{stripe_live_key(seed=84)}"\n')
    repo.stage("auth/token.txt", f"Authorization: Bearer {JWT}\n")
    repo.stage("app/allowed.py", f'OK = "{stripe_live_key(seed=85)}"  # mcp-scan: allow\n')
    repo.commit(f"more (tested with Authorization: Bearer {JWT})")
    return repo


def _findings(repo: GitRepo, config: Path, *args: str) -> tuple[int, list[tuple[Any, ...]]]:
    # --group path: each place is compared cold and warm (the JWT in a file and in a commit message)
    proc = subprocess.run([sys.executable, "-m", "scanner", "history", "--config", str(config), "--format", "json",
                           "--group", "path", *args], cwd=repo.path, capture_output=True)
    assert b"Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    return proc.returncode, sorted((f["rule_id"], f["path"], f["fingerprint"], f["secret"], f["message"])
                                   for f in report["findings"])


GITLEAKS_ALLOWLISTS = {
    # a regex only the redacted stand-in matches: must suppress nothing, warm or cold
    "stand-in-regex": "[allowlist]\nregexes = ['''\\*{4,}''']\n",
    # a regex on the real secret's prefix: must suppress the Stripe keys, warm and cold
    "secret-prefix": "[allowlist]\nregexes = ['''^sk_live_''']\n",
    "stopword": f"[allowlist]\nstopwords = ['''{STRIPE[-10:].lower()}''']\n",
    "paths": "[allowlist]\npaths = ['''^vendor/''']\n",
    "and-condition": "[allowlist]\ncondition = \"AND\"\npaths = ['''^app/''']\nregexes = ['''^ghp_''']\n",
    "rule-allowlist": "[[rules]]\nid = \"team-github\"\nregex = '''ghp_[A-Za-z0-9]{36}'''\nkeywords = [\"ghp_\"]\n"
                      "  [[rules.allowlists]]\n  regexes = ['''^ghp_''']\n",
}


@pytest.mark.parametrize("name", sorted(GITLEAKS_ALLOWLISTS))
def test_gitleaks_allowlists_decide_the_same_cold_and_warm(repo: GitRepo, tmp_path: Path, name: str) -> None:
    gitleaks = tmp_path / "gitleaks.toml"
    gitleaks.write_text(GITLEAKS_ALLOWLISTS[name])
    config = tmp_path / "mcp-scan.toml"
    config.write_text(f'gitleaks-config = "{gitleaks}"\n')
    cold = _findings(repo, config, "--no-cache")
    filling = _findings(repo, config)
    warm = _findings(repo, config)
    assert cold == filling == warm
    rules_and_paths = {(rule, path) for rule, path, *_ in cold[1]}
    if name == "stand-in-regex":
        assert ("stripe-live-secret-key", "app/settings.py") in rules_and_paths
    if name == "secret-prefix":
        assert not any(rule == "stripe-live-secret-key" for rule, _ in rules_and_paths)
    if name == "stopword":
        assert ("stripe-live-secret-key", "app/settings.py") not in rules_and_paths
        assert ("stripe-live-secret-key", "vendor/lib.py") in rules_and_paths
    if name == "and-condition":
        assert not any(path == "app/github.py" for _, path in rules_and_paths)


MCP_SCAN_SETTINGS = {
    "allow-paths": 'allow-paths = ["vendor/**"]\n',
    "allow-regexes": f'allow-regexes = ["{STRIPE[-8:]}$"]\n',
    "stopwords": f'stopwords = ["{STRIPE[-10:].lower()}"]\n',
    "min-confidence": 'min-confidence = "high"\n',
    "nothing": "",
}


@pytest.mark.parametrize("name", sorted(MCP_SCAN_SETTINGS))
def test_own_suppressions_decide_the_same_cold_and_warm(repo: GitRepo, tmp_path: Path, name: str) -> None:
    config = tmp_path / "mcp-scan.toml"
    config.write_text(MCP_SCAN_SETTINGS[name])
    cold = _findings(repo, config, "--no-cache")
    assert cold == _findings(repo, config) == _findings(repo, config)
    paths = {path for _, path, *_ in cold[1]}
    assert "app/allowed.py" not in paths  # the inline marker, every time
    if name == "nothing":
        # the JWT's report line says it expired: from the cache as from the blob (or commit message)
        jwts = [f for f in cold[1] if f[1] in ("auth/token.txt", "<commit message>")]
        assert len(jwts) == 2 and all("expired" in f[4] for f in jwts), jwts


def test_a_baseline_decides_the_same_cold_and_warm(repo: GitRepo, tmp_path: Path) -> None:
    config = tmp_path / "mcp-scan.toml"
    config.write_text("")
    baseline = tmp_path / "baseline.json"
    made = subprocess.run([sys.executable, "-m", "scanner", "baseline", "create", "--config", str(config),
                           "-o", str(baseline), "."], cwd=repo.path, capture_output=True)
    assert made.returncode == 0, made.stderr
    config.write_text(f'baseline = "{baseline}"\n')
    assert _findings(repo, config, "--no-cache") == _findings(repo, config) == _findings(repo, config) == (0, [])
