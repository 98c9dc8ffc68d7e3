"""The calc routes over HTTP: values (200) and bad input as problem+json 422 with paths."""

from __future__ import annotations

from typing import Any

import pytest

from novacron.testing.corporate import CorporateServer

SYNERGIES: dict[str, Any] = {
    "currency": "USD",
    "discount_rate": 0.10,
    "tax_rate": 0.25,
    "revenue_run_rate": 100,
    "revenue_phase_in": [0.25, 0.5, 1.0],
    "revenue_margin": 0.2,
    "cost_run_rate": 50,
    "cost_phase_in": [0.5, 1.0],
    "integration_costs": [30, 10],
    "terminal_growth": 0.02,
}


def problem(corp: CorporateServer, kind: str, inputs: Any) -> dict[str, Any]:
    response = corp.api.post(f"/corporate/calc/{kind}", json=inputs)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def test_calc_routes(corp: CorporateServer) -> None:
    listed = corp.api.get("/corporate/calc")
    assert listed.status_code == 200
    assert {"npv", "comps", "accretion_dilution"} <= {k["kind"] for k in listed.json()}

    npv = corp.api.post(
        "/corporate/calc/npv",
        json={"rate": 0.1, "timing": "end", "cashflows": [-10000, 3000, 4200, 6800]},
    )
    assert npv.status_code == 200
    assert npv.json()["npv"] == pytest.approx(1188.44, abs=0.005)

    syn = corp.api.post("/corporate/calc/synergies", json=SYNERGIES).json()
    assert syn["npv"] == pytest.approx(573.34710743802)  # see test_finance_synergy
    assert [y["year"] for y in syn["years"]] == [1, 2, 3]

    # mixed currencies: the peer's currency is named
    body = problem(
        corp,
        "comps",
        {"peers": [{"name": "a", "currency": "USD", "enterprise_value": 10, "ebitda": 1},
                   {"name": "b", "currency": "EUR", "enterprise_value": 10, "ebitda": 1}]},
    )  # fmt: skip
    assert body["errors"][0]["loc"] == ["inputs", "peers", 1, "currency"]
    assert "EUR" in body["detail"]

    # WACC ≤ g
    body = problem(corp, "synergies", {**SYNERGIES, "discount_rate": 0.02})
    assert body["errors"][0]["loc"] == ["inputs", "terminal_growth"]

    # consideration weights not summing to 1
    body = problem(
        corp,
        "accretion_dilution",
        {"acquirer": {"currency": "USD", "net_income": 10, "diluted_shares": 10,
                      "share_price": 10, "tax_rate": 0.2},
         "target": {"currency": "USD", "net_income": 1, "purchase_price": 20},
         "consideration": {"cash": 0.5, "stock": 0.25}},
    )  # fmt: skip
    assert body["errors"][0]["loc"] == ["inputs", "consideration"]
    assert "sum to 1" in body["detail"]

    # unknown kind, and a pydantic type error
    body = problem(corp, "ebitda", {})
    assert body["errors"][0]["loc"] == ["kind"]
    body = problem(corp, "npv", {"rate": "x", "cashflows": [1], "timing": "end"})
    assert body["errors"][0]["loc"] == ["inputs", "rate"]

    # the body must be a JSON object
    assert corp.api.post("/corporate/calc/npv", json=[1, 2]).status_code == 422

    # regressions: these answered 500 (ZeroDivisionError, OverflowError, numpy ValueError)
    body = problem(corp, "pmt", {"rate": 0.01, "nper": 5e-324, "pv": 1000})
    assert body["errors"][0]["loc"] == ["inputs", "nper"]
    absurd = corp.api.post(
        "/corporate/calc/synergies",
        json={**SYNERGIES, "discount_rate": 1e308, "terminal_growth": None},
    )
    assert absurd.status_code == 200 and absurd.json()["npv"] == pytest.approx(0, abs=1e-300)
    body = problem(
        corp,
        "accretion_dilution",
        {"acquirer": {"currency": "USD", "net_income": 10, "diluted_shares": 10,
                      "share_price": 5e-324, "tax_rate": 0.2},
         "target": {"currency": "USD", "net_income": 1, "purchase_price": 20},
         "consideration": {"stock": 1}},
    )  # fmt: skip
    assert body["errors"][0]["loc"] == ["inputs", "acquirer", "share_price"]
    assert corp.api.post("/corporate/calc/irr", json={"cashflows": [1e308, -1e308]}).json()[
        "roots"
    ] == [0.0]
