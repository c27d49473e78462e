"""Secrets stay secret (issue 7, item 5) and nothing goes over the network.

Every built-in rule's own examples are committed to a repository; one run
with ``--show-secrets`` learns the exact secret strings, then every command
and every output format runs without it and no output, report file,
baseline, cache or error message may contain any of them. The same scans run
in a network namespace with no interfaces, and the package is checked for
network modules, statically and with an audit hook at run time.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.report import REPORTERS
from scanner.rules import builtin_rules
from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo
from tests.reliability_support import assert_no_traceback, run_scan

FORMATS = sorted(REPORTERS)
# Secrets of the user's own (not rule examples, which the rule cache may hold).
USER_SECRETS = [
    ("GITHUB_TOKEN", "ghp_" + fake(36, seed=43)),
    ("AWS_ACCESS_KEY_ID", "AKIA" + fake(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", seed=44)),
    ("SLACK_BOT_TOKEN", f"xoxb-{fake(11, '0123456789', seed=45)}-{fake(12, '0123456789', seed=46)}-{fake(24, seed=47)}"),
    ("DB_PASSWORD", fake(20, seed=48)),
]
PACKAGE = Path(__file__).resolve().parent.parent / "scanner"


def _examples_text() -> str:
    lines = []
    for rule in builtin_rules():
        for example in rule.examples:
            lines.append(example.replace("\n", "\\n") if "-----BEGIN" not in example else example)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def leaky(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, list[str]]:
    """A repository whose history and work tree hold every rule's examples, and the secrets found in them."""
    repo = GitRepo.init(tmp_path_factory.mktemp("leaky") / "repo")
    repo.stage("examples/all.txt", _examples_text())
    repo.stage("config.env", f"STRIPE_KEY={stripe_live_key(seed=41)}\n" + "".join(
        f"{name}={value}\n" for name, value in USER_SECRETS))
    repo.commit("leak everything")
    repo.stage("later.py", f"KEY = '{stripe_live_key(seed=42)}'\n")  # staged, not committed
    proc = run_scan("scan", "--show-secrets", "--format", "json", ".", cwd=repo.path)
    assert proc.returncode == 1, proc.stderr
    secrets = sorted({f["secret"] for f in json.loads(proc.stdout)["findings"] if len(f["secret"]) >= 8})
    assert len(secrets) > 20, secrets
    return repo, secrets


def assert_hidden(blob: bytes, secrets: list[str], where: str) -> None:
    text = blob.decode("utf-8", "replace")
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"{len(leaked)} secret(s) leaked in {where}: {[s[:4] + '...' for s in leaked[:5]]}"


COMMANDS = {
    "scan": ["scan", "."],
    "staged": ["staged"],
    "history": ["history", "--no-cache", "."],
    "history-cached": ["history", "."],
    "audit": ["audit", "."],
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_output_format_reveals_a_secret(leaky: tuple[GitRepo, list[str]], command: str, fmt: str, tmp_path: Path) -> None:
    repo, secrets = leaky
    args = COMMANDS[command]
    out_file = tmp_path / f"report.{fmt}"
    for extra in ([], ["-o", str(out_file)]):
        proc = run_scan(*args, "--format", fmt, *extra, cwd=repo.path)
        if b"not implemented yet" in proc.stderr:
            pytest.skip(f"{command} is not implemented yet")
        assert_no_traceback(proc)
        assert proc.returncode in (0, 1), proc.stderr.decode("utf-8", "replace")[-2000:]
        assert_hidden(proc.stdout, secrets, f"{command} {fmt} stdout")
        assert_hidden(proc.stderr, secrets, f"{command} {fmt} stderr")
    assert_hidden(out_file.read_bytes(), secrets, f"{command} {fmt} -o file")


def test_show_secrets_really_shows_them(leaky: tuple[GitRepo, list[str]]) -> None:
    # The check above can fail: the same secrets are there when asked for.
    repo, secrets = leaky
    proc = run_scan("history", "--no-cache", "--show-secrets", "--format", "json", ".", cwd=repo.path)
    if b"not implemented yet" in proc.stderr:
        pytest.skip("history is not implemented yet")
    assert sum(s in proc.stdout.decode() for s in secrets) > len(secrets) // 2


def _files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_caches_and_baselines_hold_no_secret(leaky: tuple[GitRepo, list[str]], tmp_path: Path) -> None:
    repo, secrets = leaky
    git_dir = repo.path / ".git"
    before = {p: p.stat().st_mtime_ns for p in _files_under(git_dir)}
    for args in (["history", "."], ["history", "--show-secrets", "."], ["history", "--show-secrets", "."],
                 ["scan", "--show-secrets", "."], ["staged", "--show-secrets"]):
        proc = run_scan(*args, "--format", "json", cwd=repo.path)
        if b"not implemented yet" in proc.stderr:
            continue
        assert proc.returncode in (0, 1), proc.stderr
    written = [p for p in _files_under(git_dir) if before.get(p) != p.stat().st_mtime_ns]
    written = [p for p in written if "objects" not in p.parts and p.name not in ("index", "ORIG_HEAD")]
    for path in written:
        assert_hidden(path.read_bytes(), secrets, str(path))
    # The per-user cache may hold the compiled rule registry, examples included;
    # what it must never hold is anything found in the user's files.
    examples = _examples_text()
    own = [s for s in secrets if s not in examples]
    assert len(own) >= 5, own
    for path in _files_under(Path(os.environ["MCP_SCAN_CACHE_DIR"])):
        assert_hidden(path.read_bytes(), own, str(path))

    baseline = tmp_path / "baseline.json"
    proc = run_scan("baseline", "create", "--source", "both", "-o", str(baseline), ".", cwd=repo.path)
    if b"not implemented yet" not in proc.stderr and b"invalid choice" not in proc.stderr:
        assert_no_traceback(proc)
        assert baseline.exists(), proc.stderr
        assert_hidden(baseline.read_bytes(), secrets, "baseline")
        assert_hidden(proc.stdout + proc.stderr, secrets, "baseline create output")


def test_error_messages_do_not_echo_secret_content(leaky: tuple[GitRepo, list[str]], tmp_path: Path) -> None:
    repo, secrets = leaky
    secret = secrets[0]
    bad_baseline = tmp_path / "bad-baseline.json"
    bad_baseline.write_text('{"version": 1, "findings": [ {"secret": "' + secret + '", \n')
    bad_config = tmp_path / "bad.toml"
    bad_config.write_text(f'allow-paths = ["ok"]\nstopwords = [ "{secret}" \nnot toml = {secret}\n')
    bad_rules = tmp_path / "bad-rules.toml"
    bad_rules.write_text(f"[[rules]]\nid = 'x'\ndescription = 'd'\nseverity = 'low'\nregex = '{secret}('\n")
    for args in (["scan", "--baseline", str(bad_baseline), "."], ["scan", "--config", str(bad_config), "."],
                 ["scan", "--rules", str(bad_rules), "."], ["staged", "--baseline", str(bad_baseline)]):
        proc = run_scan(*args, cwd=repo.path)
        assert_no_traceback(proc)
        assert proc.returncode in (2, 3), (args, proc.returncode, proc.stderr)
        assert_hidden(proc.stdout + proc.stderr, secrets, f"error of {args[:2]}")


# -- network -------------------------------------------------------------------

_NETWORK_MODULES = re.compile(
    r"^\s*(?:import|from)\s+(socket|ssl|requests|httpx|aiohttp|urllib3|http\.client|http\.server|ftplib|smtplib|"
    r"telnetlib|xmlrpc|urllib\.request|asyncio)\b|^\s*from\s+urllib\s+import\s+.*\brequest\b",
    re.MULTILINE,
)


def test_package_imports_no_network_module() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for match in _NETWORK_MODULES.finditer(path.read_text("utf-8")):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}: {match.group(0).strip()}")
    assert offenders == []


_AUDIT = r"""
import sys
events = []
def hook(event, args):
    if event.startswith("socket.") or event in ("urllib.Request", "http.client.connect", "ftplib.connect", "smtplib.connect"):
        events.append(event)
sys.addaudithook(hook)
from scanner.cli import main
codes = []
for argv in (["scan", "."], ["staged"], ["history", "--no-cache", "--jobs", "1", "."], ["audit", "."]):
    try:
        codes.append(main(argv + ["--format", "json", "-o", "/dev/null"]))
    except SystemExit as exc:
        codes.append(exc.code)
print(sorted(set(events)), codes)
"""


def test_no_socket_is_ever_opened(leaky: tuple[GitRepo, list[str]]) -> None:
    repo, _ = leaky
    proc = subprocess.run([sys.executable, "-c", _AUDIT], cwd=repo.path, capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    events, _, codes = proc.stdout.decode().strip().partition(" ")
    assert events == "[]", proc.stdout
    assert "1" in codes


def _unshare() -> list[str]:
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -rn is not permitted here: {probe.stderr.decode(errors='replace').strip()}")
    return ["unshare", "-rn"]


@pytest.mark.parametrize("command", ["scan", "staged", "history", "audit", "rules-check"])
def test_scans_work_without_any_network(leaky: tuple[GitRepo, list[str]], command: str) -> None:
    repo, secrets = leaky
    prefix = _unshare()
    args = {"scan": ["scan", "."], "staged": ["staged"], "history": ["history", "--no-cache", "."],
            "audit": ["audit", "."], "rules-check": ["rules", "check"]}[command]
    proc = run_scan(*args, cwd=repo.path, prefix=prefix)
    if b"not implemented yet" in proc.stderr:
        pytest.skip(f"{command} is not implemented yet")
    assert_no_traceback(proc)
    expected = {"scan": 1, "staged": 1, "history": 1}.get(command)
    if expected is not None:
        assert proc.returncode == expected, proc.stderr.decode("utf-8", "replace")[-2000:]
    else:
        assert proc.returncode in (0, 1), proc.stderr
    assert_hidden(proc.stdout + proc.stderr, secrets, f"{command} offline")


_FAULT = r"""
import sys
import scanner.commands.scan as scan_command
secret = sys.argv[1]
def broken(args):  # a bug whose exception text quotes the data being scanned
    return int(secret)
scan_command.run = broken
from scanner.cli import main
raise SystemExit(main(["scan", "."]))
"""


def test_internal_errors_fail_closed_without_quoting_data(tmp_path: Path) -> None:
    secret = stripe_live_key(seed=49)
    proc = subprocess.run([sys.executable, "-c", _FAULT, secret], cwd=tmp_path, capture_output=True)
    assert proc.returncode == 3
    assert b"Traceback" not in proc.stderr
    assert b"mcp-scan: internal error: ValueError at " in proc.stderr, proc.stderr
    assert b"MCP_SCAN_DEBUG=1" in proc.stderr
    assert_hidden(proc.stderr + proc.stdout, [secret], "internal error")
    debug = subprocess.run([sys.executable, "-c", _FAULT, secret], cwd=tmp_path, capture_output=True,
                           env=dict(os.environ, MCP_SCAN_DEBUG="1"))
    assert debug.returncode == 3 and b"Traceback" in debug.stderr


def test_ci_annotations_summary_and_sarif_hold_no_secret(leaky: tuple[GitRepo, list[str]], tmp_path: Path) -> None:
    repo, secrets = leaky
    head = repo.git("rev-parse", "HEAD").strip()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"before": "0" * 40, "after": head}))
    summary = tmp_path / "summary.md"
    sarif = tmp_path / "ci.sarif"
    env = dict(os.environ, CI="true", GITHUB_ACTIONS="true", GITHUB_EVENT_NAME="push", GITHUB_EVENT_PATH=str(event),
               GITHUB_SHA=head, GITHUB_REF_NAME="main", GITHUB_STEP_SUMMARY=str(summary))
    proc = run_scan("ci", "--sarif", str(sarif), ".", cwd=repo.path, env=env)
    if b"not implemented yet" in proc.stderr:
        pytest.skip("ci is not implemented yet")
    assert_no_traceback(proc)
    assert proc.returncode == 1, proc.stderr.decode("utf-8", "replace")[-2000:]
    assert b"::error" in proc.stdout  # annotations were written, and they are checked below
    for name, blob in (("stdout", proc.stdout), ("stderr", proc.stderr), ("summary", summary.read_bytes()),
                       ("sarif", sarif.read_bytes())):
        assert_hidden(blob, secrets, f"ci {name}")
