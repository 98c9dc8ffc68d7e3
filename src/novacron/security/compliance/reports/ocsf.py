"""Findings as OCSF Compliance Finding events (class 2003, OCSF schema 1.3.0).

One event per finding. ``compliance.control`` is the check id and
``compliance.requirements`` the mapped framework controls (``NIST SP 800-53
Rev. 5 SC-8``), the way AWS Security Hub maps its controls; the finding's own
``status_id`` carries the triage state (muted → Suppressed, passing → Resolved).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from novacron.security.compliance.model import FRAMEWORKS, PLATFORM, Finding, Severity, Status
from novacron.security.compliance.reports.common import PRODUCT, VENDOR, ReportRun

OCSF_VERSION = "1.3.0"
CATEGORY_UID = 2  # Findings
CLASS_UID = 2003  # Compliance Finding
ACTIVITY_CREATE = 1
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE

SEVERITY_IDS = {
    Severity.INFO: (1, "Informational"),
    Severity.LOW: (2, "Low"),
    Severity.MEDIUM: (3, "Medium"),
    Severity.HIGH: (4, "High"),
    Severity.CRITICAL: (5, "Critical"),
}
# compliance.status_id: 1 Pass, 2 Warning (no result: missing information), 3 Fail, 99 Other.
COMPLIANCE_STATUS = {
    Status.PASS: (1, "Pass"),
    Status.FAIL: (3, "Fail"),
    Status.ERROR: (2, "Warning"),
    Status.SKIPPED: (99, "Skipped"),
}
# Finding status_id: 1 New, 3 Suppressed, 4 Resolved.
FINDING_STATUS = {
    Status.PASS: (4, "Resolved"),
    Status.FAIL: (1, "New"),
    Status.ERROR: (1, "New"),
    Status.SKIPPED: (1, "New"),
    Status.MUTED: (3, "Suppressed"),
}


def _ms(value: datetime) -> int:
    """OCSF timestamps are milliseconds since the epoch."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return int(aware.timestamp() * 1000)


def _resource(name: str) -> dict[str, Any]:
    if name == PLATFORM:
        kind = "Platform"
    elif name.startswith("user:"):
        kind = "User"
    else:
        kind = "Host"
    return {"uid": name, "name": name, "type": kind}


def ocsf_event(run: ReportRun, finding: Finding) -> dict[str, Any]:
    meta = run.meta(finding)
    underlying = finding.effective_status
    # A passing check is no risk: report it informational, like Security Hub does.
    severity = Severity.INFO if underlying in (Status.PASS, Status.SKIPPED) else meta.severity
    severity_id, severity_name = SEVERITY_IDS[severity]
    compliance_id, compliance_name = COMPLIANCE_STATUS[underlying]
    finding_id, finding_name = FINDING_STATUS[finding.status]
    requirements = [f"{fw.value} {c}" for fw in FRAMEWORKS for c in meta.controls(fw)]
    compliance: dict[str, Any] = {
        "standards": [fw.value for fw in FRAMEWORKS if meta.controls(fw)],
        "control": meta.id,
        "requirements": requirements,
        "status_id": compliance_id,
        "status": compliance_name,
        "status_detail": finding.evidence,
    }
    event: dict[str, Any] = {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": TYPE_UID,
        "type_name": "Compliance Finding: Create",
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": finding_id,
        "status": finding_name,
        "time": _ms(finding.observed_at),
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": PRODUCT, "vendor_name": VENDOR, "version": run.product_version},
            "correlation_uid": run.run_id,
        },
        "finding_info": {
            # Stable across runs so a SIEM can follow one finding over time.
            "uid": f"{meta.id}/{finding.resource}",
            "title": meta.title,
            "desc": meta.description,
            "types": ["Compliance"],
        },
        "compliance": compliance,
        "remediation": {"desc": meta.remediation},
        "resources": [_resource(finding.resource)],
        "message": f"{meta.id} {underlying.value}: {finding.evidence}",
    }
    if finding.status is Status.MUTED:
        event["comment"] = finding.mute_reason
    return event


def to_ocsf(run: ReportRun) -> list[dict[str, Any]]:
    return [ocsf_event(run, f) for f in run.ordered()]


def render_ocsf_json(run: ReportRun) -> str:
    return json.dumps(to_ocsf(run), indent=2, ensure_ascii=False) + "\n"
