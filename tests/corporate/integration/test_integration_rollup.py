"""Roll-ups (rollup.py) and synergy realisation (synergy.py), without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from novacron.corporate.finance.money import CurrencyMismatch
from novacron.corporate.integration import rollup, synergy
from novacron.corporate.integration.rollup import EscalationFacts, MilestoneFacts, RiskFacts

TODAY = date(2027, 6, 1)


def task(
    tid: str,
    status: str = "in_progress",
    percent: int = 0,
    days: int = 10,
    colour: str = "green",
    critical: bool = False,
    workstream: str = "finance",
) -> rollup.TaskFacts:
    start = date(2027, 5, 1)
    due = date.fromordinal(start.toordinal() + days - 1)
    return rollup.TaskFacts(
        tid, f"task {tid}", workstream, "execution", status, percent, start, due, colour, critical
    )


def test_weighted_percent_weighs_tasks_by_duration_and_done_counts_100() -> None:
    tasks = [task("a", percent=50, days=30), task("b", "done", percent=0, days=10)]
    assert rollup.weighted_percent(tasks) == pytest.approx((30 * 50 + 10 * 100) / 40)
    assert rollup.weighted_percent([]) == 0.0


def test_counts_and_green_when_nothing_is_wrong() -> None:
    result = rollup.rollup(
        [task("a", "done"), task("b", "blocked", colour="green"), task("c")],
        [MilestoneFacts("finance", "execution", "hit", date(2027, 5, 1))],
        [EscalationFacts("finance", "low", False)],
        [RiskFacts("finance", True), RiskFacts("finance", False)],
        TODAY,
    )
    assert (result.tasks_total, result.tasks_done, result.tasks_blocked) == (3, 1, 1)
    assert (result.milestones_hit, result.milestones_missed) == (1, 0)
    assert (result.open_escalations, result.open_risks) == (0, 1)
    assert (result.rag, result.rag_reasons) == ("green", [])


def test_a_red_critical_path_task_makes_the_group_red() -> None:
    tasks = [task("a", colour="red", critical=True)] + [task(str(i)) for i in range(9)]
    result = rollup.rollup(tasks, [], [], [], TODAY)
    assert result.rag == "red"
    assert "critical-path task 'task a' is red" in result.rag_reasons


def test_one_red_task_off_the_critical_path_is_amber_a_quarter_red_is_red() -> None:
    few = [task("a", colour="red")] + [task(str(i)) for i in range(9)]
    assert rollup.rollup(few, [], [], [], TODAY).rag == "amber"
    many = [task("a", colour="red"), task("b", colour="red")] + [task(str(i)) for i in range(6)]
    assert rollup.rollup(many, [], [], [], TODAY).rag == "red"


def test_done_tasks_are_not_counted_in_the_shares() -> None:
    tasks = [task("a", colour="amber")] + [task(str(i), "done") for i in range(9)]
    result = rollup.rollup(tasks, [], [], [], TODAY)
    assert result.rag == "amber"
    assert result.rag_reasons == ["1 of 1 open tasks are amber"]


def test_missed_milestones_and_escalations_colour_the_group() -> None:
    overdue = MilestoneFacts("hr", "execution", "pending", date(2027, 5, 31))
    assert overdue.missed(TODAY) and not overdue.missed(date(2027, 5, 31))
    result = rollup.rollup([], [overdue], [EscalationFacts("hr", "high", True)], [], TODAY)
    assert (result.rag, result.milestones_missed, result.open_escalations) == ("amber", 1, 1)
    critical = rollup.rollup([], [], [EscalationFacts(None, "critical", True)], [], TODAY)
    assert critical.rag == "red"
    resolved = rollup.rollup([], [], [EscalationFacts(None, "critical", False)], [], TODAY)
    assert resolved.rag == "green"


def test_programme_rules_for_synergies_and_arr() -> None:
    assert rollup.programme_rules(None, None) == []
    assert rollup.programme_rules(85.0, 95.0) == []
    assert rollup.programme_rules(79.5, 95.0)[0][0] == "amber"
    assert rollup.programme_rules(49.0, None)[0][0] == "red"
    assert rollup.programme_rules(None, 89.0) == [("amber", "ARR retention 89%")]


def test_retention_rates_are_headcount_and_arr_weighted() -> None:
    result = rollup.retention(
        [("retained", "high"), ("retained", "low"), ("left", "high"), ("retained", "medium")],
        [
            ("retained", Decimal("600000")),
            ("at_risk", Decimal("300000")),
            ("churned", Decimal("100000")),
        ],
    )
    assert (result.employees_retained, result.employees_left, result.high_flight_risk) == (3, 1, 1)
    assert result.headcount_retention_pct == 75.0
    assert result.arr_total == Decimal("1000000")
    assert result.arr_retained == Decimal("900000")
    assert result.arr_at_risk == Decimal("300000")
    assert result.arr_retention_pct == 90.0
    assert result.logo_retention_pct == pytest.approx(66.67)
    empty = rollup.retention([], [])
    assert (empty.headcount_retention_pct, empty.arr_retention_pct) == (None, None)


# -- synergies -------------------------------------------------------------------------------

CLOSE = date(2027, 1, 15)


def test_quarters_after_close() -> None:
    q1, q5 = synergy.period(CLOSE, 1), synergy.period(CLOSE, 5)
    assert (q1.start, q1.end) == (date(2027, 1, 15), date(2027, 4, 14))
    assert (q5.start, q5.end) == (date(2028, 1, 15), date(2028, 4, 14))
    assert synergy.elapsed_periods(CLOSE, date(2027, 4, 14)) == 0
    assert synergy.elapsed_periods(CLOSE, date(2027, 4, 15)) == 1
    assert synergy.elapsed_periods(CLOSE, date(2027, 10, 20)) == 3


def test_planned_amounts_phase_in_the_run_rate_per_year() -> None:
    amounts = synergy.planned_amounts(
        Decimal("1500000.00"), [Decimal("0.25"), Decimal("0.5"), Decimal("1.0")]
    )
    assert len(amounts) == 12
    assert amounts[:4] == [Decimal("93750.0000")] * 4
    assert amounts[4] == Decimal("187500.0000")
    assert amounts[11] == Decimal("375000.0000")
    assert sum(amounts) == Decimal("1500000") * Decimal("1.75")


def _lines() -> list[synergy.LineFacts]:
    revenue = synergy.LineFacts(
        "revenue", "USD", [Decimal(100)] * 4, {1: Decimal(50), 2: Decimal(70)}
    )
    cost = synergy.LineFacts("cost", "USD", [Decimal(200)] * 4, {1: Decimal(200), 3: Decimal(250)})
    return [revenue, cost]


def test_realisation_uses_the_plan_to_date() -> None:
    report = synergy.report(_lines(), elapsed=2)
    # revenue: plan Q1+Q2 = 200, actual 120; cost: plan Q1+Q2+Q3 (Q3 has an actual) = 600
    assert report.by_category["revenue"].pct == 60.0
    assert report.by_category["cost"].planned_to_date == Decimal(600)
    assert report.by_category["cost"].pct == 75.0
    assert report.overall.actual_to_date == Decimal(570)
    assert report.overall.pct == 71.25
    assert report.overall.planned_total == Decimal(1200)
    assert synergy.report([], 3).overall.pct is None


def test_mixed_currencies_are_refused_naming_the_line() -> None:
    lines = [*_lines(), synergy.LineFacts("cost", "EUR", [Decimal(1)] * 4)]
    with pytest.raises(CurrencyMismatch) as err:
        synergy.report(lines, 1)
    assert err.value.errors[0]["loc"] == ["synergy_plan", 2, "currency"]


def test_cumulative_series_for_the_chart() -> None:
    points = synergy.cumulative_series(_lines(), CLOSE, elapsed=2)
    assert [p.planned_cumulative for p in points] == [Decimal(n) for n in (300, 600, 900, 1200)]
    assert [p.actual for p in points] == [Decimal(250), Decimal(70), Decimal(250), None]
    assert [p.actual_cumulative for p in points] == [Decimal(250), Decimal(320), Decimal(570), None]
    revenue = synergy.cumulative_series(_lines(), CLOSE, elapsed=0, category="revenue")
    assert [p.actual for p in revenue] == [Decimal(50), Decimal(70), None, None]
