"""The executive dashboard: facts gathered from every corporate slice through its
services, turned into pipelines, value creation, KPIs and recommendations by the pure
modules (``funnel``, ``value``, ``kpis``, ``recommendations``).

``dashboard(session, today, project_id=…)`` answers one JSON-ready dict, about one
project's records, whose shape the web page and the CLI rely on (see its docstring).
Money is always ``{currency: "decimal string"}``: no figure adds two currencies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from novacron.core.clock import isoformat, utcnow
from novacron.core.pagination import MAX_LIMIT, PageParams
from novacron.corporate.ecosystem import service as ecosystem
from novacron.corporate.integration.service import programmes as int_programmes
from novacron.corporate.integration.service import value as int_value
from novacron.corporate.ma.service import diligence as ma_diligence
from novacron.corporate.ma.service import targets as ma_targets
from novacron.corporate.ma.service import workflow as ma_workflow
from novacron.corporate.partners import registration as reg_rules
from novacron.corporate.partners import tiers as tier_rules
from novacron.corporate.partners.service import deals as partner_deals
from novacron.corporate.partners.service import mdf as partner_mdf
from novacron.corporate.partners.service import partners as partner_svc
from novacron.corporate.strategy import funnel, kpis, recommendations, value
from novacron.corporate.strategy.funnel import RegistrationFacts, StageEvent, TargetFacts

T = TypeVar("T")
TRAILING = timedelta(days=365)
DILIGENCE_STAGES = ("preliminary", "due_diligence", "negotiation")
"""Stages whose diligence state feeds recommendations."""


def _all(fetch: Callable[[PageParams], tuple[list[T], int]]) -> Iterator[T]:
    """Every row of a paginated service list, page by page."""
    offset = 0
    while True:
        rows, total = fetch(PageParams(limit=MAX_LIMIT, offset=offset))
        yield from rows
        offset += len(rows)
        if not rows or offset >= total:
            return


# -- M&A ------------------------------------------------------------------------------------


def _targets(s: Session, project_id: str) -> list[TargetFacts]:
    out = []
    for t in s.scalars(ma_targets.query_targets(project_id=project_id)):
        history = tuple(
            StageEvent(c.to_stage, c.at) for c in s.scalars(ma_workflow.history_query(t.id))
        )
        out.append(
            TargetFacts(
                id=t.id,
                name=t.name,
                stage=t.stage,
                category=t.category,
                currency=t.currency,
                value=None if t.asking_value is None else Decimal(t.asking_value),
                probability=ma_targets.effective_probability(t),
                history=history,
            )
        )
    return out


def _diligence(
    s: Session, targets: list[TargetFacts], today: date, project_id: str
) -> list[recommendations.DiligenceFacts]:
    out = []
    for t in targets:
        if t.stage not in DILIGENCE_STAGES:
            continue
        summary = ma_diligence.summary(s, t.id, today, project_id=project_id)
        open_requests = sum(
            w["by_status"].get("open", 0) + w["by_status"].get("in_progress", 0)
            for w in summary["workstreams"]
        )
        out.append(
            recommendations.DiligenceFacts(
                target_id=t.id,
                target=t.name,
                stage=t.stage,
                days_in_stage=funnel.days_in_current_stage(t, today),
                overdue_requests=int(summary["overdue"]),
                open_requests=open_requests,
                open_deal_breakers=int(summary["open_deal_breakers"]),
            )
        )
    return out


def _ma_pipeline(targets: list[TargetFacts], today: date) -> dict[str, Any]:
    rows = funnel.pipeline_by_stage(targets)
    closing = funnel.days_to_close(targets)
    return {
        "by_stage": [vars(r) for r in rows],
        "weighted": funnel.weighted_pipeline(rows),
        "conversion": [
            {
                "from_stage": c.from_stage,
                "to_stage": c.to_stage,
                "reached": c.reached,
                "converted": c.converted,
                "rate_pct": c.rate_pct,
            }
            for c in funnel.conversion(targets)
        ],
        "days_in_stage": [vars_of(d) for d in funnel.stage_durations(targets, today)],
        "days_to_close": {"deals": len(closing), "average": funnel.average(closing)},
    }


def vars_of(obj: Any) -> dict[str, Any]:
    """A slotted dataclass as a dict."""
    return {name: getattr(obj, name) for name in obj.__slots__}


# -- integration ----------------------------------------------------------------------------


def _programmes(
    s: Session, today: date, project_id: str
) -> tuple[list[value.ProgrammeValue], list[recommendations.PeopleFacts], tuple[int, int]]:
    values, people = [], []
    retained = total = 0
    for p in _all(lambda page: int_programmes.list_programmes(s, page, project_id=project_id)):
        syn = int_value.synergies(s, p.id, today, project_id=project_id)
        points = tuple(
            value.Point(cat, pt.end, pt.planned, pt.actual)
            for cat, series in syn.series_by_category.items()
            for pt in series
        )
        values.append(
            value.ProgrammeValue(
                id=p.id,
                name=p.name,
                target_id=p.target_id,
                currency=p.currency,
                close_date=p.close_date,
                by_category={
                    cat: value.Realised(r.planned_to_date, r.actual_to_date, r.planned_total)
                    for cat, r in syn.by_category.items()
                },
                points=points,
            )
        )
        rates = int_value.retention_rates(s, p)
        retained += rates.employees_retained
        total += rates.employees_total
        people.append(
            recommendations.PeopleFacts(p.id, p.name, rates.high_flight_risk, rates.employees_total)
        )
    return values, people, (retained, total)


# -- partners -------------------------------------------------------------------------------


def _registrations(s: Session, now: datetime, project_id: str) -> list[RegistrationFacts]:
    """Every registration with its status as of ``now`` (a registration past its expiry
    reads ``expired`` even before a sweep has marked it)."""
    real_now = utcnow()
    names: dict[str, str] = {}
    out = []
    regs = _all(
        lambda page: partner_deals.list_registrations(s, page, real_now, project_id=project_id)
    )
    for r in regs:
        if r.partner_id not in names:
            partner = partner_svc.find_partner(s, r.partner_id, project_id=project_id)
            names[r.partner_id] = partner.name
        status = "expired" if reg_rules.is_expired(r.status, r.expires_at, now) else r.status
        out.append(
            RegistrationFacts(
                id=r.id,
                partner=names[r.partner_id],
                customer=r.customer_name,
                product=r.product,
                motion=r.motion,
                status=status,
                amount=Decimal(r.amount),
                currency=r.currency,
                expires_at=r.expires_at,
                conflict=r.conflict,
                conflict_with=tuple(r.conflict_with),
                closed_on=r.closed_on,
                match_key=f"{r.customer_key}|{r.product_key}",
            )
        )
    return out


def _tiers(
    s: Session, today: date, project_id: str
) -> tuple[list[recommendations.TierFacts], dict[str, int]]:
    facts, by_tier = [], dict.fromkeys(tier_rules.TIERS, 0)
    for partner in _all(lambda page: partner_svc.list_partners(s, page, project_id=project_id)):
        by_tier[partner.tier] = by_tier.get(partner.tier, 0) + 1
        if partner.status in ("suspended", "terminated"):
            continue
        metrics = partner_svc.tier_metrics(s, partner, today)
        evaluation = tier_rules.evaluate(metrics)
        # The next step is measured from the tier the partner holds, not a re-rating.
        nxt = _next(partner.tier)
        held = tier_rules.check(metrics, tier_rules.DEFAULT_CRITERIA[nxt]) if nxt else []
        facts.append(
            recommendations.TierFacts(
                partner_id=partner.id,
                partner=partner.name,
                tier=partner.tier,
                qualifies_for=evaluation.tier,
                next_tier=nxt,
                failing=[(c.criterion, c.required, c.actual) for c in held if not c.passed],
            )
        )
    return facts, by_tier


def _next(tier: str) -> str | None:
    rank = tier_rules.tier_rank(tier)
    return tier_rules.TIERS[rank + 1] if rank + 1 < len(tier_rules.TIERS) else None


def _mdf(s: Session, project_id: str) -> dict[str, tuple[Decimal, Decimal]]:
    return {
        b.currency: (b.approved, b.claimed)
        for b in partner_mdf.ledger(s, project_id=project_id)["balances"]
        if b.approved > 0
    }


# -- the dashboard ----------------------------------------------------------------------------


def _moment(today: date) -> datetime:
    """ "Now" for ``today``: the real clock when it is today, else that day's midnight."""
    now = utcnow()
    return now if now.date() == today else datetime.combine(today, time())


def dashboard(
    session: Session,
    today: date,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    project_id: str,
) -> dict[str, Any]:
    """The executive dashboard of project ``project_id`` as of ``today``, JSON-ready
    (every figure is of that project's records only). Keys:

    ``as_of``; ``settings`` (every threshold in force);
    ``pipelines.ma``: ``by_stage`` [{stage, count, unvalued, value{cur}, weighted{cur}}]
    for every stage in pipeline order, ``weighted`` {deals, value{cur}, weighted{cur}} over
    open stages, ``conversion`` [{from_stage, to_stage, reached, converted, rate_pct}],
    ``days_in_stage`` [{stage, visits, open, avg_days, max_days}], ``days_to_close``
    {deals, average};
    ``pipelines.partnerships``: ``by_status`` [{status, count, amount{cur}}],
    ``by_motion`` {sourced|influenced: {open_count, open_pipeline{cur}, won_count,
    won_revenue{cur}}} (won in the last 12 months), ``win_rate`` {won, lost, pct},
    ``expiring_soon``, ``conflicts``, ``partners`` {total, by_tier};
    ``value_creation``: ``by_currency`` {cur: {programmes, overall, by_category{revenue,
    cost}, series, series_by_category}} where a realisation is {planned_to_date,
    actual_to_date, planned_total, realisation_pct} and a series point is {quarter,
    planned, actual, planned_cumulative, actual_cumulative}; ``programmes`` [{id, name,
    target_id, currency, close_date, overall, by_category}];
    ``kpis`` [{id, name, description, unit, value, target, higher_is_better, status,
    breakdown, rules[{id, severity, condition, fired, message}]}];
    ``alerts``: every fired rule with its ``kpi``;
    ``recommendations`` [{id, rule, severity, message, subject{kind, id, name},
    evidence}], most severe first;
    ``ecosystem``: the ecosystem summary's ``counts`` and ``active``.

    Amounts are decimal strings; dates and times ISO 8601 (UTC)."""
    settings = kpis.resolve(overrides)
    now = _moment(today)
    targets = _targets(session, project_id)
    programmes, people, (retained, employees) = _programmes(session, today, project_id)
    regs = _registrations(session, now, project_id)
    tiers, by_tier = _tiers(session, today, project_id)
    eco = ecosystem.summary(session, today, project_id=project_id)
    since = today - TRAILING
    certs = [
        recommendations.CertificationFacts(
            c["government_id"], c["agency"], c["name"], int(c["days_to_expiry"]), c["expires_on"]
        )
        for c in eco["certifications_expiring"]
    ]
    motion = funnel.by_motion(regs, since, today)
    wins = funnel.win_rate(regs, since, today)
    inputs = kpis.KpiInputs(
        realisation_pct=value.realisation_by_currency(programmes),
        deals_in_diligence=sum(1 for t in targets if t.stage == "due_diligence"),
        days_to_close=funnel.days_to_close(targets),
        sourced_revenue=motion["sourced"]["won_revenue"],
        won=wins["won"],
        lost=wins["lost"],
        mdf=_mdf(session, project_id),
        employees_retained=retained,
        employees_total=employees,
        certification_days=[c.days_to_expiry for c in certs],
    )
    kpi_rows = kpis.evaluate_all(inputs, settings)
    rec_settings = settings["recommendations"]
    facts = recommendations.Facts(
        programmes=programmes,
        registrations=regs,
        diligence=_diligence(session, targets, today, project_id),
        tiers=tiers,
        certifications=certs,
        people=people,
        now=now,
    )
    result = {
        "as_of": today,
        "settings": settings,
        "pipelines": {
            "ma": _ma_pipeline(targets, today),
            "partnerships": {
                "by_status": [vars(r) for r in funnel.registrations_by_status(regs)],
                "by_motion": motion,
                "win_rate": wins,
                "expiring_soon": len(
                    funnel.expiring(regs, now, int(rec_settings["registration_expiry_days"]))
                ),
                "conflicts": len(funnel.conflicts(regs)),
                "partners": {"total": sum(by_tier.values()), "by_tier": by_tier},
            },
        },
        "value_creation": value.roll_up(programmes),
        "kpis": kpi_rows,
        "alerts": kpis.fired_alerts(kpi_rows),
        "recommendations": recommendations.derive(facts, rec_settings),
        "ecosystem": {"counts": eco["counts"], "active": eco["active"]},
    }
    plain: dict[str, Any] = jsonable(result)
    return plain


CENT = Decimal("0.01")


def jsonable(value: Any) -> Any:
    """Decimals as strings to the cent, dates and times ISO 8601, containers recursed."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return format(value.quantize(CENT), "f")
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
