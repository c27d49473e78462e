"""The staged source and `mcp-scan staged`, on real repositories."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scanner.cli import main
from scanner.sources.staged import StagedSource
from tests.fakes import fake, stripe_live_key
from tests.git_helpers import GitRepo

KEY = stripe_live_key()


def staged_findings(repo: GitRepo, capsys: object = None) -> list[dict]:
    proc = repo.run_mcp_scan("staged", "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


def test_first_commit_is_scanned_against_the_empty_tree(git_repo: GitRepo) -> None:
    git_repo.stage("config.py", f"import os\nSTRIPE = '{KEY}'\n")
    proc = git_repo.run_mcp_scan("staged")
    assert proc.returncode == 1
    assert b"config.py:2:11" in proc.stdout
    assert KEY.encode() not in proc.stdout + proc.stderr


def test_clean_change_passes_silently(git_repo: GitRepo) -> None:
    git_repo.stage("README.md", "hello\n")
    proc = git_repo.run_mcp_scan("staged")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""


def test_line_numbers_follow_the_new_file_across_hunks(git_repo: GitRepo) -> None:
    lines = [f"line {i}\n" for i in range(1, 41)]
    git_repo.stage("app.txt", "".join(lines))
    git_repo.commit("base")
    lines[4] = "changed\n"
    lines.insert(30, f"token = '{KEY}'\n")
    git_repo.stage("app.txt", "".join(lines))
    [finding] = staged_findings(git_repo)
    assert (finding["path"], finding["line"], finding["column"]) == ("app.txt", 31, 10)


def test_only_added_lines_count(git_repo: GitRepo) -> None:
    git_repo.stage("old.txt", f"key={KEY}\n")
    git_repo.commit("accepted earlier")
    git_repo.stage("old.txt", f"key={KEY}\nmore text\n")
    assert staged_findings(git_repo) == []


def test_deleted_files_are_ignored(git_repo: GitRepo) -> None:
    git_repo.stage("leak.txt", f"key={KEY}\n")
    git_repo.commit("c1")
    git_repo.git("rm", "-q", "leak.txt")
    assert staged_findings(git_repo) == []


def test_rename_reports_new_path_and_line(git_repo: GitRepo) -> None:
    body = "".join(f"row {i}\n" for i in range(20))
    git_repo.stage("before.txt", body)
    git_repo.commit("c1")
    git_repo.git("mv", "before.txt", "after.txt")
    git_repo.stage("after.txt", body + f"secret={KEY}\n")
    [finding] = staged_findings(git_repo)
    assert (finding["path"], finding["line"]) == ("after.txt", 21)


def test_copy_reports_only_added_lines_at_the_copy(git_repo: GitRepo) -> None:
    body = "".join(f"row {i}\n" for i in range(30))
    git_repo.stage("a.txt", body)
    git_repo.commit("c1")
    git_repo.stage("a.txt", body + "x\n")
    git_repo.stage("b.txt", body + f"k={KEY}\n")
    [finding] = staged_findings(git_repo)
    assert (finding["path"], finding["line"]) == ("b.txt", 31)


def test_binary_files_are_skipped(git_repo: GitRepo) -> None:
    git_repo.stage("blob.bin", b"\x00\x01" + KEY.encode() + b"\x00")
    assert staged_findings(git_repo) == []


def test_utf16_with_bom_is_decoded(git_repo: GitRepo) -> None:
    git_repo.stage("win.txt", ("\ufeffline one\r\nkey = " + KEY + "\r\n").encode("utf-16-le"))
    [finding] = staged_findings(git_repo)
    assert (finding["path"], finding["line"], finding["column"]) == ("win.txt", 2, 7)


def test_crlf_and_cr_line_endings_keep_line_numbers(git_repo: GitRepo) -> None:
    git_repo.stage("crlf.txt", f"a\r\nb\r\nk={KEY}\r\n")
    git_repo.stage("cr.txt", f"a\rb\rc\rk={KEY}\r")
    found = {f["path"]: (f["line"], f["column"]) for f in staged_findings(git_repo)}
    assert found == {"crlf.txt": (3, 3), "cr.txt": (4, 3)}


def test_awkward_file_names_arrive_intact(git_repo: GitRepo) -> None:
    names = ["with space.txt", 'quo"te.txt', "tab\there.txt", "new\nline.txt", "naïve-ключ.txt"]
    for name in names:
        git_repo.stage(name, f"k={KEY}\n")
    assert sorted(f["path"] for f in staged_findings(git_repo)) == sorted(names)


def test_submodule_pointer_is_not_scanned(git_repo: GitRepo, tmp_path: object) -> None:
    sub = GitRepo.init(git_repo.path.parent / "sub")
    sub.stage("f.txt", "x\n")
    sub.commit("s")
    git_repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path), "sub")
    assert staged_findings(git_repo) == []


def test_allow_markers_suppress_their_line(git_repo: GitRepo) -> None:
    git_repo.stage("a.py", f"a = '{KEY}'  # mcp-scan: allow\n")
    git_repo.stage("b.py", f"b = '{KEY}'  # gitleaks:allow\n")
    git_repo.stage("c.py", f"c = '{KEY}'  # pragma: allowlist secret\n")
    git_repo.stage("d.py", f"# pragma: allowlist nextline secret\nd = '{KEY}'\n")
    assert staged_findings(git_repo) == []


def test_json_contract_and_show_secrets(git_repo: GitRepo) -> None:
    git_repo.stage("x.env", f"STRIPE_KEY={KEY}\n")
    proc = git_repo.run_mcp_scan("staged", "--format", "json")
    document = json.loads(proc.stdout)
    assert document["version"] == 1 and "stats" in document
    [finding] = document["findings"]
    for key in ("rule_id", "severity", "message", "path", "line", "column", "commit", "author", "date", "secret", "fingerprint"):
        assert key in finding
    assert finding["commit"] is None and finding["author"] is None and finding["date"] is None
    assert finding["rule_id"] == "stripe-live-secret-key"
    assert KEY not in proc.stdout.decode()
    shown = json.loads(git_repo.run_mcp_scan("staged", "--format", "json", "--show-secrets").stdout)
    assert shown["findings"][0]["secret"] == KEY


def test_staged_source_yields_one_fragment_per_hunk_with_its_context(git_repo: GitRepo) -> None:
    git_repo.stage("f.txt", "".join(f"{i}\n" for i in range(10)))
    git_repo.commit("c")
    git_repo.stage("f.txt", "0\nA\n2\n3\n4\n5\n6\nB\nC\n9\n")
    fragments = list(StagedSource(str(git_repo.path)).fragments())
    # with their context lines the two hunks meet: one fragment, reporting only the added lines
    assert [(f.path, f.start_line, f.text, f.report_lines) for f in fragments] == [
        ("f.txt", 1, "0\nA\n2\n3\n4\n5\n6\nB\nC\n9\n", ((2, 2), (8, 9)))]


def test_main_runs_in_process(git_repo: GitRepo, monkeypatch: object, capsys: object) -> None:
    git_repo.stage("k.txt", f"{fake(4)} {KEY}\n")
    assert main(["staged", "--repo", str(git_repo.path)]) == 1


def test_staging_a_secret_file_or_an_mcp_config_with_a_literal_is_blocked(git_repo: GitRepo) -> None:
    git_repo.stage(".env", "DEBUG=1\n")
    git_repo.stage(".claude/mcp/server.json",
                   '{\n  "mcpServers": {\n    "pay": {\n      "command": "npx",\n'
                   f'      "env": {{"API_KEY": "{fake(28, seed=4)}"}}\n    }}\n  }}\n}}\n')
    proc = git_repo.run_mcp_scan("staged")
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert ".env: secret file .env is being committed" in out and "git restore --staged" in out
    assert ".claude/mcp/server.json:5:" in out and '"API_KEY": "${API_KEY}"' in out
    assert fake(28, seed=4) not in out


def test_mcp_config_with_references_only_passes(git_repo: GitRepo) -> None:
    git_repo.stage(".mcp.json", '{"mcpServers": {"gh": {"url": "https://api.example.com/mcp",'
                                ' "headers": {"Authorization": "Bearer ${GITHUB_TOKEN}"}}}}\n')
    git_repo.stage(".env.example", "API_KEY=\n")
    assert git_repo.run_mcp_scan("staged").returncode == 0


def test_jwt_findings_say_whether_the_token_has_expired(git_repo: GitRepo) -> None:
    import base64

    def segment(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    token = ".".join([segment({"alg": "HS256", "typ": "JWT"}),
                      segment({"sub": "svc-" + fake(6, seed=8), "iat": 1_600_000_000, "exp": 1_600_003_600}),
                      fake(43, seed=9)])
    git_repo.stage("client.py", f"TOKEN = '{token}'\n")
    [finding] = json.loads(git_repo.run_mcp_scan("staged", "--format", "json").stdout)["findings"]
    assert "expired" in finding["message"]
    assert token not in json.dumps(finding)


def test_a_bare_repository_is_a_usage_error_not_a_clean_pass(tmp_path: Path) -> None:
    # A bare repository has no index: a hook there would wave every commit through.
    bare = GitRepo.init(tmp_path / "bare.git", "--bare")
    proc = bare.run_mcp_scan("staged")
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "bare repository" in err and "hint:" in err and "Traceback" not in err
    # ... also with the path given from outside
    outside = subprocess.run([sys.executable, "-m", "scanner", "staged", "--repo", str(bare.path)],
                             cwd=tmp_path, capture_output=True)
    assert outside.returncode == 2 and b"bare repository" in outside.stderr


def test_a_diff_too_large_to_read_blocks_the_commit_with_bounded_memory(git_repo: GitRepo) -> None:
    # 48 MiB of added text with the key at the very end, past the 32 MiB the
    # hook reads: it must neither pass the commit nor read it all into memory.
    from scanner.sources.staged import MAX_STAGED_DIFF
    from tests.reliability_support import peak_rss_kib, scanner_cmd

    line = "x = 'just an ordinary generated line of data, nothing secret'\n"
    body = line * ((MAX_STAGED_DIFF * 3 // 2) // len(line))
    git_repo.stage("generated/big.py", body + f"STRIPE = '{KEY}'\n")
    git_repo.stage("small.txt", "hello\n")
    code, rss_kib, err = peak_rss_kib(scanner_cmd("staged"), git_repo.path)
    text = err.decode()
    assert code == 3, text
    assert "too large" in text and "generated/big.py" in text and "blocked" in text
    assert KEY not in text and "Traceback" not in text
    # the capped read, not the 48 MiB file (nor copies of it), is what is held
    assert rss_kib * 1024 < MAX_STAGED_DIFF + 160 * 1024 * 1024, rss_kib


def _key_body(seed: int, lines: int = 20) -> list[str]:
    import string

    alphabet = string.ascii_letters + string.digits + "+/"
    return [fake(64, alphabet=alphabet, seed=seed * 100 + i) + "\n" for i in range(lines)]


def test_a_key_body_pasted_between_committed_begin_and_end_lines_is_blocked(git_repo: GitRepo) -> None:
    # Issue 12, item 1: a template (or a key rotated in place) keeps its BEGIN
    # and END lines committed; the new body is all the diff adds, and holds no
    # "-----BEGIN". The hook must see the added lines in their file.
    old_key = f"STRIPE = '{KEY}'\n"  # an old secret elsewhere in the file: history's business, not this commit's
    begin, end = "-----BEGIN RSA PRIVATE KEY-----\n", "-----END RSA PRIVATE KEY-----\n"
    git_repo.stage("deploy/key.pem", begin + end)
    git_repo.stage("settings.yaml", f"# {old_key}tls:\n  key: |\n    {begin}    {end}")
    git_repo.commit("templates")
    git_repo.stage("deploy/key.pem", begin + "".join(_key_body(1)) + end)
    body = "".join("    " + line for line in _key_body(2))
    git_repo.stage("settings.yaml", f"# {old_key}tls:\n  key: |\n    {begin}{body}    {end}")
    proc = git_repo.run_mcp_scan("staged", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    found = sorted((f["path"], f["rule_id"], f["line"]) for f in json.loads(proc.stdout)["findings"])
    keys = [(path, line) for path, rule, line in found if rule.startswith("private-key")]
    assert keys == [("deploy/key.pem", 1), ("settings.yaml", 4)], found
    # a body re-wrapped to short lines (no 32-character run) is seen in its file too
    short = "".join(line[i : i + 20] + "\n" for line in _key_body(3) for i in range(0, 64, 20))
    git_repo.stage("settings.yaml", f"# {old_key}tls:\n  key: |\n{begin}{short}{end}")
    proc = git_repo.run_mcp_scan("staged", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert any(f["path"] == "settings.yaml" and f["rule_id"].startswith("private-key")
               for f in json.loads(proc.stdout)["findings"])
    # the old Stripe key on an unchanged line is not this commit's doing
    assert not any(f[1] == "stripe-live-secret-key" for f in found)


def test_ordinary_changes_are_still_scanned_as_hunks_only(git_repo: GitRepo) -> None:
    # A modified file without key-body-like lines is not read whole: its old
    # secret on an unchanged line is not reported, the new one is, once.
    git_repo.stage("app.py", f"OLD = '{KEY}'\nx = 1\n")
    git_repo.commit("old")
    new_key = stripe_live_key(seed=99)
    git_repo.stage("app.py", f"OLD = '{KEY}'\nx = 1\nNEW = '{new_key}'\n")
    found = staged_findings(git_repo)
    assert [(f["path"], f["line"]) for f in found] == [("app.py", 3)]


def test_a_blocked_commit_says_so_and_what_works_in_this_repository(git_repo: GitRepo) -> None:
    # Issue 15: "commit blocked", the unstage command that works before the
    # first commit (git restore --staged does not), allow and skip-once advice.
    git_repo.stage("config.py", f"STRIPE = '{KEY}'\n")
    out = git_repo.run_mcp_scan("staged").stdout.decode()
    assert "commit blocked: 1 finding in 1 file (1 critical)" in out
    assert "git rm --cached config.py" in out and "git restore --staged" not in out
    assert "mcp-scan: allow" in out and "--no-verify" in out and "logged nowhere" in out
    assert "exposed once committed" not in out
    git_repo.git("rm", "-q", "--cached", "config.py")
    git_repo.stage("README.md", "hi\n")
    git_repo.commit("first")
    git_repo.stage("config.py", f"STRIPE = '{KEY}'\n")
    out = git_repo.run_mcp_scan("staged").stdout.decode()
    assert "git restore --staged config.py" in out
    # -q: the findings, nothing else
    quiet = git_repo.run_mcp_scan("staged", "-q").stdout.decode()
    assert quiet.startswith("config.py:1:11: ") and "blocked" not in quiet and "Next" not in quiet


def _pem(label: str, seed: int) -> str:
    return f"-----BEGIN {label}-----\n" + "".join(_key_body(seed, 6)) + f"-----END {label}-----\n"


def test_certificates_and_public_keys_are_not_secret_files(git_repo: GitRepo) -> None:
    # Issue 15, item 2: a CA bundle or a public key named *.pem / *.key is not a secret file.
    git_repo.stage("certs/ca.pem", "# Issuer: Example Root CA\n" + _pem("CERTIFICATE", 4) + _pem("CERTIFICATE", 5))
    git_repo.stage("keys/signing.key", _pem("PUBLIC KEY", 6))
    proc = git_repo.run_mcp_scan("staged", "--format", "json")
    assert proc.returncode == 0, proc.stdout
    # ... but a certificate with its private key is, and so is a key file with no PEM labels at all
    git_repo.stage("certs/server.pem", _pem("CERTIFICATE", 7) + _pem("PRIVATE KEY", 8))
    git_repo.stage("keys/raw.key", "".join(_key_body(9, 2)))
    proc = git_repo.run_mcp_scan("staged", "--format", "json")
    assert proc.returncode == 1
    files = {f["path"] for f in json.loads(proc.stdout)["findings"] if f["rule_id"] == "secret-file-tracked"}
    assert files == {"certs/server.pem", "keys/raw.key"}


# A secret on an added line that only an unchanged neighbour shows to be one: before the staged
# source read context lines, each of these commits went through the hook (the whole file, scanned
# with `mcp-scan scan`, was always found).
NEIGHBOURS = {
    ".netrc": ("machine api.mycorp.io\n  login deploybot\n", "  password {secret}\n", "netrc-password"),
    ".pypirc": ("[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = deploybot\n", "password = {secret}\n",
                "pypirc-password"),
}


def test_a_secret_whose_context_was_committed_earlier_is_blocked(git_repo: GitRepo) -> None:
    for path, (before, added, _rule) in NEIGHBOURS.items():
        git_repo.stage(path, before)
    git_repo.commit("the entries, without their passwords")
    secret = "Zq8v" + fake(14, seed=41)
    for path, (before, added, _rule) in NEIGHBOURS.items():
        git_repo.stage(path, before + added.format(secret=secret))
    found = {(f["path"], f["rule_id"]) for f in staged_findings(git_repo)}
    assert found == {(path, rule) for path, (_, _, rule) in NEIGHBOURS.items()}


def test_a_secret_committed_earlier_is_not_reported_again_for_an_edit_near_it(git_repo: GitRepo) -> None:
    """Context lines are read, not reported: editing next to an old secret does not block on it
    (it is in history already: `history` and `pre-push` report it)."""
    git_repo.stage("settings.py", f"DEBUG = True\nSTRIPE = '{KEY}'\nTIMEOUT = 30\n")
    git_repo.commit("an old leak")
    git_repo.stage("settings.py", f"DEBUG = False\nSTRIPE = '{KEY}'\nTIMEOUT = 60\n")
    assert staged_findings(git_repo) == []


def test_the_context_reaches_further_than_any_windowed_rule_match() -> None:
    from scanner.rulematch import MAX_LINES
    from scanner.sources.staged import CONTEXT_LINES

    assert CONTEXT_LINES > MAX_LINES + 1  # a match of MAX_LINES line feeds plus the allow marker's line


def test_a_nul_on_a_context_line_does_not_hide_the_added_lines(git_repo: GitRepo) -> None:
    """git calls a file text when its first 8000 bytes hold no NUL; a NUL further down, on a line
    next to an added one, made the hunk with its context look binary."""
    body = "".join(f"line {n} of ordinary text\n" for n in range(600))  # > 8000 bytes before the NUL
    git_repo.stage("data.txt", body + "marker\0byte\n" + "tail\n")
    git_repo.commit("text with a late NUL")
    git_repo.stage("data.txt", body + "marker\0byte\n" + f"STRIPE = '{KEY}'\n" + "tail\n")
    assert [(f["path"], f["rule_id"]) for f in staged_findings(git_repo)] == [("data.txt", "stripe-live-secret-key")]
