"""Value capture: synergy realisation against plan, and retention of key people and
customers. Every figure is Decimal in the programme's currency; a figure in another
currency is refused with ``CurrencyMismatch`` naming the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from novacron.core.ids import new_id
from novacron.corporate.finance.money import CurrencyMismatch
from novacron.corporate.integration import rollup, synergy
from novacron.corporate.integration.models import (
    KeyCustomer,
    KeyEmployee,
    Programme,
    SynergyActual,
    SynergyLine,
)
from novacron.corporate.integration.report_schemas import (
    RealisationOut,
    RetentionOut,
    RetentionRatesOut,
    SeriesPointOut,
    SynergiesOut,
    SynergyLineOut,
    SynergyPeriodOut,
)
from novacron.corporate.integration.schemas import (
    ActualIn,
    CustomerIn,
    CustomerOut,
    CustomerUpdate,
    EmployeeIn,
    EmployeeOut,
    EmployeeUpdate,
)
from novacron.corporate.integration.service.common import child, find_programme, invalid
from novacron.corporate.integration.service.programmes import synergy_lines


def _same(expected: str, given: str, field: str = "currency") -> None:
    if given != expected:
        raise CurrencyMismatch(
            f"{field} is {given} but this figure is kept in {expected}: convert first",
            errors=[{"loc": [field], "msg": f"currency {given} != {expected}"}],
        )


# -- synergies -------------------------------------------------------------------------------


def line_facts(s: Session, programme: Programme) -> list[tuple[SynergyLine, synergy.LineFacts]]:
    lines = synergy_lines(s, programme)
    actuals: dict[str, dict[int, Decimal]] = {line.id: {} for line in lines}
    for row in s.scalars(select(SynergyActual).where(SynergyActual.programme_id == programme.id)):
        actuals[row.line_id][row.period] = Decimal(row.amount)
    return [
        (
            line,
            synergy.LineFacts(
                line.category,
                line.currency,
                synergy.planned_amounts(
                    Decimal(line.run_rate), [Decimal(x) for x in line.phase_in]
                ),
                actuals[line.id],
            ),
        )
        for line in lines
    ]


def realisation_report(s: Session, programme: Programme, as_of: date) -> synergy.RealisationReport:
    facts = [f for _, f in line_facts(s, programme)]
    return synergy.report(facts, synergy.elapsed_periods(programme.close_date, as_of))


def synergies(s: Session, ref: str, as_of: date, *, project_id: str) -> SynergiesOut:
    """Plan vs actual per line and quarter, realisation by category, and the cumulative
    series for the chart."""
    programme = find_programme(s, ref, project_id=project_id)
    pairs = line_facts(s, programme)
    facts = [f for _, f in pairs]
    elapsed = synergy.elapsed_periods(programme.close_date, as_of)
    report = synergy.report(facts, elapsed)
    lines = []
    for line, fact in pairs:
        quarters = synergy.periods(programme.close_date, len(fact.planned))
        lines.append(
            SynergyLineOut(
                id=line.id,
                category=line.category,
                name=line.name,
                currency=line.currency,
                run_rate=line.run_rate,
                phase_in=[Decimal(x) for x in line.phase_in],
                one_off_cost=line.one_off_cost,
                realisation=RealisationOut.model_validate(synergy.realisation([fact], elapsed)),
                periods=[
                    SynergyPeriodOut(
                        period=q.index,
                        start=q.start,
                        end=q.end,
                        planned=fact.planned[q.index - 1],
                        actual=fact.actuals.get(q.index),
                    )
                    for q in quarters
                ],
            )
        )

    def series(category: str | None) -> list[SeriesPointOut]:
        points = synergy.cumulative_series(facts, programme.close_date, elapsed, category)
        return [SeriesPointOut.model_validate(p) for p in points]

    return SynergiesOut(
        currency=programme.currency,
        as_of=as_of,
        period_length="quarter",
        elapsed_periods=elapsed,
        overall=RealisationOut.model_validate(report.overall),
        by_category={k: RealisationOut.model_validate(v) for k, v in report.by_category.items()},
        one_off_cost_total=sum((ln.one_off_cost for ln, _ in pairs), start=Decimal(0)),
        lines=lines,
        series=series(None),
        series_by_category={cat: series(cat) for cat in synergy.CATEGORIES},
    )


def record_actual(
    s: Session, ref: str, body: ActualIn, who: str, *, project_id: str
) -> SynergyActual:
    """The actual of one plan line for one quarter; recording the same quarter again
    replaces the figure (a correction)."""
    programme = find_programme(s, ref, project_id=project_id)
    line = s.get(SynergyLine, body.line_id)
    if line is None or line.programme_id != programme.id:
        raise invalid("line_id", f"no synergy plan line {body.line_id!r} in this programme")
    _same(line.currency, body.currency)
    horizon = len(line.phase_in) * synergy.PERIODS_PER_YEAR
    if body.period > horizon:
        raise invalid("period", f"the plan of {line.name!r} covers quarters 1-{horizon}")
    row = s.scalars(
        select(SynergyActual).where(
            SynergyActual.line_id == line.id, SynergyActual.period == body.period
        )
    ).first()
    if row is None:
        row = SynergyActual(
            id=new_id("act"), programme_id=programme.id, line_id=line.id, period=body.period
        )
        s.add(row)
    row.amount, row.currency, row.note, row.recorded_by = body.amount, body.currency, body.note, who
    s.flush()
    return row


# -- retention -------------------------------------------------------------------------------


def _people(s: Session, programme: Programme) -> tuple[list[KeyEmployee], list[KeyCustomer]]:
    employees = s.scalars(
        select(KeyEmployee)
        .where(KeyEmployee.programme_id == programme.id)
        .order_by(KeyEmployee.created_at, KeyEmployee.id)
    )
    customers = s.scalars(
        select(KeyCustomer)
        .where(KeyCustomer.programme_id == programme.id)
        .order_by(KeyCustomer.created_at, KeyCustomer.id)
    )
    return list(employees), list(customers)


def _rates(employees: list[KeyEmployee], customers: list[KeyCustomer]) -> rollup.Retention:
    return rollup.retention(
        ((e.status, e.flight_risk) for e in employees),
        ((c.status, Decimal(c.arr)) for c in customers),
    )


def retention_rates(s: Session, programme: Programme) -> rollup.Retention:
    return _rates(*_people(s, programme))


def retention(s: Session, ref: str, *, project_id: str) -> RetentionOut:
    programme = find_programme(s, ref, project_id=project_id)
    employees, customers = _people(s, programme)
    return RetentionOut(
        currency=programme.currency,
        rates=RetentionRatesOut.model_validate(_rates(employees, customers)),
        retention_bonus_total=sum(
            (Decimal(e.retention_bonus) for e in employees), start=Decimal(0)
        ),
        employees=[EmployeeOut.model_validate(e) for e in employees],
        customers=[CustomerOut.model_validate(c) for c in customers],
    )


def add_employee(s: Session, ref: str, body: EmployeeIn, *, project_id: str) -> KeyEmployee:
    programme = find_programme(s, ref, project_id=project_id)
    currency = body.currency or programme.currency
    _same(programme.currency, currency)
    employee = KeyEmployee(
        id=new_id("kemp"),
        programme_id=programme.id,
        **body.model_dump(exclude={"currency"}),
        currency=currency,
    )
    s.add(employee)
    s.flush()
    return employee


def update_employee(
    s: Session, ref: str, employee_id: str, body: EmployeeUpdate, *, project_id: str
) -> KeyEmployee:
    programme = find_programme(s, ref, project_id=project_id)
    employee = child(s, KeyEmployee, programme, employee_id, "key employee")
    if body.currency is not None:
        _same(programme.currency, body.currency)
    for field, value in body.model_dump(exclude_none=True).items():
        setattr(employee, field, value)
    s.flush()
    return employee


def add_customer(s: Session, ref: str, body: CustomerIn, *, project_id: str) -> KeyCustomer:
    programme = find_programme(s, ref, project_id=project_id)
    currency = body.currency or programme.currency
    _same(programme.currency, currency)
    customer = KeyCustomer(
        id=new_id("kcus"),
        programme_id=programme.id,
        **body.model_dump(exclude={"currency"}),
        currency=currency,
    )
    s.add(customer)
    s.flush()
    return customer


def update_customer(
    s: Session, ref: str, customer_id: str, body: CustomerUpdate, *, project_id: str
) -> KeyCustomer:
    programme = find_programme(s, ref, project_id=project_id)
    customer = child(s, KeyCustomer, programme, customer_id, "key customer")
    if body.currency is not None:
        _same(programme.currency, body.currency)
    for field, value in body.model_dump(exclude_none=True).items():
        setattr(customer, field, value)
    s.flush()
    return customer
