"""Findings as SARIF 2.1.0, for code-scanning dashboards and CI gates.

Rules are the checks; results carry ``kind`` (fail/pass/notApplicable/review) and,
as the spec requires, a ``level`` other than ``none`` only when the kind is
``fail``. Resources are logical locations (there is no file to point at). Muted
findings stay failures with an accepted external suppression; checks that errored
are also listed as tool execution notifications.
"""

from __future__ import annotations

import json
from typing import Any

from novacron.core.clock import isoformat
from novacron.security.compliance.model import FRAMEWORKS, PLATFORM, CheckMeta, Severity, Status
from novacron.security.compliance.reports.common import INFO_URI, TOOL, ReportRun

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
KINDS = {
    Status.FAIL: "fail",
    Status.MUTED: "fail",
    Status.PASS: "pass",
    Status.SKIPPED: "notApplicable",
    Status.ERROR: "review",
}
# GitHub code scanning ranks alerts by this 0–10 property.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _rule(meta: CheckMeta) -> dict[str, Any]:
    return {
        "id": meta.id,
        "name": "".join(w.capitalize() for w in meta.title.replace("-", " ").split()),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.description},
        "help": {"text": meta.remediation},
        "helpUri": f"{INFO_URI}/compliance/checks/{meta.id}",
        "defaultConfiguration": {"level": LEVELS[meta.severity]},
        "properties": {
            "severity": meta.severity.value,
            "security-severity": SECURITY_SEVERITY[meta.severity],
            "scope": meta.scope,
            "frameworks": {fw.value: list(meta.controls(fw)) for fw in FRAMEWORKS},
            "tags": [
                "security",
                "compliance",
                *(fw.value for fw in FRAMEWORKS if meta.controls(fw)),
            ],
        },
    }


def to_sarif(run: ReportRun) -> dict[str, Any]:
    rule_ids = sorted(run.checks)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    results = []
    notifications = []
    for f in run.ordered():
        meta = run.meta(f)
        kind = KINDS[f.status]
        result: dict[str, Any] = {
            "ruleId": f.check_id,
            "ruleIndex": index[f.check_id],
            "kind": kind,
            "level": LEVELS[meta.severity] if kind == "fail" else "none",
            "message": {"text": f"{meta.title} — {f.resource}: {f.evidence}"},
            "locations": [
                {
                    "logicalLocations": [
                        {
                            "name": f.resource,
                            "fullyQualifiedName": f"novacron://{f.resource}",
                            "kind": "module" if f.resource == PLATFORM else "resource",
                        }
                    ]
                }
            ],
            "partialFingerprints": {"novacronFinding/v1": f"{f.check_id}/{f.resource}"},
            "properties": {"status": f.status.value, "observedAt": isoformat(f.observed_at)},
        }
        if f.status is Status.MUTED:
            result["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": f.mute_reason or ""}
            ]
        results.append(result)
        if f.effective_status is Status.ERROR:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": f"{f.check_id} on {f.resource}: {f.evidence}"},
                    "associatedRule": {"id": f.check_id, "index": index[f.check_id]},
                }
            )
    invocation: dict[str, Any] = {
        # The run completed; checks that raised are reported, not a failed execution.
        "executionSuccessful": True,
        "startTimeUtc": isoformat(run.started_at),
        "toolExecutionNotifications": notifications,
    }
    if run.finished_at is not None:
        invocation["endTimeUtc"] = isoformat(run.finished_at)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL,
                        "version": run.product_version,
                        "informationUri": INFO_URI,
                        "rules": [_rule(run.checks[rid]) for rid in rule_ids],
                    }
                },
                "automationDetails": {"id": f"novacron-compliance/{run.run_id}"},
                "invocations": [invocation],
                "results": results,
            }
        ],
    }


def render_sarif(run: ReportRun) -> str:
    return json.dumps(to_sarif(run), indent=2, ensure_ascii=False) + "\n"
