"""``mcp-scan scan`` through the rules' Hyperscan database and a worker pool finds what the detector
finds in whole texts (issue 13: the scan of a work tree).

Every test runs the real CLI on a real temporary directory three ways and
compares the findings, in report order: worker processes (``--jobs 2``), one
process (``--jobs 1``), and the pure-Python path (``MCP_SCAN_NO_HYPERSCAN=1``:
the detector on each whole text, which is how every file was scanned before).
"""
from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scanner.filescan import MATCH_MIN_BYTES, POOL_MIN_BYTES, POOL_MIN_FILES
from scanner.prefilter import hyperscan_available
from tests.fakes import fake, stripe_live_key
from tests.reliability_support import as_unprivileged

ROOT = Path(__file__).resolve().parent.parent
needs_hyperscan = pytest.mark.skipif(not hyperscan_available(), reason="the hyperscan wheel is not installed here")


def _filler(lines: int, seed: int) -> str:
    """Ordinary code: assignments, calls, comments, no secret."""
    return "".join(f"value_{seed}_{i} = compute({i}, 'item-{i % 17}')  # step {i}\n" for i in range(lines))


def _pem(seed: int, newline: str) -> str:
    body = base64.b64encode(fake(900, seed=seed).encode()).decode()
    rows = [body[i:i + 64] for i in range(0, len(body), 64)]
    return newline.join(["-----BEGIN RSA PRIVATE KEY-----", *rows, "-----END RSA PRIVATE KEY-----"]) + newline


def build_tree(root: Path) -> None:
    """A tree past the pool's thresholds with the inputs whose handling differs between the paths."""
    src = root / "src"
    src.mkdir(parents=True)
    for i in range(POOL_MIN_FILES + 4):
        extra = f"STRIPE_KEY = '{stripe_live_key(seed=i)}'\n" if i % 3 == 0 else ""
        (src / f"module_{i:02}.py").write_text(_filler(600, i) + extra + _filler(200, i + 100))
    big = _filler(POOL_MIN_BYTES // 60, 7)  # one large file, secrets in the middle and at the very end
    (root / "big.py").write_text(big[: len(big) // 2] + f"db_password = \"{fake(18, seed=3)}\"\n"
                                 + big[len(big) // 2:] + f"token = '{stripe_live_key(seed=40)}'")
    # non-UTF-8 bytes (latin-1) next to secrets, and UTF-8 text with accents inside and around them
    (root / "latin1.py").write_bytes(_filler(50, 8).encode() + b"# caf\xe9 cr\xe8me\n"
                                     + f"password = \"{fake(16, seed=9)}\"\n".encode() + b"name = 'Andr\xe9'\n")
    (root / "notes.md").write_text(_filler(80, 9) + "Grüße aus Köln\n"
                                   + f"db_url = \"postgres://admin:Pä55wörd{fake(8, seed=4)}@db.internal.test/app\"\n"
                                   + f"secret: \"naïve{fake(14, seed=5)}\"\n" + "— end —\n", encoding="utf-8")
    # a private key split across CRLF lines, and one across LF lines in a larger file
    (root / "key_crlf.pem").write_bytes(_pem(11, "\r\n").encode())
    (root / "deploy.py").write_text(_filler(300, 12) + "KEY = '''\n" + _pem(12, "\n") + "'''\n" + _filler(300, 13))
    # CR-only line ends (classic Mac), UTF-16 with a BOM
    (root / "mac.txt").write_bytes(f"a = 1\rSTRIPE = '{stripe_live_key(seed=50)}'\rb = 2\r".encode())
    (root / "wide.env").write_bytes(f"\r\nSTRIPE_KEY={stripe_live_key(seed=51)}\r\n".encode("utf-16"))
    # binary: a secret-shaped string inside an image is not read; a keystore-like file is judged by path
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0" + stripe_live_key(seed=52).encode() + b"\0" * 64)
    # allow markers, on the line and on the line before
    (root / "allowed.py").write_text(_filler(40, 14)
                                     + f"token = '{stripe_live_key(seed=53)}'  # mcp-scan: allow\n"
                                     + "# pragma: allowlist nextline secret\n"
                                     + f"other = '{stripe_live_key(seed=54)}'\n"
                                     + f"kept = '{stripe_live_key(seed=55)}'\n")
    # one secret twice in a file: both places are reported
    twice = stripe_live_key(seed=56)
    (root / "twice.py").write_text(f"A = '{twice}'\n" + _filler(100, 15) + f"B = '{twice}'\n")
    # a Kubernetes Secret (values decoded only when the manifest is seen whole), percent escapes
    value = base64.b64encode(fake(24, seed=16).encode()).decode()
    (root / "secret.yaml").write_text(f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: {value}\n")
    (root / "url.py").write_text(_filler(60, 17) + f"DSN = 'mysql://app:{fake(10, seed=18)}%40{fake(6, seed=19)}@db.internal.test/x'\n")
    (root / "empty.txt").write_text("")


def scan(root: Path, *args: str, no_hyperscan: bool = False) -> tuple[int, list[tuple[Any, ...]], dict[str, Any]]:
    """Exit code, findings in report order, and the JSON report of ``mcp-scan scan`` on ``root``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("MCP_SCAN_NO_HYPERSCAN", None)
    if no_hyperscan:
        env["MCP_SCAN_NO_HYPERSCAN"] = "1"
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", ".", "--no-config", "--format", "json",
                           "--show-secrets", *args], cwd=root, env=env, capture_output=True, timeout=600)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    report = json.loads(proc.stdout)
    found = [(f["rule_id"], f["path"], f["line"], f["column"], f["end_line"], f["end_column"], f["secret"])
             for f in report["findings"]]
    return proc.returncode, found, report


@needs_hyperscan
def test_pool_one_process_and_pure_python_find_the_same(tmp_path: Path) -> None:
    build_tree(tmp_path)
    total = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert total >= max(POOL_MIN_BYTES, MATCH_MIN_BYTES)  # the pool and the rule database are both used
    code, expected, report = scan(tmp_path, no_hyperscan=True)
    assert code == 1
    assert scan(tmp_path, "--jobs", "1")[1] == expected
    assert scan(tmp_path, "--jobs", "2")[1] == expected
    # the comparison saw the inputs it was built for
    rules = {f[0] for f in expected}
    paths = {f[1] for f in expected}
    assert "stripe-live-secret-key" in rules and len(rules) >= 4, rules
    assert {"big.py", "key_crlf.pem", "deploy.py", "mac.txt", "wide.env", "allowed.py"} <= paths, paths
    assert "logo.png" not in paths
    assert [f[6] for f in expected if f[1] == "allowed.py"] == [stripe_live_key(seed=55)]
    assert sum(f[1] == "twice.py" for f in expected) == 2
    assert report["stats"]["files"] == len([p for p in tmp_path.rglob("*") if p.is_file()])


# A rule whose value class is Unicode-aware in Python (\w takes "é") and ASCII-only in Hyperscan, and
# one Hyperscan rejects even as a prefilter (\K): the first is found only because the lines around
# non-ASCII bytes go to Python's regex (no other rule's keyword opens a window there); the second
# through its keywords.
USER_RULES = r"""
[[rules]]
id = "team-zorp"
description = "team zorp value"
severity = "high"
regex = '''zorp=(?P<secret>\w{24})'''
keywords = ["zorp="]
examples = ["zorp=AbcdefghijklmnopqrstuvwX"]

[[rules]]
id = "team-oddkey"
description = "odd key"
severity = "high"
regex = '''oddkey=\K(?P<secret>[A-Z][A-Za-z0-9]{20})'''
keywords = ["oddkey"]
examples = ["oddkey=QabcdefghijklmnopqrstU"]
"""


@needs_hyperscan
def test_unicode_values_and_rules_hyperscan_rejects(tmp_path: Path) -> None:
    rules = tmp_path / "team.toml"
    rules.write_text(USER_RULES)
    tree = tmp_path / "tree"
    tree.mkdir()
    token = fake(10, seed=1) + "é" + fake(13, seed=2)
    odd = "Q" + fake(20, seed=3)
    pad = _filler(MATCH_MIN_BYTES // 50, 1)
    (tree / "a.py").write_text(pad + f"zorp={token}\n" + pad + f"oddkey={odd}\n", encoding="utf-8")
    code, expected, _ = scan(tree, "--rules", str(rules), no_hyperscan=True)
    assert code == 1
    assert {(f[0], f[6]) for f in expected} >= {("team-zorp", token), ("team-oddkey", odd)}
    assert scan(tree, "--rules", str(rules), "--jobs", "1")[1] == expected


def test_jobs_below_one_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "scanner", "scan", ".", "--jobs", "0"], cwd=tmp_path,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True)
    assert proc.returncode == 2 and b"--jobs" in proc.stderr, proc.stderr


def test_unreadable_file_in_a_pooled_scan_fails_closed(tmp_path: Path) -> None:
    prefix = as_unprivileged()
    build_tree(tmp_path)
    locked = tmp_path / "src" / "module_03.py"
    locked.chmod(0)
    try:
        proc = subprocess.run([*prefix, sys.executable, "-m", "scanner", "scan", ".", "--no-config", "--jobs", "2"],
                              cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True)
    finally:
        locked.chmod(0o644)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 3, err
    assert "cannot read" in err and "module_03.py" in err and "Traceback" not in err


# Keyword-path rule (scope = "text") that backtracks: each victim costs the detector its whole budget,
# so the workers are busy when the interrupt lands.
SLOW_RULE = r"""
[[rules]]
id = "team-slow"
description = "nested quantifier"
severity = "low"
scope = "text"
regex = '''slowkey(?P<secret>(a|aa)+)$'''
keywords = ["slowkey"]
examples = ["slowkeyaaaa"]
"""


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to see the workers")
def test_ctrl_c_during_a_pooled_scan_exits_130_and_stops_the_workers(tmp_path: Path) -> None:
    rules = tmp_path / "slow.toml"
    rules.write_text(SLOW_RULE)
    tree = tmp_path / "tree"
    tree.mkdir()
    victim = "slowkey" + "a" * 60 + "!\n"
    for i in range(40):
        (tree / f"v{i:02}.txt").write_text(_filler(POOL_MIN_BYTES // 40 // 50, i) + victim)
    proc = subprocess.Popen([sys.executable, "-m", "scanner", "scan", ".", "--no-config", "--rules", str(rules),
                             "--jobs", "2"], cwd=tree, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    workers: list[int] = []
    for _poll in range(60_000):  # a hang guard (10 minutes), not a time budget
        workers = _children(proc.pid)
        if len(workers) >= 2 or proc.poll() is not None:
            break
        time.sleep(0.01)
    assert proc.poll() is None and workers, proc.communicate()
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert b"Traceback" not in out + err and b"interrupted" in err
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
