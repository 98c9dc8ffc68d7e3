"""The M&A service layer on a migrated database (SQLite and PostgreSQL), no HTTP."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from novacron.core.database import Database
from novacron.core.errors import Conflict, Invalid, InvalidState, NotFound
from novacron.core.pagination import PageParams
from novacron.corporate.finance.money import CurrencyMismatch
from novacron.corporate.ma.models import DiligenceRequest, StageChange, Target
from novacron.corporate.ma.schemas import (
    SynergyLineIn,
    SynergyPlanIn,
    TargetCreate,
    TargetUpdate,
    ValuationCreate,
)
from novacron.corporate.ma.schemas_diligence import (
    FindingCreate,
    FindingUpdate,
    RequestCreate,
    RequestUpdate,
)
from novacron.corporate.ma.service import (
    create_target,
    delete_target,
    diligence,
    list_targets,
    synergies,
    to_out,
    update_target,
    valuations,
    workflow,
)
from novacron.security.models import DEFAULT_PROJECT_ID


def make(db: Database, name: str = "Acme Storage", **fields: object) -> str:
    data = TargetCreate.model_validate({"name": name, "category": "storage", **fields})
    with db.session() as s:
        return create_target(s, data, "alice", project_id=DEFAULT_PROJECT_ID).id


def test_targets_create_list_filter_update_and_probability(db: Database) -> None:
    acme = make(db, asking_value="250000000", currency="EUR")
    make(db, "Quantix", category="quantum")
    make(db, "NetCo 100%_", category="custom", custom_category="edge networking", owner="bob")
    with db.read() as s:
        items, total = list_targets(s, PageParams(limit=2), project_id=DEFAULT_PROJECT_ID)
        assert total == 3 and [t.name for t in items] == ["Acme Storage", "NetCo 100%_"]
        assert [
            t.name
            for t in list_targets(s, PageParams(), name="%_", project_id=DEFAULT_PROJECT_ID)[0]
        ] == ["NetCo 100%_"]
        assert [
            t.name
            for t in list_targets(s, PageParams(), name="qUaN", project_id=DEFAULT_PROJECT_ID)[0]
        ] == ["Quantix"]
        assert [
            t.name
            for t in list_targets(s, PageParams(), owner="bob", project_id=DEFAULT_PROJECT_ID)[0]
        ] == ["NetCo 100%_"]
        assert (
            list_targets(s, PageParams(), category="quantum", project_id=DEFAULT_PROJECT_ID)[1] == 1
        )
        assert (
            list_targets(s, PageParams(), stage="negotiation", project_id=DEFAULT_PROJECT_ID)[1]
            == 0
        )
        out = to_out(s.get(Target, acme))  # type: ignore[arg-type]
    assert out.owner == "alice" and out.stage == "screening" and out.currency == "EUR"
    assert out.probability == 10 and out.probability_is_default
    assert out.weighted_value == Decimal("25000000")
    with db.session() as s:
        updated = to_out(
            update_target(
                s, "Acme Storage", TargetUpdate(probability=35), project_id=DEFAULT_PROJECT_ID
            )
        )
    assert updated.probability == 35 and not updated.probability_is_default
    assert updated.weighted_value == Decimal("87500000")
    with db.session() as s, pytest.raises(Conflict) as err:
        create_target(
            s,
            TargetCreate(name="acme storage", category="security"),
            "x",
            project_id=DEFAULT_PROJECT_ID,
        )
    assert err.value.errors[0]["loc"] == ["name"]


def test_custom_category_rules_name_the_field(db: Database) -> None:
    with db.session() as s, pytest.raises(Invalid) as err:
        create_target(
            s, TargetCreate(name="X", category="custom"), "a", project_id=DEFAULT_PROJECT_ID
        )
    assert err.value.errors[0]["loc"] == ["custom_category"]
    with db.session() as s, pytest.raises(Invalid) as err:
        create_target(
            s,
            TargetCreate(name="X", category="storage", custom_category="y"),
            "a",
            project_id=DEFAULT_PROJECT_ID,
        )
    assert err.value.errors[0]["loc"] == ["custom_category"]
    make(db, "Y", category="custom", custom_category="robotics")
    with db.session() as s:
        moved = update_target(
            s, "Y", TargetUpdate(category="security"), project_id=DEFAULT_PROJECT_ID
        )
        assert (moved.category, moved.custom_category) == ("security", None)
        with pytest.raises(Invalid) as err:
            update_target(
                s, "Y", TargetUpdate.model_validate({"owner": None}), project_id=DEFAULT_PROJECT_ID
            )
        assert err.value.errors[0]["loc"] == ["owner"]


def test_drop_reopen_delete_and_history(db: Database) -> None:
    make(db)
    with db.session() as s:
        dropped = workflow.drop(
            s, "Acme Storage", "bob", "price too high", project_id=DEFAULT_PROJECT_ID
        )
        assert (dropped.stage, dropped.dropped_from) == ("dropped", "screening")
        with pytest.raises(InvalidState, match="cannot drop"):
            workflow.drop(s, "Acme Storage", "bob", "again", project_id=DEFAULT_PROJECT_ID)
    with db.session() as s:
        back = workflow.reopen(s, "Acme Storage", "carol", project_id=DEFAULT_PROJECT_ID)
        assert back.stage == "screening" and back.dropped_from is None
    with db.read() as s:
        history = list(s.scalars(workflow.history_query(back.id)))
    assert [(h.from_stage, h.to_stage, h.by) for h in history] == [
        (None, "screening", "alice"),
        ("screening", "dropped", "bob"),
        ("dropped", "screening", "carol"),
    ]
    assert history[1].reason == "price too high"
    with db.session() as s:
        diligence.add_request(
            s,
            "Acme Storage",
            RequestCreate(workstream="legal", title="Cap table"),
            "a",
            project_id=DEFAULT_PROJECT_ID,
        )
        delete_target(s, "Acme Storage", project_id=DEFAULT_PROJECT_ID)
    with db.read() as s:
        assert s.query(StageChange).count() == 0
        assert s.query(DiligenceRequest).count() == 0
        with pytest.raises(NotFound):
            workflow.gate(s, "Acme Storage", project_id=DEFAULT_PROJECT_ID)


def test_later_stages_cannot_be_deleted(db: Database) -> None:
    tid = make(db)
    with db.session() as s:
        s.get(Target, tid).stage = "due_diligence"  # type: ignore[union-attr]
    with db.session() as s, pytest.raises(InvalidState, match="drop it instead"):
        delete_target(s, tid, project_id=DEFAULT_PROJECT_ID)


def test_diligence_requests_findings_and_summary(db: Database) -> None:
    make(db)
    past = date.today() - timedelta(days=3)
    with db.session() as s:
        first = diligence.add_request(
            s,
            "Acme Storage",
            RequestCreate(workstream="financial", title="Audited accounts", due_on=past),
            "a",
            project_id=DEFAULT_PROJECT_ID,
        )
        diligence.add_request(
            s,
            "Acme Storage",
            RequestCreate(workstream="financial", title="Budget"),
            "a",
            project_id=DEFAULT_PROJECT_ID,
        )
        finding = diligence.add_finding(
            s,
            "Acme Storage",
            FindingCreate(
                workstream="legal", title="Patent suit", severity=5, likelihood=4, deal_breaker=True
            ),
            "a",
            project_id=DEFAULT_PROJECT_ID,
        )
        workstreams = diligence.ensure_workstreams(s, first.target_id)
    assert [w.workstream for w in workstreams][:2] == ["financial", "legal"]
    assert diligence.request_out(first).overdue
    with db.read() as s:
        summary = diligence.summary(s, "Acme Storage", project_id=DEFAULT_PROJECT_ID)
        assert workflow.gate_facts(s, s.get(Target, first.target_id)).open_deal_breakers == (  # type: ignore[arg-type]
            "Patent suit",
        )
    fin = summary["workstreams"][0]
    assert (fin["total"], fin["overdue"], fin["percent_complete"]) == (2, 1, 0.0)
    assert summary["workstreams"][1]["top_risks"][0]["rating"] == "critical"
    assert summary["heat_map"]["counts"][0][3] == 1
    assert summary["open_deal_breakers"] == 1
    with db.session() as s:
        done = diligence.update_request(
            s,
            "Acme Storage",
            first.id,
            RequestUpdate(status="closed"),
            project_id=DEFAULT_PROJECT_ID,
        )
        assert not diligence.request_out(done).overdue
        out = diligence.finding_out(
            diligence.update_finding(
                s,
                "Acme Storage",
                finding.id,
                FindingUpdate(status="mitigated", likelihood=1),
                project_id=DEFAULT_PROJECT_ID,
            )
        )
        assert (out.score, out.rating, out.status) == (5, "medium", "mitigated")
        with pytest.raises(NotFound):
            diligence.update_request(
                s,
                "Acme Storage",
                "ddr-nope",
                RequestUpdate(status="closed"),
                project_id=DEFAULT_PROJECT_ID,
            )
    with db.read() as s:
        assert (
            diligence.summary(s, "Acme Storage", project_id=DEFAULT_PROJECT_ID)["workstreams"][0][
                "percent_complete"
            ]
            == 50.0
        )


def test_valuation_versions_approve_one_and_diff(db: Database) -> None:
    make(db)
    npv = {"rate": 0.1, "cashflows": [-100, 60, 60], "timing": "t0"}
    with db.session() as s:
        v1 = valuations.add_valuation(
            s,
            "Acme Storage",
            ValuationCreate(kind="npv", inputs=npv),
            "a",
            project_id=DEFAULT_PROJECT_ID,
        )
        v2 = valuations.add_valuation(
            s,
            "Acme Storage",
            ValuationCreate(kind="npv", inputs={**npv, "rate": 0.12}, note="higher WACC"),
            "b",
            project_id=DEFAULT_PROJECT_ID,
        )
    assert (v1.version, v2.version) == (1, 2)
    assert v1.result["npv"] == pytest.approx(4.1322314, rel=1e-6)
    with db.session() as s:
        valuations.approve(s, "Acme Storage", 1, "cfo", project_id=DEFAULT_PROJECT_ID)
        valuations.approve(s, "Acme Storage", 2, "cfo", project_id=DEFAULT_PROJECT_ID)
    with db.read() as s:
        rows = list(s.scalars(valuations.valuations_query(v1.target_id)))
        assert [(r.version, r.approved, r.approved_by) for r in rows] == [
            (2, True, "cfo"),
            (1, False, None),
        ]
        changes = valuations.diff(s, "Acme Storage", 1, 2, project_id=DEFAULT_PROJECT_ID)["changes"]
        assert changes == [{"key": "rate", "change": "changed", "from": 0.1, "to": 0.12}]
    with db.session() as s, pytest.raises(Invalid) as err:
        valuations.add_valuation(
            s,
            "Acme Storage",
            ValuationCreate(kind="npv", inputs={**npv, "rate": "x"}),
            "a",
            project_id=DEFAULT_PROJECT_ID,
        )
    assert err.value.errors[0]["loc"] == ["inputs", "rate"]
    with db.session() as s, pytest.raises(Invalid) as err:
        valuations.add_valuation(
            s,
            "Acme Storage",
            ValuationCreate(kind="nope", inputs={}),
            "a",
            project_id=DEFAULT_PROJECT_ID,
        )
    assert err.value.errors[0]["loc"] == ["kind"]


def test_synergy_plan_totals_and_currency(db: Database) -> None:
    make(db, currency="GBP")
    line = SynergyLineIn.model_validate(
        {
            "category": "cost",
            "name": "Datacentre exit",
            "run_rate": "1200000.50",
            "phase_in": [0.5, 1],
        }
    )
    with db.session() as s:
        added = synergies.add_line(s, "Acme Storage", line, "a", project_id=DEFAULT_PROJECT_ID)
        assert added.currency == "GBP"
        plan = synergies.plan_out(s, "Acme Storage", project_id=DEFAULT_PROJECT_ID)
    assert plan.totals.run_rate.cost == Decimal("1200000.50")
    assert plan.totals.by_year[0].total == Decimal("600000.25")
    with db.session() as s, pytest.raises(CurrencyMismatch) as err:
        synergies.replace_plan(
            s,
            "Acme Storage",
            SynergyPlanIn(lines=[line, line.model_copy(update={"currency": "USD"})]),
            "a",
            project_id=DEFAULT_PROJECT_ID,
        )
    assert err.value.errors[0]["loc"] == ["lines", 1, "currency"]
    with db.session() as s, pytest.raises(Conflict) as conflict:
        update_target(
            s, "Acme Storage", TargetUpdate(currency="USD"), project_id=DEFAULT_PROJECT_ID
        )
    assert conflict.value.errors[0]["loc"] == ["currency"]
    with db.read() as s:  # the refused replacement left the plan as it was
        assert [
            x.name
            for x in synergies.plan_out(s, "Acme Storage", project_id=DEFAULT_PROJECT_ID).lines
        ] == ["Datacentre exit"]
