"""``novacron corporate targets|scorecard|diligence|valuations|synergies`` against a server."""

from __future__ import annotations

import json
import re
from pathlib import Path

from novacron.testing.corporate import CorporateServer

NPV = {"rate": 0.1, "cashflows": [-100, 60, 60], "timing": "t0"}


def test_targets_list_show_gate_advance_and_history(corp: CorporateServer) -> None:
    cli = corp.cli
    out = cli(
        "corporate",
        "targets",
        "create",
        "Acme Storage",
        "--category",
        "storage",
        "--value",
        "50000000",
        "--currency",
        "EUR",
        "--owner",
        "dana",
    ).stdout
    assert out.startswith("created Acme Storage (tgt-") and "in screening" in out
    created = cli.json("corporate", "targets", "create", "Qubit Labs", "--category", "quantum")
    assert created["stage"] == "screening" and created["currency"] == "USD"

    table = cli("corporate", "targets", "list").stdout
    header, *rows = [line for line in table.splitlines() if line.strip()]
    assert header.split()[:4] == ["NAME", "CATEGORY", "STAGE", "OWNER"]
    assert rows[0].split()[:5] == ["Acme", "Storage", "storage", "screening", "dana"]
    assert "50,000,000 EUR" in rows[0] and "5,000,000 EUR" in rows[0] and "10%" in rows[0]
    page = cli.json("corporate", "targets", "list", "--category", "quantum")
    assert [t["name"] for t in page["items"]] == ["Qubit Labs"] and page["total"] == 1
    shown = cli("corporate", "targets", "show", "Acme Storage").stdout
    assert re.search(r"asking_value +50000000\s", shown)
    assert re.search(r"weighted_value +5000000\s", shown)
    assert cli.json("corporate", "targets", "show", created["id"])["name"] == "Qubit Labs"

    gate = cli("corporate", "targets", "gate", "Acme Storage").stdout
    assert gate.splitlines()[0] == "Acme Storage: screening -> preliminary: not ready"
    assert "no scorecard yet" in gate
    line = cli.error("corporate", "targets", "advance", "Acme Storage")
    assert line.startswith("error: cannot advance Acme Storage from screening to preliminary")
    assert "gate.scorecard: no scorecard yet" in line and "gate.score: no score" in line

    card = cli(
        "corporate",
        "scorecard",
        "add",
        "Acme Storage",
        "-c",
        "market=0.6:9",
        "-c",
        "team=0.4:6",
        "--rationale",
        "team=thin bench",
    ).stdout
    assert card.splitlines()[0] == "scorecard v1: 78.0/100"
    assert "Strongest: market (9/10, 54.0 points)" in card
    shown = cli.json("corporate", "scorecard", "show", "Acme Storage")
    assert shown["criteria"][1]["rationale"] == "thin bench"
    moved = cli("corporate", "targets", "advance", "Acme Storage", "--reason", "fits").stdout
    assert moved.strip() == "Acme Storage: screening -> preliminary"
    history = cli.json("corporate", "targets", "history", "Acme Storage")
    assert [(h["from_stage"], h["to_stage"]) for h in history["items"]] == [
        (None, "screening"),
        ("screening", "preliminary"),
    ]
    dropped = cli.json("corporate", "targets", "drop", "Acme Storage", "--reason", "price")
    assert (dropped["stage"], dropped["dropped_from"]) == ("dropped", "preliminary")
    assert "reopened in preliminary" in cli("corporate", "targets", "reopen", "Acme Storage").stdout
    updated = cli.json(
        "corporate",
        "targets",
        "update",
        "Qubit Labs",
        "--probability",
        "55",
        "--nda-signed",
        "--country",
        "FI",
    )
    assert (updated["probability"], updated["nda_signed"], updated["country"]) == (55, True, "FI")
    cleared = cli.json("corporate", "targets", "update", "Qubit Labs", "--clear", "probability")
    assert cleared["probability"] == 10 and cleared["probability_is_default"] is True
    assert (
        cli("corporate", "targets", "delete", "Qubit Labs").stdout.strip() == "deleted Qubit Labs"
    )
    assert cli.json("corporate", "targets", "list")["total"] == 1


def test_errors_are_one_line(corp: CorporateServer, tmp_path: Path) -> None:
    cli = corp.cli
    assert cli.error("corporate", "targets", "show", "ghost") == "error: no target 'ghost'"
    line = cli.error(
        "corporate", "targets", "create", "X", "--category", "storage", "--revenue", "-3"
    )
    assert line.startswith("error: invalid request") and "revenue: " in line
    cli("corporate", "targets", "create", "Acme", "--category", "security")
    line = cli.error("corporate", "scorecard", "add", "Acme", "-c", "a=0.5:5", "-c", "b=0.3:5")
    assert line == "error: invalid request: criteria: weights sum to 0.8, must sum to 1"
    assert "expected NAME=WEIGHT:SCORE" in cli.error(
        "corporate", "scorecard", "add", "Acme", "-c", "oops"
    )
    line = cli.error(
        "corporate",
        "synergies",
        "add",
        "Acme",
        "--category",
        "cost",
        "--name",
        "x",
        "--run-rate",
        "10",
        "--currency",
        "EUR",
    )
    assert "currency: EUR != USD" in line
    bad = tmp_path / "inputs.json"
    bad.write_text("{not json")
    assert "inputs is not valid JSON" in cli.error(
        "corporate", "valuations", "add", "Acme", "--kind", "npv", "--inputs", str(bad)
    )
    assert cli.error("corporate", "targets", "update", "Acme") == (
        "error: nothing to change: give at least one option"
    )


def test_diligence_valuations_and_synergies(corp: CorporateServer, tmp_path: Path) -> None:
    cli = corp.cli
    cli("corporate", "targets", "create", "Acme", "--category", "networking", "--currency", "GBP")
    req = cli.json(
        "corporate",
        "diligence",
        "add-request",
        "Acme",
        "-w",
        "legal",
        "--title",
        "Contracts",
        "--due",
        "2020-02-02",
        "--owner",
        "gc",
    )
    assert req["overdue"] is True
    table = cli("corporate", "diligence", "requests", "Acme").stdout
    assert "2020-02-02 OVERDUE" in table and "Contracts" in table
    done = cli.json(
        "corporate", "diligence", "update-request", "Acme", req["id"], "--status", "waived"
    )
    assert (done["status"], done["overdue"]) == ("waived", False)
    finding = cli.json(
        "corporate",
        "diligence",
        "add-finding",
        "Acme",
        "-w",
        "technology",
        "--title",
        "Legacy stack",
        "--severity",
        "4",
        "--likelihood",
        "3",
        "--deal-breaker",
    )
    assert (finding["score"], finding["rating"], finding["deal_breaker"]) == (12, "high", True)
    assert (
        "Legacy stack"
        in cli("corporate", "diligence", "findings", "Acme", "--deal-breakers").stdout
    )
    cli("corporate", "diligence", "set-lead", "Acme", "technology", "cto")
    summary = cli("corporate", "diligence", "summary", "Acme").stdout
    assert (
        summary.splitlines()[0]
        == "Acme (screening): 100% of 1 requests done, 0 overdue, 1 open deal-breaker(s)"
    )
    assert "Legacy stack (12 high)" in summary and "cto" in summary
    assert "severity \\ likelihood  1  2  3  4  5" in summary
    assert cli.json("corporate", "diligence", "summary", "Acme")["heat_map"]["counts"][1][2] == 1

    inputs = tmp_path / "npv.json"
    inputs.write_text(json.dumps(NPV))
    assert (
        cli(
            "corporate", "valuations", "add", "Acme", "--kind", "npv", "--inputs", str(inputs)
        ).stdout.strip()
        == "added valuation v1 (npv)"
    )
    cli(
        "corporate",
        "valuations",
        "add",
        "Acme",
        "--kind",
        "npv",
        "--inputs",
        json.dumps({**NPV, "timing": "end"}),
    )
    assert "approved valuation v2" in cli("corporate", "valuations", "approve", "Acme", "2").stdout
    listed = cli.json("corporate", "valuations", "list", "Acme")
    assert [(v["version"], v["approved"]) for v in listed["items"]] == [(2, True), (1, False)]
    diff = cli("corporate", "valuations", "diff", "Acme", "1", "2").stdout
    assert diff.splitlines()[0] == "v1 (npv) -> v2 (npv)" and "timing" in diff and "changed" in diff
    assert "npv" in cli("corporate", "valuations", "show", "Acme", "1").stdout

    added = cli.json(
        "corporate",
        "synergies",
        "add",
        "Acme",
        "--category",
        "revenue",
        "--name",
        "Cross-sell",
        "--run-rate",
        "1000000",
        "--phase-in",
        "0.25,0.75,1",
        "--owner",
        "cro",
    )
    assert (added["currency"], added["run_rate"], added["phase_in"]) == (
        "GBP",
        "1000000",
        [0.25, 0.75, 1.0],
    )
    cli(
        "corporate",
        "synergies",
        "add",
        "Acme",
        "--category",
        "cost",
        "--name",
        "Offices",
        "--run-rate",
        "400000.50",
        "--one-off-cost",
        "150000",
    )
    plan = cli.json("corporate", "synergies", "show", "Acme")
    assert plan["totals"]["run_rate"] == {
        "revenue": "1000000",
        "cost": "400000.5",
        "total": "1400000.5",
    }
    assert [y["total"] for y in plan["totals"]["by_year"]] == ["650000.5", "1150000.5", "1400000.5"]
    shown = cli("corporate", "synergies", "show", "Acme").stdout
    assert "1,400,000.50 GBP" in shown and "one-off cost to achieve: 150,000 GBP" in shown
    cli("corporate", "synergies", "remove", "Acme", added["id"])
    assert len(cli.json("corporate", "synergies", "show", "Acme")["lines"]) == 1
