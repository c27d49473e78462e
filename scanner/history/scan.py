"""``scan_history``, the one entry point of ``mcp-scan history``: it runs the steps below in order.

Every unique blob reachable from the refs (or a range) is scanned once. Steps,
each in its module of ``scanner/history/``:

1. one ``git log --raw`` walk lists, per commit, the blobs it introduced
   (``walk``); blobs that refs reach without a commit (tags of blobs and
   trees) are added under entries standing for those refs (``refs``);
2. blobs the cache already answered are dropped (``cache``); every other blob
   is read, whatever its path: lockfiles, minified bundles and source maps
   carry tokens in URLs and keys in code, and a binary blob costs git's
   inflation and a NUL check, never a decode;
3. one ``git cat-file --batch-check`` gives sizes; blobs over the cap are
   dropped unread;
4. the rest is split into chunks (all versions of a path together, newest
   first, so git's delta-base cache works: ``pool``) and streamed through one
   ``git cat-file --batch`` per worker process (``blobs``, ``delta``; blobs
   over 5 MiB in slices, ``large``);
5. hits are attributed to the commit that introduced them (``attribution``);
6. commit and annotated-tag messages are scanned as texts of their own
   (``messages``), by this process while the workers read the blobs; on a
   cold whole history, by a worker while this process walks (``pool``).

``scan_history`` is used by ``mcp-scan history``, ``ci``, ``pre-push``,
``pre-receive``, ``sweep`` and ``baseline``; the design in brief is in the
README's "How it works".
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from scanner.detect import Detector
from scanner.errors import ScanError
from scanner.gitcmd import run_git
from scanner.history.blobs import PendingSizes, Task, blob_sizes
from scanner.history.hits import Hit
from scanner.history.large import WHOLE_READ_LIMIT, scan_large_blob
from scanner.history.pool import EarlyMessageTask, Workers, pack_chunks
from scanner.history.progress import Progress
from scanner.history.refs import RefObjects
from scanner.history.walk import Walk, rev_args, run_walk
from scanner.models import Finding, Incomplete
from scanner.documentation import is_documentation
from scanner.vendored import is_vendored

# No cap unless the user sets one: blobs over WHOLE_READ_LIMIT are streamed
# in slices (scanner.history.large), so a large blob costs time, not memory.
DEFAULT_MAX_BLOB_SIZE = 1 << 62
_NO_HITS: list[Hit] = []  # shared by every blob without hits; never mutated


@dataclass
class HistoryResult:
    """Findings (one per secret and path), counters, and what went wrong along the way."""

    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # What could not be fully scanned (rule timeouts, blobs a partial clone lacks):
    # the commands fail closed on it, like on errors, and list it in their reports.
    incomplete: list[Incomplete] = field(default_factory=list)
    # (fingerprint, path) -> ids of the commits carrying it there (blob findings only; a
    # finding's ``commits`` is their count): what grouping by secret unites.
    sightings: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)


@dataclass
class _Plan:
    """Which blobs to read, under which cache keys."""

    keys: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # oid -> [(key, path)]


def scan_history(
    repo: str,
    detector: Detector,
    *,
    revs: Optional[Sequence[str]] = None,
    exclude: Sequence[str] = (),
    jobs: Optional[int] = None,
    max_blob_size: int = DEFAULT_MAX_BLOB_SIZE,
    use_cache: bool = True,
    progress: Optional[Progress] = None,
    head: Optional[str] = None,
    need_secrets: bool = False,
    line_delta: bool = True,
    objects: Optional[Sequence[tuple[str, str]]] = None,
    cache_dir: Optional[Path] = None,
) -> HistoryResult:
    """Scan every blob introduced by the commits in ``revs`` (default: all refs) not in ``exclude``,
    and their messages.

    Returns one finding per (secret, path) attributed to the introducing
    commit, with ``extra`` fields ``present_at_head``, ``commits``, ``paths``
    and ``blob``. Findings answered from the cache carry a placeholder secret
    that redacts exactly like the real one unless ``need_secrets`` is true,
    in which case their blobs are re-read. ``line_delta=False`` runs the rules
    over every version whole instead of only the lines each version changed
    (slower; same findings, see ``scanner.history.delta``). Raises ScanError when ``repo`` is
    not a repository (exit 3) or a revision does not resolve (exit 2).

    ``objects`` are ``(ref name, object id)`` pairs naming tags, blobs or trees
    to scan besides the commits (``scanner.history.refs``): what they reach,
    and annotated tags' messages. None means those ``revs`` name, or, when
    ``revs`` is None, every ref that points at no commit. An empty ``revs``
    walks no commit at all (a push of a tag of a blob).

    ``cache_dir`` keeps the caches in a portable store keyed by the
    repository's identity (``scanner.history.store``) instead of its git
    directory.
    """
    started = time.monotonic()
    result = HistoryResult()
    common_dir, shallow = _repo_info(repo)
    # Forks nothing yet: the workers start once the chunks are counted (see Workers).
    workers = Workers(repo, detector, line_delta, jobs, warm=revs is None and not exclude)
    try:
        return _scan(repo, detector, workers, result, started, common_dir, shallow, revs=revs, exclude=exclude,
                     max_blob_size=max_blob_size, use_cache=use_cache,
                     progress=progress, head=head, need_secrets=need_secrets, objects=objects,
                     cache_dir=cache_dir)
    finally:
        workers.close()


def _scan(repo: str, detector: Detector, workers: Workers, result: HistoryResult, started: float,
          common_dir: Path, shallow: bool, *, revs: Optional[Sequence[str]], exclude: Sequence[str],
          max_blob_size: int, use_cache: bool, progress: Optional[Progress],
          head: Optional[str], need_secrets: bool, objects: Optional[Sequence[tuple[str, str]]],
          cache_dir: Optional[Path] = None) -> HistoryResult:
    from scanner.history.attribution import attribute, head_tree
    from scanner.history.cache import cache_key, cache_path, load_or_empty
    from scanner.history.messages import COMMIT_MESSAGE, scan_messages
    from scanner.rules import ruleset_hash

    if shallow:
        result.warnings.append(
            "this is a shallow clone: history is partial, only the commits present were scanned "
            "(run `git fetch --unshallow` for a full audit)"
        )
    base, identity = common_dir / "mcp-scan", ""
    if use_cache and cache_dir is not None:
        from scanner.history.identity import repository_identity

        identity = repository_identity(repo, common_dir)
        base = cache_dir / identity[:32]
    options = {"max_blob_size": max_blob_size, "every_path": True,
               "min_confidence": detector.min_confidence, "stopwords": list(detector.stopwords),
               "allow": [p.pattern for p in detector.allow_patterns]}
    key = cache_key(ruleset_hash(detector.rules, detector.claim_rules), options)
    cache = load_or_empty(cache_path(base, key) if use_cache else None, key, identity)
    if cache.status == "corrupt":
        result.warnings.append(f"ignored a damaged history cache ({cache.path}); it will be rebuilt")
    elif cache.status == "foreign":
        result.warnings.append(f"ignored a history cache written for another repository, rule set or format "
                               f"({cache.path}); it will be rebuilt")
    path_rules = [r for r in detector.running_rules if r.path]
    key_of = _key_function(path_rules, any(not r.vendored for r in detector.running_rules),
                           any(not r.docs for r in detector.running_rules))
    early: Optional[EarlyMessageTask] = None
    if workers.early and not cache.scanned and workers.fills_pool(_object_count(repo)):
        # A cold whole history, large enough to keep every worker busy: the pool starts before
        # the walk, and one worker reads and scans every commit message meanwhile (the walk
        # keeps one core busy; sqlalchemy: ~0.5 s of message work off the blob scan's two cores),
        # from the walk's own list of the commits once it has one.
        workers.prestart()
        early = workers.every_message(key_of("", COMMIT_MESSAGE))
    listed = early.listed if early is not None else None
    if revs is not None and not revs:
        walk = Walk()  # objects only: no commit to walk
    elif use_cache and not exclude and not any(".." in r or r.startswith("^") for r in revs or ()):
        from scanner.history.walkcache import cached_walk

        walk = cached_walk(repo, base, revs, lambda r, x: run_walk(repo, r, x, workers.jobs, listed), identity,
                           result.warnings)
    else:
        walk = run_walk(repo, revs, exclude, workers.jobs, listed)
    if early is not None:
        early.start()  # (when the walk listed no commits: the worker lists them itself)
    commit_count = len(walk.commits)
    reached = _ref_objects(repo, revs, objects)
    result.errors.extend(reached.errors)
    _add_ref_blobs(walk, reached.blobs, key_of)
    partial = _is_partial_clone(repo)
    # Nothing cached (a first or --no-cache run): every blob of the walk is read, so git sizes them
    # while this process plans them. Not in a partial clone: asking about a promised blob fetches it.
    pending = PendingSizes(repo, list(walk.blobs)) if walk.blobs and not cache.scanned and not partial else None
    try:
        plan = _plan(walk, key_of)
        if cache.scanned:
            todo = {oid: [kp for kp in pairs if kp[0] not in cache.scanned] for oid, pairs in plan.keys.items()}
            todo = {oid: pairs for oid, pairs in todo.items() if pairs}
        else:
            todo = plan.keys  # nothing cached: no copy (it is one entry per blob of the history)
        answered = len(plan.keys) - len(todo)  # blobs the cache fully answered
        absent = _promised_blobs(repo, revs, exclude, reached.tips) if partial else set()
        absent_todo = [oid for oid in todo if oid in absent] if absent else []
        if absent_todo:
            # Fail closed: a blob that was never read may hold a secret.
            result.incomplete.append(Incomplete(
                reason="missing-blob", count=len(absent_todo),
                message=f"{len(absent_todo)} blob(s) of this partial clone are not present locally and were "
                        "not scanned",
            ))
            todo = {oid: pairs for oid, pairs in todo.items() if oid not in absent}
        sizes, missing = pending.result(list(todo)) if pending is not None else blob_sizes(repo, list(todo))
    finally:
        if pending is not None:
            pending.close()
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        result.errors.append(f"{len(missing)} blob(s) missing from the object store (corrupt clone?): {shown}")
        # The report says what was not read, not only stderr: one record per blob, with where it lived.
        result.incomplete.extend(_introduced_by(walk, [
            Incomplete(reason="missing-blob", blob=oid, path=next(iter(walk.blobs.get(oid, ())), (0, None))[1],
                       message="blob missing from the object store: not scanned")
            for oid in missing
        ]))
    too_big = [oid for oid, size in sizes.items() if size > max_blob_size]
    tasks: list[Task] = [(oid, sizes[oid], todo[oid]) for oid in todo if oid in sizes and sizes[oid] <= max_blob_size]
    large = [task for task in tasks if task[1] > WHOLE_READ_LIMIT]
    if large:
        tasks = [task for task in tasks if task[1] <= WHOLE_READ_LIMIT]

    hits: dict[str, list[Hit]] = dict(cache.hits)
    counters = {"blobs": 0, "bytes": 0, "binary": 0}
    matching: dict[str, int] = {}
    # The workers start on the blobs while this process scans the commit messages, or collects
    # them from the worker that scanned them during the walk (reading the blobs' results after,
    # so that one cache save below covers both).
    chunks = workers.start(pack_chunks(tasks, walk), progress, len(tasks), sum(t[1] for t in tasks))
    messages = scan_messages(repo, detector, walk.commits[:commit_count], reached.tags, cache, key_of, need_secrets,
                             early.get() if early is not None else None)
    result.incomplete.extend(messages.incomplete)
    if use_cache:
        cache.add(messages.hits)
    try:
        for chunk in chunks:
            for key, found in chunk.hits.items():
                hits[key] = found or _NO_HITS  # most blobs: one shared empty list, not one each
            if use_cache:
                cache.add({k: v for k, v in chunk.hits.items() if k not in chunk.unfinished}
                          if chunk.unfinished else chunk.hits)
            counters["blobs"] += chunk.blobs
            counters["bytes"] += chunk.bytes
            counters["binary"] += chunk.binary
            for name, count in chunk.matching.items():
                matching[name] = matching.get(name, 0) + count
            result.errors.extend(chunk.errors)
            result.incomplete.extend(_introduced_by(walk, chunk.incomplete))
        for oid, _size, scans in large:
            big = scan_large_blob(repo, detector, oid, scans)
            if big.error:
                result.errors.append(big.error)
                continue
            hits.update(big.hits)
            if use_cache:
                cache.add({k: v for k, v in big.hits.items() if k not in big.unfinished})
            counters["blobs"] += 1
            counters["bytes"] += big.bytes
            counters["binary"] += big.binary
            result.incomplete.extend(_introduced_by(walk, big.incomplete))
    finally:
        # Also on Ctrl-C: what finished is recorded, atomically, so the next run resumes.
        if use_cache and (counters["blobs"] or messages.hits):
            try:
                cache.save()
            except OSError as exc:
                result.warnings.append(f"could not write the history cache: {exc}")

    # Findings answered from the cache carry a redacted stand-in for their secret.
    # JWT-shaped ones always get the real token back: reports say whether it
    # has expired, which only the token itself tells (cold and warm must agree).
    from_cache = {key for key, found in cache.hits.items() if found and hits.get(key) is found
                  and (need_secrets or any(h.secret.startswith("eyJ") for h in found))}
    _scan_previous(repo, detector, walk, hits, key_of, cache, max_blob_size, result)
    rules = {r.id: r for r in detector.rules}
    head_blobs = head_tree(repo, head or "HEAD")
    result.findings = attribute(walk, hits, key_of, rules, head_blobs, result.sightings)
    if from_cache:
        result.findings = _reread_secrets(repo, detector, result.findings, key_of, from_cache)
    result.findings.extend(messages.findings)
    result.stats = {
        "commits": commit_count,
        "blobs": len(walk.blobs),
        "scanned": counters["blobs"],
        "cached": answered,
        "skipped_size": len(too_big),
        "binary": counters["binary"],
        "bytes": counters["bytes"],
        "findings": len(result.findings),
        "shallow": shallow,
        "missing_blobs": len(absent_todo) + len(missing),
        "seconds": round(time.monotonic() - started, 3),
    }
    if matching:
        result.stats["matching"] = _matching_stats(detector, matching)
    return result


def _matching_stats(detector: Detector, counters: dict[str, int]) -> dict[str, Any]:
    """How the rules were matched: compile modes, rules Hyperscan rejected (keyword path), and the
    candidate windows each rule opened, most first (the rate that decides how much Python runs)."""
    from scanner.history.blobs import BlobScanner

    stats: dict[str, Any] = {k: v for k, v in counters.items() if not k.startswith("candidates:")}
    matcher = BlobScanner.make_matcher(detector)
    if matcher is not None:
        report = matcher.report()
        stats["modes"] = report["modes"]
        stats["fallback_rules"] = report["fallback_rules"]
        stats["unshadowed_rules"] = report["unshadowed_rules"]
        stats["shadow_keyword_rules"] = report["shadow_keyword_rules"]
    candidates = sorted(((v, k.split(":", 1)[1]) for k, v in counters.items() if k.startswith("candidates:")),
                        reverse=True)
    stats["candidates"] = {name: count for count, name in candidates}
    return stats


def _introduced_by(walk: Walk, records: Sequence[Incomplete]) -> list[Incomplete]:
    """``records`` with the commit that introduced each blob at its path (the first one the walk saw)."""
    named = []
    for record in records:
        commit = record.commit
        if commit is None and record.blob is not None:
            occurrences = walk.blobs.get(record.blob, ())
            index = next((i for i, path, _prev in occurrences if path == record.path),
                         occurrences[0][0] if occurrences else None)
            if index is not None:
                commit = walk.commits[index][0]
        named.append(record.replace(commit=commit))
    return named


def _object_count(repo: str) -> int:
    """Objects in the repository's own store, loose and packed (git's count, no walk); 0 if unknown."""
    try:
        out = run_git(["count-objects", "-v"], cwd=repo).decode("ascii", "replace")
    except ScanError:
        return 0
    fields = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    try:
        return int(fields.get("count", 0)) + int(fields.get("in-pack", 0))
    except ValueError:
        return 0


def _repo_info(repo: str) -> tuple[Path, bool]:
    """The git directory shared by all worktrees, and whether the clone is shallow."""
    if not os.path.isdir(repo):
        raise ScanError(f"{repo} is not a directory", "pass the path of a git repository")
    out = run_git(["rev-parse", "--git-common-dir", "--is-shallow-repository"], cwd=repo).decode("utf-8", "replace")
    lines = out.splitlines()
    common = Path(lines[0])
    if not common.is_absolute():
        common = Path(repo) / common
    return common.resolve(), len(lines) > 1 and lines[1].strip() == "true"


def _is_partial_clone(repo: str) -> bool:
    """A clone made with ``--filter``: some objects are only promised by the remote."""
    out = run_git(["config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$"], cwd=repo, check=False)
    return any(not line.endswith((b" false", b" 0")) for line in out.splitlines())


def _promised_blobs(repo: str, revs: Optional[Sequence[str]], exclude: Sequence[str], objects: Sequence[str]) -> set[str]:
    """Blob ids reachable from the range but absent locally, listed without fetching them.

    Asking ``cat-file`` for them would make git try to fetch each one from the
    promisor remote (slow, and it fails offline); ``rev-list --missing=print``
    only reports them.
    """
    if revs is not None and not revs and not objects:
        return set()
    tips = None if revs is None else [*revs, *objects]
    out = run_git(["rev-list", "--objects", "--missing=print", *rev_args(tips, exclude), "--"], cwd=repo, check=False)
    # "?<id>" per missing object (whole ids: 40 or 64 hex digits)
    return {line[1:].split(b" ")[0].decode("ascii", "replace") for line in out.splitlines()
            if line.startswith(b"?") and len(line) > 1}


def _ref_objects(repo: str, revs: Optional[Sequence[str]], objects: Optional[Sequence[tuple[str, str]]]) -> RefObjects:
    """What refs reach without a commit (``scanner.history.refs``): the given ``objects``, else those
    ``revs`` name, else (every ref scanned) every ref whose object is not a commit."""
    from scanner.history.refs import named_objects, non_commit_refs, reach

    if objects is None:
        objects = non_commit_refs(repo) if revs is None else named_objects(repo, revs)
    return reach(repo, objects)


def _add_ref_blobs(walk: Walk, blobs: Sequence[tuple[str, str, str]], key_of: Callable[[str, str], str]) -> None:
    """Add blobs only refs reach to the walk, one entry standing for each such ref after the commits.

    A blob a commit of the walk already introduced (as the same path class) is left out: it is
    reported at that commit, and a tag of a commit's tree would otherwise report it twice.
    """
    commit_count = len(walk.commits)
    entries: dict[str, int] = {}
    for ref, path, oid in blobs:
        seen = walk.blobs.get(oid)
        key = key_of(oid, path)
        if seen and any(index < commit_count and key_of(oid, p) == key for index, p, _prev in seen):
            continue
        index = entries.get(ref)
        if index is None:
            index = entries[ref] = len(walk.commits)
            walk.commits.append((ref, "", ""))
            walk.refs[index] = ref
        if seen is None:
            walk.blobs[oid] = [(index, path, ())]
        else:
            seen.append((index, path, ()))



def _key_function(path_rules: Sequence[Any], outside_vendored: bool = False,
                  outside_docs: bool = False) -> Callable[[str, str], str]:
    """``(oid, path) -> cache key``: the blob id, plus which path-restricted rules apply.

    Most rule sets have no path-restricted rules, and then a blob is scanned
    once whatever its paths. Otherwise a blob is scanned once per distinct set
    of path rules its paths select ("path class"). Rules kept out of vendored
    trees (``outside_vendored``) all share one condition: one mark for a path
    inside such a tree, so the common path outside one keeps the bare blob id. Rules kept out of
    prose documentation (``outside_docs``) likewise mark a documentation path.
    """
    if not path_rules and not outside_vendored and not outside_docs:
        return lambda oid, path: oid
    classes: dict[str, str] = {}

    def key_of(oid: str, path: str) -> str:
        sig = classes.get(path)
        if sig is None:
            parts = [str(i) for i, r in enumerate(path_rules) if r.path_pattern.search(path)]
            if outside_vendored and is_vendored(path):
                parts.append("vendored")
            if outside_docs and is_documentation(path):
                parts.append("docs")
            sig = classes[path] = ",".join(parts)
        return f"{oid}/{sig}" if sig else oid

    return key_of


def _plan(walk: Walk, key_of: Callable[[str, str], str]) -> _Plan:
    """Every blob of the walk, once per cache key (path class) its paths select."""
    plan = _Plan()
    for oid, occurrences in walk.blobs.items():
        pairs: dict[str, str] = {}
        for _index, path, _previous in occurrences:
            pairs.setdefault(key_of(oid, path), path)
        plan.keys[oid] = list(pairs.items())
    return plan



def _scan_previous(repo: str, detector: Detector, walk: Walk, hits: dict[str, list[Hit]],
                   key_of: Callable[[str, str], str], cache: Any, max_blob_size: int, result: HistoryResult) -> None:
    """Scan the parent versions (outside a range) of blobs with hits, to tell new secrets from kept ones.

    Only blobs with findings have such parents read, so this costs a handful of blobs.
    """
    from scanner.history.attribution import previous_keys
    from scanner.history.blobs import BlobScanner

    wanted = previous_keys(walk, hits, key_of)
    for oid in list(wanted):
        known = [kp for kp in wanted[oid] if kp[0] in cache.scanned]
        for key, _path in known:
            hits[key] = cache.hits.get(key, [])
        wanted[oid] = [kp for kp in wanted[oid] if kp[0] not in cache.scanned]
        if not wanted[oid]:
            del wanted[oid]
    if not wanted:
        return
    sizes, _missing = blob_sizes(repo, sorted(wanted))
    tasks: list[Task] = [(oid, sizes[oid], wanted[oid]) for oid in sorted(wanted)
                         if sizes.get(oid, max_blob_size + 1) <= max_blob_size]
    scanner = BlobScanner(repo, detector, delta=False)
    try:
        res = scanner.scan(tasks)
    finally:
        scanner.close()
    hits.update(res.hits)
    result.errors.extend(res.errors)
    result.incomplete.extend(_introduced_by(walk, res.incomplete))


def _reread_secrets(repo: str, detector: Detector, findings: list[Finding], key_of: Callable[[str, str], str],
                    from_cache: set[str]) -> list[Finding]:
    """Raw secrets for findings answered from the cache: re-read only each one's introducing blob."""
    from scanner.history.blobs import BlobScanner

    wanted: dict[str, dict[str, str]] = {}
    for f in findings:
        key = key_of(f.extra["blob"], f.path)
        if key in from_cache:
            wanted.setdefault(f.extra["blob"], {})[key] = f.path
    if not wanted:
        return findings
    sizes, _missing = blob_sizes(repo, sorted(wanted))
    tasks: list[Task] = [(oid, sizes[oid], list(wanted[oid].items())) for oid in sorted(wanted) if oid in sizes]
    scanner = BlobScanner(repo, detector, delta=False)
    try:
        res = scanner.scan(tasks)
    finally:
        scanner.close()
    secrets = {(key, h.fingerprint): h.secret for key, found in res.hits.items() for h in found}
    return [f.replace(secret=secrets.get((key_of(f.extra["blob"], f.path), f.fingerprint), f.secret))
            for f in findings]
