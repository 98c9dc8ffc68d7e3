"""Labs, academic and government partnerships over HTTP, and the summary."""

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


def test_labs_budget_spend_and_projects(corp: CorporateServer) -> None:
    api = corp.api
    body = {
        "name": "Quantum scheduling lab",
        "partners": ["QuantumCo", "Uni Lab"],
        "focus_area": "quantum-inspired placement",
        "budget": "400000",
        "currency": "EUR",
    }
    lab = ok(api.post(f"{BASE}/labs", json=body), 201)
    assert (lab["status"], lab["utilisation_pct"], lab["spent"]) == ("proposed", "0.00", "0.00")
    path = f"{BASE}/labs/{lab['id']}"
    ok(api.patch(path, json={"status": "active"}))
    for amount in ("100000", "25000.00"):
        spend = {"amount": amount, "currency": "EUR", "spent_on": "2026-03-01"}
        ok(api.post(f"{path}/spend", json=spend), 201)
    wrong = {"amount": "1", "currency": "USD", "spent_on": "2026-03-01"}
    assert locs(problem(api.post(f"{path}/spend", json=wrong))) == [["currency"]]
    ok(api.post(f"{path}/projects", json={"title": "Annealer placement"}), 201)
    ok(api.post(f"{path}/projects", json={"title": "QPU scheduler", "outcome": "patent"}), 201)
    ok(
        api.patch(
            f"{path}/projects/Annealer placement",
            json={"status": "completed", "outcome": "prototype"},
        )
    )
    lab = ok(api.get(path))
    # 125,000 / 400,000 = 31.25 %.
    assert (lab["spent"], lab["remaining"], lab["utilisation_pct"]) == (
        "125000.00",
        "275000.00",
        "31.25",
    )
    assert lab["outcomes"] == {"prototype": 1, "patent": 1, "product_feature": 0, "none": 0}
    assert [s["amount"] for s in ok(api.get(f"{path}/spend"))] == ["100000.00", "25000.00"]
    ok(api.patch(path, json={"status": "concluded"}))
    assert problem(api.patch(path, json={"status": "active"}))["errors"][0]["loc"] == ["status"]
    assert api.post(f"{path}/spend", json=wrong | {"currency": "EUR"}).status_code == 409
    assert ok(api.get(f"{BASE}/labs", params={"status": "concluded"}))["total"] == 1


def test_academic_and_government_partnerships_and_summary(corp: CorporateServer) -> None:
    api = corp.api
    ap = ok(
        api.post(
            f"{BASE}/academic",
            json={
                "institution": "ETH Zürich",
                "programme_type": "research_grant",
                "title": "Live migration at scale",
                "start_on": "2026-01-01",
                "end_on": "2027-12-31",
                "funding": "250000",
                "currency": "CHF",
            },
        ),
        201,
    )
    for kind, title in (
        ("publication", "SOSP paper"),
        ("publication", "NSDI paper"),
        ("hire", "PhD"),
    ):
        ok(
            api.post(f"{BASE}/academic/{ap['id']}/outputs", json={"kind": kind, "title": title}),
            201,
        )
    got = ok(api.get(f"{BASE}/academic/{ap['id']}", params={"today": "2026-06-01"}))
    assert got["output_counts"] == {"publication": 2, "patent": 0, "hire": 1}
    assert got["status"] == "active"
    assert (
        ok(api.get(f"{BASE}/academic", params={"today": "2028-01-01"}))["items"][0]["status"]
        == "ended"
    )
    backwards = {
        "institution": "X",
        "programme_type": "fellowship",
        "start_on": "2026-01-01",
        "end_on": "2025-01-01",
        "funding": "1",
        "currency": "USD",
    }
    assert locs(problem(api.post(f"{BASE}/academic", json=backwards))) == [["end_on"]]
    assert ["body", "programme_type"] in locs(
        problem(api.post(f"{BASE}/academic", json=backwards | {"programme_type": "party"}))
    )

    gov = ok(
        api.post(
            f"{BASE}/government",
            json={
                "agency": "US Department of Energy",
                "programme": "Exascale cloud",
                "jurisdiction": "US-federal",
                "contract_vehicle": "GSA MAS",
                "value": "12000000",
                "certifications": [
                    {
                        "name": "FedRAMP Moderate",
                        "status": "authorized",
                        "authorized_on": "2024-01-10",
                        "expires_on": "2027-01-10",
                    },
                ],
            },
        ),
        201,
    )
    path = f"{BASE}/government/{gov['id']}"
    high = {
        "status": "authorized",
        "started_on": "2025-01-01",
        "authorized_on": "2025-06-01",
        "expires_on": "2026-11-01",
    }
    cert = ok(
        api.put(f"{path}/certifications/FedRAMP High", json=high, params={"today": "2026-11-26"})
    )
    # Status says authorized, the expiry passed 25 days ago: expired by date.
    assert (cert["effective_status"], cert["expired"], cert["days_to_expiry"]) == (
        "expired",
        True,
        -25,
    )
    il4 = {"status": "in_process", "started_on": "2026-03-01"}
    ok(api.put(f"{path}/certifications/IL4", json=il4))
    certs = ok(api.get(f"{path}/certifications", params={"today": "2026-11-26"}))
    assert [c["name"] for c in certs] == ["FedRAMP High", "FedRAMP Moderate", "IL4"]
    moderate = certs[1]
    assert (moderate["expiring_soon"], moderate["days_to_expiry"]) == (True, 45)

    no_date = {"status": "authorized"}
    assert locs(problem(api.put(f"{path}/certifications/C5", json=no_date))) == [["authorized_on"]]
    backwards_cert = {
        "status": "authorized",
        "authorized_on": "2026-01-01",
        "expires_on": "2025-01-01",
    }
    assert locs(problem(api.put(f"{path}/certifications/C5", json=backwards_cert))) == [
        ["expires_on"]
    ]
    nested = {
        "agency": "BSI",
        "jurisdiction": "DE",
        "certifications": [{"name": "C5"} | backwards_cert],
    }
    assert locs(problem(api.post(f"{BASE}/government", json=nested))) == [
        ["certifications", 0, "expires_on"]
    ]

    summary = ok(api.get(f"{BASE}/summary", params={"today": "2026-11-26"}))
    assert summary["counts"] == {
        "joint_ventures": 0,
        "licenses": 0,
        "labs": 0,
        "academic": 1,
        "government": 1,
        "certifications": 3,
    }
    assert summary["active"]["academic"] == 1
    assert [c["name"] for c in summary["certifications_expiring"]] == ["FedRAMP Moderate"]
    assert summary["certifications_expiring"][0]["days_to_expiry"] == 45
    assert [c["name"] for c in summary["certifications_expired"]] == ["FedRAMP High"]
    assert ok(api.get(f"{BASE}/government", params={"jurisdiction": "DE"}))["total"] == 0
    ok(api.delete(path), 204)
    ok(api.delete(f"{BASE}/academic/{ap['id']}"), 204)
    assert ok(api.get(f"{BASE}/summary"))["counts"]["certifications"] == 0
