"""The corporate pages over a real server: sign-in required, helpful empty states, bad
filters and unknown refs answered as pages, and a seeded portfolio shown with its
figures and chart data. Plus the pure view helpers (formatting, figures, football field,
sensitivity grid, stage bar) without a database."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from novacron.corporate.ma.schemas import TargetOut
from novacron.corporate.web import charts, dashboard, format, valuation, views_ma
from novacron.security.sessions import csrf_for
from novacron.testing.cluster import web_session_cookies
from novacron.testing.corporate import SAMPLE_DCF as DCF
from novacron.testing.corporate import CorporateServer

PAGES = (
    "/corporate",
    "/corporate/targets",
    "/corporate/programmes",
    "/corporate/partners",
    "/corporate/ecosystem",
)
COMPS: dict[str, Any] = {
    "peers": [
        {"name": "A", "currency": "USD", "enterprise_value": 2000, "ebitda": 200, "revenue": 900},
        {"name": "B", "currency": "USD", "enterprise_value": 3300, "ebitda": 300, "revenue": 1200},
    ],
    "target": {
        "currency": "USD",
        "ebitda": 250,
        "revenue": 1000,
        "net_debt": 200,
        "diluted_shares": 100,
    },
}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def browser(corp: CorporateServer) -> httpx.Client:
    """A client signed in the way a browser is: the session cookie."""
    cookies = web_session_cookies(corp.url, corp.token)
    csrf = {"X-CSRF-Token": csrf_for(next(iter(cookies.values())))}
    return httpx.Client(base_url=corp.url, cookies=cookies, headers=csrf, timeout=30)


def figure(html: str, name: str) -> dict[str, Any]:
    """The JSON data block of chart ``name`` on a page."""
    found = re.search(
        rf'<script type="application/json" id="chart-{name}-data">(.*?)</script>', html, re.S
    )
    assert found, f"no chart {name}"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def seed(api: httpx.Client) -> dict[str, Any]:
    """A small portfolio through the API: a valued target with diligence and a synergy
    plan, an integration programme with an actual, a partner with a registration, a
    government partnership with an expiring certification."""
    t = ok(
        api.post(
            "/corporate/targets",
            json={
                "name": "Acme Storage",
                "category": "storage",
                "currency": "USD",
                "asking_value": "2500",
                "revenue": "1000",
                "country": "DE",
            },
        ),
        201,
    )
    base = f"/corporate/targets/{t['id']}"
    ok(
        api.post(
            f"{base}/scorecards",
            json={
                "criteria": [
                    {"name": "market", "weight": 0.6, "score": 8},
                    {"name": "team", "weight": 0.4, "score": 5},
                ]
            },
        ),
        201,
    )
    ok(api.post(f"{base}/valuations", json={"kind": "comps", "inputs": COMPS}), 201)
    ok(api.post(f"{base}/valuations", json={"kind": "dcf", "inputs": DCF, "note": "base"}), 201)
    ok(
        api.post(
            f"{base}/diligence/findings",
            json={
                "workstream": "legal",
                "title": "Founder owns a patent",
                "severity": 5,
                "likelihood": 4,
            },
        ),
        201,
    )
    ok(
        api.put(
            f"{base}/synergy-plan",
            json={
                "lines": [
                    {
                        "category": "cost",
                        "name": "Data centre exit",
                        "run_rate": "120",
                        "phase_in": [0.5, 1],
                    }
                ]
            },
        )
    )
    close = date.today() - timedelta(days=200)
    programme = ok(
        api.post(
            "/corporate/programmes",
            json={
                "target_id": "tgt-external",
                "target_name": "Borealis Networks",
                "close_date": str(close),
                "synergy_plan": [
                    {
                        "category": "cost",
                        "name": "Procurement",
                        "run_rate": "400000",
                        "currency": "EUR",
                        "phase_in": ["0.5", "1"],
                    }
                ],
            },
        ),
        201,
    )
    pid = programme["id"]
    line = ok(api.get(f"/corporate/programmes/{pid}/synergies"))["lines"][0]
    ok(
        api.post(
            f"/corporate/programmes/{pid}/synergies/actuals",
            json={"line_id": line["id"], "period": 1, "amount": "30000", "currency": "EUR"},
        ),
        201,
    )
    partner = ok(
        api.post(
            "/corporate/partners",
            json={
                "name": "Nimbus Cloud",
                "type": "cloud",
                "region": "EMEA",
                "status": "active",
                "currency": "USD",
                "certified_engineers": 3,
                "csat": 4.2,
            },
        ),
        201,
    )
    ok(
        api.post(
            "/corporate/deal-registrations",
            json={
                "partner": "Nimbus Cloud",
                "customer_name": "Globex",
                "product": "NovaCron Enterprise",
                "amount": "50000",
                "currency": "USD",
            },
        ),
        201,
    )
    ok(
        api.post(
            "/corporate/ecosystem/government",
            json={
                "agency": "GSA",
                "jurisdiction": "US",
                "certifications": [
                    {
                        "name": "FedRAMP Moderate",
                        "status": "authorized",
                        "authorized_on": str(date.today() - timedelta(days=300)),
                        "expires_on": str(date.today() + timedelta(days=30)),
                    }
                ],
            },
        ),
        201,
    )
    return {"target": t, "programme": programme, "partner": partner}


def test_pages_need_a_session_and_explain_empty_states(corp: CorporateServer) -> None:
    for path in (*PAGES, "/corporate/targets/x", "/corporate/partners/x"):
        r = httpx.get(corp.url + path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next=%2Fcorporate"), path
    with browser(corp) as web:
        for path in PAGES:
            r = web.get(path)
            assert r.status_code == 200, (path, r.text[:500])
            assert "script-src 'self'" in r.headers["content-security-policy"]
            assert "<script>" not in r.text  # no inline script
        assert "novacron corporate demo" in web.get("/corporate").text
        assert 'data-testid="targets-empty"' in web.get("/corporate/targets").text
        assert "No targets yet" in web.get("/corporate/targets").text
        assert "No partners yet" in web.get("/corporate/partners").text
        assert 'data-testid="ecosystem-empty"' in web.get("/corporate/ecosystem").text
        missing = web.get("/corporate/targets/nope")
        assert missing.status_code == 404 and "no target &#39;nope&#39;" in missing.text
        assert web.get("/corporate/programmes/nope").status_code == 404
        bad = web.get("/corporate/targets", params={"stage": "won"})
        assert bad.status_code == 400 and "stage must be one of" in bad.text
        assert web.get("/corporate/partners", params={"tier": "diamond"}).status_code == 400
        js = web.get("/vendor/plotly.min.js")
        assert js.status_code == 200 and "immutable" in js.headers["cache-control"]
        assert js.headers["content-type"].startswith("text/javascript")
        assert b"plotly.js v" in js.content[:200]


def test_a_seeded_portfolio_on_every_page(corp: CorporateServer) -> None:
    made = seed(corp.api)
    tid, pid = made["target"]["id"], made["programme"]["id"]
    with browser(corp) as web:
        listed = web.get("/corporate/targets").text
        assert 'data-testid="target-row-Acme Storage"' in listed and "USD 2.5K" in listed
        assert ">68.0<" in listed  # the latest score: 0.6×8 + 0.4×5 → 68/100
        assert "Acme Storage" not in web.get("/corporate/targets?stage=closed").text

        page = web.get(f"/corporate/targets/{tid}").text
        assert 'data-testid="stage-step-screening" data-state="current"' in page
        assert 'data-testid="criterion-score" data-met="true"' in page
        assert "Scores 68.0/100. Strongest: market" in page
        risk = figure(page, "risk")
        assert risk["data"][0]["z"][0][3] == 1  # severity 5 (top row), likelihood 4
        field = figure(page, "football")
        labels = field["data"][0]["y"]
        assert "DCF v2" in labels and "Trading comps v1 · EV/EBITDA" in labels
        dcf_bar = labels.index("DCF v2")
        low = field["data"][0]["base"][dcf_bar]
        assert low < 25.04 < low + field["data"][0]["x"][dcf_bar]  # base case inside
        grid = figure(page, "sensitivity")["data"][0]
        assert len(grid["z"]) == 5 and all(len(row) == 5 for row in grid["z"])
        assert grid["z"][2][2] == pytest.approx(25.0438, abs=1e-3)  # the base case
        assert grid["x"][2] == "2.5%" and grid["y"][2] == "9.0%"
        assert f"/api/v1/corporate/targets/{tid}/valuations/2/export.xlsx" in page
        assert "Data centre exit" in page and "USD 120" in page

        prog = web.get(f"/corporate/programmes/{pid}").text
        assert "Borealis Networks" in prog
        assert prog.count('data-testid="ws-row-') == 9
        series = figure(prog, "realisation")["data"]
        assert series[1]["y"][0] == 30000.0  # actual, cumulative, Q1
        assert len(figure(prog, "timeline")["data"][0]["y"]) == 4
        assert "Procurement" not in prog or "EUR" in prog

        partners = web.get("/corporate/partners").text
        assert 'data-testid="partner-row-Nimbus Cloud"' in partners
        partner = web.get(f"/corporate/partners/{made['partner']['id']}").text
        assert "Next: Silver." in partner and "Globex" in partner
        assert 'data-testid="health-score"' in partner

        eco = web.get("/corporate/ecosystem").text
        assert "FedRAMP Moderate" in eco and "Expiring:" in eco

        dash = web.get("/corporate").text
        funnel = figure(dash, "funnel")["data"][0]
        assert funnel["y"][0] == "Screening" and funnel["x"][0] == 1 and len(funnel["y"]) == 6
        assert 'data-testid="kpi-synergy_realisation"' in dash
        assert 'data-testid="recommendation"' in dash  # the expiring FedRAMP at least
        assert "EUR" in dash and figure(dash, "synergies-eur")["data"][1]["y"] == [30000.0, 0.0]


# -- pure helpers ------------------------------------------------------------------------------


def test_money_and_percent_formatting() -> None:
    assert format.money(Decimal("120000000"), "EUR") == "EUR 120,000,000"
    assert format.money("1250.5", "USD") == "USD 1,250.50"
    assert format.money(Decimal("1250000"), "USD", short=True) == "USD 1.3M"
    assert format.money(None, "USD") == "—" and format.money("junk") == "—"
    assert format.compact(-2_500_000_000) == "-2.5B" and format.compact(12.5) == "12.50"
    assert format.pct(82.456) == "82.5%" and format.pct(0.5, 0, ratio=True) == "50%"
    assert format.num("1234.5000") == "1,234.5" and format.num(3, 0) == "3"
    assert format.label("due_diligence") == "Due diligence" and format.label("ai_ml") == "AI/ML"
    assert format.tone("negotiation", "stage") == "warn" and format.tone("?", "nope") == "idle"


def test_funnel_figure_keeps_stages_in_order_and_currencies_apart() -> None:
    rows = [
        {"stage": s, "count": n, "value": v}
        for s, n, v in (
            ("screening", 3, {"EUR": "1200000", "USD": "5"}),
            ("preliminary", 1, {}),
            ("due_diligence", 0, {}),
            ("negotiation", 0, {}),
            ("closed", 0, {}),
            ("integration", 0, {}),
            ("dropped", 2, {}),
        )
    ]
    fig = dashboard.funnel_figure(rows)["data"][0]
    assert fig["type"] == "funnel" and fig["x"] == [3, 1, 0, 0, 0, 0]
    assert fig["text"][0] == "3 · EUR 1.2M + USD 5" and fig["text"][1] == "1"
    assert dashboard.kpi_value({"value": 81.24, "unit": "%"}) == "81%"
    assert dashboard.kpi_value({"value": 4200000, "unit": "USD"}) == "USD 4.2M"
    assert dashboard.kpi_value({"value": 120.0, "unit": "days"}) == "120 days"
    assert dashboard.kpi_value({"value": None, "unit": "%"}) == "—"
    assert dashboard.kpi_value({"value": 1, "unit": "deals"}) == "1 deal"


def test_football_field_from_dcf_and_comps_and_what_is_left_out() -> None:
    dcf = {
        "kind": "dcf",
        "version": 3,
        "inputs": DCF,
        "result": {"currency": "USD", "value_per_share": 25.0438},
    }
    comps = {
        "kind": "comps",
        "version": 1,
        "inputs": {},
        "result": {
            "currency": "USD",
            "implied": [{"multiple": "ev_ebitda", "per_share": {"low": 20, "mid": 24, "high": 28}}],
        },
    }
    eur = {"kind": "precedents", "version": 2, "inputs": {}, "result": {"currency": "EUR"}}
    ff = valuation.football(valuation.Versions.of([comps, eur, dcf]))
    assert ff.field is not None
    assert [b["label"] for b in ff.field["bars"]] == ["Trading comps v1 · EV/EBITDA", "DCF v3"]
    dcf_bar = ff.field["bars"][1]
    assert dcf_bar["low"] < 25.0438 < dcf_bar["high"] and dcf_bar["midpoint"] == 25.0438
    assert ff.left_out == ["precedents v2 is in EUR, the DCF in USD"]
    fig = charts.football_field(ff.field)
    assert fig["data"][0]["base"][0] == 20 and fig["data"][0]["x"][0] == 8
    assert valuation.football(valuation.Versions.of([comps])).field is None  # no DCF
    stored = {
        "kind": "football_field",
        "version": 4,
        "inputs": {},
        "result": {"currency": "USD", "unit": "per share", "bars": []},
    }
    assert valuation.football(valuation.Versions.of([dcf, stored])).source.startswith("stored")


def test_sensitivity_grid_marks_wacc_below_growth_and_follows_exit_multiples() -> None:
    low_wacc = {**DCF, "wacc": 0.03, "terminal": {"method": "gordon", "growth": 0.02}}
    grid = valuation.sensitivity(low_wacc)
    assert grid["row_values"][0] == pytest.approx(0.01)  # WACC 1% < g: no value
    assert grid["cells"][0][4] is None and grid["reasons"][0][4]
    exit_model = {**DCF, "terminal": {"method": "exit_multiple", "ev_ebitda": 10}}
    grid = valuation.sensitivity(exit_model)
    assert grid["col_driver"] == "exit_multiple" and grid["col_values"] == [8, 9, 10, 11, 12]
    assert valuation.axis_labels("exit_multiple", [8.0, 9.5]) == ["8×", "9.5×"]
    heat = charts.heat_map(grid["cells"], ["a"] * 5, ["b"] * 5, x_title="x", y_title="y")
    assert heat["data"][0]["texttemplate"] == "%{z:,.2f}"


def _target(**changes: Any) -> TargetOut:
    now = "2026-01-01T00:00:00"
    values: dict[str, Any] = {
        "id": "tgt-1",
        "name": "A",
        "category": "storage",
        "custom_category": None,
        "description": "",
        "headquarters": None,
        "country": None,
        "website": None,
        "currency": "USD",
        "revenue": None,
        "ebitda": None,
        "employees": None,
        "financials_year": None,
        "asking_value": None,
        "owner": "me",
        "stage": "screening",
        "stage_changed_at": now,
        "probability": 10,
        "probability_is_default": True,
        "weighted_value": None,
        "expected_close_on": None,
        "dropped_from": None,
        "drop_reason": None,
        "nda_signed": False,
        "nda_owner": None,
        "signed_on": None,
        "closed_on": None,
        "integration_programme_id": None,
        "created_by": "me",
        "created_at": now,
        "updated_at": now,
    }
    return TargetOut.model_validate({**values, **changes})


def test_stage_bar_shows_passed_current_and_dropped_stages() -> None:
    steps = views_ma.stage_steps(_target(stage="due_diligence"))
    assert [s.state for s in steps] == ["done", "done", "current", "todo", "todo", "todo"]
    dropped = views_ma.stage_steps(_target(stage="dropped", dropped_from="preliminary"))
    assert [s.state for s in dropped][:3] == ["done", "dropped", "todo"]
    assert steps[2].name == "Due diligence"


def test_realisation_and_timeline_figures() -> None:
    points = [
        {"period": 1, "planned_cumulative": Decimal("10"), "actual_cumulative": Decimal("8")},
        {"period": 2, "planned_cumulative": Decimal("25"), "actual_cumulative": None},
    ]
    fig = charts.realisation(points, "EUR")
    assert fig["data"][0]["y"] == [10.0, 25.0] and fig["data"][1]["x"] == ["Q1"]
    phases = [
        {
            "name": "Day 1",
            "start_date": date(2026, 1, 1),
            "end_date": date(2026, 1, 31),
            "rag": "red",
        }
    ]
    line = charts.timeline(phases, date(2026, 1, 15))
    assert line["data"][0]["x"] == [31 * 86_400_000] and line["data"][0]["marker"]["color"] == [
        charts.BAD
    ]
    assert charts.risk_heat_map([[0] * 5] * 5)["data"][0]["y"][0] == "5"
