"""``--format html``: one self-contained page for audits.

Totals by severity and rule, a timeline of when secrets were introduced, a
sortable findings table and each rule's remediation. No external assets:
styles and the small sorting script are inline, and a Content-Security-Policy
allows only that exact script (by hash), so even a hostile file name that
got past escaping could not run code. Every value is HTML-escaped; secrets
are redacted unless ``--show-secrets``.
"""
from __future__ import annotations

import base64
import hashlib
import html
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from scanner.version import __version__
from scanner.display import printable
from scanner.models import Finding, severity_rank, short_commit
from scanner.report import ReportContext, incomplete_text, other_locations, sort_findings

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d232a;background:#fff}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}
.muted{color:#5c6670}.cards{display:flex;gap:1rem;flex-wrap:wrap}
.card{border:1px solid #d5dae0;border-radius:6px;padding:.6rem 1rem;min-width:7rem}
.card b{display:block;font-size:1.4rem}
table{border-collapse:collapse;width:100%;margin-top:.5rem}
th,td{border-bottom:1px solid #e3e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f8;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.path,td.secret,td.commit{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.sev{display:inline-block;border-radius:3px;padding:0 .4rem;color:#fff;font-size:.85em}
.sev-critical{background:#8b0000}.sev-high{background:#c0392b}.sev-medium{background:#d68910}
.sev-low{background:#2874a6}.sev-info{background:#6c7a89}
.bar{background:#c0392b;height:.9rem;border-radius:2px}
.timeline td{border:none;padding:.15rem .5rem}.timeline td.n{text-align:right;width:3rem}
.timeline td.b{width:70%}
details.also{font-family:system-ui,sans-serif;margin-top:.2rem}details.also ul{margin:.2rem 0;padding-left:1.2rem}
"""

# Sorts the findings table by a clicked column (numbers and severities by
# their data-sort value); "#sort=<column>" or "#sort=<column>-desc" in the
# URL applies a sort on load.
_SCRIPT = """
(function(){
var table=document.getElementById("findings");if(!table){document.body.setAttribute("data-ready","1");return;}
var heads=table.tHead.rows[0].cells;
function key(row,i){var c=row.cells[i];var v=c.getAttribute("data-sort");return v!==null?v:c.textContent;}
function sortBy(i,desc){
var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);var numeric=heads[i].getAttribute("data-type")==="number";
rows.sort(function(a,b){var x=key(a,i),y=key(b,i);var r=numeric?(parseFloat(x)-parseFloat(y)):x.localeCompare(y);return desc?-r:r;});
rows.forEach(function(r){body.appendChild(r);});
for(var j=0;j<heads.length;j++){heads[j].removeAttribute("aria-sort");}
heads[i].setAttribute("aria-sort",desc?"descending":"ascending");
}
for(var i=0;i<heads.length;i++){(function(i){heads[i].addEventListener("click",function(){
sortBy(i,heads[i].getAttribute("aria-sort")==="ascending");});})(i);}
var m=/^#sort=([a-z_]+)(-desc)?$/.exec(location.hash);
if(m){for(var k=0;k<heads.length;k++){if(heads[k].getAttribute("data-key")===m[1]){sortBy(k,!!m[2]);}}}
document.body.setAttribute("data-ready","1");
})();
"""


def _e(value: Any) -> str:
    # printable: a lone surrogate (a file name that is not UTF-8) cannot be written as UTF-8, and
    # control characters have no business in a page either; both show as escapes such as \xff.
    return html.escape(printable("" if value is None else str(value)), quote=True)


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"


def _severity(severity: str) -> str:
    return f'<span class="sev sev-{_e(severity)}">{_e(severity)}</span>'


def _cards(findings: Sequence[Finding]) -> str:
    counts = Counter(f.severity for f in findings)
    cards = [f'<div class="card"><b>{len(findings)}</b>findings</div>']
    for severity in sorted(counts, key=severity_rank, reverse=True):
        cards.append(f'<div class="card"><b>{counts[severity]}</b>{_severity(severity)}</div>')
    repos = {f.extra.get("repo") for f in findings if f.extra.get("repo")}
    if repos:
        cards.append(f'<div class="card"><b>{len(repos)}</b>repositories</div>')
    return f'<div class="cards">{"".join(cards)}</div>'


def _by_rule(findings: Sequence[Finding]) -> str:
    rows = []
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.rule_id, []).append(finding)
    ordered = sorted(groups.items(), key=lambda kv: (-severity_rank(kv[1][0].severity), -len(kv[1]), kv[0]))
    for rule_id, items in ordered:
        rows.append(f"<tr><td>{_e(rule_id)}</td><td>{_severity(items[0].severity)}</td>"
                    f"<td>{len(items)}</td><td>{_e(items[0].remediation)}</td></tr>")
    return ('<table id="rules"><thead><tr><th>Rule</th><th>Severity</th><th>Findings</th><th>Remediation</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _timeline(findings: Sequence[Finding]) -> str:
    months = Counter(f.date[:7] for f in findings if f.date and len(f.date) >= 7)
    if not months:
        return '<p class="muted">No commit dates: these findings come from files, not history.</p>'
    peak = max(months.values())
    rows = [f'<tr><td>{_e(month)}</td><td class="n">{count}</td>'
            f'<td class="b"><div class="bar" style="width:{100 * count // peak}%"></div></td></tr>'
            for month, count in sorted(months.items())]
    return f'<table class="timeline" id="timeline"><tbody>{"".join(rows)}</tbody></table>'


def _table(findings: Sequence[Finding], context: ReportContext) -> str:
    with_repo = any(f.extra.get("repo") for f in findings)
    columns = [("severity", "Severity", "number"), ("rule", "Rule", "text")]
    if with_repo:
        columns.append(("repo", "Repository", "text"))
    columns += [("path", "Location", "text"), ("commit", "Commit", "text"), ("author", "Author", "text"),
                ("date", "Date", "text"), ("secret", "Secret", "text"), ("head", "At HEAD", "text")]
    head = "".join(f'<th data-key="{k}" data-type="{t}" scope="col">{_e(label)}</th>' for k, label, t in columns)
    rows = []
    for finding in sorted(sort_findings(findings), key=lambda f: -severity_rank(f.severity)):
        at_head = finding.extra.get("present_at_head")
        cells = [f'<td data-sort="{severity_rank(finding.severity)}">{_severity(finding.severity)}</td>',
                 f"<td>{_e(finding.rule_id)}</td>"]
        if with_repo:
            cells.append(f'<td class="path">{_e(finding.extra.get("repo", ""))}</td>')
        location = f"{finding.path}:{finding.line}:{finding.column}"
        cells += [f'<td class="path" data-sort="{_e(finding.path)}\t{finding.line:09d}">{_e(location)}'
                  f'{_also_at(finding)}</td>',
                  f'<td class="commit" title="{_e(finding.commit)}">{_e(short_commit(finding.commit))}</td>',
                  f"<td>{_e(finding.author)}</td>",
                  f"<td>{_e(finding.date)}</td>",
                  f'<td class="secret">{_e(context.shown(finding))}</td>',
                  f"<td>{'' if at_head is None else ('yes' if at_head else 'no')}</td>"]
        rows.append(f'<tr class="finding">{"".join(cells)}</tr>')
    return f'<table id="findings"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _also_at(finding: Finding) -> str:
    """A grouped finding's other places (``--group secret``), folded under its location: every
    one, as JSON and SARIF list them (a secret copied to many paths is one row to read)."""
    others = other_locations(finding)
    if not others:
        return ""
    items = []
    for loc in others:
        where = str(loc.get("path", ""))
        if isinstance(loc.get("line"), int) and loc["line"] > 0:
            where += f":{loc['line']}:{loc.get('column') or 1}"
        commit = loc.get("commit")
        items.append(f"<li>{_e(where)}" + (f' <span class="muted" title="{_e(commit)}">{_e(short_commit(commit))}</span>'
                                            if commit else "") + "</li>")
    return (f'<details class="also"><summary>also at {len(others)} other place{"s" if len(others) > 1 else ""}'
            f'</summary><ul>{"".join(items)}</ul></details>')


def _stats(stats: dict[str, Any]) -> str:
    simple = [(k, v) for k, v in stats.items() if isinstance(v, (str, int, float, bool))]
    if not simple:
        return ""
    items = "".join(f"<tr><th scope=\"row\">{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in simple)
    return f'<h2>Scan</h2><table id="stats"><tbody>{items}</tbody></table>'


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    """The whole page as a string."""
    title = f"mcp-scan report: {len(findings)} finding{'s' if len(findings) != 1 else ''}"
    if findings:
        body = (f"<h2>By rule</h2>{_by_rule(findings)}<h2>When secrets were introduced</h2>{_timeline(findings)}"
                f"<h2>Findings</h2><p class=\"muted\">Click a column to sort.</p>{_table(findings, context)}")
    elif context.incomplete:
        body = '<p id="not-clean">No secrets found in what was scanned, but the scan is incomplete.</p>'
    else:
        body = '<p id="clean">No secrets found.</p>'
    if context.incomplete:
        items = "".join(f"<li>{_e(incomplete_text(i))}</li>" for i in context.incomplete)
        body = (f'<h2>Scan incomplete</h2><p class="muted">These were not fully scanned: a clean result '
                f'cannot be trusted until they are.</p><ul id="incomplete">{items}</ul>') + body
    errors = context.stats.get("errors")
    if isinstance(errors, list) and errors:
        items = "".join(f"<li>{_e(e.get('repo', '') + ': ' if isinstance(e, dict) else '')}"
                        f"{_e(e.get('error') if isinstance(e, dict) else e)}</li>" for e in errors)
        body += f'<h2>Errors</h2><ul id="errors">{items}</ul>'
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{_csp()}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1><p class=\"muted\">mcp-scan {_e(__version__)} &middot; command: {_e(context.command)}"
        f"{'' if context.show_secrets else ' &middot; secrets redacted'}</p>"
        f"{_cards(findings)}{body}{_stats(context.stats)}"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def write(findings: Sequence[Finding], stream: TextIO, context: ReportContext) -> None:
    """Write the HTML page for ``findings``."""
    stream.write(render(findings, context))
