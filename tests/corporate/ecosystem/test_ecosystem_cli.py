"""``novacron corporate ecosystem …`` against a real server."""

from __future__ import annotations

from novacron.testing.corporate import CorporateServer


def test_jv_and_license_commands(corp: CorporateServer) -> None:
    cli = corp.cli
    created = cli.json(
        "corporate",
        "ecosystem",
        "jv",
        "create",
        "Atlas Edge",
        "--currency",
        "USD",
        "--party",
        "NovaCron=60",
        "--party",
        "TelcoCo=40",
        "--us",
        "NovaCron",
        "--formed",
        "2026-02-01",
    )
    assert [(p["name"], p["is_us"]) for p in created["parties"]] == [
        ("NovaCron", True),
        ("TelcoCo", False),
    ]
    cli.json(
        "corporate",
        "ecosystem",
        "jv",
        "invest",
        "Atlas Edge",
        "NovaCron",
        "600000",
        "--currency",
        "USD",
        "--on",
        "2026-02-01",
    )
    period = cli.json(
        "corporate",
        "ecosystem",
        "jv",
        "report-period",
        "Atlas Edge",
        "2026-Q1",
        "--revenue",
        "1000",
        "--profit",
        "0.05",
        "--currency",
        "USD",
    )
    # 0.05 × 60 % = 0.03, × 40 % = 0.02.
    assert [s["amount"] for s in period["shares"]] == ["0.03", "0.02"]
    shown = cli("corporate", "ecosystem", "jv", "show", "Atlas Edge").stdout
    assert "NovaCron" in shown and "600000.00" in shown and "2026-Q1" in shown
    listed = cli("corporate", "ecosystem", "jv", "list").stdout
    assert "Atlas Edge" in listed and "NovaCron 60.0000%" in listed
    dist = cli.json("corporate", "ecosystem", "jv", "distributions", "Atlas Edge")
    assert dist["total"] == "0.05"

    error = cli.error(
        "corporate",
        "ecosystem",
        "jv",
        "create",
        "Bad",
        "--currency",
        "USD",
        "--party",
        "A=60",
        "--party",
        "B=30",
    )
    assert "parties" in error and "90" in error
    assert "--party" in cli.error(
        "corporate", "ecosystem", "jv", "create", "Bad", "--currency", "USD", "--party", "A60"
    )

    lic = cli.json(
        "corporate",
        "ecosystem",
        "licenses",
        "create",
        "Patents to Acme",
        "--direction",
        "out",
        "--licensor",
        "NovaCron",
        "--licensee",
        "Acme",
        "--start",
        "2026-01-01",
        "--end",
        "2026-12-31",
        "--currency",
        "USD",
        "--tier",
        "0=5",
        "--tier",
        "1000=2",
        "--mag",
        "100",
        "--upfront-fee",
        "365",
        "--milestone",
        "signing=10@2026-01-15",
    )
    assert lic["milestones"][0]["achieved_on"] == "2026-01-15"
    cli.json(
        "corporate",
        "ecosystem",
        "licenses",
        "report-sales",
        "Patents to Acme",
        "2026-01-01",
        "2026-01-31",
        "--currency",
        "USD",
        "--line",
        "EU=1500",
        "--line",
        "US=500",
    )
    sched = cli.json("corporate", "ecosystem", "licenses", "schedule", "Patents to Acme")
    # 2,000 of sales: 1,000 × 5 % = 50 + 1,000 × 2 % = 20; fee 365/365 × 31 days = 31;
    # milestone 10 → 111.00.
    row = sched["rows"][0]
    assert (row["royalty"], row["upfront_fee"], row["milestones"], row["total"]) == (
        "70.00",
        "31.00",
        "10.00",
        "111.00",
    )
    table = cli("corporate", "ecosystem", "licenses", "schedule", "Patents to Acme").stdout
    assert "111.00" in table and "total 111.00" in table
    assert "Patents to Acme" in cli("corporate", "ecosystem", "licenses", "list").stdout
    assert "signing" in cli("corporate", "ecosystem", "licenses", "show", "Patents to Acme").stdout
    mixed = cli.error(
        "corporate",
        "ecosystem",
        "licenses",
        "report-sales",
        "Patents to Acme",
        "2026-02-01",
        "2026-02-28",
        "--currency",
        "USD",
        "--line",
        "EU=1:EUR",
    )
    assert "lines[0].currency" in mixed and "EUR" in mixed


def test_labs_academic_government_and_summary_commands(corp: CorporateServer) -> None:
    cli = corp.cli
    base = ("corporate", "ecosystem")
    cli.json(
        *base,
        "labs",
        "create",
        "Edge AI lab",
        "--partner",
        "ChipCo",
        "--partner",
        "Uni",
        "--budget",
        "1000",
        "--currency",
        "EUR",
        "--status",
        "active",
    )
    cli.json(
        *base, "labs", "spend", "Edge AI lab", "250", "--currency", "EUR", "--on", "2026-05-01"
    )
    cli.json(*base, "labs", "project", "Edge AI lab", "NPU offload")
    project = cli.json(
        *base, "labs", "project", "Edge AI lab", "NPU offload", "--outcome", "patent"
    )
    assert project["outcome"] == "patent"
    lab = cli.json(*base, "labs", "show", "Edge AI lab")
    assert (lab["utilisation_pct"], lab["outcomes"]["patent"]) == ("25.00", 1)
    assert "Edge AI lab" in cli(*base, "labs", "list").stdout
    assert (
        cli.json(*base, "labs", "set-status", "Edge AI lab", "concluded")["status"] == "concluded"
    )
    assert "status" in cli.error(*base, "labs", "set-status", "Edge AI lab", "active")

    ap = cli.json(
        *base,
        "academic",
        "create",
        "MIT",
        "--type",
        "fellowship",
        "--start",
        "2026-01-01",
        "--funding",
        "90000",
        "--currency",
        "USD",
    )
    cli.json(*base, "academic", "add-output", ap["id"], "patent", "Migration patent")
    assert cli.json(*base, "academic", "show", ap["id"])["output_counts"]["patent"] == 1
    assert "MIT" in cli(*base, "academic", "list").stdout

    gov = cli.json(
        *base,
        "government",
        "create",
        "GSA",
        "--jurisdiction",
        "US-federal",
        "--vehicle",
        "GSA MAS",
        "--value",
        "5000000",
    )
    cert = cli.json(
        *base,
        "government",
        "certify",
        gov["id"],
        "FedRAMP High",
        "--status",
        "authorized",
        "--authorized",
        "2025-12-01",
        "--expires",
        "2026-12-31",
        "--today",
        "2026-11-26",
    )
    assert (cert["expiring_soon"], cert["days_to_expiry"]) == (True, 35)
    error = cli.error(
        *base,
        "government",
        "certify",
        gov["id"],
        "IL4",
        "--status",
        "authorized",
        "--authorized",
        "2026-01-01",
        "--expires",
        "2025-01-01",
    )
    assert "expires_on" in error
    assert "FedRAMP High" in cli(*base, "government", "show", gov["id"]).stdout
    assert "GSA" in cli(*base, "government", "list").stdout

    summary = cli.json(*base, "summary", "--today", "2026-11-26")
    assert summary["counts"]["labs"] == 1 and summary["lab_spent"] == {"EUR": "250.00"}
    assert [c["name"] for c in summary["certifications_expiring"]] == ["FedRAMP High"]
    assert "certifications_expiring" in cli(*base, "summary").stdout
