"""``novacron corporate programmes|tasks|decisions|escalations|realisation|retention``."""

from __future__ import annotations

import json
from pathlib import Path

from novacron.testing.corporate import CorporateServer

PLAN = [
    {
        "category": "revenue",
        "name": "Upsell",
        "run_rate": "400000",
        "currency": "GBP",
        "phase_in": [0.5, 1.0],
    }
]


def test_programme_tasks_and_governance_from_the_cli(corp: CorporateServer, tmp_path: Path) -> None:
    cli = corp.cli
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(PLAN))
    created = cli.json(
        "corporate", "programmes", "create", "--target-id", "tgt-cli", "--target-name",
        "Cli Co", "--close-date", "2027-01-01", "--synergy-plan", str(plan_file),
    )  # fmt: skip
    pid = created["id"]
    assert created["currency"] == "GBP"
    table = cli("corporate", "programmes", "list").stdout
    assert "Cli Co integration" in table and pid in table
    assert cli.json("corporate", "programmes", "show", "tgt-cli")["id"] == pid
    shown = cli("corporate", "programmes", "show", pid).stdout
    assert "Customer success" in shown and "2027-01-31" in shown  # Day-1 readiness ends

    tasks = cli.json(
        "corporate", "tasks", "list", pid, "--workstream", "hr", "--as-of", "2027-01-01"
    )
    keys = [t["key"] for t in tasks["items"]]
    assert "hr_payroll" in keys and all(t["workstream"] == "hr" for t in tasks["items"])
    payroll = next(t for t in tasks["items"] if t["key"] == "hr_payroll")
    added = cli.json(
        "corporate", "tasks", "add", pid, "--title", "Pension transfer", "--workstream", "hr",
        "--phase", "stabilisation", "--start", "2027-02-01", "--due", "2027-03-01",
        "--depends-on", payroll["id"],
    )  # fmt: skip
    assert added["blocked_by"] == [payroll["id"]]
    err = cli.error("corporate", "tasks", "update", pid, added["id"], "--status", "done")
    assert "can't be done before its dependencies" in err and "Payroll" in err
    cli("corporate", "tasks", "update", pid, payroll["id"], "--status", "done")
    out = cli("corporate", "tasks", "update", pid, added["id"], "--percent", "50").stdout
    assert f"task {added['id']}: in_progress, 50%" in out
    err = cli.error("corporate", "tasks", "depend", pid, payroll["id"], added["id"])
    assert "would close a cycle" in err and "depends_on" in err
    assert (
        "no longer depends"
        in cli("corporate", "tasks", "undepend", pid, added["id"], payroll["id"]).stdout
    )
    err = cli.error("corporate", "tasks", "update", pid, added["id"], "--rag", "red")
    assert "rag_override_reason" in err

    cli("corporate", "decisions", "add", pid, "--decision", "Single payroll provider")
    decisions = cli.json("corporate", "decisions", "list", pid)
    assert decisions["items"][0]["decision"] == "Single payroll provider"
    esc = cli.json(
        "corporate", "escalations", "add", pid, "--title", "Union consultation",
        "--to", "CHRO", "--severity", "high",
    )  # fmt: skip
    assert "Union consultation" in cli("corporate", "escalations", "list", pid).stdout
    cli("corporate", "escalations", "resolve", pid, esc["id"], "--resolution", "Agreed")
    err = cli.error("corporate", "escalations", "resolve", pid, esc["id"], "--resolution", "x")
    assert "already resolved" in err
    err = cli.error("corporate", "escalations", "add", pid, "--title", "x", "--to", "y",
                    "--severity", "apocalyptic")  # fmt: skip
    assert "severity" in err

    summary = cli.json("corporate", "programmes", "summary", pid, "--as-of", "2027-01-10")
    assert summary["overall"]["tasks_done"] == 1
    assert summary["overall"]["tasks_total"] == created["tasks"] + 1
    table = cli("corporate", "programmes", "summary", pid, "--as-of", "2027-01-10").stdout
    assert "overall" in table and "Technology" in table and "day1_readiness" not in table
    assert "Day-1 readiness" in table and "synergy realisation" in table


def test_realisation_and_retention_from_the_cli(corp: CorporateServer, tmp_path: Path) -> None:
    cli = corp.cli
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(PLAN))
    pid = cli.json(
        "corporate", "programmes", "create", "--target-id", "tgt-r", "--target-name", "R",
        "--close-date", "2027-01-01", "--synergy-plan", str(plan_file),
    )["id"]  # fmt: skip
    err = cli.error(
        "corporate", "realisation", "record", pid, "Upsell", "1", "10", "--currency", "USD"
    )
    assert "currency" in err and "GBP" in err
    cli("corporate", "realisation", "record", pid, "Upsell", "1", "40000", "--currency", "GBP")
    shown = cli.json("corporate", "realisation", "show", pid, "--as-of", "2027-04-02")
    # quarter 1 plan: 400,000 × 0.5 / 4 = 50,000; actual 40,000 → 80 %
    assert shown["overall"]["pct"] == 80.0
    table = cli("corporate", "realisation", "show", pid, "--as-of", "2027-04-02").stdout
    assert "Upsell" in table and "80%" in table
    err = cli.error(
        "corporate", "realisation", "record", pid, "Nope", "1", "1", "--currency", "GBP"
    )
    assert "no synergy plan line 'Nope'" in err

    emp = cli.json("corporate", "retention", "add-employee", pid, "Ana", "--role", "CTO",
                   "--flight-risk", "high", "--bonus", "100000")  # fmt: skip
    assert (emp["currency"], emp["retention_bonus"]) == ("GBP", "100000")
    cli("corporate", "retention", "add-customer", pid, "Initech", "--arr", "300000")
    cust = cli.json("corporate", "retention", "add-customer", pid, "Hooli", "--arr", "100000")
    cli("corporate", "retention", "update", pid, "customer", cust["id"], "--status", "churned")
    cli("corporate", "retention", "update", pid, "employee", emp["id"], "--status", "left")
    ret = cli.json("corporate", "retention", "show", pid)
    assert ret["rates"]["arr_retention_pct"] == 75.0
    assert ret["rates"]["headcount_retention_pct"] == 0.0
    table = cli("corporate", "retention", "show", pid).stdout
    assert "ARR retention 75%" in table and "Initech" in table
    err = cli.error("corporate", "retention", "update", pid, "vendor", "x", "--status", "left")
    assert "employee or customer" in err
    err = cli.error("corporate", "retention", "add-customer", pid, "Bad", "--arr", "lots")
    assert "arr" in err
