"""``--format json``: ``{"version": 1, "findings": [...], "incomplete": [...], "stats": {...}}``.

``incomplete`` is always present; an empty list means every input was fully scanned.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from scanner.models import Finding
from scanner.report import JSON_VERSION, ReportContext, finding_dict, sort_findings


def write(findings: Sequence[Finding], stream: TextIO, context: ReportContext) -> None:
    document = {
        "version": JSON_VERSION,
        "findings": [finding_dict(f, context) for f in sort_findings(findings)],
        "incomplete": context.incomplete,
        "stats": context.stats,
    }
    json.dump(document, stream, indent=2, sort_keys=False)
    stream.write("\n")
