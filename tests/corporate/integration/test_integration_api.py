"""Integration programmes over HTTP: generate → progress → computed summary, and bad input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from novacron.corporate.integration import plan
from novacron.testing.corporate import CorporateServer

CLOSE = "2027-01-15"
AS_OF = "2027-03-01"  # in stabilisation: Day-1 readiness ended on 2027-02-14
SYNERGY_PLAN = [
    {
        "category": "revenue",
        "name": "Cross-sell storage into the installed base",
        "run_rate": "1500000.00",
        "currency": "USD",
        "phase_in": [0.25, 0.5, 1.0],
        "one_off_cost": "200000.00",
    },
    {
        "category": "cost",
        "name": "Data-centre consolidation",
        "run_rate": "800000.00",
        "currency": "USD",
        "phase_in": [0.5, 1.0],
        "one_off_cost": "350000.00",
    },
]


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def _generate(corp: CorporateServer, target: str = "tgt-acme") -> dict[str, Any]:
    body = {
        "target_id": target,
        "target_name": "Acme Storage",
        "close_date": CLOSE,
        "synergy_plan": SYNERGY_PLAN,
    }
    created: dict[str, Any] = _ok(corp.api.post("/corporate/programmes", json=body), 201)
    return created


def _tasks(corp: CorporateServer, pid: str, **params: Any) -> dict[str, Any]:
    params = {"as_of": AS_OF, "limit": 1000, **params}
    page: dict[str, Any] = _ok(corp.api.get(f"/corporate/programmes/{pid}/tasks", params=params))
    return page


def test_generate_progress_and_summary(corp: CorporateServer) -> None:
    programme = _generate(corp)
    pid = programme["id"]
    assert programme["name"] == "Acme Storage integration"
    assert programme["currency"] == "USD"
    assert [w["key"] for w in programme["workstreams"]] == list(plan.WORKSTREAM_KEYS)
    assert all(w["lead"] is None for w in programme["workstreams"])
    assert [(p["key"], p["start_date"], p["end_date"]) for p in programme["phases"]] == [
        ("day1_readiness", "2027-01-15", "2027-02-14"),
        ("stabilisation", "2027-02-15", "2027-05-14"),
        ("execution", "2027-05-15", "2028-05-14"),
        ("optimisation", "2028-05-15", "2028-11-14"),
    ]
    assert (programme["tasks"], programme["milestones"]) == (len(plan.TASKS), len(plan.MILESTONES))
    again = corp.api.post(
        "/corporate/programmes",
        json={"target_id": "tgt-acme", "target_name": "Acme", "close_date": CLOSE},
    )
    assert "already has integration programme" in _problem(again, 409)["detail"]
    listed = _ok(corp.api.get("/corporate/programmes"))
    assert (listed["total"], listed["items"][0]["id"]) == (1, pid)
    assert _ok(corp.api.get("/corporate/programmes/tgt-acme"))["id"] == pid  # by target id

    # Day-1 tasks are overdue at AS_OF and not started: red.
    day1 = _tasks(corp, pid, phase="day1_readiness")["items"]
    assert day1 and {t["rag"] for t in day1} == {"red"}
    by_key = {t["key"]: t for t in _tasks(corp, pid)["items"]}

    # Done is refused while a dependency isn't done.
    identity = by_key["tech_identity_merge"]
    refused = corp.api.patch(
        f"/corporate/programmes/{pid}/tasks/{identity['id']}", json={"status": "done"}
    )
    detail = _problem(refused, 409)["detail"]
    assert "Provision Day-1 e-mail and directory access" in detail
    assert by_key["tech_day1_access"]["id"] in identity["blocked_by"]
    assert identity["critical"] is True

    # Finish every Day-1 task; then the identity merge can be done.
    for task in day1:
        done = _ok(
            corp.api.patch(
                f"/corporate/programmes/{pid}/tasks/{task['id']}",
                params={"as_of": AS_OF},
                json={"status": "done"},
            )
        )
        assert (done["percent_complete"], done["rag"]) == (100, "green")
    half = _ok(
        corp.api.patch(
            f"/corporate/programmes/{pid}/tasks/{identity['id']}",
            params={"as_of": AS_OF},
            json={"percent_complete": 40},
        )
    )
    assert (half["status"], half["blocked_by"]) == ("in_progress", [])

    # A cycle is refused naming the dependency.
    cycle = corp.api.post(
        f"/corporate/programmes/{pid}/tasks/{by_key['tech_day1_access']['id']}/dependencies",
        json={"depends_on": by_key["tech_dc_migration"]["id"]},
    )
    problem = _problem(cycle, 422)
    assert problem["errors"][0]["loc"] == ["depends_on"]
    assert by_key["tech_dc_migration"]["id"] in problem["detail"]

    # A manual override needs a reason; with one it wins over the computed colour.
    no_reason = corp.api.patch(
        f"/corporate/programmes/{pid}/tasks/{identity['id']}", json={"rag_override": "red"}
    )
    assert _problem(no_reason, 422)["errors"][0]["loc"] == ["rag_override_reason"]
    overridden = _ok(
        corp.api.patch(
            f"/corporate/programmes/{pid}/tasks/{identity['id']}",
            params={"as_of": AS_OF},
            json={"rag_override": "red", "rag_override_reason": "IdP vendor slipped"},
        )
    )
    assert (overridden["rag"], overridden["rag_computed"]) == ("red", "green")

    summary = _ok(corp.api.get(f"/corporate/programmes/{pid}/summary", params={"as_of": AS_OF}))
    layout = plan.build_plan(date(2027, 1, 15))
    weights = {t.key: (t.due - t.start).days + 1 for t in layout.tasks}
    done_keys = {t["key"] for t in day1}
    expected = (
        sum(weights[k] * 100 for k in done_keys) + weights["tech_identity_merge"] * 40
    ) / sum(weights.values())
    overall = summary["overall"]
    assert (overall["tasks_done"], overall["tasks_total"]) == (len(day1), len(plan.TASKS))
    assert overall["percent_complete"] == round(expected, 2)
    assert summary["current_phase"] == "stabilisation"
    phases = {p["key"]: p for p in summary["phases"]}
    assert phases["day1_readiness"]["percent_complete"] == 100.0
    # Its milestones are still pending after their due dates: missed, so amber.
    assert (phases["day1_readiness"]["rag"], phases["day1_readiness"]["milestones_missed"]) == (
        "amber",
        4,
    )
    technology = next(w for w in summary["workstreams"] if w["key"] == "technology")
    assert identity["id"] in summary["critical_path"]
    assert technology["rag"] == "red"
    assert (
        "critical-path task 'Merge identity providers and enable single sign-on' is red"
        in (technology["rag_reasons"])
    )
    assert technology["rag_counts"]["red"] >= 1

    # A critical escalation turns the programme red until it is resolved.
    escalation = _ok(
        corp.api.post(
            f"/corporate/programmes/{pid}/escalations",
            json={
                "title": "Key architect resigning",
                "raised_to": "Steering committee",
                "severity": "critical",
                "workstream": "technology",
            },
        ),
        201,
    )
    red = _ok(corp.api.get(f"/corporate/programmes/{pid}/summary", params={"as_of": AS_OF}))
    assert red["overall"]["rag"] == "red"
    assert "1 open critical escalation(s)" in red["overall"]["rag_reasons"]
    assert red["overall"]["open_escalations"] == 1
    resolved = _ok(
        corp.api.post(
            f"/corporate/programmes/{pid}/escalations/{escalation['id']}/resolve",
            json={"resolution": "Counter-offer accepted"},
        )
    )
    assert (resolved["status"], resolved["resolved_by"]) == ("resolved", "admin")
    twice = corp.api.post(
        f"/corporate/programmes/{pid}/escalations/{escalation['id']}/resolve",
        json={"resolution": "again"},
    )
    _problem(twice, 409)
    open_only = _ok(corp.api.get(f"/corporate/programmes/{pid}/escalations?status=open"))
    assert open_only["total"] == 0

    # No API takes a roll-up as input.
    typed = corp.api.patch(
        f"/corporate/programmes/{pid}/tasks/{identity['id']}", json={"rag_computed": "green"}
    )
    assert _problem(typed, 422)["errors"][0]["loc"] == ["body", "rag_computed"]
    assert corp.api.post(f"/corporate/programmes/{pid}/summary", json={}).status_code == 405


def test_synergies_retention_and_governance(corp: CorporateServer) -> None:
    pid = _generate(corp, "tgt-globex")["id"]
    syn = _ok(
        corp.api.get(f"/corporate/programmes/{pid}/synergies", params={"as_of": "2027-08-01"})
    )
    assert (syn["period_length"], syn["elapsed_periods"], syn["currency"]) == ("quarter", 2, "USD")
    revenue, cost = syn["lines"]
    assert [p["planned"] for p in revenue["periods"][:5]] == [
        "93750",
        "93750",
        "93750",
        "93750",
        "187500",
    ]
    assert len(cost["periods"]) == 8
    assert Decimal(syn["one_off_cost_total"]) == Decimal("550000")

    wrong = corp.api.post(
        f"/corporate/programmes/{pid}/synergies/actuals",
        json={"line_id": revenue["id"], "period": 1, "amount": "90000", "currency": "EUR"},
    )
    problem = _problem(wrong, 422)
    assert problem["errors"][0]["loc"] == ["currency"]
    assert "EUR" in problem["detail"] and "USD" in problem["detail"]
    for line, period, amount in ((revenue, 1, "90000"), (revenue, 2, "60000"), (cost, 1, "100000")):
        actual = _ok(
            corp.api.post(
                f"/corporate/programmes/{pid}/synergies/actuals",
                json={"line_id": line["id"], "period": period, "amount": amount, "currency": "USD"},
            ),
            201,
        )
        assert actual["recorded_by"] == "admin"
    # A correction replaces the figure.
    _ok(
        corp.api.post(
            f"/corporate/programmes/{pid}/synergies/actuals",
            json={"line_id": cost["id"], "period": 1, "amount": "110000", "currency": "USD"},
        ),
        201,
    )
    beyond = corp.api.post(
        f"/corporate/programmes/{pid}/synergies/actuals",
        json={"line_id": cost["id"], "period": 9, "amount": "1", "currency": "USD"},
    )
    assert _problem(beyond, 422)["errors"][0]["loc"] == ["period"]

    syn = _ok(
        corp.api.get(f"/corporate/programmes/{pid}/synergies", params={"as_of": "2027-08-01"})
    )
    # revenue: plan to date 2 × 93,750 = 187,500, actual 150,000 → 80 %
    assert syn["by_category"]["revenue"]["pct"] == 80.0
    # cost: plan to date 2 × 100,000 = 200,000, actual 110,000 → 55 %
    assert syn["by_category"]["cost"]["pct"] == 55.0
    assert Decimal(syn["overall"]["actual_to_date"]) == Decimal("260000")
    assert syn["overall"]["pct"] == round(260000 / 387500 * 100, 2)
    first, second, third = syn["series"][:3]
    assert (Decimal(first["actual_cumulative"]), Decimal(second["actual_cumulative"])) == (
        Decimal("200000"),
        Decimal("260000"),
    )
    assert Decimal(second["planned_cumulative"]) == Decimal("387500")
    assert third["actual"] is None

    # Retention.
    base = f"/corporate/programmes/{pid}/retention"
    people = [("Ana", "CTO", "high", "retained"), ("Bo", "VP Eng", "medium", "left")]
    for name, role, risk, status in people:
        body = {"name": name, "role": role, "flight_risk": risk, "retention_bonus": "250000.00"}
        body["status"] = status
        _ok(corp.api.post(f"{base}/employees", json=body), 201)
    customers = [("Initech", "600000", "retained"), ("Umbrella", "400000", "at_risk")]
    created = [
        _ok(corp.api.post(f"{base}/customers", json={"name": n, "arr": a, "status": s}), 201)
        for n, a, s in customers
    ]
    euro = corp.api.post(f"{base}/customers", json={"name": "X", "arr": "1", "currency": "EUR"})
    assert _problem(euro, 422)["errors"][0]["loc"] == ["currency"]
    churned = _ok(
        corp.api.patch(f"{base}/customers/{created[1]['id']}", json={"status": "churned"})
    )
    assert churned["status"] == "churned"
    ret = _ok(corp.api.get(base))
    assert ret["rates"]["headcount_retention_pct"] == 50.0
    assert ret["rates"]["arr_retention_pct"] == 60.0
    assert Decimal(ret["retention_bonus_total"]) == Decimal("500000")

    summary = _ok(
        corp.api.get(f"/corporate/programmes/{pid}/summary", params={"as_of": "2027-08-01"})
    )
    assert summary["synergies"]["revenue"]["pct"] == 80.0
    assert summary["retention"]["arr_retention_pct"] == 60.0
    assert "ARR retention 60%" in summary["overall"]["rag_reasons"]

    # Governance: committee, meetings, decisions, risks, milestones, workstream leads.
    g = f"/corporate/programmes/{pid}"
    member = {"name": "Dana Scully", "role": "Chair", "organisation": "NovaCron"}
    _ok(corp.api.post(f"{g}/committee/members", json=member), 201)
    meeting = {"held_on": "2027-02-01", "attendees": ["Dana Scully"], "notes": "Day-1 review"}
    _ok(corp.api.post(f"{g}/committee/meetings", json=meeting), 201)
    committee = _ok(corp.api.get(f"{g}/committee"))
    assert committee["members"][0]["role"] == "Chair"
    assert committee["meetings"][0]["attendees"] == ["Dana Scully"]
    decision = {"decision": "Keep the Acme brand for 12 months", "workstream": "marketing"}
    logged = _ok(corp.api.post(f"{g}/decisions", json=decision), 201)
    assert logged["decided_by"] == "admin"
    assert _ok(corp.api.get(f"{g}/decisions?workstream=marketing"))["total"] == 1
    assert _ok(corp.api.get(f"{g}/decisions?workstream=legal"))["total"] == 0
    for title, sev, lik in (("Minor", 1, 2), ("Key customer churn", 4, 4)):
        risk = {"title": title, "severity": sev, "likelihood": lik, "owner": "CRO"}
        _ok(corp.api.post(f"{g}/risks", json=risk), 201)
    risks = _ok(corp.api.get(f"{g}/risks"))["items"]
    assert [(r["title"], r["score"]) for r in risks] == [("Key customer churn", 16), ("Minor", 2)]
    closed = _ok(corp.api.patch(f"{g}/risks/{risks[1]['id']}", json={"status": "closed"}))
    assert closed["status"] == "closed"
    milestones = _ok(corp.api.get(f"{g}/milestones?phase=day1_readiness&as_of=2027-01-20"))
    assert milestones["total"] == 4
    first_ms = milestones["items"][0]
    assert (first_ms["title"].startswith("Day-1 communications"), first_ms["missed"]) == (
        True,
        True,
    )
    hit = _ok(corp.api.patch(f"{g}/milestones/{first_ms['id']}", json={"status": "hit"}))
    assert (hit["status"], hit["missed"]) == ("hit", False)
    lead = _ok(corp.api.patch(f"{g}/workstreams/hr", json={"lead": "Pat HR"}))
    assert lead["lead"] == "Pat HR"
    assert _ok(corp.api.get(f"{g}/phases"))[2]["key"] == "execution"


def test_bad_input_names_the_field(corp: CorporateServer) -> None:
    mixed = [SYNERGY_PLAN[0], {**SYNERGY_PLAN[1], "currency": "EUR"}]
    body = {"target_id": "t1", "target_name": "T", "close_date": CLOSE, "synergy_plan": mixed}
    problem = _problem(corp.api.post("/corporate/programmes", json=body), 422)
    assert problem["errors"][0]["loc"] == ["synergy_plan", 1, "currency"]
    bad_share = [{**SYNERGY_PLAN[0], "phase_in": [0.5, 1.5]}]
    body = {"target_id": "t1", "target_name": "T", "close_date": CLOSE, "synergy_plan": bad_share}
    problem = _problem(corp.api.post("/corporate/programmes", json=body), 422)
    assert problem["errors"][0]["loc"][:3] == ["body", "synergy_plan", 0]
    assert corp.api.get("/corporate/programmes").json()["total"] == 0

    pid = _generate(corp, "t2")["id"]
    task = {
        "title": "Migrate the wiki",
        "workstream": "technology",
        "phase": "execution",
        "start_date": "2027-06-10",
        "due_date": "2027-06-01",
    }
    backwards = corp.api.post(f"/corporate/programmes/{pid}/tasks", json=task)
    assert _problem(backwards, 422)["errors"][0]["loc"] == ["due_date"]
    unknown_dep = corp.api.post(
        f"/corporate/programmes/{pid}/tasks",
        json={**task, "due_date": "2027-07-01", "depends_on": ["task-nope"]},
    )
    assert _problem(unknown_dep, 422)["errors"][0]["loc"] == ["depends_on", "0"]
    wiki = _ok(
        corp.api.post(
            f"/corporate/programmes/{pid}/tasks", json={**task, "due_date": "2027-07-01"}
        ),
        201,
    )
    assert (wiki["owner"], wiki["status"], wiki["key"]) == ("admin", "not_started", None)
    self_dep = corp.api.post(
        f"/corporate/programmes/{pid}/tasks/{wiki['id']}/dependencies",
        json={"depends_on": wiki["id"]},
    )
    assert _problem(self_dep, 422)["errors"][0]["loc"] == ["depends_on"]
    other = _tasks(corp, pid, workstream="legal")["items"][0]
    dep = _ok(
        corp.api.post(
            f"/corporate/programmes/{pid}/tasks/{wiki['id']}/dependencies",
            json={"depends_on": other["id"]},
        ),
        201,
    )
    assert dep["depends_on"] == [other["id"]]
    dup = corp.api.post(
        f"/corporate/programmes/{pid}/tasks/{wiki['id']}/dependencies",
        json={"depends_on": other["id"]},
    )
    _problem(dup, 409)
    gone = corp.api.delete(
        f"/corporate/programmes/{pid}/tasks/{wiki['id']}/dependencies/{other['id']}"
    )
    assert gone.status_code == 204
    again = corp.api.delete(
        f"/corporate/programmes/{pid}/tasks/{wiki['id']}/dependencies/{other['id']}"
    )
    _problem(again, 404)
    bad_ws = corp.api.post(f"/corporate/programmes/{pid}/tasks", json={**task, "workstream": "it"})
    assert _problem(bad_ws, 422)["errors"][0]["loc"] == ["body", "workstream"]
    _problem(corp.api.get("/corporate/programmes/nope/summary"), 404)
    _problem(corp.api.get(f"/corporate/programmes/{pid}/tasks/task-nope"), 404)
    pct = corp.api.patch(
        f"/corporate/programmes/{pid}/tasks/{wiki['id']}", json={"percent_complete": 101}
    )
    assert _problem(pct, 422)["errors"][0]["loc"] == ["body", "percent_complete"]
