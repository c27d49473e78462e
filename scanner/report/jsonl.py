"""``--format jsonl``: one finding object per line, for streaming into other tools."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from scanner.models import Finding
from scanner.report import ReportContext, finding_dict, sort_findings


def write(findings: Sequence[Finding], stream: TextIO, context: ReportContext) -> None:
    for finding in sort_findings(findings):
        stream.write(json.dumps(finding_dict(finding, context)) + "\n")
