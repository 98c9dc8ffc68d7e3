"""Findings as CSV: one row per finding, for spreadsheets and ticket imports."""

from __future__ import annotations

import csv
import io

from novacron.core.clock import isoformat
from novacron.security.compliance.reports.common import ReportRun, mapping_text

COLUMNS = (
    "run_id",
    "check_id",
    "title",
    "severity",
    "status",
    "resource",
    "evidence",
    "observed_at",
    "mute_reason",
    "frameworks",
    "remediation",
)


def _cell(value: str) -> str:
    # Spreadsheets run cells starting with = + - @ as formulas (CSV injection);
    # evidence can carry text from hosts, so such cells get a leading apostrophe.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def render_csv(run: ReportRun) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for f in run.ordered():
        meta = run.meta(f)
        row = (
            run.run_id,
            f.check_id,
            meta.title,
            meta.severity.value,
            f.status.value,
            f.resource,
            f.evidence,
            isoformat(f.observed_at) or "",
            f.mute_reason or "",
            mapping_text(meta),
            meta.remediation,
        )
        writer.writerow([_cell(str(v)) for v in row])
    return out.getvalue()
