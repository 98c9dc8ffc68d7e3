"""Every report format from one run: CSV parses back, OCSF fields and ids, SARIF
structure, HTML lists each failing finding with remediation and escapes evidence."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from novacron.core.errors import Invalid
from novacron.security.compliance import (
    FRAMEWORKS,
    Finding,
    HostFacts,
    ListeningPort,
    Severity,
    StaticContext,
    Status,
    TlsFacts,
    apply_mutes,
    default_registry,
    new_mute,
    run_checks,
)
from novacron.security.compliance.reports import (
    COLUMNS,
    FORMATS,
    ReportRun,
    framework_summary,
    render_csv,
    render_html,
    render_ocsf_json,
    render_sarif,
    severity_summary,
    to_ocsf,
    to_sarif,
)

EVIL = "<script>alert('x')</script>"


@pytest.fixture
def report(
    make_context: Callable[..., StaticContext], make_host: Callable[..., HostFacts], now: datetime
) -> ReportRun:
    ports = (
        ListeningPort("tcp", "0.0.0.0", 22, "sshd"),
        ListeningPort("tcp", "0.0.0.0", 6000, EVIL),
    )
    ctx = make_context(
        mtls=False,  # fail
        tls_facts=TlsFacts(True, "TLSv1.0", now + timedelta(days=90)),  # NC-TLS-002 fail
        audit=RuntimeError("audit table locked"),  # error
        host_facts=[
            make_host("hv1", listening_ports=ports),  # NC-HST-002 fail, evidence with EVIL
            make_host("lab-1", disk_encryption=None),  # skipped
            make_host("lab-2", agent_version="0.0.1"),  # muted below
        ],
    )
    registry = default_registry()
    mute = new_mute(
        "NC-AGT-002",
        "lab-*",
        "lab host pinned <old> agent",
        now + timedelta(days=7),
        "alice",
        now=now,
    )
    findings = apply_mutes(run_checks(ctx, registry, now=now), [mute], now)
    return ReportRun("run-42", now, findings, registry.metas, "0.1.0", now + timedelta(seconds=3))


def by_status(run: ReportRun, status: Status) -> list[Finding]:
    return [f for f in run.findings if f.status is status]


def test_fixture_has_every_status(report: ReportRun) -> None:
    assert {f.status for f in report.findings} == set(Status)


def test_report_run_rejects_findings_of_unknown_checks(report: ReportRun, now: datetime) -> None:
    with pytest.raises(Invalid, match="SITE-1"):
        ReportRun(
            "r", now, [Finding("SITE-1", Status.PASS, "platform", "", now)], report.checks, "0"
        )


# --- summaries ------------------------------------------------------------------------


def test_severity_summary_counts(report: ReportRun) -> None:
    table = severity_summary(report)
    assert sum(sum(row.values()) for row in table.values()) == len(report.findings)
    # High failures: NC-AGT-001 (mTLS). Medium: NC-TLS-002, NC-HST-002 on hv1.
    assert table[Severity.HIGH][Status.FAIL] == 1
    assert table[Severity.MEDIUM][Status.FAIL] == 2
    assert table[Severity.MEDIUM][Status.MUTED] == 1
    assert table[Severity.CRITICAL][Status.ERROR] == 1


def test_framework_summary_takes_the_worst_status_per_control(report: ReportRun) -> None:
    summaries = {s.framework: s for s in framework_summary(report)}
    assert set(summaries) == set(FRAMEWORKS)
    nist = {c.control_id: c for c in summaries[FRAMEWORKS[3]].controls}
    assert nist["IA-3"].status is Status.FAIL  # mTLS
    assert nist["AU-9"].status is Status.ERROR  # audit chain check errored
    assert nist["SC-28"].status is Status.SKIPPED  # lab-1 skipped, others pass → skipped wins
    assert nist["IA-2(1)"].status is Status.PASS
    ids = list(nist)
    assert ids.index("SC-8") < ids.index("SC-8(1)") < ids.index("SC-13") < ids.index("SC-28")


# --- CSV ------------------------------------------------------------------------------


def test_csv_parses_back_to_the_findings(report: ReportRun) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == len(report.findings)
    assert rows[0]["status"] == "fail"  # failures first
    ports = next(r for r in rows if r["check_id"] == "NC-HST-002" and r["resource"] == "hv1")
    assert ports["status"] == "fail"
    assert EVIL in ports["evidence"]
    assert ports["severity"] == "medium"
    assert "NIST SP 800-53 Rev. 5: CM-7" in ports["frameworks"]
    assert ports["remediation"].startswith("Stop or uninstall the service")
    assert ports["observed_at"].endswith("Z")
    muted = next(r for r in rows if r["status"] == "muted")
    assert muted["mute_reason"].startswith("lab host pinned <old> agent")


def test_csv_neutralises_formulas(report: ReportRun, now: datetime) -> None:
    evil = Finding("NC-TLS-001", Status.FAIL, "platform", '=HYPERLINK("http://x")', now)
    run = replace(report, findings=[evil])
    rows = list(csv.DictReader(io.StringIO(render_csv(run))))
    assert rows[0]["evidence"] == '\'=HYPERLINK("http://x")'


# --- OCSF -----------------------------------------------------------------------------


def test_ocsf_compliance_finding_events(report: ReportRun) -> None:
    events = json.loads(render_ocsf_json(report))
    assert len(events) == len(report.findings)
    for event in events:
        assert event["class_uid"] == 2003
        assert event["category_uid"] == 2
        assert event["activity_id"] == 1
        assert event["type_uid"] == 200301
        assert event["severity_id"] in range(0, 7)
        assert isinstance(event["time"], int)
        assert event["metadata"]["version"].startswith("1.")
        assert event["metadata"]["product"]["name"] == "NovaCron"
        assert event["metadata"]["product"]["version"] == "0.1.0"
        info = event["finding_info"]
        assert info["uid"] and info["title"]
        compliance = event["compliance"]
        assert compliance["standards"] and compliance["control"].startswith("NC-")
        assert compliance["status_id"] in (1, 2, 3, 99)
        assert event["remediation"]["desc"]
        assert event["resources"][0]["uid"]


def event_for(report: ReportRun, check: str, resource: str) -> dict[str, Any]:
    return next(e for e in to_ocsf(report) if e["finding_info"]["uid"] == f"{check}/{resource}")


def test_ocsf_values_for_each_status(report: ReportRun, now: datetime) -> None:
    fail = event_for(report, "NC-AGT-001", "platform")
    assert (fail["severity_id"], fail["severity"]) == (4, "High")
    assert (fail["compliance"]["status_id"], fail["status_id"]) == (3, 1)
    assert "NIST SP 800-53 Rev. 5 IA-3" in fail["compliance"]["requirements"]
    assert "PCI DSS v4.0" in fail["compliance"]["standards"]
    assert fail["time"] == int(now.replace(tzinfo=UTC).timestamp() * 1000)
    assert fail["metadata"]["correlation_uid"] == "run-42"

    passed = event_for(report, "NC-IAM-001", "user:alice")
    assert (passed["compliance"]["status_id"], passed["status_id"], passed["severity_id"]) == (
        1,
        4,
        1,
    )
    assert passed["resources"][0]["type"] == "User"

    muted = event_for(report, "NC-AGT-002", "lab-2")
    assert (muted["compliance"]["status_id"], muted["status_id"], muted["status"]) == (
        3,
        3,
        "Suppressed",
    )
    assert muted["comment"].startswith("lab host pinned")
    assert muted["resources"][0]["type"] == "Host"

    error = event_for(report, "NC-LOG-001", "platform")
    assert error["compliance"]["status_id"] == 2
    assert "audit table locked" in error["compliance"]["status_detail"]
    assert error["severity_id"] == 5


# --- SARIF ----------------------------------------------------------------------------

LEVELS = {"none", "note", "warning", "error"}
KINDS = {"notApplicable", "pass", "fail", "review", "open", "informational"}


def assert_valid_sarif(log: dict[str, Any]) -> None:
    """The structural rules of the SARIF 2.1.0 schema that our log can break."""
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    assert isinstance(log["runs"], list) and log["runs"]
    for run in log["runs"]:
        driver = run["tool"]["driver"]
        assert isinstance(driver["name"], str) and driver["name"]
        rules = driver.get("rules", [])
        assert len({r["id"] for r in rules}) == len(rules)
        for rule in rules:
            assert isinstance(rule["id"], str)
            assert rule["shortDescription"]["text"] and rule["help"]["text"]
            assert rule["defaultConfiguration"]["level"] in LEVELS
        for inv in run.get("invocations", []):
            assert isinstance(inv["executionSuccessful"], bool)
            for note in inv.get("toolExecutionNotifications", []):
                assert note["message"]["text"]
                ref = note["associatedRule"]
                assert rules[ref["index"]]["id"] == ref["id"]
        for result in run["results"]:
            assert result["message"]["text"]
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            assert result["kind"] in KINDS and result["level"] in LEVELS
            if result["kind"] != "fail":
                assert result["level"] == "none"  # SARIF §3.27.10
            for loc in result["locations"]:
                for logical in loc["logicalLocations"]:
                    assert logical["name"] and logical["fullyQualifiedName"]
            for sup in result.get("suppressions", []):
                assert sup["kind"] in ("inSource", "external")
                assert sup.get("status") in (None, "accepted", "underReview", "rejected")


def test_sarif_log_is_structurally_valid(report: ReportRun) -> None:
    log = json.loads(render_sarif(report))
    assert_valid_sarif(log)
    run = log["runs"][0]
    assert len(run["tool"]["driver"]["rules"]) == len(report.checks)
    assert len(run["results"]) == len(report.findings)
    assert run["automationDetails"]["id"] == "novacron-compliance/run-42"


def test_sarif_values(report: ReportRun) -> None:
    run = to_sarif(report)["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["NC-TLS-001"]["properties"]["frameworks"]["NIST SP 800-53 Rev. 5"] == [
        "SC-8",
        "SC-8(1)",
        "SC-13",
    ]
    assert rules["NC-IAM-002"]["defaultConfiguration"]["level"] == "error"

    def result(check: str, resource: str) -> dict[str, Any]:
        return next(
            r
            for r in run["results"]
            if r["ruleId"] == check and r["locations"][0]["logicalLocations"][0]["name"] == resource
        )

    ports = result("NC-HST-002", "hv1")
    assert (ports["kind"], ports["level"]) == ("fail", "warning")
    assert EVIL in ports["message"]["text"]
    assert result("NC-AGT-001", "platform")["level"] == "error"
    muted = result("NC-AGT-002", "lab-2")
    assert muted["kind"] == "fail"
    assert muted["suppressions"][0]["justification"].startswith("lab host pinned")
    assert result("NC-HST-001", "lab-1")["kind"] == "notApplicable"
    assert result("NC-LOG-001", "platform")["kind"] == "review"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["associatedRule"]["id"] for n in notes] == ["NC-LOG-001"]


# --- HTML -----------------------------------------------------------------------------


def test_html_lists_each_failure_with_remediation(report: ReportRun) -> None:
    html = render_html(report)
    metas = report.checks
    for f in report.findings:
        if f.status in (Status.FAIL, Status.ERROR, Status.MUTED):
            section = _section_for(html, f.check_id, f.resource)
            assert _escaped(metas[f.check_id].remediation) in section
            assert _escaped(f.evidence) in section
    for fw in FRAMEWORKS:
        assert _escaped(fw.value) in html
    assert "run-42" in html


def test_html_escapes_evidence_and_is_self_contained(report: ReportRun) -> None:
    html = render_html(report)
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "lab host pinned &lt;old&gt; agent" in html
    for external in ("src=", "<link", "@import", "url("):
        assert external not in html
    assert not re.search(r'href="(?!#)', html)  # only in-page anchors


def test_formats_table(report: ReportRun) -> None:
    assert set(FORMATS) == {"html", "csv", "ocsf", "sarif"}
    for media_type, render in FORMATS.values():
        assert render(report)
        assert media_type


def _escaped(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def _section_for(html: str, check_id: str, resource: str) -> str:
    for section in re.findall(r'<section class="finding.*?</section>', html, re.S):
        if f"<code>{check_id}</code>" in section and f"— {_escaped(resource)}</h3>" in section:
            return str(section)
    raise AssertionError(f"no section for {check_id} on {resource}")
