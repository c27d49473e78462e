"""Commit-time cost of ``mcp-scan audit --hook`` in a given work tree.

The first run starts with no audit history cache (it walks all of history
and fills ``<git-common-dir>/mcp-scan/audit-*.json``) and is reported on its
own; the next ``--runs`` runs are the warm cost every commit pays. The full
``mcp-scan audit`` is measured alongside for comparison. mcp-scan runs as
users get it: the checkout installed as a wheel (``bench._common.mcp_scan``).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from bench._common import mcp_scan, measure, run_once


def _drop_cache(work_tree: Path) -> None:
    out = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=work_tree, check=True,
                         capture_output=True, text=True).stdout.strip()
    common = Path(out) if Path(out).is_absolute() else work_tree / out
    for stale in (common / "mcp-scan").glob("audit-*.json"):
        stale.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("work_tree", type=Path, help="a git work tree (e.g. /tmp/sa-wt)")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--full-runs", type=int, default=5, help="runs of the full audit (0: skip it)")
    parser.add_argument("--installed", action="store_true",
                        help="use the mcp-scan on PATH instead of installing this checkout")
    args = parser.parse_args()
    tree = args.work_tree.resolve()
    exe = [shutil.which("mcp-scan") or "mcp-scan"] if args.installed else mcp_scan()
    hook = [*exe, "audit", "--hook", "-q"]
    _drop_cache(tree)
    cold, cold_rss, code = run_once(hook, tree)
    print(f"first run (no cache): {cold:.3f} s, peak {cold_rss:.0f} MB, exit {code}")
    warm = measure("audit --hook", hook, tree, args.runs, warmup=0)
    print(f"audit --hook, warm cache: median {warm.median:.3f} s over {args.runs} runs "
          f"(min {min(warm.runs):.3f}, max {max(warm.runs):.3f}), peak {warm.peak_rss_mb:.0f} MB, "
          f"exit {sorted(warm.exit_codes)}")
    if args.full_runs:
        full = measure("audit", [*exe, "audit", "-q"], tree, args.full_runs, warmup=0)
        print(f"audit (full): median {full.median:.3f} s over {args.full_runs} runs, "
              f"peak {full.peak_rss_mb:.0f} MB, exit {sorted(full.exit_codes)}")


if __name__ == "__main__":
    main()
