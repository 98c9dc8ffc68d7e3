"""The corporate pages in headless Debian Chromium: a real server (SQLite, no agents)
seeded through the REST API (plus the demo portfolio when the server has one), every
page opened, its figures read as a user sees them, every chart drawn by plotly.js, and
no JavaScript or CSP error on the console.

``NOVACRON_UPDATE_SCREENSHOT=1`` also refreshes ``docs/screenshot-corporate.png`` (the
README's picture of the dashboard), as the other browser tests do theirs; otherwise the
picture goes to a temporary directory and the tree stays clean.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from novacron.core.config import Settings
from novacron.testing.browser import Tab
from novacron.testing.cluster import ServerThread, free_port
from novacron.testing.corporate import SAMPLE_DCF as DCF

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-corporate.png"
VALUATION_SCREENSHOT = SCREENSHOT.with_name("screenshot-corporate-valuation.png")
COMPS: dict[str, Any] = {
    "peers": [
        {"name": "A", "currency": "USD", "enterprise_value": 2000, "ebitda": 200},
        {"name": "B", "currency": "USD", "enterprise_value": 3300, "ebitda": 300},
    ],
    "target": {"currency": "USD", "ebitda": 250, "net_debt": 200, "diluted_shares": 100},
}


def ok(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def seed(api: httpx.Client) -> dict[str, str]:
    """The demo portfolio when there is one, then records these tests know by name."""
    demo = api.post("/corporate/demo")
    t = ok(
        api.post(
            "/corporate/targets",
            json={
                "name": "Zephyr Quantum UI",
                "category": "quantum",
                "currency": "USD",
                "asking_value": "2500",
            },
        )
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
        )
    )
    ok(api.post(f"{base}/valuations", json={"kind": "comps", "inputs": COMPS}))
    ok(api.post(f"{base}/valuations", json={"kind": "dcf", "inputs": DCF}))
    ok(
        api.post(
            f"{base}/diligence/findings",
            json={
                "workstream": "legal",
                "title": "Founder owns a patent",
                "severity": 5,
                "likelihood": 4,
            },
        )
    )
    close = date.today() - timedelta(days=200)
    programme = ok(
        api.post(
            "/corporate/programmes",
            json={
                "target_id": "tgt-ui",
                "target_name": "Zephyr Borealis UI",
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
        )
    )
    line = ok(api.get(f"/corporate/programmes/{programme['id']}/synergies"), 200)["lines"][0]
    ok(
        api.post(
            f"/corporate/programmes/{programme['id']}/synergies/actuals",
            json={"line_id": line["id"], "period": 1, "amount": "30000", "currency": "EUR"},
        )
    )
    partner = ok(
        api.post(
            "/corporate/partners",
            json={
                "name": "Zephyr Cloud UI",
                "type": "cloud",
                "region": "EMEA",
                "status": "active",
                "currency": "USD",
                "certified_engineers": 3,
                "csat": 4.2,
            },
        )
    )
    ok(
        api.post(
            "/corporate/deal-registrations",
            json={
                "partner": partner["id"],
                "customer_name": "Globex UI",
                "product": "NovaCron",
                "amount": "50000",
                "currency": "USD",
            },
        )
    )
    ok(
        api.post(
            "/corporate/ecosystem/government",
            json={
                "agency": "Zephyr Agency UI",
                "jurisdiction": "US",
                "certifications": [
                    {
                        "name": "FedRAMP UI",
                        "status": "authorized",
                        "authorized_on": str(date.today() - timedelta(days=300)),
                        "expires_on": str(date.today() + timedelta(days=30)),
                    }
                ],
            },
        )
    )
    return {
        "target": t["id"],
        "programme": programme["id"],
        "partner": partner["id"],
        "demo": str(demo.status_code),
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    data_dir = tmp_path_factory.mktemp("corporate-ui")
    settings = Settings(data_dir=data_dir, port=free_port(), enrolment_token=None)
    thread = ServerThread(settings, workers=False).start()
    token = (data_dir / "admin-token").read_text().strip()
    api = httpx.Client(
        base_url=f"{thread.url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    try:
        ids = seed(api)
        yield SimpleNamespace(url=thread.url, token=token, ids=ids)
    finally:
        api.close()
        thread.stop()


@pytest.fixture
def tab(browser: Any, server: SimpleNamespace) -> Iterator[Tab]:
    t = Tab(browser, server)  # type: ignore[arg-type]  # needs only .url and .token
    console: list[str] = []
    t.page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    t.console = console  # type: ignore[attr-defined]
    t.sign_in()
    yield t
    assert t.errors == [], t.errors
    assert console == [], console  # CSP violations are console errors
    t.context.close()


def charts_drawn(tab: Tab, *names: str) -> None:
    from playwright.sync_api import expect

    for name in names:
        chart = tab.page.get_by_test_id(f"chart-{name}")
        expect(chart).to_have_attribute("data-rendered", "true")
        expect(chart.locator(".main-svg").first).to_be_visible()


def test_dashboard_draws_the_funnel_and_kpis(tab: Tab, server: SimpleNamespace) -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.goto(server.url + "/corporate")
    expect(page.locator("h1")).to_have_text("Corporate development")
    charts_drawn(tab, "funnel", "partnerships", "synergies-eur")
    funnel = page.get_by_test_id("chart-funnel")
    expect(funnel.locator("g.trace.bars g.point, .funnellayer g.point")).to_have_count(6)
    ticks = funnel.locator(".ytick text")
    expect(ticks).to_have_count(6)
    expect(ticks.filter(has_text=re.compile("^Due diligence$"))).to_have_count(1)
    kpi = page.get_by_test_id("kpi-synergy_realisation")
    expect(kpi.get_by_test_id("kpi-value")).to_have_text(re.compile(r"^\d+%$"))
    expect(page.get_by_test_id("funnel-row-screening")).to_be_visible()
    expect(page.get_by_test_id("recommendation").first).to_be_visible()
    expect(page.locator(".nav a.active")).to_have_text("Dashboard")


def test_readme_screenshot_of_the_demo_dashboard(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The README's picture: a fresh server with only the demo portfolio."""
    update = os.environ.get("NOVACRON_UPDATE_SCREENSHOT") == "1"
    from playwright.sync_api import expect

    data_dir = tmp_path_factory.mktemp("corporate-demo")
    settings = Settings(data_dir=data_dir, port=free_port(), enrolment_token=None)
    thread = ServerThread(settings, workers=False).start()
    token = (data_dir / "admin-token").read_text().strip()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        ok(httpx.post(f"{thread.url}/api/v1/corporate/demo", headers=headers, timeout=120))
        t = Tab(browser, SimpleNamespace(url=thread.url, token=token), (1440, 1300))  # type: ignore[arg-type]
        t.sign_in()
        t.page.goto(thread.url + "/corporate")
        for chart in t.page.locator("[data-figure]").all():
            expect(chart).to_have_attribute("data-rendered", "true")
        t.page.wait_for_timeout(500)  # let responsive charts settle
        shot = SCREENSHOT if update else data_dir / "corporate.png"
        t.page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000
        # The valuation panel of a target in negotiation: football field and heat map.
        t.page.goto(thread.url + "/corporate/targets/Sentinel%20Cyber")
        charts = t.page.locator("[data-figure]")
        expect(charts.first).to_be_visible()
        for chart in charts.all():
            expect(chart).to_have_attribute("data-rendered", "true")
        t.page.locator("#valuations").scroll_into_view_if_needed()
        t.page.evaluate("document.querySelector('#valuations').scrollIntoView()")
        t.page.wait_for_timeout(500)
        shot = VALUATION_SCREENSHOT if update else data_dir / "valuation.png"
        t.page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000
        assert t.errors == []
        t.context.close()
    finally:
        thread.stop()


def test_target_page_football_field_and_heat_maps(tab: Tab, server: SimpleNamespace) -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.goto(server.url + "/corporate/targets")
    row = page.get_by_test_id("target-row-Zephyr Quantum UI")
    expect(row.get_by_test_id("target-stage")).to_have_text("Screening")
    expect(row.get_by_test_id("target-score")).to_have_text("68.0")
    page.get_by_test_id("filter-stage").select_option("closed")  # autosubmits
    expect(page).to_have_url(re.compile(r"stage=closed"))
    expect(page.get_by_test_id("target-row-Zephyr Quantum UI")).to_have_count(0)

    page.goto(server.url + f"/corporate/targets/{server.ids['target']}")
    expect(page.get_by_test_id("target-name")).to_contain_text("Zephyr Quantum UI")
    expect(page.get_by_test_id("stage-step-screening")).to_have_attribute("data-state", "current")
    expect(page.get_by_test_id("score-total")).to_have_text("68.0")
    charts_drawn(tab, "football", "sensitivity", "risk")
    labels = page.get_by_test_id("chart-football").locator(".ytick text")
    expect(labels).to_have_count(2)
    expect(labels.filter(has_text="DCF v2")).to_have_count(1)
    expect(labels.filter(has_text="Trading comps v1 · EV/EBITDA")).to_have_count(1)
    # Every sensitivity cell is printed on the map: 5 WACC × 5 growth values.
    cells = page.get_by_test_id("chart-sensitivity").locator("g.heatmaplayer text")
    expect(cells).to_have_count(25)
    expect(cells.filter(has_text=re.compile(r"^25\.04$"))).to_have_count(1)  # base case
    risk = page.get_by_test_id("chart-risk").locator("g.heatmaplayer text")
    expect(risk).to_have_count(25)
    expect(page.get_by_test_id("export-v2")).to_have_attribute(
        "href", f"/api/v1/corporate/targets/{server.ids['target']}/valuations/2/export.xlsx"
    )


def test_programme_partner_and_ecosystem_pages(tab: Tab, server: SimpleNamespace) -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.goto(server.url + f"/corporate/programmes/{server.ids['programme']}")
    expect(page.get_by_test_id("programme-name")).to_contain_text("Zephyr Borealis UI")
    charts_drawn(tab, "realisation", "timeline")
    expect(page.get_by_test_id("chart-realisation").locator("g.trace.scatter")).to_have_count(2)
    expect(page.locator('[data-testid^="ws-row-"]')).to_have_count(9)
    expect(page.get_by_test_id("phases-table").locator("tbody tr")).to_have_count(4)

    page.goto(server.url + f"/corporate/partners/{server.ids['partner']}")
    expect(page.get_by_test_id("partner-tier")).to_have_text("Bronze")
    expect(page.get_by_test_id("tier-summary")).to_contain_text("Next: Silver.")
    expect(page.get_by_test_id("registrations-table")).to_contain_text("Globex UI")
    expect(page.get_by_test_id("health-score")).to_have_text(re.compile(r"^\d+$"))

    page.goto(server.url + "/corporate/ecosystem")
    expect(page.get_by_test_id("cert-FedRAMP UI")).to_contain_text("Expiring")
    expect(page.get_by_test_id("cert-alerts")).to_contain_text("FedRAMP UI")
