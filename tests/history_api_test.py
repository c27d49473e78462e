"""The history API other commands build on: jobs, chunking and the line-delta scan agree."""
from __future__ import annotations

from typing import Any

import pytest

from scanner.detect import Detector
from scanner.errors import ScanError
from scanner.record import replace
from scanner.rules import builtin_rules
from scanner.history import blobs, pool, walk
from scanner.history.blobs import PendingSizes, blob_sizes
from scanner.history.scan import scan_history
from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo


def _lines(n: int, seed: int) -> list[str]:
    return [f"row_{seed}_{i} = '{fake(8, seed=seed * 1000 + i)}'\n" for i in range(n)]


def _history(repo: GitRepo) -> dict[str, str]:
    """Files edited over many commits; secrets added, moved, edited around and removed."""
    secrets = {name: stripe_live_key(100 + i) for i, name in enumerate("abcd")}
    files = {name: _lines(60, i) for i, name in enumerate(["one.py", "two.py", "three.py"])}
    commits = {}
    for step in range(24):
        for name, lines in files.items():
            if (step + len(name)) % 3 == 0:
                lines.insert((step * 7) % len(lines), f"edit_{step} = {step}\n")
                lines[(step * 11) % len(lines)] = f"changed_{step} = True\n"
        if step == 3:
            files["one.py"].insert(30, f"KEY_A = '{secrets['a']}'\n")
        if step == 6:  # a key block added at once, mid-file
            files["two.py"][10:10] = ["# config\n", f"KEY_B = '{secrets['b']}'\n", f"KEY_C = '{secrets['c']}'\n"]
        if step == 12:
            files["one.py"] = [l for l in files["one.py"] if secrets["a"] not in l]
        if step == 15:  # the same secret appears at a second path
            files["three.py"].append(f"KEY_B_COPY = '{secrets['b']}'\n")
        if step == 18:
            files["three.py"][5] = f"KEY_D = '{secrets['d']}'  # mcp-scan: allow\n"
        for name, lines in files.items():
            repo.stage(name, "".join(lines))
        commits[step] = repo.commit(f"step {step}")
    return {**secrets, **{f"commit{k}": v for k, v in commits.items()}}


def _key(result: Any) -> set[tuple[Any, ...]]:
    return {(f.fingerprint, f.path, f.commit, f.line, f.column, f.end_line, f.end_column,
             f.extra["commits"], f.extra["paths"], f.extra["present_at_head"]) for f in result.findings}


@pytest.fixture
def edited(git_repo: GitRepo) -> tuple[GitRepo, dict[str, str]]:
    return git_repo, _history(git_repo)


def test_line_delta_jobs_and_chunks_agree_with_whole_file_scans(edited: tuple[GitRepo, dict[str, str]],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    repo, facts = edited
    detector = Detector(list(builtin_rules()))
    whole = scan_history(str(repo.path), detector, jobs=1, use_cache=False, line_delta=False)
    assert whole.errors == []
    assert {f.secret for f in whole.findings} == {facts["a"], facts["b"], facts["c"]}
    fast = scan_history(str(repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False)
    assert _key(fast) == _key(whole)
    monkeypatch.setattr(pool, "_chunk_blobs", 5)  # many chunks: the pool really runs
    pooled = scan_history(str(repo.path), Detector(list(builtin_rules())), jobs=2, use_cache=False)
    assert _key(pooled) == _key(whole)
    assert pooled.stats["scanned"] == whole.stats["scanned"]


def test_a_walk_split_across_git_processes_equals_one_walk(edited: tuple[GitRepo, dict[str, str]],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    repo, facts = edited
    # merges: a clean one and a conflict resolved by hand (a blob only the merge introduced)
    repo.git("checkout", "-q", "-b", "side", facts["commit8"])
    repo.stage("side.py", f"SIDE = '{stripe_live_key(7)}'\n")
    repo.commit("side")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-edit", "side")
    repo.start_conflicting_merge("conflict.py", "x = 1\n", "x = 2\n", "x = 3\n", branch="other")
    repo.stage("conflict.py", f"x = 4\nRESOLVED = '{stripe_live_key(8)}'\n")
    repo.commit("resolve")
    repo.git("checkout", facts["commit2"], "--", "one.py")  # an old blob comes back: two occurrences
    repo.commit("revert one.py")
    monkeypatch.setattr(walk, "PARALLEL_WALK_MIN", 1)
    for revs, exclude in ((None, []), (["HEAD"], [facts["commit10"]])):
        one = walk.run_walk(str(repo.path), revs, exclude, parts=1)
        assert len(one.commits) > 10
        assert revs or any(len(occ) > 1 for occ in one.blobs.values())
        for parts in (2, 3, 7):
            split = walk.run_walk(str(repo.path), revs, exclude, parts=parts)
            assert split.commits == one.commits
            assert split.blobs == one.blobs
    whole = scan_history(str(repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False)
    split_scan = scan_history(str(repo.path), Detector(list(builtin_rules())), jobs=3, use_cache=False)
    assert _key(split_scan) == _key(whole)
    assert stripe_live_key(8) in {f.secret for f in whole.findings}


def test_attribution_details(edited: tuple[GitRepo, dict[str, str]]) -> None:
    repo, facts = edited
    result = scan_history(str(repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False)
    found = {(f.secret, f.path): f for f in result.findings}
    a = found[(facts["a"], "one.py")]
    assert a.commit == facts["commit3"] and a.extra["present_at_head"] is False
    assert a.extra["commits"] >= 1
    b = found[(facts["b"], "two.py")]
    assert b.commit == facts["commit6"] and b.line == 12 and b.column == 10
    assert b.extra["present_at_head"] is True and b.extra["paths"] == 2
    b_copy = found[(facts["b"], "three.py")]
    assert b_copy.commit == facts["commit15"]
    # two.py changes in later commits; every version carried the key
    assert b.extra["commits"] > 1


def test_range_api_excludes_earlier_history(edited: tuple[GitRepo, dict[str, str]]) -> None:
    repo, facts = edited
    detector = Detector(list(builtin_rules()))
    result = scan_history(str(repo.path), detector, revs=["HEAD"], exclude=[facts["commit10"]], jobs=1,
                          use_cache=False)
    assert {(f.secret, f.path) for f in result.findings} == {(facts["b"], "three.py")}
    ranged = scan_history(str(repo.path), detector, revs=[f"{facts['commit10']}..HEAD"], jobs=1, use_cache=False)
    assert _key(ranged) == _key(result)


def _manifest_body(seed: int) -> str:
    """A Secret's metadata, 40 comment lines, and its data: a Stripe key, base64-encoded."""
    import base64

    encoded = base64.b64encode(stripe_live_key(seed).encode()).decode()
    middle = "".join(f"  # setting {i}: {fake(20, seed=seed + 100 + i)}\n" for i in range(40))
    return f"metadata:\n  name: payments\n{middle}data:\n  stripe: {encoded}\n"


@pytest.mark.parametrize("colon", [": ", ":\n  "])
def test_a_version_that_is_a_kubernetes_secret_is_scanned_whole(git_repo: GitRepo, colon: str) -> None:
    # Values under a Secret's data: are decoded only when the detector sees
    # "kind: Secret". Here only the kind line changes, far from an unchanged
    # base64 value, so a delta scan of the new version alone would miss it.
    # (The kind on the next line is no match of the kubernetes-secret-data gate's
    # expression: only the chain's look for the word "Secret" in the change sees it.)
    body = _manifest_body(301)
    # versions are scanned newest first, so the Secret must be the older one
    git_repo.stage("deploy.yaml", f"apiVersion: v1\nkind{colon}Secret\n" + body)
    git_repo.commit("a secret")
    git_repo.stage("deploy.yaml", f"apiVersion: v1\nkind{colon}ConfigMap\n" + body)
    git_repo.commit("now a config map")
    whole = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False, line_delta=False)
    fast = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False)
    assert whole.findings, "the decoded key must be found by a whole-file scan"
    assert _key(fast) == _key(whole)


def test_a_change_that_makes_a_manifest_near_accented_text_is_scanned_whole(git_repo: GitRepo) -> None:
    # The kind line turns the oldest version into a Secret, 7 KB above its base64 value; accented
    # comments (added by the middle version) sit next to that line, so the chain learns that the
    # change says "Secret" from the scan of the version's shadow (scanner.shadow), not its bytes.
    import base64

    encoded = base64.b64encode(stripe_live_key(305).encode()).decode()
    middle = "".join(f"  # setting {i}: {fake(20, seed=400 + i)}\n" for i in range(200))
    body = f"{middle}metadata:\n  name: payments\ndata:\n  stripe: {encoded}\n"  # ("metadata:" says "data:")
    accents = "".join(f"# réglage n° {i} : déjà vu\n" for i in range(10))
    git_repo.stage("deploy.yaml", "apiVersion: v1\nkind: Secret\n" + accents + body)
    introduced = git_repo.commit("a secret")
    git_repo.stage("deploy.yaml", "apiVersion: v1\nkind: ConfigMap\n" + accents + body)
    git_repo.commit("now a config map")
    git_repo.stage("deploy.yaml", "apiVersion: v1\nkind: ConfigMap\n" + body)  # (scanned first)
    git_repo.commit("no comments")
    whole = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False, line_delta=False)
    fast = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False)
    assert [(f.rule_id, f.commit) for f in whole.findings] == [("stripe-live-secret-key", introduced)]
    assert _key(fast) == _key(whole)
    assert fast.stats["matching"]["shadowed"] >= 1


def test_a_change_without_the_word_secret_that_makes_a_manifest_is_scanned_whole(git_repo: GitRepo) -> None:
    # The newer version says "Secret" but is no manifest (a comment sits between "kind:" and
    # "Secret"); the older one, a line shorter, is one. The change between them holds no
    # "Secret", so the chain must remember the word was there and test the whole version.
    body = "  Secret\n" + _manifest_body(303)
    git_repo.stage("deploy.yaml", "apiVersion: v1\nkind:\n" + body)
    introduced = git_repo.commit("a secret")
    git_repo.stage("deploy.yaml", "apiVersion: v1\nkind:\n# what follows is no kind\n" + body)
    git_repo.commit("a comment")
    whole = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False, line_delta=False)
    fast = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False)
    assert [(f.rule_id, f.commit) for f in whole.findings] == [("stripe-live-secret-key", introduced)]
    assert _key(fast) == _key(whole)


def test_a_file_that_only_says_secret_is_judged_by_its_changes(git_repo: GitRepo) -> None:
    # "clientSecret" in code is no Kubernetes manifest: its versions need no whole scan.
    lines = [f"const setting{i} = {i};\n" for i in range(300)]
    lines[5] = "const clientSecret = process.env.CLIENT_SECRET;\n"
    git_repo.stage("app.js", "".join(lines))
    git_repo.commit("code")
    lines[250] = f"const stripe = '{stripe_live_key(304)}';\n"
    git_repo.stage("app.js", "".join(lines))
    added = git_repo.commit("a key")
    lines[100] = "const changed = 1;\n"
    git_repo.stage("app.js", "".join(lines))
    git_repo.commit("an edit")
    fast = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False)
    whole = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False, line_delta=False)
    assert [(f.rule_id, f.commit) for f in fast.findings] == [("stripe-live-secret-key", added)]
    assert _key(fast) == _key(whole)
    assert fast.stats["matching"]["delta_scans"] == 2


def test_changes_near_the_end_of_long_files_get_the_right_line_numbers(git_repo: GitRepo) -> None:
    # Versions that differ only in their last lines: the delta scan counts those
    # windows' line numbers back from the end of the file, from the chain's
    # running count of lines (insertions and deletions change it).
    base = [f"setting_{i} = {i}\n" for i in range(200)]
    versions = []
    v = list(base)
    v[190] = f"KEY_A = '{stripe_live_key(501)}'\n"
    versions.append(v)
    versions.append(list(base))
    v = list(base)
    v[120:120] = ["# inserted\n", "# lines\n", "# here\n"]
    v[185] = f"KEY_B = '{stripe_live_key(502)}'\n"
    versions.append(v)
    v = list(versions[-1])
    del v[150:152]
    v[195] = f"KEY_C = '{stripe_live_key(503)}'\n"
    versions.append(v)
    v = list(versions[-1])
    v[110] = f"KEY_D = '{stripe_live_key(504)}'\n"
    v.append(f"KEY_E = '{stripe_live_key(505)}'\n")
    versions.append(v)
    for n, lines in enumerate(versions):
        git_repo.stage("settings.py", "".join(lines))
        git_repo.commit(f"v{n}")
    whole = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False, line_delta=False)
    fast = scan_history(str(git_repo.path), Detector(list(builtin_rules())), jobs=1, use_cache=False)
    assert len(whole.findings) == 5
    assert _key(fast) == _key(whole)
    assert {f.secret: f.line for f in whole.findings}[stripe_live_key(502)] == 186


def test_a_later_slice_that_git_cannot_walk_fails_the_walk(tmp_path: Any) -> None:
    """A slice after the first that git cannot walk (an unknown commit) fails the whole walk with
    git's error: never a shorter walk that leaves commits unscanned."""
    repo = GitRepo.init(tmp_path / "repo")
    for n in range(4):
        repo.stage("f.py", "".join(_lines(3, n)))
        repo.commit(f"c{n}")
    listed = repo.git("rev-list", "--topo-order", "--reverse", "HEAD").encode()
    whole = walk._stdin_logs(str(repo.path), [listed[:41 * 2], listed[41 * 2:]])
    assert [sha for sha, _, _ in whole.commits] == listed.decode().split()
    with pytest.raises(ScanError):
        walk._stdin_logs(str(repo.path), [listed[:41 * 2], b"f" * 40 + b"\n"])


def test_sizes_asked_ahead_answer_as_blob_sizes_does(tmp_path: Any) -> None:
    """A cold scan asks git for every blob's size before planning (``PendingSizes``) and reads the
    answer after: the same sizes and missing ids as asking then, for all ids or some of them."""
    repo = GitRepo.init(tmp_path / "repo")
    for n in range(3):
        repo.stage(f"f{n}.py", "".join(_lines(n + 2, n)))
        repo.commit(f"c{n}")
    oids = repo.git("rev-list", "--objects", "--all", "--filter=object:type=blob").split()[::2]
    ghost = "0123456789abcdef0123456789abcdef01234567"
    asked = [*oids, ghost]
    pending = PendingSizes(str(repo.path), asked)
    try:
        assert pending.result(asked) == blob_sizes(str(repo.path), asked)
        assert pending.result([ghost, oids[0]]) == blob_sizes(str(repo.path), [ghost, oids[0]])
        assert pending.result([ghost])[1] == [ghost]
    finally:
        pending.close()
    gone = PendingSizes(str(tmp_path / "repo"), oids)
    gone.close()  # stopped before its answer was read: nothing left running
    with pytest.raises(ScanError):
        failing = PendingSizes(str(tmp_path), oids)  # not a repository: git's error, not an empty answer
        try:
            failing.result(oids)
        finally:
            failing.close()


def test_split_walk_in_a_sha256_repository(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = GitRepo.init(tmp_path / "repo", "--object-format=sha256")
    for n in range(9):
        repo.stage(f"f{n % 3}.py", "".join(_lines(5, n)))
        if n == 6:
            repo.git("rm", "-q", "--cached", "f0.py")
        repo.commit(f"c{n}")
    monkeypatch.setattr(walk, "PARALLEL_WALK_MIN", 1)
    one = walk.run_walk(str(repo.path), None, [], parts=1)
    split = walk.run_walk(str(repo.path), None, [], parts=3)
    assert len(one.commits) == 9 and all(len(sha) == 64 for sha, _, _ in one.commits)
    assert split.commits == one.commits and split.blobs == one.blobs
    assert all(len(oid) == 64 for oid in one.blobs)


def _compiled_in_worker() -> list[bool]:
    """A pool task: which of the worker's rules have their regex compiled."""
    from scanner.history.blobs import worker_scanner

    return ["pattern" in r.__dict__ for r in worker_scanner().detector.running_rules]


def test_a_whole_history_forks_its_pool_before_the_walk_and_each_worker_compiles_the_large_regexes(
        git_repo: GitRepo) -> None:
    """The workers compile them while this process walks (5-70 ms each where no compiled copy is
    cached); a range scan forks nothing ahead and compiles nothing."""
    git_repo.stage("a.py", "x = 1\n")
    git_repo.commit("one")
    def fresh() -> list[Any]:  # copies: builtin_rules() is shared, and so are its compiled patterns
        return [replace(r) for r in builtin_rules() if len(r.regex) > blobs.LARGE_REGEX]

    large = fresh()
    assert large and not any("pattern" in r.__dict__ for r in large)
    detector = Detector(large)
    workers = pool.Workers(str(git_repo.path), detector, True, jobs=2, warm=True)
    assert workers.early and workers.pool is None  # nothing forked until asked
    try:
        workers.prestart()
        compiled = [workers.pool.apply(_compiled_in_worker) for _ in range(4)]
        assert all(c and all(c) for c in compiled)
        assert not any("pattern" in r.__dict__ for r in detector.running_rules)  # the workers', not ours
    finally:
        workers.close()
    cold = fresh()
    ranged = pool.Workers(str(git_repo.path), Detector(cold), True, jobs=2, warm=False)
    assert not ranged.early and ranged.pool is None and not any("pattern" in r.__dict__ for r in cold)
