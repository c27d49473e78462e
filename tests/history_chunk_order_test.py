"""The order the workers read a path's versions in: each next to the version it was edited from.

The version chain searches only what changed since the version before it in a chunk, so two
branches' versions interleaved by commit order cost a search of everything that differs between
the branches at every step. ``pack_chunks`` follows each version's parent instead.
"""
from __future__ import annotations

import json
from pathlib import Path

from scanner.history import pool
from scanner.history.walk import run_walk
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

BODY = "".join(f"def step_{i}(value):\n    return value + {i}\n" for i in range(200))


def _edit(repo: GitRepo, line: int, text: str) -> None:
    lines = (repo.path / "app.py").read_text().split("\n")
    lines[line] = text
    repo.stage("app.py", "\n".join(lines))


def _interleaved_branches(repo: GitRepo, secret: str) -> dict[str, str]:
    """main and side edit one file far apart, main merging side every second step (so the walk's
    commit order alternates between the two lines of history); side commits a secret and removes
    it, and main goes back to an earlier version (an older blob id introduced again). Returns the
    commit that added the secret."""
    repo.stage("app.py", BODY)
    repo.commit("base")
    repo.git("branch", "side")
    out = {}
    for step in range(6):
        repo.git("checkout", "-q", "side")
        _edit(repo, 300 + step, f"def side_{step}(): pass")
        if step in (2, 3):
            _edit(repo, 399, f'STRIPE_KEY = "{secret}"' if step == 2 else "STRIPE_KEY = None")
        sha = repo.commit(f"side {step}")
        if step == 2:
            out["secret"] = sha
        repo.git("checkout", "-q", "main")
        _edit(repo, 10 + step, f"def main_{step}(): pass")
        repo.commit(f"main {step}")
        if step % 2:
            repo.git("merge", "-q", "--no-edit", "side")
    before = (repo.path / "app.py").read_text()
    _edit(repo, 20, "# a change reverted next")
    repo.commit("change")
    repo.stage("app.py", before)
    repo.commit("revert")
    return out


def test_a_paths_versions_follow_their_parents_and_each_is_read_once(git_repo: GitRepo) -> None:
    secret = stripe_live_key()
    _interleaved_branches(git_repo, secret)
    walk = run_walk(str(git_repo.path), None, ())
    tasks = [(oid, 1, [(oid, occ[0][1])]) for oid, occ in walk.blobs.items()]
    chunks = pool.pack_chunks(tasks, walk)
    order = [task[0] for chunk in chunks for task in chunk]
    assert sorted(order) == sorted(walk.blobs)  # every version once, the reverted one too

    parent = {oid: occ[0][2][0] for oid, occ in walk.blobs.items() if occ[0][2]}

    def related(a: str, b: str) -> bool:
        return parent.get(a) == b or parent.get(b) == a

    # Three times the walk's commit order turns from one line of history to the other; read in
    # that order, three neighbours of nine pairs are no parent and child. Followed by parent,
    # only the turns where a whole branch of the version tree is done remain.
    by_commit = sorted(walk.blobs, key=lambda oid: -walk.blobs[oid][0][0])
    assert sum(not related(a, b) for a, b in zip(by_commit, by_commit[1:])) >= 3
    assert sum(not related(a, b) for a, b in zip(order, order[1:])) <= 1


def test_the_side_branch_secret_is_found_at_its_commit_in_that_order(git_repo: GitRepo, tmp_path: Path) -> None:
    secret = stripe_live_key()
    commits = _interleaved_branches(git_repo, secret)
    report = tmp_path / "out.json"
    done = git_repo.run_mcp_scan("history", "--no-cache", "--no-config", "--format", "json", "-o", str(report))
    assert done.returncode == 1, done.stderr
    findings = json.loads(report.read_text())["findings"]
    stripe = [f for f in findings if f["rule_id"].startswith("stripe")]
    assert [(f["path"], f["commit"]) for f in stripe] == [("app.py", commits["secret"])]
