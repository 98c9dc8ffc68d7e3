"""Findings as one self-contained HTML page (inline CSS, no scripts or external assets)."""

from __future__ import annotations

from pathlib import Path

import jinja2

from novacron.core.clock import isoformat
from novacron.security.compliance.model import Status
from novacron.security.compliance.reports.common import (
    STATUS_ORDER,
    ReportRun,
    framework_summary,
    mapping_text,
    severity_summary,
    status_counts,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=False,
)

ATTENTION = frozenset({Status.FAIL, Status.ERROR, Status.MUTED})


def render_html(run: ReportRun) -> str:
    ordered = run.ordered()
    counts = status_counts(run.findings)
    judged = counts[Status.PASS] + counts[Status.FAIL]
    rate = f"{100 * counts[Status.PASS] / judged:.0f}%" if judged else "n/a"
    return _env.get_template("compliance_report.html").render(
        run=run,
        totals=counts,
        pass_rate=rate,
        statuses=STATUS_ORDER,
        fail=Status.FAIL,
        by_severity=severity_summary(run),
        frameworks=framework_summary(run),
        attention=[f for f in ordered if f.status in ATTENTION],
        others=[f for f in ordered if f.status not in ATTENTION],
        iso=lambda value: isoformat(value) or "",
        mapping=mapping_text,
    )
