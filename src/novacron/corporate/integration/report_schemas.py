"""Pydantic types of what the integration API computes: synergy realisation, retention
rates and the programme summary. Output only: no endpoint accepts any of these."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from novacron.corporate.integration.schemas import CustomerOut, EmployeeOut, Out


class Computed(Out):
    """Serialised like every integration answer (``Out``: ISO times, plain amounts)."""


class RealisationOut(Computed):
    planned_to_date: Decimal
    actual_to_date: Decimal
    planned_total: Decimal
    pct: float | None


class SynergyPeriodOut(Computed):
    period: int
    start: date
    end: date
    planned: Decimal
    actual: Decimal | None


class SynergyLineOut(Computed):
    id: str
    category: str
    name: str
    currency: str
    run_rate: Decimal
    phase_in: list[Decimal]
    one_off_cost: Decimal
    realisation: RealisationOut
    periods: list[SynergyPeriodOut]


class SeriesPointOut(Computed):
    period: int
    start: date
    end: date
    planned: Decimal
    actual: Decimal | None
    planned_cumulative: Decimal
    actual_cumulative: Decimal | None


class SynergiesOut(Computed):
    currency: str
    as_of: date
    period_length: str
    """Always ``quarter``: period n is the n-th quarter after close."""
    elapsed_periods: int
    overall: RealisationOut
    by_category: dict[str, RealisationOut]
    one_off_cost_total: Decimal
    lines: list[SynergyLineOut]
    series: list[SeriesPointOut]
    """Cumulative plan vs actual per quarter, all lines (the realisation chart)."""
    series_by_category: dict[str, list[SeriesPointOut]]


class RetentionRatesOut(Computed):
    employees_total: int
    employees_retained: int
    employees_left: int
    high_flight_risk: int
    headcount_retention_pct: float | None
    customers_total: int
    customers_retained: int
    customers_at_risk: int
    customers_churned: int
    logo_retention_pct: float | None
    arr_total: Decimal
    arr_retained: Decimal
    arr_at_risk: Decimal
    arr_retention_pct: float | None


class RetentionOut(Computed):
    currency: str
    rates: RetentionRatesOut
    retention_bonus_total: Decimal
    employees: list[EmployeeOut]
    customers: list[CustomerOut]


class RollupOut(Computed):
    tasks_total: int
    tasks_done: int
    tasks_blocked: int
    percent_complete: float
    rag_counts: dict[str, int]
    milestones_total: int
    milestones_hit: int
    milestones_missed: int
    open_escalations: int
    open_risks: int
    rag: str
    rag_reasons: list[str]


class WorkstreamRollupOut(RollupOut):
    key: str
    name: str
    lead: str | None


class PhaseRollupOut(RollupOut):
    key: str
    name: str
    start_date: date
    end_date: date


class SummaryOut(Computed):
    programme_id: str
    name: str
    target_id: str
    close_date: date
    as_of: date
    currency: str
    current_phase: str | None
    overall: RollupOut
    workstreams: list[WorkstreamRollupOut]
    phases: list[PhaseRollupOut]
    synergies: dict[str, RealisationOut]
    """``overall``, ``revenue`` and ``cost``."""
    retention: RetentionRatesOut
    critical_path: list[str]
    critical_path_days: int
