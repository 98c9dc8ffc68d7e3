"""The synergy plan of a target: lines in the target's currency, totals computed."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from novacron.core.errors import Conflict, NotFound
from novacron.core.ids import new_id
from novacron.corporate.finance.money import CurrencyMismatch
from novacron.corporate.ma.models import SynergyLine, Target
from novacron.corporate.ma.rollups import SynergyFacts, check_phase_in, synergy_totals
from novacron.corporate.ma.schemas import (
    MAX_SYNERGY_LINES,
    SynergyLineIn,
    SynergyLineOut,
    SynergyPlanIn,
    SynergyPlanOut,
    SynergyTotals,
)
from novacron.corporate.ma.service.targets import find_target


def _check_line(target: Target, line: SynergyLineIn, loc: list[str | int]) -> str:
    """The line's currency (the target's when omitted); refused when it differs."""
    currency = line.currency or target.currency
    if currency != target.currency:
        raise CurrencyMismatch(
            f"{'.'.join(map(str, [*loc, 'currency']))} is {currency} but {target.name} is "
            f"valued in {target.currency}: state every synergy in {target.currency}",
            errors=[{"loc": [*loc, "currency"], "msg": f"{currency} != {target.currency}"}],
        )
    check_phase_in(line.phase_in, [*loc, "phase_in"])
    return currency


def _row(target: Target, line: SynergyLineIn, currency: str, by: str) -> SynergyLine:
    return SynergyLine(
        id=new_id("syn"),
        target_id=target.id,
        category=line.category,
        name=line.name,
        description=line.description,
        run_rate=line.run_rate,
        currency=currency,
        phase_in=list(line.phase_in),
        one_off_cost=line.one_off_cost,
        owner=line.owner,
        created_by=by,
    )


def add_line(
    session: Session, ref: str, line: SynergyLineIn, by: str, *, project_id: str
) -> SynergyLine:
    target = find_target(session, ref, project_id=project_id, lock=True)
    currency = _check_line(target, line, [])
    count = session.scalar(
        select(func.count()).select_from(SynergyLine).where(SynergyLine.target_id == target.id)
    )
    if (count or 0) >= MAX_SYNERGY_LINES:
        raise Conflict(f"{target.name} already has {count} synergy lines (the most a plan holds)")
    row = _row(target, line, currency, by)
    session.add(row)
    session.flush()
    return row


def replace_plan(
    session: Session, ref: str, plan: SynergyPlanIn, by: str, *, project_id: str
) -> SynergyPlanOut:
    """Replace every line at once (all checked before anything changes)."""
    target = find_target(session, ref, project_id=project_id, lock=True)
    currencies = [_check_line(target, line, ["lines", i]) for i, line in enumerate(plan.lines)]
    session.execute(delete(SynergyLine).where(SynergyLine.target_id == target.id))
    for line, currency in zip(plan.lines, currencies, strict=True):
        session.add(_row(target, line, currency, by))
    session.flush()
    return plan_out(session, target.id, project_id=project_id)


def delete_line(session: Session, ref: str, line_id: str, *, project_id: str) -> None:
    target = find_target(session, ref, project_id=project_id, lock=True)
    row = session.get(SynergyLine, line_id)
    if row is None or row.target_id != target.id:
        raise NotFound(f"no synergy line {line_id!r} on {target.name}")
    session.delete(row)
    session.flush()


def plan_out(session: Session, ref: str, *, project_id: str) -> SynergyPlanOut:
    target = find_target(session, ref, project_id=project_id)
    lines = list(
        session.scalars(
            select(SynergyLine)
            .where(SynergyLine.target_id == target.id)
            .order_by(SynergyLine.category.desc(), SynergyLine.created_at, SynergyLine.id)
        )
    )
    totals = synergy_totals(
        [SynergyFacts(x.category, x.run_rate, x.phase_in, x.one_off_cost) for x in lines]
    )
    return SynergyPlanOut(
        target_id=target.id,
        currency=target.currency,
        lines=[SynergyLineOut.model_validate(x) for x in lines],
        totals=SynergyTotals.model_validate(totals),
    )
