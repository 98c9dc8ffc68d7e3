"""Compliance reports: HTML, CSV, OCSF JSON and SARIF from one ``ReportRun``.

render_html(run)       self-contained page: summaries per severity and framework,
                       every failing finding with evidence and remediation
render_csv(run)        one row per finding
to_ocsf / render_ocsf_json   OCSF 1.3.0 Compliance Finding events (class 2003)
to_sarif / render_sarif      SARIF 2.1.0 log: checks as rules, findings as results
"""

from __future__ import annotations

from novacron.security.compliance.reports.common import (
    ControlSummary,
    FrameworkSummary,
    ReportRun,
    framework_summary,
    mapping_text,
    severity_summary,
    status_counts,
)
from novacron.security.compliance.reports.csv_report import COLUMNS, render_csv
from novacron.security.compliance.reports.html_report import render_html
from novacron.security.compliance.reports.ocsf import ocsf_event, render_ocsf_json, to_ocsf
from novacron.security.compliance.reports.sarif import render_sarif, to_sarif

FORMATS = {
    "html": ("text/html; charset=utf-8", render_html),
    "csv": ("text/csv; charset=utf-8", render_csv),
    "ocsf": ("application/json", render_ocsf_json),
    "sarif": ("application/sarif+json", render_sarif),
}
"""Format name → (media type, renderer): what the API's download route needs."""

__all__ = [
    "COLUMNS",
    "FORMATS",
    "ControlSummary",
    "FrameworkSummary",
    "ReportRun",
    "framework_summary",
    "mapping_text",
    "ocsf_event",
    "render_csv",
    "render_html",
    "render_ocsf_json",
    "render_sarif",
    "severity_summary",
    "status_counts",
    "to_ocsf",
    "to_sarif",
]
