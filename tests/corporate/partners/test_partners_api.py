"""API scenarios over HTTP (SQLite and PostgreSQL): partners and programmes, deal
registration (duplicate 409, conflict, first approved wins, expiry with an explicit
clock), MDF with its ledger to the cent, rebates booked as liabilities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from novacron.testing.corporate import CorporateServer

P = "/corporate/partners"
PROG = "/corporate/partner-programmes"
REG = "/corporate/deal-registrations"
MDF = "/corporate/mdf"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def locs(body: dict[str, Any]) -> list[list[Any]]:
    return [e["loc"] for e in body.get("errors", [])]


def new_partner(api: httpx.Client, name: str, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "type": "cloud", "currency": "USD", "status": "active", **extra}
    return ok(api.post(P, json=body), 201)  # type: ignore[no-any-return]


def test_partners_and_programmes(corp: CorporateServer) -> None:
    api = corp.api
    nimbus = new_partner(
        api, "Nimbus Cloud", region="EMEA", certified_engineers=2, csat=4.0,
        contacts=[{"name": "Ana", "email": "ana@nimbus.example", "role": "alliances"}],
    )  # fmt: skip
    assert (nimbus["tier"], nimbus["created_by"], nimbus["contacts"][0]["role"]) == (
        "bronze", "admin", "alliances",
    )  # fmt: skip
    new_partner(api, "Telco One", type="telco", status="prospect")
    # Bad input names the field; duplicate names are a conflict.
    bad = problem(api.post(P, json={"name": "X", "type": "bank", "currency": "usd"}), 422)
    assert ["body", "type"] in locs(bad) and ["body", "currency"] in locs(bad)
    assert ["body", "tier"] in locs(problem(api.post(P, json={
        "name": "Y", "type": "cloud", "currency": "USD", "tier": "gold"}), 422))  # fmt: skip
    dup = problem(api.post(P, json={"name": "NIMBUS CLOUD", "type": "cloud", "currency": "USD"}),
                  409)  # fmt: skip
    assert locs(dup) == [["name"]]
    # List, filter, show by name, update.
    assert ok(api.get(P, params={"type": "telco"}))["total"] == 1
    assert [p["name"] for p in ok(api.get(P, params={"name": "nim"}))["items"]] == ["Nimbus Cloud"]
    assert ok(api.get(f"{P}/Nimbus Cloud"))["id"] == nimbus["id"]
    assert problem(api.get(f"{P}/nobody"), 404)["detail"] == "no partner 'nobody'"
    updated = ok(api.patch(f"{P}/{nimbus['id']}", json={"region": "APAC", "csat": 4.4}))
    assert (updated["region"], updated["csat"]) == ("APAC", 4.4)
    # Tier evaluation says what silver needs.
    evaluation = ok(api.post(f"{P}/{nimbus['id']}/evaluate-tier"))
    assert evaluation["tier"] == "bronze" and evaluation["next_tier"] == "silver"
    assert evaluation["summary"] == (
        "silver: needs 250,000.00 more sourced revenue (12 months); needs 3 more closed deals"
    )
    history = ok(api.get(f"{P}/{nimbus['id']}/tier-history"))
    assert [(h["from_tier"], h["to_tier"]) for h in history] == [(None, "bronze")]
    assert [c["tier"] for c in ok(api.get(f"{P}/tier-criteria"))] == [
        "bronze", "silver", "gold", "platinum",
    ]  # fmt: skip
    # Programmes: eligibility is explained, enrolment recorded.
    programme = ok(api.post(PROG, json={
        "name": "Cloud Co-sell", "kind": "co_sell", "start_on": "2026-01-01",
        "partner_types": ["cloud"], "benefits": ["joint pipeline reviews"],
    }), 201)  # fmt: skip
    gold_only = ok(api.post(PROG, json={
        "name": "Gold Incentive", "kind": "incentive", "start_on": "2026-01-01", "min_tier": "gold",
    }), 201)  # fmt: skip
    bad_dates = problem(
        api.post(
            PROG,
            json={
                "name": "Z",
                "kind": "marketing",
                "start_on": "2026-02-01",
                "end_on": "2026-01-01",
            },
        ),
        422,
    )
    assert locs(bad_dates) == [["end_on"]]  # fmt: skip
    refused = problem(api.post(f"{PROG}/Cloud Co-sell/enrol", json={"partner": "Telco One"}), 422)
    assert refused["detail"] == (
        "Telco One is not eligible for Cloud Co-sell: partner is prospect; only active partners "
        "can enrol; Cloud Co-sell is open to cloud (partner is telco)"
    )
    tier_refused = problem(
        api.post(f"{PROG}/{gold_only['id']}/enrol", json={"partner": nimbus["id"]}), 422
    )
    assert "requires tier gold or above (partner is bronze)" in tier_refused["detail"]
    enrolment = ok(api.post(f"{PROG}/{programme['id']}/enrol", json={"partner": "Nimbus Cloud"}),
                   201)  # fmt: skip
    assert enrolment["partner_id"] == nimbus["id"]
    problem(api.post(f"{PROG}/{programme['id']}/enrol", json={"partner": "Nimbus Cloud"}), 409)
    assert len(ok(api.get(f"{PROG}/{programme['id']}/enrolments"))) == 1
    assert ok(api.get(PROG, params={"kind": "co_sell"}))["total"] == 1


def reg_body(partner: str, customer: str, amount: str = "100000", **extra: Any) -> dict[str, Any]:
    return {"partner": partner, "customer_name": customer, "product": "NovaCron Enterprise",
            "amount": amount, "currency": "USD", **extra}  # fmt: skip


def test_deal_registration_and_rebates(corp: CorporateServer) -> None:
    api = corp.api
    alpha = new_partner(api, "Alpha Resellers", type="reseller")
    beta = new_partner(api, "Beta Integrators", type="system_integrator")
    first = ok(api.post(REG, json=reg_body(alpha["id"], "ACME Inc.")), 201)
    assert (first["status"], first["customer_key"], first["conflict"]) == ("pending", "acme", False)
    registered = datetime.fromisoformat(first["registered_at"])
    assert datetime.fromisoformat(first["expires_at"]) - registered == timedelta(days=90)
    # Same partner, same customer once normalised, same product: duplicate.
    dup = problem(api.post(REG, json=reg_body("Alpha Resellers", "acme, incorporated")), 409)
    assert first["id"] in dup["detail"] and "duplicate registration" in dup["detail"]
    # Another partner: accepted but flagged, both ways.
    rival = ok(api.post(REG, json=reg_body(beta["id"], "Acme GmbH", "1500000")), 201)
    assert (rival["conflict"], rival["conflict_with"]) == (True, [first["id"]])
    assert ok(api.get(f"{REG}/{first['id']}"))["conflict_with"] == [rival["id"]]
    flagged = ok(api.get(REG, params={"conflict": True}))
    assert {r["id"] for r in flagged["items"]} == {first["id"], rival["id"]}
    # First approved wins: approving the rival rejects the first.
    assert ok(api.post(f"{REG}/{rival['id']}/approve"))["status"] == "approved"
    loser = ok(api.get(f"{REG}/{first['id']}"))
    assert loser["status"] == "rejected"
    assert f"registration {rival['id']}" in loser["decision_reason"]
    late = problem(api.post(f"{REG}/{first['id']}/approve"), 409)
    assert "it is rejected" in late["detail"]
    # Mixed currency and bad input name the field.
    eur = problem(api.post(REG, json=reg_body(alpha["id"], "Initech", currency="EUR")), 422)
    assert locs(eur) == [["currency"]]
    neg = problem(api.post(REG, json=reg_body(alpha["id"], "Initech", amount="-5")), 422)
    assert locs(neg) == [["body", "amount"]]
    assert locs(problem(api.post(REG, json=reg_body("ghost", "Initech")), 422)) == [["partner"]]
    # Winning needs approval first; close won, extend.
    pending = ok(api.post(REG, json=reg_body(alpha["id"], "Initech", "2000")), 201)
    wrong = problem(api.post(f"{REG}/{pending['id']}/close", json={"outcome": "won"}), 409)
    assert "it is pending" in wrong["detail"] and locs(wrong) == [["status"]]
    extended = ok(api.post(f"{REG}/{pending['id']}/extend", json={"days": 30}))
    assert datetime.fromisoformat(extended["expires_at"]) - datetime.fromisoformat(
        pending["expires_at"]
    ) == timedelta(days=30)
    lost = ok(api.post(f"{REG}/{pending['id']}/close", json={"outcome": "lost"}))
    assert lost["status"] == "lost"
    today = datetime.now(UTC).date()
    won = ok(api.post(f"{REG}/{rival['id']}/close",
                      json={"outcome": "won", "closed_on": today.isoformat()}))  # fmt: skip
    assert (won["status"], won["closed_on"]) == ("won", today.isoformat())
    # Expiry: back-dated past 90 days is expired when read; the sweep takes an explicit now.
    back_dated = reg_body(alpha["id"], "Hooli", registered_at="2020-01-01T00:00:00Z")
    old = ok(api.post(REG, json=back_dated), 201)
    assert old["status"] == "expired"
    fresh = ok(api.post(REG, json=reg_body(alpha["id"], "Umbrella Corp", valid_days=10)), 201)
    not_yet = datetime.fromisoformat(fresh["expires_at"]) - timedelta(seconds=1)
    assert ok(api.post(f"{REG}/expire", json={"now": not_yet.isoformat()}))["expired"] == []
    at = fresh["expires_at"]
    assert ok(api.post(f"{REG}/expire", json={"now": at}))["expired"] == [fresh["id"]]
    assert ok(api.get(REG, params={"status": "expired"}))["total"] == 2
    # Performance and health of the winner.
    perf = ok(api.get(f"{P}/{beta['id']}/performance"))
    assert perf["total"]["sourced_revenue"] == "1500000.00"
    assert (perf["total"]["won"], perf["total"]["win_rate"]) == (1, 1.0)
    alpha_perf = ok(api.get(f"{P}/{alpha['id']}/performance"))["total"]
    assert (alpha_perf["won"], alpha_perf["lost"], alpha_perf["win_rate"]) == (0, 1, 0.0)
    health = ok(api.get(f"{P}/{beta['id']}/health"))
    assert {c["name"] for c in health["components"]} >= {"win_rate", "revenue_vs_target"}
    assert health["band"] in {"healthy", "watch", "at_risk"}
    win = next(c for c in health["components"] if c["name"] == "win_rate")
    assert (win["value"], win["contribution"]) == (1.0, 20.0)
    # Rebates on won revenue: bronze marginal 1M × 2% + 0.5M × 2.5% = 32,500.00, booked once.
    period = {"period_start": today.replace(day=1).isoformat(), "period_end": today.isoformat()}
    run = ok(api.post("/corporate/rebates/compute", json={**period, "book": True}))
    assert [(r["partner_name"], r["amount"]) for r in run["rebates"]] == [
        ("Beta Integrators", "32500.00")
    ]
    again = problem(api.post("/corporate/rebates/compute", json={**period, "book": True}), 409)
    assert "already booked" in again["detail"]
    ledger = ok(api.get(f"{MDF}/ledger", params={"partner": beta["id"]}))
    assert [(e["kind"], e["amount"]) for e in ledger["entries"]] == [("rebate_accrued", "32500.00")]
    assert ledger["balances"][0]["rebates_accrued"] == "32500.00"
    # A whole-volume schedule for bronze: 1.5M × 2.5% = 37,500.00.
    schedule = {
        "method": "whole_volume",
        "bands": [{"up_to": "1000000", "rate": "0.02"}, {"up_to": None, "rate": "0.025"}],
    }
    assert ok(api.put("/corporate/rebates/schedules/bronze", json=schedule))["custom"] is True
    preview = ok(
        api.post("/corporate/rebates/compute", json={**period, "partner": "Beta Integrators"})
    )
    assert preview["rebates"][0]["amount"] == "37500.00"  # fmt: skip
    bad = {"method": "marginal", "bands": [{"up_to": None, "rate": "0.02"},
                                           {"up_to": None, "rate": "0.03"}]}  # fmt: skip
    assert locs(problem(api.put("/corporate/rebates/schedules/gold", json=bad), 422)) == [
        ["bands", 0, "up_to"]
    ]


def test_mdf_flow_with_ledger_to_the_cent(corp: CorporateServer) -> None:
    api = corp.api
    partner = new_partner(api, "Gamma Hardware", type="hardware")
    other = new_partner(api, "Delta Telco", type="telco")
    programme = ok(api.post(PROG, json={
        "name": "Field Marketing", "kind": "marketing", "start_on": "2026-01-01",
        "mdf_budget": "10000", "budget_currency": "USD",
    }), 201)  # fmt: skip
    assert programme["mdf_budget"] == "10000.00"
    ok(api.post(f"{PROG}/{programme['id']}/enrol", json={"partner": partner["id"]}), 201)
    base = {
        "partner": partner["id"],
        "programme": "Field Marketing",
        "activity": "Roadshow",
        "currency": "USD",
        "planned_start": "2026-03-01",
        "planned_end": "2026-03-31",
    }
    # Not enrolled, wrong currency, dates backwards: 422 naming the field.
    not_enrolled = problem(api.post(MDF, json={**base, "partner": other["id"], "amount": "5"}), 422)
    assert locs(not_enrolled) == [["programme"]]
    assert locs(problem(api.post(MDF, json={**base, "amount": "5", "currency": "EUR"}), 422)) == [
        ["currency"]
    ]
    backwards = {**base, "amount": "5", "planned_end": "2026-02-01"}
    assert locs(problem(api.post(MDF, json=backwards), 422)) == [["planned_end"]]
    # Request 2,500.125 → booked 2,500.12 (half-even).
    req = ok(api.post(MDF, json={**base, "amount": "2500.125"}), 201)
    assert (req["state"], req["requested_amount"]) == ("requested", "2500.12")
    early = problem(api.post(f"{MDF}/{req['id']}/claim", json={
        "claimed_amount": "1", "currency": "USD", "proof": "x.pdf", "invoice_date": "2026-03-05"}),
        409)  # fmt: skip
    assert "it is requested" in early["detail"] and locs(early) == [["state"]]
    over = problem(api.post(f"{MDF}/{req['id']}/approve", json={"approved_amount": "2500.13"}), 422)
    assert locs(over) == [["approved_amount"]]
    approved = ok(api.post(f"{MDF}/{req['id']}/approve", json={"approved_amount": "2000.50"}))
    assert (approved["state"], approved["approved_amount"]) == ("approved", "2000.50")
    claim = {"claimed_amount": "2000.51", "currency": "USD", "proof": "https://x.example/inv-7",
             "invoice_date": "2026-03-20"}  # fmt: skip
    over_claim = problem(api.post(f"{MDF}/{req['id']}/claim", json=claim), 422)
    assert locs(over_claim) == [["claimed_amount"]] and "exceeds" in over_claim["detail"]
    mixed = problem(api.post(f"{MDF}/{req['id']}/claim", json={**claim, "currency": "EUR"}), 422)
    assert locs(mixed) == [["currency"]] and "EUR" in mixed["detail"]
    claimed = ok(api.post(f"{MDF}/{req['id']}/claim", json={**claim, "claimed_amount": "1800.255"}))
    assert (claimed["state"], claimed["claimed_amount"], claimed["proof"]) == (
        "claimed", "1800.26", "https://x.example/inv-7",
    )  # fmt: skip
    paid = ok(api.post(f"{MDF}/{req['id']}/pay", json={"paid_on": "2026-04-02"}))
    assert (paid["state"], paid["paid_amount"], paid["paid_on"]) == (
        "paid",
        "1800.26",
        "2026-04-02",
    )
    assert "it is paid" in problem(api.post(f"{MDF}/{req['id']}/pay"), 409)["detail"]
    # Budget: 10,000 − 1,800.26 committed leaves 8,199.74.
    big = ok(api.post(MDF, json={**base, "activity": "Summit", "amount": "9000"}), 201)
    budget = problem(api.post(f"{MDF}/{big['id']}/approve"), 422)
    assert locs(budget) == [["approved_amount"]] and "8,199.74 USD" in budget["detail"]
    ok(api.post(f"{MDF}/{big['id']}/approve", json={"approved_amount": "8199.74"}))
    rejected = ok(api.post(MDF, json={**base, "activity": "Webinar", "amount": "10"}), 201)
    assert ok(api.post(f"{MDF}/{rejected['id']}/reject", json={"reason": "no"}))["state"] == (
        "rejected"
    )
    assert "it is rejected" in problem(api.post(f"{MDF}/{rejected['id']}/approve"), 409)["detail"]
    ledger = ok(api.get(f"{MDF}/ledger", params={"partner": "Gamma Hardware"}))
    assert [(e["kind"], e["amount"]) for e in ledger["entries"]] == [
        ("mdf_approved", "2000.50"),
        ("mdf_claimed", "1800.26"),
        ("mdf_released", "200.24"),
        ("mdf_paid", "1800.26"),
        ("mdf_approved", "8199.74"),
    ]
    assert ledger["balances"] == [{
        "currency": "USD", "approved": "10000.00", "claimed": "1800.26", "paid": "1800.26",
        "remaining": "8199.74", "rebates_accrued": "0.00",
    }]  # fmt: skip
    listed = ok(api.get(MDF, params={"partner": partner["id"], "state": "approved"}))
    assert [r["activity"] for r in listed["items"]] == ["Summit"]
    # MDF utilisation feeds the health score: 1,800.26 claimed of 10,000.00 approved.
    health = ok(api.get(f"{P}/{partner['id']}/health"))
    mdf = next(c for c in health["components"] if c["name"] == "mdf_utilisation")
    assert mdf["explanation"] == "claimed 18% of approved MDF"
