"""A target walked from screening to integration through the REST API: every gate refuses
with its unmet criteria first, then passes; closing generates the integration programme."""

from __future__ import annotations

from typing import Any

import httpx

from novacron.testing.corporate import CorporateServer

NPV = {"rate": 0.1, "cashflows": [-100, 60, 60], "timing": "t0"}
WORKSTREAMS = ("financial", "legal", "technology", "commercial", "operational", "environmental")


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def refused(response: httpx.Response, status: int = 409) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def unmet_ids(problem: dict[str, Any]) -> list[str]:
    return [e["id"] for e in problem["errors"]]


def test_a_deal_from_screening_to_integration(corp: CorporateServer) -> None:
    api = corp.api
    t = ok(
        api.post(
            "/corporate/targets",
            json={
                "name": "Acme Storage",
                "category": "storage",
                "currency": "EUR",
                "asking_value": "120000000",
                "revenue": "30000000.25",
                "employees": 140,
                "country": "DE",
            },
        ),
        201,
    )
    base = f"/corporate/targets/{t['id']}"
    assert (t["stage"], t["probability"], t["weighted_value"]) == ("screening", 10, "12000000")
    assert t["revenue"] == "30000000.25" and t["created_by"] == t["owner"]
    # Read back from the database (Numeric(20, 4)): still plain decimal strings.
    shown = ok(api.get(f"/corporate/targets/{t['name']}"))
    assert (shown["asking_value"], shown["revenue"], shown["weighted_value"]) == (
        "120000000",
        "30000000.25",
        "12000000",
    )
    # Sub-resources need a token like the rest.
    assert httpx.get(f"{corp.url}/api/v1{base}/diligence/summary").status_code == 401

    # screening -> preliminary: a scorecard at the threshold.
    assert unmet_ids(refused(api.post(f"{base}/advance"))) == ["scorecard", "score"]
    card = ok(
        api.post(
            f"{base}/scorecards",
            json={
                "criteria": [
                    {"name": "market", "weight": 0.5, "score": 7, "rationale": "growing"},
                    {"name": "team", "weight": 0.5, "score": 4},
                ]
            },
        ),
        201,
    )
    assert card["version"] == 1 and card["total"] == 55.0
    assert card["explanation"]["summary"].startswith("Scores 55.0/100. Strongest: market")
    problem = refused(api.post(f"{base}/advance"))
    assert problem["title"] == "Invalid state"
    assert problem["errors"] == [
        {
            "loc": ["gate", "score"],
            "msg": "v1 scores 55.0, 5.0 short",
            "id": "score",
            "description": "the latest scorecard scores at least 60/100",
            "met": False,
            "detail": "v1 scores 55.0, 5.0 short",
        }
    ]
    assert ok(api.get(f"{base}/gate", params={"min_score": 50}))["ready"] is True
    moved = ok(api.post(f"{base}/advance", json={"min_score": 50, "reason": "strategic fit"}))
    assert (moved["stage"], moved["probability"]) == ("preliminary", 20)

    # preliminary -> due_diligence: a valuation version and a signed NDA with an owner.
    gate = ok(api.get(f"{base}/gate"))
    assert (gate["stage"], gate["next_stage"], gate["ready"]) == (
        "preliminary",
        "due_diligence",
        False,
    )
    assert [c["id"] for c in gate["criteria"] if not c["met"]] == [
        "valuation",
        "nda_signed",
        "nda_owner",
    ]
    v1 = ok(api.post(f"{base}/valuations", json={"kind": "npv", "inputs": NPV}), 201)
    assert v1["version"] == 1 and round(v1["result"]["npv"], 4) == 4.1322
    ok(api.patch(base, json={"nda_signed": True}))
    assert unmet_ids(refused(api.post(f"{base}/advance"))) == ["nda_owner"]
    ok(api.patch(base, json={"nda_owner": "legal@corp"}))
    assert ok(api.post(f"{base}/advance"))["stage"] == "due_diligence"
    workstreams = ok(api.get(f"{base}/diligence/workstreams"))
    assert [w["workstream"] for w in workstreams] == list(WORKSTREAMS)

    # due_diligence -> negotiation: requests done everywhere, no open deal-breaker.
    req = ok(
        api.post(
            f"{base}/diligence/requests",
            json={
                "workstream": "legal",
                "title": "IP assignments",
                "owner": "gc",
                "due_on": "2020-01-01",
            },
        ),
        201,
    )
    assert req["overdue"] is True and req["status"] == "open"
    finding = ok(
        api.post(
            f"{base}/diligence/findings",
            json={
                "workstream": "legal",
                "title": "Founder owns a key patent",
                "severity": 5,
                "likelihood": 4,
                "deal_breaker": True,
            },
        ),
        201,
    )
    assert (finding["score"], finding["rating"]) == (20, "critical")
    assert unmet_ids(refused(api.post(f"{base}/advance"))) == [
        "workstreams_covered",
        "requests_done",
        "no_deal_breakers",
    ]
    for name in WORKSTREAMS[:-1]:
        if name != "legal":
            ok(
                api.post(
                    f"{base}/diligence/requests",
                    json={"workstream": name, "title": f"{name} pack", "status": "closed"},
                ),
                201,
            )
    ok(
        api.post(
            f"{base}/diligence/requests",
            json={"workstream": "environmental", "title": "n/a", "status": "waived"},
        ),
        201,
    )
    summary = ok(api.get(f"{base}/diligence/summary"))
    legal = summary["workstreams"][1]
    assert (legal["total"], legal["overdue"], legal["percent_complete"]) == (1, 1, 0.0)
    assert summary["heat_map"]["counts"][0][3] == 1 and summary["open_deal_breakers"] == 1
    ok(api.patch(f"{base}/diligence/requests/{req['id']}", json={"status": "closed"}))
    assert unmet_ids(refused(api.post(f"{base}/advance"))) == ["no_deal_breakers"]
    ok(
        api.patch(
            f"{base}/diligence/findings/{finding['id']}",
            json={"status": "mitigated", "mitigation": "assigned at signing"},
        )
    )
    found = ok(api.get(f"{base}/diligence/findings", params={"deal_breaker": True}))
    assert found["total"] == 1 and found["items"][0]["status"] == "mitigated"
    assert ok(api.post(f"{base}/advance"))["stage"] == "negotiation"

    # negotiation -> closed: latest valuation approved, signed and closed dates in order.
    ok(
        api.post(
            f"{base}/valuations",
            json={"kind": "npv", "inputs": {**NPV, "rate": 0.08}, "note": "final"},
        ),
        201,
    )
    ok(api.post(f"{base}/valuations/1/approve"))
    ok(api.patch(base, json={"signed_on": "2026-05-01", "closed_on": "2026-04-30"}))
    problem = refused(api.post(f"{base}/advance"))
    assert unmet_ids(problem) == ["valuation_approved", "closed_on"]
    assert problem["errors"][0]["detail"] == "v2 is not approved"
    approved = ok(api.post(f"{base}/valuations/2/approve"))
    assert approved["approved"] is True and approved["approved_by"]
    listed = ok(api.get(f"{base}/valuations"))["items"]
    assert [(v["version"], v["approved"]) for v in listed] == [(2, True), (1, False)]
    diff = ok(api.get(f"{base}/valuations/diff", params={"a": 1, "b": 2}))
    assert diff["changes"] == [{"key": "rate", "change": "changed", "from": 0.1, "to": 0.08}]
    ok(api.patch(base, json={"closed_on": "2026-06-30"}))
    ok(
        api.post(
            f"{base}/synergy-plan/lines",
            json={
                "category": "cost",
                "name": "Shared DCs",
                "run_rate": "2000000",
                "phase_in": [0.5, 1],
                "one_off_cost": "500000",
            },
        ),
        201,
    )
    closed = ok(api.post(f"{base}/advance", json={"reason": "signed and closed"}))
    assert (closed["stage"], closed["probability"]) == ("closed", 100)
    assert closed["integration_programme_id"]
    frozen = refused(api.patch(base, json={"closed_on": "2026-07-01"}))
    assert frozen["errors"][0]["loc"] == ["closed_on"]
    assert refused(api.post(f"{base}/drop", json={"reason": "too late"}))["detail"].startswith(
        "cannot drop"
    )

    # closed -> integration: the programme exists.
    assert ok(api.get(f"{base}/gate"))["ready"] is True
    assert ok(api.post(f"{base}/advance"))["stage"] == "integration"
    end = ok(api.get(f"{base}/gate"))
    assert (end["next_stage"], end["ready"], end["criteria"]) == (None, False, [])
    history = ok(api.get(f"{base}/history"))
    assert [h["to_stage"] for h in history["items"]] == [
        "screening",
        "preliminary",
        "due_diligence",
        "negotiation",
        "closed",
        "integration",
    ]
    assert history["items"][1]["reason"] == "strategic fit"
    assert refused(api.delete(base))["detail"].startswith("cannot delete Acme Storage")
    assert ok(api.get("/corporate/targets", params={"stage": "integration"}))["total"] == 1


def test_bad_input_names_the_field(corp: CorporateServer) -> None:
    api = corp.api
    bad = refused(
        api.post(
            "/corporate/targets",
            json={"name": "N", "category": "storage", "revenue": "-5", "employees": -1},
        ),
        422,
    )
    assert {tuple(e["loc"]) for e in bad["errors"]} == {("body", "revenue"), ("body", "employees")}
    bad = refused(api.post("/corporate/targets", json={"name": "N", "category": "custom"}), 422)
    assert bad["errors"][0]["loc"] == ["custom_category"]
    assert refused(api.post("/corporate/targets", json={"name": "N", "category": "mining"}), 422)[
        "errors"
    ][0]["loc"] == ["body", "category"]
    t = ok(
        api.post(
            "/corporate/targets", json={"name": "Quantix", "category": "quantum", "currency": "USD"}
        ),
        201,
    )
    assert refused(
        api.post("/corporate/targets", json={"name": "Quantix", "category": "quantum"}), 409
    )["errors"][0]["loc"] == ["name"]
    base = f"/corporate/targets/{t['id']}"

    weights = refused(
        api.post(
            f"{base}/scorecards",
            json={
                "criteria": [
                    {"name": "a", "weight": 0.6, "score": 5},
                    {"name": "b", "weight": 0.6, "score": 5},
                ]
            },
        ),
        422,
    )
    assert weights["errors"] == [{"loc": ["criteria"], "msg": "weights sum to 1.2, must sum to 1"}]
    assert "1.2" in weights["detail"]
    scores = refused(
        api.post(
            f"{base}/scorecards",
            json={"scale": 10, "criteria": [{"name": "a", "weight": 1, "score": 11}]},
        ),
        422,
    )
    assert scores["errors"][0]["loc"] == ["criteria", 0, "score"]

    mixed = refused(
        api.put(
            f"{base}/synergy-plan",
            json={
                "lines": [
                    {
                        "category": "revenue",
                        "name": "Cross-sell",
                        "run_rate": "100",
                        "phase_in": [1],
                    },
                    {
                        "category": "cost",
                        "name": "Offices",
                        "run_rate": "50",
                        "currency": "EUR",
                        "phase_in": [1],
                    },
                ]
            },
        ),
        422,
    )
    assert mixed["errors"][0]["loc"] == ["lines", 1, "currency"]
    assert "EUR" in mixed["detail"] and "USD" in mixed["detail"]
    phase = refused(
        api.post(
            f"{base}/synergy-plan/lines",
            json={"category": "cost", "name": "x", "run_rate": "1", "phase_in": [0.8, 0.4]},
        ),
        422,
    )
    assert phase["errors"][0]["loc"] == ["phase_in", 1]
    negative = refused(
        api.post(
            f"{base}/synergy-plan/lines",
            json={"category": "cost", "name": "x", "run_rate": "-1", "phase_in": [1]},
        ),
        422,
    )
    assert negative["errors"][0]["loc"] == ["body", "run_rate"]
    inputs = refused(
        api.post(f"{base}/valuations", json={"kind": "npv", "inputs": {**NPV, "rate": "high"}}), 422
    )
    assert inputs["errors"][0]["loc"] == ["inputs", "rate"]
    assert ok(api.get(f"{base}/valuations"))["total"] == 0
    plan = ok(api.get(f"{base}/synergy-plan"))
    assert plan["lines"] == [] and plan["totals"]["run_rate"]["total"] == "0"
    assert refused(api.post(f"{base}/drop", json={"reason": ""}), 422)["errors"][0]["loc"] == [
        "body",
        "reason",
    ]
    assert refused(api.get("/corporate/targets/nope"), 404)["detail"] == "no target 'nope'"
