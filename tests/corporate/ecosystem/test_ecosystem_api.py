"""The ecosystem over HTTP: one scenario per kind of agreement, the summary, bad input."""

from __future__ import annotations

from typing import Any

import httpx

from novacron.testing.corporate import CorporateServer

BASE = "/corporate/ecosystem"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def problem(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def locs(body: dict[str, Any]) -> list[list[Any]]:
    return [e["loc"] for e in body.get("errors", [])]


def test_joint_venture_equity_investments_and_distributions(corp: CorporateServer) -> None:
    api = corp.api
    body = {
        "name": "Atlas Edge",
        "purpose": "Edge cloud for telcos",
        "currency": "USD",
        "formation_date": "2026-02-01",
        "parties": [
            {"name": "NovaCron", "equity_pct": "33.3333", "is_us": True},
            {"name": "TelcoCo", "equity_pct": "33.3333"},
            {"name": "FabCo", "equity_pct": "33.3334"},
        ],
    }
    jv = ok(api.post(f"{BASE}/joint-ventures", json=body), 201)
    assert [p["equity_pct"] for p in jv["parties"]] == ["33.3333", "33.3333", "33.3334"]
    assert api.post(f"{BASE}/joint-ventures", json=body).status_code == 409

    path = f"{BASE}/joint-ventures/Atlas Edge"
    for party, amount in (("NovaCron", "1000000"), ("TelcoCo", "1000000"), ("FabCo", "500000")):
        inv = ok(
            api.post(
                f"{path}/investments",
                json={
                    "party": party,
                    "amount": amount,
                    "currency": "USD",
                    "invested_on": "2026-02-01",
                },
            ),
            201,
        )
        assert inv["party"] == party
    assert len(ok(api.get(f"{path}/investments"))) == 3

    # 100.00 distributed: 33.33 / 33.33 / 33.34 (the odd cent to the most rounded down).
    period = ok(
        api.post(
            f"{path}/periods",
            json={"period": "2026-Q1", "revenue": "500.00", "profit": "100.00", "currency": "USD"},
        ),
        201,
    )
    assert period["distribution"] == "100.00"
    assert [s["amount"] for s in period["shares"]] == ["33.33", "33.33", "33.34"]
    ok(
        api.post(
            f"{path}/periods",
            json={
                "period": "2026-Q2",
                "revenue": "900000",
                "profit": "300000",
                "distribution": "250000",
                "currency": "USD",
            },
        ),
        201,
    )
    dist = ok(api.get(f"{path}/distributions"))
    assert dist["total"] == "250100.00"
    # 250,000 × 33.3333 % = 83,333.25 (twice), × 33.3334 % = 83,333.50: exact, plus Q1's
    # 33.33 / 33.33 / 33.34 → 83,366.58 / 83,366.58 / 83,366.84 (sum 250,100.00).
    assert [s["amount"] for s in dist["by_party"]] == ["83366.58", "83366.58", "83366.84"]

    detail = ok(api.get(f"{BASE}/joint-ventures/{jv['id']}"))
    us = detail["parties"][0]
    assert (us["invested"], us["distributions"]) == ("1000000.00", "83366.58")
    assert us["simple_return"] == "0.0834"  # 83,366.58 / 1,000,000 = 0.08336658
    # Profit share: 100.00 → 33.33, 300,000 → 99,999.90: 100,033.23.
    assert us["share_of_profit"] == "100033.23"
    assert (detail["invested"], detail["profit"], detail["revenue"]) == (
        "2500000.00",
        "300100.00",
        "900500.00",
    )
    assert [p["period"] for p in ok(api.get(f"{path}/periods"))] == ["2026-Q1", "2026-Q2"]

    # A new cap table keeps investors; dropping one who invested is refused.
    new = {
        "parties": [
            {"name": "NovaCron", "equity_pct": "50"},
            {"name": "TelcoCo", "equity_pct": "50"},
        ]
    }
    assert problem(api.put(f"{path}/parties", json=new), 409)["errors"][0]["loc"] == ["parties"]
    new["parties"].append({"name": "FabCo", "equity_pct": "0.5"})
    bad = problem(api.put(f"{path}/parties", json=new))
    assert locs(bad) == [["parties"]] and "100.5" in bad["detail"]

    listed = ok(api.get(f"{BASE}/joint-ventures", params={"status": "forming"}))
    assert listed["total"] == 1 and listed["items"][0]["distributed"] == "250100.00"
    ok(api.patch(path, json={"status": "active"}))
    assert ok(api.get(f"{BASE}/joint-ventures", params={"status": "forming"}))["total"] == 0
    ok(api.delete(path), 204)
    assert api.get(path).status_code == 404


def test_joint_venture_bad_input_names_the_field(corp: CorporateServer) -> None:
    api = corp.api
    parties = [{"name": "A", "equity_pct": "60"}, {"name": "B", "equity_pct": "30"}]
    body = {"name": "Bad", "currency": "USD", "parties": parties}
    bad = problem(api.post(f"{BASE}/joint-ventures", json=body))
    assert locs(bad) == [["parties"]]
    assert "90" in bad["errors"][0]["msg"]
    assert ["body", "currency"] in locs(
        problem(api.post(f"{BASE}/joint-ventures", json=body | {"currency": "usd"}))
    )
    parties[1]["equity_pct"] = "40"
    ok(api.post(f"{BASE}/joint-ventures", json=body), 201)
    wrong = {"party": "A", "amount": "10", "currency": "EUR", "invested_on": "2026-01-01"}
    assert locs(problem(api.post(f"{BASE}/joint-ventures/Bad/investments", json=wrong))) == [
        ["currency"]
    ]
    stranger = wrong | {"party": "Z", "currency": "USD"}
    assert locs(problem(api.post(f"{BASE}/joint-ventures/Bad/investments", json=stranger))) == [
        ["party"]
    ]
    negative = wrong | {"currency": "USD", "amount": "-5"}
    assert ["body", "amount"] in locs(
        problem(api.post(f"{BASE}/joint-ventures/Bad/investments", json=negative))
    )


LICENSE = {
    "name": "Hypervisor patents to Acme",
    "direction": "out",
    "licensor": "NovaCron",
    "licensee": "Acme",
    "licensed_ip": "Live-migration patents",
    "term_start": "2026-01-01",
    "term_end": "2027-12-31",
    "currency": "USD",
    "royalty_tiers": [
        {"from_sales": "0", "rate_pct": "5"},
        {"from_sales": "1000000", "rate_pct": "3"},
        {"from_sales": "2500000", "rate_pct": "2"},
    ],
    "minimum_annual_guarantee": "120000",
    "upfront_fee": "73000",
    "milestones": [{"name": "first shipment", "amount": "50000"}],
}


def test_license_sales_reports_and_schedule(corp: CorporateServer) -> None:
    api = corp.api
    lic = ok(api.post(f"{BASE}/licenses", json=LICENSE), 201)
    assert lic["upfront_recognition"] == "straight_line" and lic["recognised"] == "0.00"
    path = f"{BASE}/licenses/{lic['id']}"
    quarters = [
        ("2026-01-01", "2026-03-31", "800000"),
        ("2026-04-01", "2026-06-30", None),
        ("2026-07-01", "2026-09-30", "1000000"),
        ("2026-10-01", "2026-12-31", "0"),
    ]
    for start, end, sales in quarters:
        body: dict[str, Any] = {"period_start": start, "period_end": end, "currency": "USD"}
        if sales is None:  # Q2 as two lines: 600,000 + 300,000
            body["lines"] = [
                {"label": "EU", "net_sales": "600000", "currency": "USD"},
                {"label": "US", "net_sales": "300000", "currency": "USD"},
            ]
        else:
            body["net_sales"] = sales
        ok(api.post(f"{path}/sales-reports", json=body), 201)
    reports = ok(api.get(f"{path}/sales-reports"))
    assert reports[1]["net_sales"] == "900000.00" and len(reports[1]["lines"]) == 2
    ok(api.patch(f"{path}/milestones/first shipment", json={"achieved_on": "2026-05-15"}))

    sched = ok(api.get(f"{path}/schedule"))
    assert [r["royalty"] for r in sched["rows"]] == ["40000.00", "31000.00", "28000.00", "0.00"]
    assert [r["mag_true_up"] for r in sched["rows"]] == ["0.00", "0.00", "0.00", "21000.00"]
    assert sched["rows"][1]["milestone_names"] == ["first shipment"]
    assert sched["totals"]["total"] == "206500.00"
    assert ok(api.get(path))["recognised"] == "206500.00"

    summary = ok(api.get(f"{BASE}/summary", params={"today": "2026-12-31"}))
    assert summary["royalty_revenue_ytd"] == {"USD": "206500.00"}
    # As of 2026-10-15 only Q1–Q3 have ended: 206,500 − Q4's 30,200.
    mid = ok(api.get(f"{BASE}/summary", params={"today": "2026-10-15"}))
    assert mid["royalty_revenue_ytd"] == {"USD": "176300.00"}
    assert ok(api.get(f"{BASE}/summary", params={"today": "2027-03-01"}))[
        "royalty_revenue_ytd"
    ] == {"USD": "0.00"}

    listed = ok(api.get(f"{BASE}/licenses", params={"direction": "out"}))
    assert listed["total"] == 1 and listed["items"][0]["sales_reports"] == 4
    assert ok(api.get(f"{BASE}/licenses", params={"direction": "in"}))["total"] == 0
    ok(api.post(f"{path}/milestones", json={"name": "launch", "amount": "1000"}), 201)
    assert api.post(f"{path}/milestones", json={"name": "launch", "amount": "1"}).status_code == 409
    ok(api.delete(path), 204)


def test_license_bad_input_names_the_field(corp: CorporateServer) -> None:
    api = corp.api
    bad_tiers = LICENSE | {"royalty_tiers": [{"from_sales": "10", "rate_pct": "5"}]}
    assert locs(problem(api.post(f"{BASE}/licenses", json=bad_tiers))) == [
        ["royalty_tiers", 0, "from_sales"]
    ]
    backwards = LICENSE | {"term_end": "2025-01-01"}
    assert locs(problem(api.post(f"{BASE}/licenses", json=backwards))) == [["term_end"]]
    lic = ok(api.post(f"{BASE}/licenses", json=LICENSE), 201)
    path = f"{BASE}/licenses/{lic['name']}/sales-reports"
    mixed = {
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "currency": "USD",
        "lines": [
            {"label": "US", "net_sales": "100", "currency": "USD"},
            {"label": "EU", "net_sales": "100", "currency": "EUR"},
        ],
    }
    body = problem(api.post(path, json=mixed))
    assert locs(body) == [["lines", 1, "currency"]] and "EUR" in body["detail"]
    eur = {
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "currency": "EUR",
        "net_sales": "1",
    }
    assert locs(problem(api.post(path, json=eur))) == [["currency"]]
    crossing = eur | {"currency": "USD", "period_end": "2027-01-31"}
    assert locs(problem(api.post(path, json=crossing))) == [["period_end"]]
    neither = eur | {"currency": "USD", "net_sales": None}
    assert locs(problem(api.post(path, json=neither))) == [["net_sales"]]
    ok(api.post(path, json=eur | {"currency": "USD"}), 201)
    overlap = eur | {"currency": "USD", "period_start": "2026-03-01", "period_end": "2026-04-30"}
    assert locs(problem(api.post(path, json=overlap))) == [["period_start"]]
    assert api.get(f"{BASE}/licenses/nope/schedule").status_code == 404
