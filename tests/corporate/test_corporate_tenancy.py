"""Corporate records belong to a project, at the service level with a second project beside
the default one: names are unique per project, lists and roll-ups see one project, another
project's records (and their children) are NotFound — never Forbidden, so that their
existence is not revealed — references to them in a request body are Invalid naming the
field, and closing a deal opens its integration programme in the deal's project."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.core.clock import utcnow
from novacron.core.database import Database
from novacron.core.errors import Conflict, Invalid, NotFound
from novacron.core.pagination import PageParams
from novacron.corporate.demo import data as demo_data
from novacron.corporate.demo import load as load_demo
from novacron.corporate.ecosystem import jv_service, license_service, programme_service
from novacron.corporate.ecosystem import service as ecosystem
from novacron.corporate.ecosystem.schemas import (
    InvestmentIn,
    JVCreate,
    JVUpdate,
    LicenseCreate,
    SalesReportIn,
)
from novacron.corporate.ecosystem.schemas_programmes import (
    AcademicCreate,
    CertIn,
    GovCreate,
    LabCreate,
    LabUpdate,
    OutputIn,
    SpendIn,
)
from novacron.corporate.export.service import valuation_xlsx
from novacron.corporate.imports.service import PARTNERS, TARGETS, run_import
from novacron.corporate.integration.models import Programme
from novacron.corporate.integration.schemas import MilestoneUpdate, RiskIn, TaskUpdate
from novacron.corporate.integration.service import governance, summary, tasks, value
from novacron.corporate.integration.service import programmes as int_programmes
from novacron.corporate.integration.service.common import find_programme
from novacron.corporate.ma.schemas import (
    ScorecardCreate,
    TargetCreate,
    TargetUpdate,
    ValuationCreate,
)
from novacron.corporate.ma.schemas_diligence import RequestCreate, RequestUpdate
from novacron.corporate.ma.service import diligence, scorecards, synergies, valuations, workflow
from novacron.corporate.ma.service import targets as ma_targets
from novacron.corporate.ma.stages import WORKSTREAMS
from novacron.corporate.partners.schemas import PartnerCreate, PartnerUpdate, ProgrammeCreate
from novacron.corporate.partners.schemas_deals import (
    CloseIn,
    MDFApprove,
    MDFClaim,
    MDFRequestCreate,
    RegistrationCreate,
    ScheduleIn,
)
from novacron.corporate.partners.service import deals, mdf, rebate_runs
from novacron.corporate.partners.service import partners as partner_svc
from novacron.corporate.partners.service import programmes as partner_programmes
from novacron.corporate.partners.service.common import find_mdf, find_partner
from novacron.corporate.partners.service.common import find_programme as find_partner_programme
from novacron.corporate.strategy.service import dashboard
from novacron.corporate.web import views_ma
from novacron.security.models import DEFAULT_PROJECT_ID, Project
from novacron.testing.corporate import SAMPLE_DCF

A = DEFAULT_PROJECT_ID
B = "proj-tenant-b"
C = "proj-tenant-c"
ALL = PageParams(limit=500)


@pytest.fixture
def db2(db: Database) -> Database:
    """The migrated database with two more projects beside the default one."""
    with db.session() as s:
        s.add_all([Project(id=B, name="tenant-b"), Project(id=C, name="tenant-c")])
    return db


# -- a small portfolio, built through the services --------------------------------------------


@dataclass
class Portfolio:
    target: str
    dd_request: str
    programme: str
    task: str
    milestone: str
    partner: str
    partner_programme: str
    registration: str
    mdf: str
    jv: str
    licence: str
    lab: str
    academic: str
    government: str


def close_deal(s: Session, project: str, name: str, today: date) -> tuple[str, str]:
    """A target walked through every gate to closed: its id and a diligence request's."""
    p = project
    target = ma_targets.create_target(
        s, TargetCreate(name=name, category="storage"), "alice", project_id=p
    )
    card = {"criteria": [{"name": "fit", "weight": 1, "score": 9}]}
    scorecards.add_scorecard(
        s, target.id, ScorecardCreate.model_validate(card), "alice", project_id=p
    )
    workflow.advance(s, target.id, "alice", project_id=p)
    valuation = ValuationCreate(kind="dcf", inputs=SAMPLE_DCF)
    valuations.add_valuation(s, target.id, valuation, "alice", project_id=p)
    nda = TargetUpdate(nda_signed=True, nda_owner="legal")
    ma_targets.update_target(s, target.id, nda, project_id=p)
    workflow.advance(s, target.id, "alice", project_id=p)
    request_ids = [
        diligence.add_request(
            s,
            target.id,
            RequestCreate(workstream=ws, title=f"{ws} pack", status="closed"),
            "alice",
            project_id=p,
        ).id
        for ws in WORKSTREAMS
    ]
    workflow.advance(s, target.id, "alice", project_id=p)
    valuations.approve(s, target.id, 1, "alice", project_id=p)
    dates = TargetUpdate(signed_on=today - timedelta(days=20), closed_on=today - timedelta(days=10))
    ma_targets.update_target(s, target.id, dates, project_id=p)
    closed = workflow.advance(s, target.id, "alice", project_id=p)
    assert closed.stage == "closed" and closed.integration_programme_id
    return target.id, request_ids[0]


def seed(db: Database, project: str) -> Portfolio:
    """One record of every top-level kind (and a few children), the same names in every
    project it is called for."""
    p, today = project, utcnow().date()
    with db.session() as s:
        target, dd_request = close_deal(s, p, "Acme Storage", today)
        programme = ma_targets.find_target(s, target, project_id=p).integration_programme_id
        assert programme is not None
        graph_task = tasks.list_tasks(
            s, programme, PageParams(limit=1), tasks.TaskFilter(), today, project_id=p
        )[0][0]
        milestone = tasks.list_milestones(s, programme, PageParams(limit=1), today, project_id=p)
        partner = partner_svc.create_partner(
            s,
            PartnerCreate(name="Globex", type="cloud", currency="USD", status="active"),
            "alice",
            project_id=p,
        )
        fund = ProgrammeCreate(
            name="Co-Sell Fund",
            kind="marketing",
            start_on=today - timedelta(days=30),
            mdf_budget=Decimal(100_000),
            budget_currency="USD",
        )
        prog = partner_programmes.create_programme(s, fund, "alice", project_id=p)
        partner_programmes.enrol(s, prog.name, partner.name, "alice", project_id=p)
        reg = deals.register(
            s,
            RegistrationCreate(
                partner="Globex",
                customer_name="Initech",
                product="NovaCron",
                amount=Decimal(50_000),
                currency="USD",
            ),
            "alice",
            project_id=p,
        )
        request = mdf.request(
            s,
            MDFRequestCreate(
                partner="Globex",
                programme="Co-Sell Fund",
                activity="Launch event",
                amount=Decimal(5000),
                currency="USD",
                planned_start=today,
                planned_end=today + timedelta(days=30),
            ),
            "alice",
            project_id=p,
        )
        gold = ScheduleIn.model_validate(demo_data.GOLD_REBATES)
        rebate_runs.set_schedule(s, "gold", gold, "alice", project_id=p)
        parties = [
            {"name": "NovaCron", "equity_pct": "60", "is_us": True},
            {"name": "Orbit", "equity_pct": "40"},
        ]
        jv = jv_service.create_jv(
            s,
            JVCreate.model_validate({"name": "Orbit JV", "currency": "USD", "parties": parties}),
            "alice",
            project_id=p,
        )
        licence = license_service.create_license(
            s,
            LicenseCreate.model_validate(
                {
                    "name": "Patents out",
                    "direction": "out",
                    "licensor": "NovaCron",
                    "licensee": "Acme",
                    "term_start": "2026-01-01",
                    "term_end": "2028-12-31",
                    "currency": "USD",
                    "royalty_tiers": [{"from_sales": "0", "rate_pct": "5"}],
                }
            ),
            "alice",
            project_id=p,
        )
        lab_in = LabCreate.model_validate(
            {"name": "Edge lab", "partners": ["Orbit"], "budget": "100000", "currency": "USD"}
        )
        lab = programme_service.create_lab(s, lab_in, "alice", project_id=p)
        academic = programme_service.create_academic(
            s,
            AcademicCreate.model_validate(
                {
                    "institution": "MIT",
                    "programme_type": "research_grant",
                    "start_on": "2026-01-01",
                    "funding": "250000",
                    "currency": "USD",
                }
            ),
            "alice",
            today,
            project_id=p,
        )
        gov = programme_service.create_government(
            s, GovCreate(agency="GSA", jurisdiction="US"), "alice", today, project_id=p
        )
        return Portfolio(
            target=target,
            dd_request=dd_request,
            programme=programme,
            task=graph_task.id,
            milestone=milestone[0][0].id,
            partner=partner.id,
            partner_programme=prog.id,
            registration=reg.id,
            mdf=request.id,
            jv=jv.id,
            licence=licence.id,
            lab=lab.id,
            academic=academic.id,
            government=gov.id,
        )


# -- names --------------------------------------------------------------------------------------


def test_names_are_unique_per_project_and_children_go_with_their_parent(db2: Database) -> None:
    a, b = seed(db2, A), seed(db2, B)  # every name again, in another project
    assert a.target != b.target and a.partner != b.partner and a.jv != b.jv
    assert a.programme != b.programme
    duplicates: list[Callable[[Session], object]] = [
        lambda s: ma_targets.create_target(
            s, TargetCreate(name="acme STORAGE", category="storage"), "x", project_id=B
        ),
        lambda s: partner_svc.create_partner(
            s, PartnerCreate(name="globex", type="cloud", currency="USD"), "x", project_id=B
        ),
        lambda s: partner_programmes.create_programme(
            s,
            ProgrammeCreate(name="Co-Sell Fund", kind="co_sell", start_on=date(2026, 1, 1)),
            "x",
            project_id=B,
        ),
        lambda s: programme_service.create_lab(
            s,
            LabCreate.model_validate(
                {"name": "Edge lab", "partners": ["X"], "budget": "1", "currency": "USD"}
            ),
            "x",
            project_id=B,
        ),
    ]
    for create in duplicates:
        with pytest.raises(Conflict) as err, db2.session() as s:
            create(s)
        assert err.value.errors[0]["loc"] == ["name"]
    with db2.read() as s:
        # By name, each project finds its own record.
        assert ma_targets.find_target(s, "Acme Storage", project_id=A).id == a.target
        assert ma_targets.find_target(s, "Acme Storage", project_id=B).id == b.target
        assert find_partner(s, "Globex", project_id=B).id == b.partner
        assert jv_service.find_jv(s, "Orbit JV", project_id=A).id == a.jv
        assert license_service.find_license(s, "Patents out", project_id=B).id == b.licence
        # The same customer and product in two projects is no conflict between them.
        for reg_id, project in ((a.registration, A), (b.registration, B)):
            reg = deals.get_registration(s, reg_id, project_id=project)
            assert not reg.conflict and reg.conflict_with == []
        # Rebate schedules are per project too.
        schedules = {x["tier"]: x["custom"] for x in rebate_runs.schedules(s, project_id=C)}
        assert schedules == {"bronze": False, "silver": False, "gold": False, "platinum": False}
        assert {x["tier"]: x["custom"] for x in rebate_runs.schedules(s, project_id=B)}["gold"]

    # A child is reached through its own parent only: B's target and programme don't
    # open A's diligence request, task or milestone.
    today = utcnow().date()
    with pytest.raises(NotFound), db2.session() as s:
        diligence.update_request(
            s, b.target, a.dd_request, RequestUpdate(status="open"), project_id=B
        )
    with pytest.raises(NotFound), db2.session() as s:
        tasks.get_task(s, b.programme, a.task, today, project_id=B)
    with pytest.raises(NotFound), db2.session() as s:
        tasks.update_milestone(
            s, b.programme, a.milestone, MilestoneUpdate(status="hit"), today, project_id=B
        )

    # A CSV import checks names in its own project.
    with db2.session() as s:
        targets = run_import(
            s, TARGETS, b"name,category\nAcme Storage,storage\n", "x", project_id=C
        )
        partners = run_import(
            s, PARTNERS, b"name,type,currency\nGlobex,cloud,USD\n", "x", project_id=C
        )
    assert (targets.created, targets.errors) == (1, [])
    assert (partners.created, partners.errors) == (1, [])
    with db2.session() as s:
        again = run_import(s, TARGETS, b"name,category\nAcme Storage,storage\n", "x", project_id=A)
    assert again.created == 0 and again.errors[0].field == "name"


# -- lists, roll-ups and dashboards -------------------------------------------------------------


def totals(s: Session, project: str) -> dict[str, int]:
    """How many records of each kind the project's lists hold."""
    today = utcnow().date()
    p = project
    return {
        "targets": ma_targets.list_targets(s, ALL, project_id=p)[1],
        "programmes": int_programmes.list_programmes(s, ALL, project_id=p)[1],
        "partners": partner_svc.list_partners(s, ALL, project_id=p)[1],
        "partner_programmes": partner_programmes.list_programmes(s, ALL, project_id=p)[1],
        "registrations": deals.list_registrations(s, ALL, project_id=p)[1],
        "mdf": mdf.list_requests(s, ALL, project_id=p)[1],
        "ledger": len(mdf.ledger(s, project_id=p)["entries"]),
        "jvs": jv_service.list_jvs(s, ALL, project_id=p)[1],
        "licences": license_service.list_licenses(s, ALL, project_id=p)[1],
        "labs": programme_service.list_labs(s, ALL, project_id=p)[1],
        "academic": programme_service.list_academic(s, ALL, today, project_id=p)[1],
        "government": programme_service.list_government(s, ALL, today, project_id=p)[1],
    }


def test_lists_and_dashboards_see_one_project(db2: Database) -> None:
    a = seed(db2, A)
    with db2.session() as s:
        request = mdf.approve(s, a.mdf, MDFApprove(), "alice", project_id=A)  # a ledger entry
    assert request.state == "approved"
    today = utcnow().date()
    with db2.session() as s:
        assert set(totals(s, A).values()) == {1}
        assert set(totals(s, B).values()) == {0}
        a_dash = dashboard(s, today, project_id=A)
        b_dash = dashboard(s, today, project_id=B)
        a_eco = ecosystem.summary(s, today, project_id=A)
        b_eco = ecosystem.summary(s, today, project_id=B)
        b_page = views_ma.targets_context(
            s, project_id=B, stage=None, category=None, name=None, offset=0
        )
    stages = {r["stage"]: r["count"] for r in a_dash["pipelines"]["ma"]["by_stage"]}
    assert stages["closed"] == 1 and sum(stages.values()) == 1
    assert sum(r["count"] for r in b_dash["pipelines"]["ma"]["by_stage"]) == 0
    assert a_dash["pipelines"]["partnerships"]["partners"]["total"] == 1
    assert b_dash["pipelines"]["partnerships"]["partners"]["total"] == 0
    assert [p["id"] for p in a_dash["value_creation"]["programmes"]] == [a.programme]
    assert b_dash["value_creation"]["programmes"] == []
    assert a_dash["ecosystem"]["counts"]["joint_ventures"] == 1
    assert set(b_dash["ecosystem"]["counts"].values()) == {0}
    assert a_eco["counts"]["government"] == 1 and set(b_eco["counts"].values()) == {0}
    assert b_page["total"] == 0 and b_page["targets"] == []

    b = seed(db2, B)
    with db2.session() as s:
        assert totals(s, B)["ledger"] == 0  # A's approval booked to A's ledger only
        assert [t.id for t in ma_targets.list_targets(s, ALL, project_id=A)[0]] == [a.target]
        assert [t.id for t in ma_targets.list_targets(s, ALL, project_id=B)[0]] == [b.target]
        b_regs = deals.list_registrations(s, ALL, project_id=B)[0]
        assert [r.id for r in b_regs] == [b.registration]
        # A sweep of one project leaves the other's registrations alone.
        later = utcnow() + timedelta(days=365)
        assert deals.expire_registrations(s, later, project_id=B) == [b.registration]
        assert deals.get_registration(s, a.registration, project_id=A).status == "pending"


def test_the_demo_loads_into_one_project_and_closes_deals_there(db2: Database) -> None:
    """The demo skips what exists by name in the project it loads into only; its closed
    deals open their integration programmes in that project."""
    first, partner = demo_data.TARGETS[0].name, demo_data.PARTNERS[0].name
    with db2.session() as s:
        ma_targets.create_target(s, TargetCreate(name=first, category="storage"), "x", project_id=A)
        partner_svc.create_partner(
            s, PartnerCreate(name=partner, type="cloud", currency="USD"), "x", project_id=A
        )
    today = utcnow().date()
    with db2.session() as s:
        result = load_demo(s, "demo", today, project_id=B)
    assert result.skipped == {}
    assert result.created["targets"] == len(demo_data.TARGETS)
    assert result.created["partners"] == len(demo_data.PARTNERS)
    with db2.read() as s:
        b_targets = {t.id: t for t in ma_targets.list_targets(s, ALL, project_id=B)[0]}
        closed = [t for t in b_targets.values() if t.integration_programme_id]
        assert len(closed) == 2
        rows = list(s.scalars(select(Programme)))
        assert {(r.project_id, r.target_id) for r in rows} == {(B, t.id) for t in closed}
        for t in closed:
            assert find_programme(s, t.id, project_id=B).id == t.integration_programme_id
            with pytest.raises(NotFound):
                find_programme(s, t.id, project_id=A)
        assert totals(s, A)["targets"] == 1 and totals(s, A)["programmes"] == 0


def test_closing_a_deal_opens_its_programme_in_the_deal_project(db2: Database) -> None:
    with db2.session() as s:
        target_id, _ = close_deal(s, B, "Beta Systems", utcnow().date())
    with db2.read() as s:
        target = ma_targets.find_target(s, target_id, project_id=B)
        programme = s.get(Programme, target.integration_programme_id)
        assert programme is not None and programme.project_id == B
        assert programme.target_id == target_id
        assert int_programmes.list_programmes(s, ALL, project_id=A)[1] == 0
        with pytest.raises(NotFound):
            int_programmes.detail(s, programme.id, project_id=A)
    # A programme generated by hand in another project for that target id is that
    # project's own (nothing says another project has one).
    with db2.session() as s:
        other = int_programmes.generate_programme(
            s,
            target_id=target_id,
            target_name="Beta Systems",
            close_date=date(2026, 1, 31),
            synergy_plan=[],
            created_by="x",
            project_id=C,
        )
        assert other.project_id == C
    with db2.read() as s:
        assert find_programme(s, target_id, project_id=B).id == target.integration_programme_id
        assert find_programme(s, target_id, project_id=C).id == other.id


# -- another project's records ------------------------------------------------------------------


def foreign_calls(a: Portfolio) -> dict[str, Callable[[Session], object]]:
    """Every way project B could reach project A's records (and their children)."""
    today = utcnow().date()
    p = B
    return {
        # M&A
        "find target by id": lambda s: ma_targets.find_target(s, a.target, project_id=p),
        "find target by name": lambda s: ma_targets.find_target(s, "Acme Storage", project_id=p),
        "update target": lambda s: ma_targets.update_target(
            s, a.target, TargetUpdate(owner="mallory"), project_id=p
        ),
        "delete target": lambda s: ma_targets.delete_target(s, a.target, project_id=p),
        "gate": lambda s: workflow.gate(s, a.target, project_id=p),
        "advance": lambda s: workflow.advance(s, a.target, "mallory", project_id=p),
        "drop": lambda s: workflow.drop(s, a.target, "mallory", "mine now", project_id=p),
        "reopen": lambda s: workflow.reopen(s, a.target, "mallory", project_id=p),
        "add dd request": lambda s: diligence.add_request(
            s, a.target, RequestCreate(workstream="legal", title="x"), "m", project_id=p
        ),
        "update dd request": lambda s: diligence.update_request(
            s, a.target, a.dd_request, RequestUpdate(status="open"), project_id=p
        ),
        "diligence summary": lambda s: diligence.summary(s, a.target, project_id=p),
        "scorecard": lambda s: scorecards.get_scorecard(s, a.target, 1, project_id=p),
        "valuation": lambda s: valuations.get_valuation(s, a.target, 1, project_id=p),
        "approve valuation": lambda s: valuations.approve(s, a.target, 1, "m", project_id=p),
        "synergy plan": lambda s: synergies.plan_out(s, a.target, project_id=p),
        "export xlsx": lambda s: valuation_xlsx(s, a.target, 1, project_id=p),
        # integration
        "programme": lambda s: int_programmes.detail(s, a.programme, project_id=p),
        "programme by target": lambda s: find_programme(s, a.target, project_id=p),
        "summary": lambda s: summary.summary(s, a.programme, today, project_id=p),
        "tasks": lambda s: tasks.list_tasks(
            s, a.programme, ALL, tasks.TaskFilter(), today, project_id=p
        ),
        "task": lambda s: tasks.get_task(s, a.programme, a.task, today, project_id=p),
        "update task": lambda s: tasks.update_task(
            s, a.programme, a.task, TaskUpdate(percent_complete=50), today, project_id=p
        ),
        "update milestone": lambda s: tasks.update_milestone(
            s, a.programme, a.milestone, MilestoneUpdate(status="hit"), today, project_id=p
        ),
        "add risk": lambda s: governance.add_risk(
            s, a.programme, RiskIn(title="x", severity=1, likelihood=1, owner="m"), project_id=p
        ),
        "retention": lambda s: value.retention(s, a.programme, project_id=p),
        # partners
        "partner by id": lambda s: find_partner(s, a.partner, project_id=p),
        "partner by name": lambda s: find_partner(s, "Globex", project_id=p),
        "update partner": lambda s: partner_svc.update_partner(
            s, a.partner, PartnerUpdate(notes="mine"), project_id=p
        ),
        "tier history": lambda s: partner_svc.tier_history(s, a.partner, project_id=p),
        "health": lambda s: partner_svc.partner_health(s, a.partner, project_id=p),
        "performance": lambda s: partner_svc.partner_performance(
            s, a.partner, None, None, project_id=p
        ),
        "partner programme": lambda s: find_partner_programme(s, a.partner_programme, project_id=p),
        "enrolments": lambda s: partner_programmes.enrolments(s, a.partner_programme, project_id=p),
        "registration": lambda s: deals.get_registration(s, a.registration, project_id=p),
        "approve registration": lambda s: deals.approve(s, a.registration, "m", project_id=p),
        "reject registration": lambda s: deals.reject(s, a.registration, "", "m", project_id=p),
        "extend registration": lambda s: deals.extend(s, a.registration, 30, project_id=p),
        "close registration": lambda s: deals.close(
            s, a.registration, CloseIn(outcome="lost"), "m", project_id=p
        ),
        "registrations of A's partner": lambda s: deals.list_registrations(
            s, ALL, partner=a.partner, project_id=p
        ),
        "mdf": lambda s: find_mdf(s, a.mdf, project_id=p),
        "approve mdf": lambda s: mdf.approve(s, a.mdf, MDFApprove(), "m", project_id=p),
        "reject mdf": lambda s: mdf.reject(s, a.mdf, "no", project_id=p),
        "claim mdf": lambda s: mdf.claim(
            s,
            a.mdf,
            MDFClaim(claimed_amount=Decimal(1), currency="USD", proof="x.pdf", invoice_date=today),
            "m",
            project_id=p,
        ),
        "pay mdf": lambda s: mdf.pay(s, a.mdf, None, "m", project_id=p),
        "ledger of A's partner": lambda s: mdf.ledger(s, a.partner, project_id=p),
        # ecosystem
        "jv": lambda s: jv_service.get_jv(s, a.jv, project_id=p),
        "update jv": lambda s: jv_service.update_jv(
            s, a.jv, JVUpdate(status="dissolved"), project_id=p
        ),
        "delete jv": lambda s: jv_service.delete_jv(s, a.jv, project_id=p),
        "jv investment": lambda s: jv_service.add_investment(
            s,
            a.jv,
            InvestmentIn(party="Orbit", amount=Decimal(1), currency="USD", invested_on=today),
            project_id=p,
        ),
        "jv distributions": lambda s: jv_service.distributions(s, "Orbit JV", project_id=p),
        "licence": lambda s: license_service.get_license(s, a.licence, project_id=p),
        "delete licence": lambda s: license_service.delete_license(s, a.licence, project_id=p),
        "sales report": lambda s: license_service.add_sales_report(
            s,
            a.licence,
            SalesReportIn.model_validate(
                {
                    "period_start": "2026-01-01",
                    "period_end": "2026-03-31",
                    "currency": "USD",
                    "net_sales": "1",
                }
            ),
            "m",
            project_id=p,
        ),
        "licence schedule": lambda s: license_service.schedule(s, a.licence, project_id=p),
        "lab": lambda s: programme_service.find_lab(s, a.lab, project_id=p),
        "update lab": lambda s: programme_service.update_lab(
            s, a.lab, LabUpdate(focus_area="mine"), project_id=p
        ),
        "lab spend": lambda s: programme_service.add_spend(
            s, a.lab, SpendIn(amount=Decimal(1), currency="USD", spent_on=today), project_id=p
        ),
        "delete lab": lambda s: programme_service.delete_lab(s, "Edge lab", project_id=p),
        "academic": lambda s: programme_service.find_academic(s, a.academic, project_id=p),
        "academic output": lambda s: programme_service.add_output(
            s, a.academic, OutputIn(kind="publication", title="x"), project_id=p
        ),
        "delete academic": lambda s: programme_service.delete_academic(s, a.academic, project_id=p),
        "government": lambda s: programme_service.find_government(s, a.government, project_id=p),
        "certify": lambda s: programme_service.certify(
            s, a.government, "FedRAMP", CertIn(status="planned"), today, project_id=p
        ),
        "delete government": lambda s: programme_service.delete_government(
            s, a.government, project_id=p
        ),
    }


def test_another_projects_records_are_not_found(db2: Database) -> None:
    a = seed(db2, A)
    refused = []
    for name, call in foreign_calls(a).items():
        try:
            with db2.session() as s:
                call(s)
        except NotFound:
            refused.append(name)
    assert refused == list(foreign_calls(a))  # each one NotFound (not Forbidden, not done)
    with db2.read() as s:  # and A's records are as they were
        target = ma_targets.find_target(s, a.target, project_id=A)
        assert (target.stage, target.owner) == ("closed", "alice")
        assert deals.get_registration(s, a.registration, project_id=A).status == "pending"
        assert find_mdf(s, a.mdf, project_id=A).state == "requested"
        assert jv_service.get_jv(s, a.jv, project_id=A).status == "forming"
        assert programme_service.find_lab(s, a.lab, project_id=A).focus_area == ""
        assert programme_service.find_government(s, a.government, project_id=A).certifications == []
        graph = tasks.get_task(s, a.programme, a.task, utcnow().date(), project_id=A)
        assert graph.percent_complete == 0
        left = totals(s, A)
        assert left.pop("ledger") == 0 and set(left.values()) == {1}


# -- references in request bodies ---------------------------------------------------------------


def test_body_references_to_another_project_are_invalid(db2: Database) -> None:
    a = seed(db2, A)
    today = utcnow().date()
    with db2.session() as s:
        partner_svc.create_partner(
            s,
            PartnerCreate(name="Beta", type="cloud", currency="USD", status="active"),
            "x",
            project_id=B,
        )
        partner_programmes.create_programme(
            s,
            ProgrammeCreate(name="Beta Fund", kind="marketing", start_on=today),
            "x",
            project_id=B,
        )

    def mdf_request(partner: str, programme: str) -> MDFRequestCreate:
        return MDFRequestCreate(
            partner=partner,
            programme=programme,
            activity="x",
            amount=Decimal(10),
            currency="USD",
            planned_start=today,
            planned_end=today,
        )

    cases: list[tuple[str, Callable[[Session], Any]]] = [
        (
            "partner",
            lambda s: deals.register(
                s,
                RegistrationCreate(
                    partner=a.partner,
                    customer_name="Hooli",
                    product="X",
                    amount=Decimal(1),
                    currency="USD",
                ),
                "m",
                project_id=B,
            ),
        ),
        (
            "partner",
            lambda s: mdf.request(s, mdf_request(a.partner, "Beta Fund"), "m", project_id=B),
        ),
        (
            "programme",
            lambda s: mdf.request(s, mdf_request("Beta", a.partner_programme), "m", project_id=B),
        ),
        (
            "partner",
            lambda s: partner_programmes.enrol(s, "Beta Fund", "Globex", "m", project_id=B),
        ),
        (
            "partner",
            lambda s: rebate_runs.compute(s, today, today, a.partner, False, "m", project_id=B),
        ),
    ]
    for field, call in cases:
        with pytest.raises(Invalid) as err, db2.session() as s:
            call(s)
        assert err.value.errors[0]["loc"] == [field], field
    with db2.read() as s:  # nothing of A's was touched
        assert partner_programmes.enrolments(s, a.partner_programme, project_id=A)[0].partner_id
        assert deals.list_registrations(s, ALL, project_id=A)[1] == 1
