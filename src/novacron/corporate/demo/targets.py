"""The demo's targets: each walks the pipeline to its stage through the M&A service
(scorecard, valuations, NDA, diligence, approval, signing), with its stage history
back-dated; a closed deal's generated integration programme gets actuals, task progress,
retention records and an escalation where synergies lag."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from novacron.core.errors import InvalidState
from novacron.core.pagination import MAX_LIMIT, PageParams
from novacron.corporate.demo import data
from novacron.corporate.demo.common import Loader, build
from novacron.corporate.integration import schemas as int_schemas
from novacron.corporate.integration.service import governance as int_governance
from novacron.corporate.integration.service import tasks as int_tasks
from novacron.corporate.integration.service import value as int_value
from novacron.corporate.ma import schemas as ma
from novacron.corporate.ma import schemas_diligence as ma_dd
from novacron.corporate.ma.service import diligence as ma_diligence
from novacron.corporate.ma.service import scorecards as ma_scorecards
from novacron.corporate.ma.service import synergies as ma_synergies
from novacron.corporate.ma.service import targets as ma_targets
from novacron.corporate.ma.service import valuations as ma_valuations
from novacron.corporate.ma.service import workflow as ma_workflow

# -- targets ----------------------------------------------------------------------------------


def load_target(ld: Loader, spec: data.TargetSpec) -> None:
    s, by = ld.s, ld.by
    target = ma_targets.create_target(
        s,
        build(
            ma.TargetCreate,
            name=spec.name,
            category=spec.category,
            custom_category=spec.custom_category,
            description=spec.description,
            headquarters=spec.headquarters,
            country=spec.country,
            currency=spec.currency,
            revenue=Decimal(spec.revenue),
            ebitda=Decimal(spec.ebitda),
            employees=spec.employees,
            financials_year=ld.day(-365).year,
            asking_value=Decimal(spec.asking_value),
            owner=spec.owner,
            expected_close_on=None if spec.expected_close is None else ld.day(spec.expected_close),
        ),
        by,
        at=ld.moment(spec.created),
        project_id=ld.project_id,
    )
    ld.count("targets")
    _scorecard(ld, spec)
    for stage, offset in spec.moves:
        _prepare_gate(ld, spec, target.stage)
        ma_workflow.advance(
            s,
            target.id,
            by,
            reason=f"demo: entered {stage}",
            at=ld.moment(offset),
            project_id=ld.project_id,
        )
        ld.count("stage_moves")
    if spec.stuck_diligence:
        _diligence(ld, spec, done=False)
    if spec.deal_breaker:
        ma_diligence.add_finding(
            s,
            target.id,
            build(
                ma_dd.FindingCreate,
                workstream="legal",
                title=spec.deal_breaker,
                severity=5,
                likelihood=4,
                mitigation="None acceptable: indemnity refused by the seller",
                owner="legal.counsel",
                deal_breaker=True,
            ),
            by,
            project_id=ld.project_id,
        )
        ld.count("findings")
    if spec.drop:
        offset, reason = spec.drop
        ma_workflow.drop(s, target.id, by, reason, at=ld.moment(offset), project_id=ld.project_id)
    if target.integration_programme_id:
        _integration(ld, spec, target.integration_programme_id)


def _scorecard(ld: Loader, spec: data.TargetSpec) -> None:
    base = spec.score
    criteria = [
        ("Strategic fit", 0.3, min(base + 0.6, 10)),
        ("Technology", 0.25, min(base + 0.3, 10)),
        ("Financial profile", 0.2, max(base - 0.8, 0)),
        ("Team", 0.15, base),
        ("Integration risk", 0.1, max(base - 0.5, 0)),
    ]
    ma_scorecards.add_scorecard(
        ld.s,
        spec.name,
        build(
            ma.ScorecardCreate,
            criteria=[
                build(ma.CriterionIn, name=name, weight=weight, score=round(score, 1))
                for name, weight, score in criteria
            ],
            note="demo screening",
        ),
        ld.by,
        project_id=ld.project_id,
    )
    ld.count("scorecards")


def _prepare_gate(ld: Loader, spec: data.TargetSpec, stage: str) -> None:
    """Do what the gate out of ``stage`` checks, as a deal team would."""
    s, by = ld.s, ld.by
    if stage == "preliminary":
        for kind, inputs in _valuation_inputs(spec):
            ma_valuations.add_valuation(
                s,
                spec.name,
                build(ma.ValuationCreate, kind=kind, inputs=inputs),
                by,
                project_id=ld.project_id,
            )
            ld.count("valuations")
        ma_targets.update_target(
            s,
            spec.name,
            build(ma.TargetUpdate, nda_signed=True, nda_owner="legal.counsel"),
            project_id=ld.project_id,
        )
        if spec.synergies:
            _synergy_plan(ld, spec)
    elif stage == "due_diligence":
        _diligence(ld, spec, done=True)
    elif stage == "negotiation":
        latest = max(v.version for v in s.scalars(ma_valuations.valuations_query(_id(ld, spec))))
        ma_valuations.approve(s, spec.name, latest, by, project_id=ld.project_id)
        if spec.signed is not None and spec.closed is not None:
            ma_targets.update_target(
                s,
                spec.name,
                build(
                    ma.TargetUpdate, signed_on=ld.day(spec.signed), closed_on=ld.day(spec.closed)
                ),
                project_id=ld.project_id,
            )


def _id(ld: Loader, spec: data.TargetSpec) -> str:
    return ma_targets.find_target(ld.s, spec.name, project_id=ld.project_id).id


def _valuation_inputs(spec: data.TargetSpec) -> list[tuple[str, dict[str, Any]]]:
    """A DCF, trading comps and precedent transactions scaled to the target."""
    cur, rev, ebitda = spec.currency, float(spec.revenue), float(spec.ebitda)
    margin = max(ebitda / rev, 0.05) + 0.1
    dcf = {
        "currency": cur,
        "base_revenue": rev,
        "revenue_growth": [0.35, 0.28, 0.22, 0.16, 0.12],
        "ebitda_margin": [margin - 0.04, margin - 0.02, margin, margin + 0.02, margin + 0.03],
        "da_pct_revenue": 0.04,
        "capex_pct_revenue": 0.05,
        "nwc_pct_revenue": 0.08,
        "tax_rate": 0.24,
        "wacc": 0.11,
        "terminal": {"method": "gordon", "growth": 0.03},
        "mid_year": True,
        "net_debt": rev * 0.1,
        "shares": {"basic": 50_000_000, "options": [{"count": 4_000_000, "strike": 1.5}]},
    }
    peer_ebitda = max(ebitda, rev * 0.12)
    peers = [
        {"name": name, "currency": cur, "enterprise_value": rev * ev_rev,
         "revenue": rev * size, "ebitda": peer_ebitda * size * m}
        for name, ev_rev, size, m in (
            ("Peer A", 5.5, 1.2, 1.0), ("Peer B", 4.2, 0.9, 0.9),
            ("Peer C", 6.8, 1.5, 1.2), ("Peer D", 3.9, 0.8, 0.7),
        )
    ]  # fmt: skip
    target_in = {
        "currency": cur,
        "revenue": rev,
        "ebitda": ebitda,
        "net_debt": rev * 0.1,
        "diluted_shares": 52_000_000,
    }
    comps = {"peers": peers, "target": target_in}
    deals = [
        {"acquirer": acq, "target": tgt, "date": when, "currency": cur,
         "enterprise_value": rev * mult, "revenue": rev, "ebitda": peer_ebitda, "premium": prem}
        for acq, tgt, when, mult, prem in (
            ("BigCloud", "StoreCo", "2023-05-10", 5.0, 0.28),
            ("MegaSoft", "NetCo", "2024-02-01", 6.2, 0.35),
            ("InfraCorp", "SecCo", "2024-09-15", 4.6, 0.22),
        )
    ]  # fmt: skip
    precedents = {"deals": deals, "target": target_in}
    return [("dcf", dcf), ("comps", comps), ("precedents", precedents)]


def _synergy_plan(ld: Loader, spec: data.TargetSpec) -> None:
    lines = [
        build(
            ma.SynergyLineIn,
            category=syn.category,
            name=syn.name,
            run_rate=Decimal(syn.run_rate),
            phase_in=list(syn.phase_in),
            one_off_cost=Decimal(syn.one_off_cost),
            owner="integration.office",
        )
        for syn in spec.synergies
    ]
    ma_synergies.replace_plan(
        ld.s, spec.name, build(ma.SynergyPlanIn, lines=lines), ld.by, project_id=ld.project_id
    )
    ld.count("synergy_lines", len(lines))


def _diligence(ld: Loader, spec: data.TargetSpec, *, done: bool) -> None:
    """The request list: all closed for a deal that passes, or half done with four
    overdue requests for one that is stuck."""
    entered = dict(spec.moves).get("due_diligence", -30)
    for i, (workstream, title) in enumerate(data.DILIGENCE_REQUESTS):
        if done:
            status, due = "closed", entered + 30 + 5 * i
        elif i < 4:
            status, due = "open", entered + 20 + 5 * i  # long overdue
        elif i < 7:
            status, due = "closed", entered + 15
        else:
            status, due = "in_progress", 20
        ma_diligence.add_request(
            ld.s,
            spec.name,
            build(
                ma_dd.RequestCreate,
                workstream=workstream,
                title=title,
                owner=f"{workstream}.lead",
                status=status,
                due_on=ld.day(due),
            ),
            ld.by,
            project_id=ld.project_id,
        )
    ld.count("diligence_requests", len(data.DILIGENCE_REQUESTS))
    ma_diligence.add_finding(
        ld.s,
        spec.name,
        build(
            ma_dd.FindingCreate,
            workstream="technology",
            title="Key components depend on one maintainer",
            severity=3,
            likelihood=3,
            mitigation="Retention package and knowledge-transfer plan",
            owner="technology.lead",
            status="mitigated" if done else "open",
        ),
        ld.by,
        project_id=ld.project_id,
    )
    ld.count("findings")


# -- integration ------------------------------------------------------------------------------


def _integration(ld: Loader, spec: data.TargetSpec, programme_id: str) -> None:
    s, by, today = ld.s, ld.by, ld.today
    report = int_value.synergies(s, programme_id, today, project_id=ld.project_id)
    factor = {syn.name: Decimal(repr(syn.realised)) for syn in spec.synergies}
    for line in report.lines:
        for period in line.periods:
            if period.end >= today:
                break
            amount = (period.planned * factor[line.name]).quantize(Decimal("0.01"))
            int_value.record_actual(
                s,
                programme_id,
                build(
                    int_schemas.ActualIn,
                    line_id=line.id,
                    period=period.period,
                    amount=amount,
                    currency=line.currency,
                    note="demo actual",
                ),
                by,
                project_id=ld.project_id,
            )
            ld.count("synergy_actuals")
    _task_progress(ld, programme_id)
    _milestones(ld, programme_id, behind=any(syn.realised < 0.8 for syn in spec.synergies))
    for name, role, risk, status, bonus in spec.people:
        int_value.add_employee(
            s,
            programme_id,
            build(
                int_schemas.EmployeeIn,
                name=name,
                role=role,
                flight_risk=risk,
                retention_bonus=Decimal(bonus),
                status=status,
            ),
            project_id=ld.project_id,
        )
        ld.count("key_employees")
    for name, arr, status in spec.customers:
        int_value.add_customer(
            s,
            programme_id,
            build(int_schemas.CustomerIn, name=name, arr=Decimal(arr), status=status),
            project_id=ld.project_id,
        )
        ld.count("key_customers")
    if any(syn.realised < 0.8 for syn in spec.synergies):
        int_governance.add_escalation(
            s,
            programme_id,
            build(
                int_schemas.EscalationIn,
                title="Cost synergies behind plan",
                detail="Procurement consolidation is slipping: supplier contracts renew late.",
                raised_to="steering committee",
                severity="high",
                workstream="operations",
                raised_on=ld.day(-20),
            ),
            by,
            today,
            project_id=ld.project_id,
        )
        ld.count("escalations")


def _milestones(ld: Loader, programme_id: str, *, behind: bool) -> None:
    """Milestones due in the past were hit a few days early, except, in a programme
    behind plan, the latest one: missed, as its synergies are."""
    today = ld.today
    views, _ = int_tasks.list_milestones(
        ld.s, programme_id, PageParams(limit=MAX_LIMIT), today, project_id=ld.project_id
    )
    past = sorted((m for m in views if m.due_date < today), key=lambda m: m.due_date)
    for i, m in enumerate(past):
        if behind and i == len(past) - 1:
            body = build(int_schemas.MilestoneUpdate, status="missed", note="demo: slipped")
        else:
            hit_on = m.due_date - timedelta(days=3)
            body = build(int_schemas.MilestoneUpdate, status="hit", completed_on=hit_on)
        int_tasks.update_milestone(ld.s, programme_id, m.id, body, today, project_id=ld.project_id)
        ld.count("milestone_updates")


def _task_progress(ld: Loader, programme_id: str) -> None:
    """Tasks due in the past are done (but one in seven slipped); running ones show their
    progress by elapsed time."""
    today = ld.today
    views, _ = int_tasks.list_tasks(
        ld.s,
        programme_id,
        PageParams(limit=MAX_LIMIT),
        int_tasks.TaskFilter(),
        today,
        project_id=ld.project_id,
    )
    for i, task in enumerate(views):
        if task.due_date < today and i % 7 != 6:
            body = build(int_schemas.TaskUpdate, status="done")
        elif task.start_date <= today:
            span = max((task.due_date - task.start_date).days, 1)
            pct = min(95, max(5, 100 * (today - task.start_date).days // span))
            body = build(int_schemas.TaskUpdate, percent_complete=pct)
        else:
            continue
        try:
            int_tasks.update_task(
                ld.s, programme_id, task.id, body, today, project_id=ld.project_id
            )
        except InvalidState:  # a dependency slipped: the task stays in progress
            int_tasks.update_task(
                ld.s,
                programme_id,
                task.id,
                build(int_schemas.TaskUpdate, percent_complete=80),
                today,
                project_id=ld.project_id,
            )
        ld.count("task_updates")
