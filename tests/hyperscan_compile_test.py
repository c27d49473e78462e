"""A first compile of the rules' databases, split among forked helpers, gives the databases one
process compiles alone."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("hyperscan")

# Run in a fresh interpreter: a helper is forked only from a process running no other thread,
# which a test runner's own process may not be. os.cpu_count is set to 2 so that even a one-CPU
# machine takes the helpers' path.
_SCRIPT = r"""
import json, os, sys
import scanner.rulematch as rm
from scanner.rules import builtin_rules
from scanner.shadow import Shadow

base = sys.argv[1]
rules = [r for i, r in enumerate(builtin_rules())
         if i % 9 == 0 or r.id.startswith("generic-") or r.hyperscan is not None or r.scope == "text"]
texts = [x for r in rules for x in r.examples + r.negative_examples] + ["café = 'naïve'", "Grüße token: x"]
part = rm._rule_patterns_part

def marked(indices):
    with open(os.path.join(base, f"helper-{os.getpid()}"), "w"):
        pass
    return part(indices)

rm._rule_patterns_part = marked
os.cpu_count = lambda: 2

def build(helpers, where):
    os.environ["MCP_SCAN_CACHE_DIR"] = os.path.join(base, where)
    rm.compile_processes = real if helpers > 1 else (lambda: 1)
    m = rm.RuleMatcher(rules)
    shadows = [Shadow.of(t.encode("utf-8")) for t in texts]
    built = {
        "modes": m.modes, "rule": m.pattern_rule, "reach": m.pattern_reach, "lines": m.pattern_lines,
        "ahead": m.pattern_ahead, "unshadowed": sorted(m.unshadowed), "shadow_keywords": sorted(m.shadow_keywords),
        "long_rules": sorted(m.long_rules), "reaches": [m.reach, m.short_reach],
        "found": [sorted(m.scan(t.encode("utf-8")) or []) for t in texts],
        "shadow": [sorted(m.scan_shadow(s.text) or []) if s is not None else None for s in shadows],
        "long": [m.long_match(t.encode("utf-8"), True) for t in texts],
    }
    m.path = "src/app.py"  # source code: the database without the rules for other kinds of file
    built["common"] = [sorted(m.scan(t.encode("utf-8")) or []) for t in texts]
    return built

real = rm.compile_processes
one = build(1, "alone")
many = build(2, "helpers")
helpers = [name for name in os.listdir(base) if name.startswith("helper-")]
print(json.dumps({"same": one == many, "helpers": len(helpers), "parent": str(os.getpid()) in
                  [h.split("-")[1] for h in helpers], "patterns": len(one["rule"]),
                  "matched": sum(map(len, one["found"]))}))
"""


def test_helpers_compile_the_same_databases_as_one_process(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path)], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["helpers"] >= 1 and not result["parent"]  # the rules' patterns came from forked helpers
    assert result["patterns"] > 100 and result["matched"] > 100
    assert result["same"]


def test_no_helper_is_forked_while_another_thread_runs() -> None:
    import threading

    from scanner.rulematch import compile_processes

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert compile_processes() == 1
    finally:
        stop.set()
        thread.join()
