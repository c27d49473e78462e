"""The HTML report: escaping and redaction in the markup, then rendered in real headless Chromium."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional

import pytest

from scanner.detect import Detector
from scanner.models import Finding
from scanner.report import ReportContext
from scanner.report.html import write
from scanner.rules import builtin_rules
from tests.fakes import stripe_live_key
from tests.git_helpers import GitRepo

HOSTILE_DIR = "<script>alert(1)<"  # with the file below: the path "<script>alert(1)</script>.txt"
HOSTILE_FILE = "script>.txt"
HOSTILE_IMG = "<img src=x onerror=\"document.title='pwned'\">.env"


def render(findings: list[Finding], show_secrets: bool = False) -> str:
    stream = io.StringIO()
    write(findings, stream, ReportContext(show_secrets=show_secrets, command="history", stats={"commits": 3}))
    return stream.getvalue()


def finding(path: str, seed: int, date: Optional[str] = None) -> Finding:
    (found,) = Detector(builtin_rules()).scan_text(f"KEY={stripe_live_key(seed=seed)}\n", path)
    return found.replace(commit="c" * 40, author="Ann <ann@example.com>", date=date)


def test_markup_escapes_everything_and_redacts() -> None:
    hostile = finding(f"{HOSTILE_DIR}/{HOSTILE_FILE}", 51, "2024-03-01T00:00:00+00:00")
    page = render([hostile, finding(HOSTILE_IMG, 52, "2024-05-01T00:00:00+00:00")])
    assert page.count("<script") == 1  # ours only
    assert "<img" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in page
    assert "Ann &lt;ann@example.com&gt;" in page
    assert stripe_live_key(seed=51) not in page and stripe_live_key(seed=52) not in page
    assert "sk_l***REDACTED***" in page
    # self-contained: nothing fetched (a remediation may name a provider's page in escaped text)
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//""", page)
    assert "script-src 'sha256-" in page
    assert stripe_live_key(seed=51) in render([hostile], show_secrets=True)


def test_format_html_on_the_scan_command(git_repo: GitRepo) -> None:
    secret = stripe_live_key(seed=56)
    git_repo.write("conf/app.env", f"KEY={secret}\n")
    proc = git_repo.run_mcp_scan("scan", "conf", "--format", "html")
    assert proc.returncode == 1, proc.stderr
    page = proc.stdout.decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count('<tr class="finding">') == 1
    assert "conf/app.env:1:5" in page and secret not in page


def test_empty_report_says_so() -> None:
    page = render([])
    assert 'id="clean"' in page and "0 findings" in page


# -- real Chromium ---------------------------------------------------------------

def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium is not installed (apt-get install -y chromium)")


def dump_dom(page: Path, tmp_path: Path, fragment: str = "") -> str:
    """The DOM after scripts ran, as Chromium serialises it."""
    proc = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=5000",
         "--dump-dom", page.as_uri() + fragment],
        capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


class DomSummary(HTMLParser):
    """What the rendered page contains: script elements, title, findings rows and their cells."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts = 0
        self.images = 0
        self.title = ""
        self.ready = False
        self.rows: list[list[str]] = []
        self._in_title = False
        self._in_findings = False
        self._cell: Optional[list[str]] = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts += 1
        elif tag == "img":
            self.images += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "body":
            self.ready = attributes.get("data-ready") == "1"
        elif tag == "table":
            self._in_findings = attributes.get("id") == "findings"
        elif tag == "tr" and self._in_findings and attributes.get("class") == "finding":
            self.rows.append([])
        elif tag == "td" and self._in_findings and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "table":
            self._in_findings = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture
def leaky_repos(tmp_path: Path) -> Path:
    """A directory with one repository whose history holds three fake keys, two under hostile names."""
    repo = GitRepo.init(tmp_path / "repos" / "svc")
    repo.stage("README.md", "svc\n")
    repo.commit("init", date="2023-11-02T10:00:00+00:00")
    repo.stage(f"{HOSTILE_DIR}/{HOSTILE_FILE}", f"k={stripe_live_key(seed=53)}\n")
    repo.commit("hostile name", date="2024-01-15T10:00:00+00:00")
    repo.stage(HOSTILE_IMG, f"k={stripe_live_key(seed=54)}\n")
    repo.commit("hostile img", date="2024-01-20T10:00:00+00:00")
    repo.stage("app/settings.py", f"STRIPE = '{stripe_live_key(seed=55)}'\n")
    repo.commit("settings", date="2024-04-01T10:00:00+00:00")
    return tmp_path / "repos"


def test_report_renders_in_headless_chromium(tmp_path: Path, leaky_repos: Path) -> None:
    page = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "scanner", "sweep", str(leaky_repos), "--format", "html", "-o", str(page)],
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    dom = dump_dom(page, tmp_path)
    summary = DomSummary()
    summary.feed(dom)
    assert summary.ready, "the inline script did not run (CSP hash or script error)"
    assert summary.scripts == 1 and summary.images == 0
    assert summary.title == "mcp-scan report: 3 findings"  # no injected handler renamed the page
    assert len(summary.rows) == 3
    locations = {row[3] for row in summary.rows}  # severity, rule, repo, location, ...
    assert f"{HOSTILE_DIR}/{HOSTILE_FILE}:1:3" in locations
    assert f"{HOSTILE_IMG}:1:3" in locations and "app/settings.py:1:11" in locations
    assert {row[2] for row in summary.rows} == {(leaky_repos / "svc").as_posix()}
    for seed in (53, 54, 55):
        assert stripe_live_key(seed=seed) not in dom
    assert all(row[7] == "sk_l***REDACTED***" for row in summary.rows)
    assert "2024-01" in dom and "2024-04" in dom  # the timeline's months
    assert "2023-11" not in dom  # the clean commit introduced nothing


def test_table_sorts_in_chromium(tmp_path: Path, leaky_repos: Path) -> None:
    page = tmp_path / "report.html"
    subprocess.run([sys.executable, "-m", "scanner", "sweep", str(leaky_repos), "--format", "html", "-o", str(page)],
                   capture_output=True, check=False)
    orders = {}
    for fragment in ("#sort=path", "#sort=path-desc", "#sort=date"):
        summary = DomSummary()
        summary.feed(dump_dom(page, tmp_path, fragment))
        assert summary.ready
        orders[fragment] = [row[3] for row in summary.rows]
    assert orders["#sort=path"] == sorted(orders["#sort=path"])
    assert orders["#sort=path-desc"] == list(reversed(orders["#sort=path"]))
    assert orders["#sort=date"][-1] == "app/settings.py:1:11"  # introduced last


def test_a_grouped_finding_lists_its_other_places_in_chromium(tmp_path: Path) -> None:
    """``history --group secret``: the row of a secret copied to other paths lists them all under
    its location (escaped: one of them is a hostile file name), as the text, JSON and SARIF do."""
    repo = GitRepo.init(tmp_path / "svc")
    key = stripe_live_key(seed=56)
    repo.stage("app/settings.py", f"STRIPE = '{key}'\n")
    first = repo.commit("settings", date="2024-04-01T10:00:00+00:00")
    repo.stage("examples/settings.py", f"STRIPE = '{key}'\n")
    repo.stage(HOSTILE_IMG, f"k={key}\n")
    repo.commit("copies", date="2024-05-01T10:00:00+00:00")
    page = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "scanner", "history", "--no-cache", "--group", "secret",
                           "--format", "html", "-o", str(page)], cwd=repo.path, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    summary = DomSummary()
    summary.feed(dump_dom(page, tmp_path))
    assert summary.ready and summary.images == 0 and summary.title == "mcp-scan report: 1 finding"
    [row] = summary.rows
    location = row[2]  # severity, rule, location, ...
    assert location.startswith("app/settings.py:1:11")
    assert "also at 2 other places" in location
    assert "examples/settings.py:1:11" in location and f"{HOSTILE_IMG}:1:3" in location
    assert first[:7] not in location  # the other places were added by the second commit
    assert key not in page.read_text()
