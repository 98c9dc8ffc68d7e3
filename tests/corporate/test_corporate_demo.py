"""The demo portfolio loads on an empty database through the services, the dashboard then
has every section populated, and loading it again changes nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from novacron.core.clock import utcnow
from novacron.core.database import Database
from novacron.corporate.demo import data, load
from novacron.corporate.integration.service.summary import summary as programme_summary
from novacron.corporate.ma.service import targets as ma_targets
from novacron.corporate.strategy.service import dashboard
from novacron.security.models import DEFAULT_PROJECT_ID
from novacron.testing.corporate import CorporateServer


def by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows}


def test_demo_loads_and_fills_every_dashboard_section(db: Database) -> None:
    today = utcnow().date()
    with db.session() as s:
        first = load(s, "demo-admin", today, project_id=DEFAULT_PROJECT_ID)
    assert first.created["targets"] == len(data.TARGETS) == 8
    assert first.created["partners"] == len(data.PARTNERS) == 10
    assert first.created["government"] == 2 and first.created["licenses"] == 2
    assert first.skipped == {}
    with db.session() as s:
        again = load(s, "demo-admin", today, project_id=DEFAULT_PROJECT_ID)
    assert again.created == {}
    assert again.skipped["targets"] == 8 and again.skipped["partners"] == 10
    assert again.message == "the demo portfolio is already loaded: nothing to do"
    assert ma_targets.utcnow is utcnow  # the back-dating clock is put back

    with db.session() as s:
        dash = dashboard(s, today, project_id=DEFAULT_PROJECT_ID)
    stages = by(dash["pipelines"]["ma"]["by_stage"], "stage")
    assert {k: v["count"] for k, v in stages.items()} == {
        "screening": 2, "preliminary": 1, "due_diligence": 1, "negotiation": 1, "closed": 1,
        "integration": 1, "dropped": 1,
    }  # fmt: skip
    assert stages["preliminary"]["value"] == {"EUR": "38000000.00"}  # never added to USD
    assert stages["negotiation"]["weighted"] == {"USD": "98000000.00"}  # 140M × 70 %
    weighted = dash["pipelines"]["ma"]["weighted"]
    assert weighted["deals"] == 5 and set(weighted["weighted"]) == {"EUR", "USD"}
    conversion = by(dash["pipelines"]["ma"]["conversion"], "from_stage")
    assert (conversion["screening"]["reached"], conversion["screening"]["converted"]) == (8, 6)
    assert conversion["negotiation"]["rate_pct"] == 66.7
    days = by(dash["pipelines"]["ma"]["days_in_stage"], "stage")
    assert days["due_diligence"]["max_days"] >= 95  # back-dated history
    assert dash["pipelines"]["ma"]["days_to_close"] == {"deals": 2, "average": 255.0}

    partners = dash["pipelines"]["partnerships"]
    statuses = by(partners["by_status"], "status")
    assert statuses["won"]["count"] == 35 and statuses["lost"]["count"] == 5
    assert statuses["won"]["amount"]["EUR"] == "120000.00"
    assert partners["conflicts"] == 1 and partners["expiring_soon"] == 2
    assert partners["partners"]["by_tier"] == {"bronze": 7, "silver": 2, "gold": 1, "platinum": 0}
    assert partners["by_motion"]["influenced"]["won_count"] == 4

    usd = dash["value_creation"]["by_currency"]["USD"]
    assert usd["programmes"] == 2
    assert usd["by_category"]["cost"]["realisation_pct"] == 69.2
    assert usd["overall"]["realisation_pct"] == 78.2
    assert [p for p in usd["series"] if p["actual"] is not None]
    helios = next(p for p in dash["value_creation"]["programmes"] if p["name"].startswith("Helios"))
    assert helios["by_category"]["cost"]["realisation_pct"] == 62.0
    with db.read() as s:
        overall = programme_summary(
            s, helios["target_id"], today, project_id=DEFAULT_PROJECT_ID
        ).overall
    # Past milestones were hit, but the operations workstream's slipped with its synergies.
    assert overall.milestones_hit > overall.milestones_missed >= 1

    kpis = by(dash["kpis"], "id")
    assert kpis["synergy_realisation"]["status"] == "alert"
    assert kpis["certifications_expiring"]["status"] == "alert"
    assert kpis["win_rate"]["value"] == 87.5
    assert kpis["key_employee_retention"]["value"] == 90.0
    fired = {a["id"] for a in dash["alerts"]}
    assert {"synergy_realisation.alert", "certifications_expiring.alert"} <= fired

    recs = dash["recommendations"]
    rules = {r["rule"] for r in recs}
    assert {
        "synergy_shortfall", "registrations_expiring", "registration_conflict",
        "diligence_stalled", "tier_upgrade", "tier_near_miss", "certification_expiring",
    } <= rules  # fmt: skip
    assert len(recs) >= 3
    assert recs[0]["severity"] == "critical"
    text = [r["message"] for r in recs]
    assert (
        "Realisation on cost synergies is 62% of plan in Helios Storage integration: "
        "review the operations workstream"
    ) in text
    assert (
        "Cortex AI Labs has been in due diligence 95 days with 4 overdue requests: chase the "
        "request owners or reset the timetable"
    ) in text
    assert (
        "Ironbridge Systems is 2 certified engineers short of gold: fund their certification"
        in text
    )
    assert "Northwind Telco qualifies for silver: propose the upgrade (holds bronze)" in text
    assert (
        "FedRAMP Moderate certification for US General Services Administration expires in "
        "40 days: start the renewal"
    ) in text
    assert dash["ecosystem"]["counts"]["joint_ventures"] == 1


def test_an_empty_database_has_an_empty_but_complete_dashboard(db: Database) -> None:
    with db.session() as s:
        dash = dashboard(s, date(2026, 6, 30), project_id=DEFAULT_PROJECT_ID)
    assert dash["as_of"] == "2026-06-30"
    assert all(r["count"] == 0 for r in dash["pipelines"]["ma"]["by_stage"])
    assert dash["value_creation"] == {"by_currency": {}, "programmes": []}
    statuses = {k["id"]: k["status"] for k in dash["kpis"]}
    assert statuses["synergy_realisation"] == "no_data"
    assert statuses["certifications_expiring"] == "ok"
    assert dash["recommendations"] == []


def test_demo_over_http_and_cli(corp: CorporateServer) -> None:
    first = corp.api.post("/corporate/demo")
    assert first.status_code == 201, first.text
    assert first.json()["created"]["targets"] == 8
    again = corp.cli.json("corporate", "demo")
    assert again["created"] == {} and again["skipped"]["targets"] == 8
    shown = corp.cli("corporate", "demo").stdout
    assert shown.strip() == "the demo portfolio is already loaded: nothing to do"
    assert corp.api.post("/corporate/demo").status_code == 200
    listed = corp.api.get("/corporate/targets", params={"stage": "due_diligence"}).json()
    assert [t["name"] for t in listed["items"]] == ["Cortex AI Labs"]
