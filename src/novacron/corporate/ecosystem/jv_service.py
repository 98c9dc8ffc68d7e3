"""Joint ventures: cap table, investments, period results and their distributions.

Distributions and each party's share of profit are computed on read from the current
cap table (``ventures.split``), never stored, so a corrected cap table corrects every
figure derived from it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.core.errors import Conflict, Invalid
from novacron.core.ids import new_id
from novacron.core.pagination import PageParams, paginate
from novacron.corporate.ecosystem import ventures
from novacron.corporate.ecosystem._common import book, find, unique_name
from novacron.corporate.ecosystem.models import JointVenture, JVInvestment, JVParty, JVPeriod
from novacron.corporate.ecosystem.schemas import (
    DistributionsOut,
    InvestmentIn,
    InvestmentOut,
    JVCreate,
    JVDetail,
    JVOut,
    JVUpdate,
    PartiesPut,
    PartyIn,
    PartyOut,
    PeriodIn,
    PeriodOut,
    ShareOut,
)
from novacron.corporate.finance.money import same_currency

ZERO = Decimal(0)


def _cap_table(parties: list[PartyIn]) -> list[tuple[str, Decimal]]:
    table = [(p.name, p.equity_pct) for p in parties]
    ventures.validate_parties(table)
    return table


def _split_of(jv: JointVenture) -> list[tuple[str, Decimal]]:
    return [(p.name, Decimal(p.equity_pct)) for p in jv.parties]


def _currency_of(jv: JointVenture, currency: str) -> None:
    same_currency([("joint_venture.currency", jv.currency), ("currency", currency)])


# -- views ------------------------------------------------------------------------------------


def _period_out(jv: JointVenture, period: JVPeriod) -> PeriodOut:
    shares = ventures.split(Decimal(period.distribution), jv.currency, _split_of(jv))
    return PeriodOut(
        id=period.id,
        period=period.period,
        revenue=book(period.revenue, jv.currency),
        profit=book(period.profit, jv.currency),
        distribution=book(period.distribution, jv.currency),
        currency=period.currency,
        shares=[ShareOut(party=s.party, equity_pct=s.equity_pct, amount=s.amount) for s in shares],
    )


def _positions(jv: JointVenture) -> list[PartyOut]:
    cur, split = jv.currency, _split_of(jv)
    invested = {p.id: ZERO for p in jv.parties}
    for inv in jv.investments:
        invested[inv.party_id] = invested.get(inv.party_id, ZERO) + Decimal(inv.amount)
    profit = {name: ZERO for name, _ in split}
    paid = {name: ZERO for name, _ in split}
    for period in jv.periods:
        for share in ventures.split(Decimal(period.profit), cur, split):
            profit[share.party] += share.amount
        for share in ventures.split(Decimal(period.distribution), cur, split):
            paid[share.party] += share.amount
    return [
        PartyOut(
            id=p.id,
            name=p.name,
            equity_pct=Decimal(p.equity_pct),
            is_us=p.is_us,
            invested=book(invested[p.id], cur),
            share_of_profit=book(profit[p.name], cur),
            distributions=book(paid[p.name], cur),
            simple_return=ventures.simple_return(paid[p.name], invested[p.id]),
        )
        for p in jv.parties
    ]


def _totals(jv: JointVenture) -> dict[str, Decimal]:
    def total(values: list[Any]) -> Decimal:
        return book(sum((Decimal(v) for v in values), ZERO), jv.currency)

    return {
        "invested": total([i.amount for i in jv.investments]),
        "revenue": total([p.revenue for p in jv.periods]),
        "profit": total([p.profit for p in jv.periods]),
        "distributed": total([p.distribution for p in jv.periods]),
    }


def _base(jv: JointVenture) -> dict[str, Any]:
    return {
        "id": jv.id,
        "name": jv.name,
        "purpose": jv.purpose,
        "status": jv.status,
        "formation_date": jv.formation_date,
        "currency": jv.currency,
        "parties": _positions(jv),
        "created_by": jv.created_by,
        "created_at": jv.created_at,
        "updated_at": jv.updated_at,
        **_totals(jv),
    }


def to_out(jv: JointVenture) -> JVOut:
    return JVOut(**_base(jv))


def _investment_out(jv: JointVenture, inv: JVInvestment) -> InvestmentOut:
    names = {p.id: p.name for p in jv.parties}
    return InvestmentOut(
        id=inv.id,
        party=names.get(inv.party_id, inv.party_id),
        party_id=inv.party_id,
        amount=book(inv.amount, inv.currency),
        currency=inv.currency,
        invested_on=inv.invested_on,
        note=inv.note,
    )


def to_detail(jv: JointVenture) -> JVDetail:
    return JVDetail(
        **_base(jv),
        investments=[_investment_out(jv, i) for i in jv.investments],
        periods=[_period_out(jv, p) for p in jv.periods],
    )


# -- use cases --------------------------------------------------------------------------------


def find_jv(session: Session, ref: str, *, project_id: str, lock: bool = False) -> JointVenture:
    return find(session, JointVenture, ref, "joint venture", project_id=project_id, lock=lock)


def list_jvs(
    session: Session, page: PageParams, status: str | None = None, *, project_id: str
) -> tuple[list[JVOut], int]:
    stmt = (
        select(JointVenture)
        .where(JointVenture.project_id == project_id)
        .order_by(JointVenture.name)
    )
    if status:
        stmt = stmt.where(JointVenture.status == status)
    rows, total = paginate(session, stmt, page)
    return [to_out(jv) for jv in rows], total


def create_jv(session: Session, body: JVCreate, who: str, *, project_id: str) -> JVDetail:
    table = _cap_table(body.parties)
    unique_name(session, JointVenture, body.name, "joint venture", project_id)
    jv = JointVenture(
        id=new_id("jv"),
        project_id=project_id,
        name=body.name,
        purpose=body.purpose,
        status=body.status,
        formation_date=body.formation_date,
        currency=body.currency,
        created_by=who,
    )
    session.add(jv)
    jv.parties = [
        JVParty(id=new_id("jvp"), name=name, equity_pct=pct, is_us=p.is_us, position=i)
        for i, ((name, pct), p) in enumerate(zip(table, body.parties, strict=True))
    ]
    session.flush()
    return to_detail(jv)


def get_jv(session: Session, ref: str, *, project_id: str) -> JVDetail:
    return to_detail(find_jv(session, ref, project_id=project_id))


def update_jv(session: Session, ref: str, body: JVUpdate, *, project_id: str) -> JVDetail:
    jv = find_jv(session, ref, project_id=project_id)
    for key, value in body.model_dump(exclude_unset=True).items():
        if value is None and key != "formation_date":
            continue
        setattr(jv, key, value)
    session.flush()
    return to_detail(jv)


def delete_jv(session: Session, ref: str, *, project_id: str) -> None:
    session.delete(find_jv(session, ref, project_id=project_id))


def set_parties(session: Session, ref: str, body: PartiesPut, *, project_id: str) -> JVDetail:
    """Replace the cap table; parties keep their id (and investments) by name, and a
    party that has invested cannot be dropped."""
    jv = find_jv(session, ref, project_id=project_id, lock=True)
    table = _cap_table(body.parties)
    existing = {p.name: p for p in jv.parties}
    keep = {name for name, _ in table}
    invested = {i.party_id for i in jv.investments}
    for name, party in existing.items():
        if name not in keep and party.id in invested:
            raise Conflict(
                f"party {name!r} has investments in {jv.name}: it cannot leave the cap table",
                errors=[{"loc": ["parties"], "msg": f"{name} has investments"}],
            )
    parties = []
    for i, ((name, pct), spec) in enumerate(zip(table, body.parties, strict=True)):
        party = existing.get(name) or JVParty(id=new_id("jvp"), name=name)
        party.equity_pct, party.is_us, party.position = pct, spec.is_us, i
        parties.append(party)
    jv.parties = parties
    session.flush()
    session.refresh(jv)
    return to_detail(jv)


def _party(jv: JointVenture, ref: str) -> JVParty:
    for party in jv.parties:
        if ref in (party.id, party.name):
            return party
    names = ", ".join(p.name for p in jv.parties)
    raise Invalid(
        f"party: {ref!r} is not a party of {jv.name} ({names})",
        errors=[{"loc": ["party"], "msg": f"not a party (one of: {names})"}],
    )


def add_investment(
    session: Session, ref: str, body: InvestmentIn, *, project_id: str
) -> InvestmentOut:
    jv = find_jv(session, ref, project_id=project_id, lock=True)
    _currency_of(jv, body.currency)
    party = _party(jv, body.party)
    inv = JVInvestment(
        id=new_id("jvi"),
        party_id=party.id,
        amount=body.amount,
        currency=body.currency,
        invested_on=body.invested_on,
        note=body.note,
    )
    jv.investments.append(inv)
    session.flush()
    return _investment_out(jv, inv)


def list_investments(session: Session, ref: str, *, project_id: str) -> list[InvestmentOut]:
    jv = find_jv(session, ref, project_id=project_id)
    return [_investment_out(jv, i) for i in jv.investments]


def add_period(session: Session, ref: str, body: PeriodIn, *, project_id: str) -> PeriodOut:
    jv = find_jv(session, ref, project_id=project_id, lock=True)
    _currency_of(jv, body.currency)
    if any(p.period == body.period for p in jv.periods):
        raise Conflict(
            f"{jv.name} already has results for {body.period}",
            errors=[{"loc": ["period"], "msg": "already reported"}],
        )
    distribution = body.distribution
    if distribution is None:
        distribution = max(body.profit, ZERO)
    period = JVPeriod(
        id=new_id("jvr"),
        period=body.period,
        revenue=body.revenue,
        profit=body.profit,
        distribution=distribution,
        currency=body.currency,
    )
    jv.periods.append(period)
    session.flush()
    return _period_out(jv, period)


def list_periods(session: Session, ref: str, *, project_id: str) -> list[PeriodOut]:
    jv = find_jv(session, ref, project_id=project_id)
    return [_period_out(jv, p) for p in sorted(jv.periods, key=lambda p: p.period)]


def distributions(session: Session, ref: str, *, project_id: str) -> DistributionsOut:
    """Every period's distribution split by equity, and what each party received."""
    jv = find_jv(session, ref, project_id=project_id)
    periods = [_period_out(jv, p) for p in sorted(jv.periods, key=lambda p: p.period)]
    received = {name: ZERO for name, _ in _split_of(jv)}
    for period in periods:
        for share in period.shares:
            received[share.party] += share.amount
    return DistributionsOut(
        joint_venture=jv.name,
        currency=jv.currency,
        periods=periods,
        by_party=[
            ShareOut(party=name, equity_pct=pct, amount=book(received[name], jv.currency))
            for name, pct in _split_of(jv)
        ],
        total=book(sum((p.distribution for p in periods), ZERO), jv.currency),
    )
