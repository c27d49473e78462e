"""The portable history cache (issue 16): ``--cache-dir`` keyed by repository identity, damaged or
foreign entries ignored, no secret stored, pruning; identity-based shards and ``--dry-run``."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scanner.history.cache import MAGIC
from scanner.history.identity import normalise_url
from scanner.history.store import Store, parse_age, prune
from scanner.sweep import discover, shard_key, shard_of
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

KEY = stripe_live_key(seed=161)
URL = "https://example.invalid/org/app.git"


def mcp_scan(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scanner", *args], cwd=cwd, capture_output=True, text=True)


def leaky_repo(path: Path, secret: str = KEY, origin: str = URL) -> GitRepo:
    repo = GitRepo.init(path)
    repo.stage("README.md", f"{path.name}\n")
    repo.commit("init")
    repo.stage("conf/.env", f"STRIPE_KEY={secret}\n")
    repo.commit("add key")
    repo.git("rm", "-q", "conf/.env")
    repo.commit("remove key")
    repo.git("remote", "add", "origin", origin)
    return repo


def history(repo: Path, cache: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    proc = mcp_scan(repo, "history", "--cache-dir", str(cache), "--format", "json", *extra)
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads(proc.stdout)


def found(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((f["rule_id"], f["path"], f["fingerprint"]) for f in document["findings"])


def cache_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file())


def test_cache_is_shared_by_two_clones_of_one_repository(tmp_path: Path) -> None:
    first = leaky_repo(tmp_path / "first")
    second = tmp_path / "elsewhere" / "second"
    subprocess.run(["git", "clone", "-q", str(first.path), str(second)], check=True)
    # Another spelling of the same remote: scp-style, with a user, no .git.
    subprocess.run(["git", "remote", "set-url", "origin", "git@EXAMPLE.invalid:org/app"], cwd=second, check=True)
    cache = tmp_path / "ci-cache"
    _, cold = history(first.path, cache)
    assert cold["stats"]["scanned"] > 0 and cold["stats"]["cached"] == 0
    _, warm = history(second, cache)
    assert warm["stats"]["scanned"] == 0 and warm["stats"]["cached"] == cold["stats"]["blobs"]
    assert found(warm) == found(cold) and len(cold["findings"]) == 1
    # The caches live in the cache directory, one directory per repository identity, not in .git.
    assert [p.parent.name for p in cache.iterdir()] and len(list(cache.iterdir())) == 1
    assert not list((first.path / ".git" / "mcp-scan").glob("history-*.cache"))
    # A different repository (another root commit) never shares it.
    other = leaky_repo(tmp_path / "other")
    _, third = history(other.path, cache)
    assert third["stats"]["cached"] == 0 and len(list(cache.iterdir())) == 2


def test_no_secret_in_the_cache_directory(tmp_path: Path) -> None:
    repo = leaky_repo(tmp_path / "repo")
    cache = tmp_path / "cache"
    history(repo.path, cache)
    history(repo.path, cache, "--show-secrets")
    files = cache_files(cache)
    assert any(p.name.startswith("history-") for p in files) and any(p.name.startswith("walk-") for p in files)
    for path in files:
        data = path.read_bytes()
        assert KEY.encode() not in data and KEY[8:].encode() not in data, path


def _rewrite(path: Path, identity: str, hits: dict[str, Any]) -> None:
    """A well-formed cache file (valid checksum) with other header fields and hits."""
    magic, key, _identity, _digest, body = path.read_bytes().split(b"\n", 4)
    _found, _, keys = body.partition(b"\n")
    body = json.dumps(hits).encode() + b"\n" + keys
    digest = hashlib.sha256(body).hexdigest().encode()
    path.write_bytes(b"\n".join([magic, key, identity.encode(), digest, body]))


@pytest.mark.parametrize("damage", ["truncated", "flipped", "foreign-repository", "old-format", "walk-damaged"])
def test_damaged_or_foreign_cache_is_ignored_with_a_warning(tmp_path: Path, damage: str) -> None:
    repo = leaky_repo(tmp_path / "repo")
    cache = tmp_path / "cache"
    _, cold = history(repo.path, cache)
    (history_file,) = cache.glob("*/history-*.cache")
    (walk_file,) = cache.glob("*/walk-*.json")
    raw = history_file.read_bytes()
    if damage == "truncated":
        history_file.write_bytes(raw[: len(raw) // 2])
    elif damage == "flipped":
        history_file.write_bytes(raw[:-3] + bytes([raw[-3] ^ 1]) + raw[-2:])
    elif damage == "foreign-repository":
        # Another repository's cache saying every blob was scanned and held nothing:
        # trusting it would hide the key.
        _rewrite(history_file, "another-identity", {})
    elif damage == "old-format":
        # format 2 (hits without Hit.example), read by the current version as another format
        history_file.write_bytes(raw.replace(MAGIC, b"mcp-scan-history-cache 2", 1))
    else:
        data = walk_file.read_bytes()
        walk_file.write_bytes(data[: len(data) - 40])
    proc, again = history(repo.path, cache)
    assert proc.returncode == 1  # findings, not a runtime error
    assert found(again) == found(cold)
    expected = {"truncated": "damaged history cache", "flipped": "damaged history cache",
                "foreign-repository": "another repository", "old-format": "another repository",
                "walk-damaged": "damaged history walk cache"}[damage]
    assert "warning" in proc.stderr and expected in proc.stderr, proc.stderr
    if damage != "walk-damaged":
        assert again["stats"]["scanned"] == cold["stats"]["scanned"]  # rebuilt from scratch
    # Rebuilt: the next run is warm and quiet.
    proc, warm = history(repo.path, cache)
    assert "warning" not in proc.stderr and warm["stats"]["scanned"] == 0 and found(warm) == found(cold)


def test_foreign_walk_cache_is_not_trusted(tmp_path: Path) -> None:
    repo = leaky_repo(tmp_path / "repo")
    cache = tmp_path / "cache"
    _, cold = history(repo.path, cache)
    (walk_file,) = cache.glob("*/walk-*.json")
    header, body = walk_file.read_bytes().split(b"\n", 1)
    magic, version, identity, digest = header.split(b" ")
    walk_file.write_bytes(b" ".join([magic, version, b"0" * len(identity), digest]) + b"\n" + body)
    proc, again = history(repo.path, cache)
    assert "another repository" in proc.stderr and found(again) == found(cold)


def _age(path: Path, days: float) -> None:
    stamp = time.time() - days * 86400
    os.utime(path, (stamp, stamp))


def test_prune_by_age_then_size_oldest_first(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    files = {}
    for name, days, size in (("a", 40, 100), ("b", 3, 100), ("c", 2, 100), ("d", 1, 100)):
        path = root / (name * 32) / f"history-{name}.cache"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x" * size)
        _age(path, days)
        files[name] = path
    other = root / "mirrors" / "keep.txt"  # not a cache file: never pruned
    other.parent.mkdir()
    other.write_text("x")
    _age(other, 400)
    result = prune(Store(root, max_age=parse_age("30d"), max_size=250))
    assert [n for n, p in files.items() if p.exists()] == ["c", "d"]
    assert (result.removed, result.freed, result.kept, result.size) == (2, 200, 2, 200)
    assert not (root / ("a" * 32)).exists() and other.exists()
    assert parse_age(7) == 7 * 86400 and parse_age("12h") == 43200
    for bad in ("0d", "x", "-3", True):
        with pytest.raises(ValueError):
            parse_age(bad)


def test_sweep_prunes_its_cache_dir_with_config_keys(tmp_path: Path) -> None:
    leaky_repo(tmp_path / "repos" / "app")
    cache = tmp_path / "cache"
    stale = cache / ("0" * 32) / "history-old.cache"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    _age(stale, 10)
    (tmp_path / ".mcp-scan.toml").write_text('cache-dir = "cache"\ncache-max-age = "7d"\ncache-max-size = "1MiB"\n')
    proc = mcp_scan(tmp_path, "sweep", "repos", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert not stale.exists() and json.loads(proc.stdout)["stats"]["cache_pruned"] == 1
    assert list(cache.glob("*/history-*.cache"))  # this run's cache, in the configured directory
    bad = mcp_scan(tmp_path, "sweep", "repos", "--cache-max-age", "soon")
    assert bad.returncode == 2 and "--cache-max-age" in bad.stderr
    (tmp_path / ".mcp-scan.toml").write_text('cache-max-age = "soon"\n')
    bad = mcp_scan(tmp_path, "sweep", "repos")
    assert bad.returncode == 2 and "cache-max-age" in bad.stderr


def _shards(cwd: Path, listing: Path, total: int) -> dict[str, int]:
    where = {}
    for i in range(1, total + 1):
        proc = mcp_scan(cwd, "sweep", str(listing), "--shard", f"{i}/{total}", "--dry-run")
        assert proc.returncode == 0, proc.stderr
        for name in proc.stdout.splitlines():
            assert name not in where
            where[name] = i
    return where


def test_adding_a_repository_moves_no_other_one(tmp_path: Path) -> None:
    listing = tmp_path / "repos.txt"
    urls = [f"https://git.example.invalid/org/service-{i}.git" for i in range(12)]
    listing.write_text("\n".join(urls) + "\n")
    before = _shards(tmp_path, listing, 3)
    assert sorted(before) == sorted(urls) and set(before.values()) == {1, 2, 3}
    listing.write_text("\n".join(["https://git.example.invalid/org/new-one.git", *reversed(urls)]) + "\n")
    after = _shards(tmp_path, listing, 3)
    assert {u: after[u] for u in urls} == before and len(after) == 13
    assert not (tmp_path / "mirrors").exists()  # a dry run clones nothing


def test_a_repository_keeps_its_shard_wherever_it_is_cloned(tmp_path: Path) -> None:
    # Runners clone to different paths, or list the URL itself: the shard follows the repository.
    repo = leaky_repo(tmp_path / "a" / "app")
    subprocess.run(["git", "clone", "-q", str(repo.path), str(tmp_path / "b" / "checkout-of-app")], check=True)
    subprocess.run(["git", "remote", "set-url", "origin", "git@example.invalid:org/app.git"],
                   cwd=tmp_path / "b" / "checkout-of-app", check=True)
    lonely = GitRepo.init(tmp_path / "c" / "no-remote")
    lonely.commit("root")
    subprocess.run(["git", "clone", "-q", str(lonely.path), str(tmp_path / "d" / "copy")], check=True)
    subprocess.run(["git", "remote", "remove", "origin"], cwd=tmp_path / "d" / "copy", check=True)
    for total in (2, 3, 5, 7):
        paths = {}
        for listed in ("a/app", "b/checkout-of-app", URL, "c/no-remote", "d/copy"):
            listing = tmp_path / "one.txt"
            listing.write_text(listed + "\n")
            (target,) = discover([str(listing)])
            paths[listed] = shard_of(shard_key(target), total)
        assert paths["a/app"] == paths["b/checkout-of-app"] == paths[URL], (total, paths)
        assert paths["c/no-remote"] == paths["d/copy"], (total, paths)
    # The command agrees with the function.
    listing.write_text("a/app\n")
    total = 5
    shown = [i for i in range(1, total + 1)
             if mcp_scan(tmp_path, "sweep", str(listing), "--shard", f"{i}/{total}", "--dry-run").stdout.strip()]
    assert shown == [shard_of(shard_key(discover([str(listing)])[0]), total)]


def test_dry_run_prints_one_repository_per_line_without_credentials(tmp_path: Path) -> None:
    leaky_repo(tmp_path / "local")
    token = "ghp_" + "Q" * 4 + "x7" * 16  # a password-shaped value in a URL's userinfo
    listing = tmp_path / "repos.txt"
    listing.write_text(f"# the org\nlocal\nhttps://ci-bot:{token}@git.example.invalid/org/b.git\ngit@git.example.invalid:org/c.git\n")
    proc = mcp_scan(tmp_path, "sweep", str(listing), "--dry-run", "--mirror-dir", str(tmp_path / "m"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["git.example.invalid:org/c.git", "https://git.example.invalid/org/b.git", "local"]
    assert token not in proc.stdout + proc.stderr and "ci-bot" not in proc.stdout
    assert not (tmp_path / "m").exists()
    assert mcp_scan(tmp_path, "sweep", str(listing), "--list").stdout == proc.stdout


def test_normalised_urls() -> None:
    same = ["git@GitHub.com:org/repo.git", "ssh://git@github.com/org/repo", "https://u:t@GitHub.com/org/repo/",
            "https://github.com:443/org/repo.git", "github.com:org/repo"]
    assert {normalise_url(u) for u in same} == {"github.com/org/repo"}
    assert normalise_url("file:///srv/x.git") == normalise_url("/srv/x.git/") == "file:/srv/x"
    assert normalise_url("ssh://git@host:2222/x") != normalise_url("ssh://git@host/x")


def test_identity_roots_are_remembered_and_follow_history(tmp_path: Path) -> None:
    from scanner.history.identity import repository_identity, root_commits

    repo = GitRepo.init(tmp_path / "repo")
    repo.stage("a.txt", "a\n")
    first_root = repo.commit("root one")
    common = repo.path / ".git"
    assert root_commits(str(repo.path), common) == [first_root]
    assert json.loads((common / "mcp-scan" / "identity.json").read_text())["roots"] == [first_root]
    before = repository_identity(str(repo.path), common)
    # HEAD moves forward: same roots, same identity.
    repo.stage("b.txt", "b\n")
    repo.commit("more")
    assert root_commits(str(repo.path), common) == [first_root]
    assert repository_identity(str(repo.path), common) == before
    # An unrelated history merged in brings its root along.
    branch = repo.git("symbolic-ref", "--short", "HEAD").strip()
    repo.git("checkout", "-q", "--orphan", "other")
    repo.git("rm", "-rqf", ".")
    repo.stage("c.txt", "c\n")
    second_root = repo.commit("root two")
    repo.git("checkout", "-q", branch)
    repo.git("merge", "-q", "--allow-unrelated-histories", "-m", "merge", "other")
    assert root_commits(str(repo.path), common) == sorted([first_root, second_root])
    # HEAD rewritten to a history that does not contain the remembered one: walked again.
    repo.git("reset", "-q", "--hard", second_root)
    assert root_commits(str(repo.path), common) == [second_root]
    # A damaged memo is walked again, not trusted.
    (common / "mcp-scan" / "identity.json").write_text('{"head": "' + second_root + '", "roots": ["bogus"]')
    assert root_commits(str(repo.path), common) == [second_root]
    # The remote is part of the identity; its spelling is not.
    without = repository_identity(str(repo.path), common)
    repo.git("remote", "add", "origin", URL)
    with_origin = repository_identity(str(repo.path), common)
    repo.git("remote", "set-url", "origin", "git@example.invalid:org/app")
    assert without != with_origin == repository_identity(str(repo.path), common)


def test_ci_full_history_reuses_a_restored_cache_dir(tmp_path: Path) -> None:
    # A scheduled `mcp-scan ci` (no event range: the full history) on tonight's fresh checkout.
    env = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith(("GITHUB_", "GITLAB_", "CI_"))}
    first = leaky_repo(tmp_path / "night1")
    second = tmp_path / "night2"
    subprocess.run(["git", "clone", "-q", str(first.path), str(second)], check=True)
    subprocess.run(["git", "remote", "set-url", "origin", URL], cwd=second, check=True)
    cache = tmp_path / "restored"
    runs = []
    for checkout in (first.path, second):
        proc = subprocess.run([sys.executable, "-m", "scanner", "ci", "--cache-dir", str(cache), "--no-sarif",
                               "--format", "json"], cwd=checkout, capture_output=True, text=True, env=env)
        assert proc.returncode == 1, proc.stderr
        runs.append(json.loads(proc.stdout))
    assert runs[0]["stats"]["scanned"] > 0 and runs[1]["stats"]["scanned"] == 0
    assert found(runs[0]) == found(runs[1])
