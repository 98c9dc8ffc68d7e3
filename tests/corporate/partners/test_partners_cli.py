"""``novacron corporate partners|programs|deals|mdf|rebates`` against a real server:
tables by default, the server's JSON with ``--output json``, one ``error:`` line for bad
input."""

from __future__ import annotations

from datetime import UTC, datetime

from novacron.testing.corporate import CorporateServer


def test_partner_programme_and_deal_commands(corp: CorporateServer) -> None:
    cli = corp.cli
    created = cli.json(
        "corporate", "partners", "create", "Orbit Cloud", "--type", "cloud", "--currency", "USD",
        "--status", "active", "--engineers", "2", "--csat", "4.2", "--region", "EMEA",
    )  # fmt: skip
    assert (created["tier"], created["certified_engineers"]) == ("bronze", 2)
    cli("corporate", "partners", "create", "Relay Telco", "--type", "telco", "--currency", "USD")
    table = cli("corporate", "partners", "list").stdout
    assert "Orbit Cloud" in table and "Relay Telco" in table and "TIER" in table
    listed = cli.json("corporate", "partners", "list", "--type", "telco")
    assert [p["name"] for p in listed["items"]] == ["Relay Telco"]
    shown = cli.json("corporate", "partners", "show", "Orbit Cloud")
    assert shown["region"] == "EMEA"
    updated = cli.json("corporate", "partners", "update", "Orbit Cloud", "--engineers", "6")
    assert updated["certified_engineers"] == 6
    tier = cli("corporate", "partners", "tier", "Orbit Cloud").stdout
    assert "tier: bronze" in tier and "next: silver: needs 250,000.00 more sourced revenue" in tier
    history = cli.json("corporate", "partners", "tier", "Orbit Cloud", "--history")
    assert [h["to_tier"] for h in history] == ["bronze"]
    health = cli("corporate", "partners", "health", "Orbit Cloud").stdout
    assert "health: " in health and "engagement_recency" in health
    # Bad input: one line naming the field.
    err = cli.error("corporate", "partners", "create", "Bad", "--type", "bank", "--currency", "USD")
    assert err.startswith("error: invalid request") and "type:" in err
    assert cli.error("corporate", "partners", "show", "nobody") == "error: no partner 'nobody'"
    # Programmes.
    cli("corporate", "partner-programmes", "create", "Co-sell EMEA", "--kind", "co_sell", "--start",
        "2026-01-01", "--partner-type", "cloud", "--benefit", "lead sharing")  # fmt: skip
    refused = cli.error("corporate", "partner-programmes", "enrol", "Co-sell EMEA", "Relay Telco")
    assert "partner is prospect; only active partners can enrol" in refused
    assert (
        "enrolled Orbit Cloud in Co-sell EMEA"
        in cli("corporate", "partner-programmes", "enrol", "Co-sell EMEA", "Orbit Cloud").stdout
    )
    assert len(cli.json("corporate", "partner-programmes", "enrolments", "Co-sell EMEA")) == 1
    # Deals: register, duplicate refused, approve, close won, performance.
    reg = cli.json("corporate", "deals", "register", "Orbit Cloud", "Wayne Enterprises Inc.",
                   "NovaCron", "--amount", "1234.565", "--currency", "USD")  # fmt: skip
    assert (reg["amount"], reg["customer_key"]) == ("1234.56", "wayne enterprises")
    dup = cli.error("corporate", "deals", "register", "Orbit Cloud", "wayne enterprises",
                    "novacron", "--amount", "1", "--currency", "USD")  # fmt: skip
    assert dup.startswith("error: duplicate registration") and reg["id"] in dup
    assert "it is pending" in cli.error("corporate", "deals", "close", reg["id"], "won")
    assert cli.json("corporate", "deals", "approve", reg["id"])["status"] == "approved"
    assert (
        cli.json("corporate", "deals", "extend", reg["id"], "--days", "5")["status"] == "approved"
    )
    won = cli.json("corporate", "deals", "close", reg["id"], "won")
    assert won["status"] == "won"
    rows = cli("corporate", "deals", "list", "--partner", "Orbit Cloud").stdout
    assert reg["id"] in rows and "won" in rows
    perf = cli.json("corporate", "partners", "performance", "Orbit Cloud")
    assert perf["total"]["sourced_revenue"] == "1234.56"
    perf_table = cli("corporate", "partners", "performance", "Orbit Cloud").stdout
    assert "SOURCED REV" in perf_table and "amounts in USD" in perf_table
    swept = cli("corporate", "deals", "expire", "--now", "2020-01-01T00:00:00Z").stdout
    assert swept.strip() == "expired 0: -"


def test_mdf_and_rebate_commands(corp: CorporateServer) -> None:
    cli = corp.cli
    cli("corporate", "partners", "create", "Vertex HW", "--type", "hardware", "--currency", "EUR",
        "--status", "active")  # fmt: skip
    cli("corporate", "partner-programmes", "create", "Launch Fund", "--kind", "marketing",
        "--start", "2026-01-01", "--mdf-budget", "5000", "--budget-currency", "EUR")  # fmt: skip
    cli("corporate", "partner-programmes", "enrol", "Launch Fund", "Vertex HW")
    req = cli.json("corporate", "mdf", "request", "Vertex HW", "Launch Fund", "Trade show",
                   "--amount", "1000", "--currency", "EUR", "--start", "2026-05-01",
                   "--end", "2026-05-03")  # fmt: skip
    mixed = cli.error("corporate", "mdf", "request", "Vertex HW", "Launch Fund", "Ads",
                      "--amount", "1", "--currency", "USD", "--start", "2026-05-01",
                      "--end", "2026-05-03")  # fmt: skip
    assert mixed.startswith("error: invalid request") and "currency" in mixed
    too_much = cli.error("corporate", "mdf", "approve", req["id"], "--amount", "1000.01")
    assert "approved_amount" in too_much
    assert cli.json("corporate", "mdf", "approve", req["id"], "--amount", "900")["state"] == (
        "approved"
    )
    over = cli.error("corporate", "mdf", "claim", req["id"], "--amount", "950", "--currency",
                     "EUR", "--proof", "invoice.pdf", "--invoice-date", "2026-05-04")  # fmt: skip
    assert "claimed_amount" in over and "exceeds" in over
    cli("corporate", "mdf", "claim", req["id"], "--amount", "899.99", "--currency", "EUR",
        "--proof", "invoice-42.pdf", "--invoice-date", "2026-05-04")  # fmt: skip
    paid = cli.json("corporate", "mdf", "pay", req["id"])
    assert (paid["state"], paid["paid_amount"]) == ("paid", "899.99")
    ledger = cli.json("corporate", "mdf", "ledger", "--partner", "Vertex HW")
    assert ledger["balances"][0] == {
        "currency": "EUR", "approved": "899.99", "claimed": "899.99", "paid": "899.99",
        "remaining": "0.00", "rebates_accrued": "0.00",
    }  # fmt: skip
    table = cli("corporate", "mdf", "ledger", "--partner", "Vertex HW").stdout
    assert "mdf_released" in table and "0.01 EUR" in table and "REMAINING" in table
    assert "it is paid" in cli.error("corporate", "mdf", "pay", req["id"])
    schedules = cli("corporate", "rebates", "schedules").stdout
    assert "platinum" in schedules and "marginal" in schedules
    today = datetime.now(UTC).date().isoformat()
    empty = cli("corporate", "rebates", "compute", "--start", today, "--end", today).stdout
    assert "no won revenue in the period" in empty
    bad = cli.error("corporate", "rebates", "compute", "--start", today, "--end", "2000-01-01")
    assert "period_end" in bad
