"""The default programme template (plan.py): pure data, checked without a database."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from novacron.corporate.integration import dag, plan

CLOSE = date(2027, 1, 15)


def test_nine_workstreams_each_with_an_owner_role() -> None:
    assert plan.WORKSTREAM_KEYS == (
        "technology",
        "product",
        "sales",
        "marketing",
        "customer_success",
        "finance",
        "legal",
        "hr",
        "operations",
    )
    assert all(plan.OWNER_ROLE[key] for key in plan.WORKSTREAM_KEYS)


def test_four_consecutive_phases_of_1_3_12_6_months() -> None:
    windows = plan.phase_windows(CLOSE)
    assert [w.key for w in windows] == [
        "day1_readiness",
        "stabilisation",
        "execution",
        "optimisation",
    ]
    assert windows[0].start == CLOSE
    assert [(w.start, w.end) for w in windows] == [
        (date(2027, 1, 15), date(2027, 2, 14)),
        (date(2027, 2, 15), date(2027, 5, 14)),
        (date(2027, 5, 15), date(2028, 5, 14)),
        (date(2028, 5, 15), date(2028, 11, 14)),
    ]
    for before, after in itertools.pairwise(windows):
        assert after.start == before.end + timedelta(days=1)


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert plan.add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert plan.add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert plan.add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert plan.add_months(date(2027, 5, 15), 12) == date(2028, 5, 15)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_every_milestone_and_task_falls_inside_its_phase(close: date) -> None:
    layout = plan.build_plan(close)
    phases = {w.key: w for w in layout.phases}
    for m in layout.milestones:
        assert phases[m.phase].start <= m.due <= phases[m.phase].end, m.key
    for t in layout.tasks:
        window = phases[t.phase]
        assert window.start <= t.start <= t.due <= window.end, t.key
    assert layout.phases[-1].end == plan.add_months(close, 22) - timedelta(days=1)


def test_milestones_cover_every_phase_and_name_the_classics() -> None:
    layout = plan.build_plan(CLOSE)
    assert {m.phase for m in layout.milestones} == set(plan.PHASE_KEYS)
    titles = " | ".join(m.title for m in layout.milestones)
    for expected in (
        "Day-1 communications",
        "Payroll and benefits continuity",
        "Access and identity merged",
        "First combined forecast",
        "CRM merged",
        "Product roadmap unified",
        "Data centres consolidated",
        "Synergy run-rate achieved",
    ):
        assert expected in titles
    day1 = next(m for m in layout.milestones if m.key == "day1_comms")
    assert (day1.due, day1.workstream, day1.owner) == (CLOSE, "marketing", "CMO")


def test_every_workstream_has_tasks_and_keys_are_unique() -> None:
    keys = [t.key for t in plan.TASKS]
    assert len(keys) == len(set(keys))
    assert {t.workstream for t in plan.TASKS} == set(plan.WORKSTREAM_KEYS)
    assert {t.phase for t in plan.TASKS} == set(plan.PHASE_KEYS)
    assert all(t.workstream in plan.WORKSTREAM_KEYS for t in plan.MILESTONES)


def test_task_dependencies_form_a_dag_of_known_tasks() -> None:
    keys = {t.key for t in plan.TASKS}
    deps = {t.key: list(t.depends_on) for t in plan.TASKS}
    assert all(d in keys for ds in deps.values() for d in ds)
    order = dag.topological_order(deps)
    assert set(order) == keys
    position = {k: i for i, k in enumerate(order)}
    assert all(position[d] < position[t] for t, ds in deps.items() for d in ds)


def test_dependencies_are_due_no_later_than_their_dependents() -> None:
    layout = plan.build_plan(CLOSE)
    by_key = {t.key: t for t in layout.tasks}
    for task in layout.tasks:
        for dep in task.depends_on:
            assert by_key[dep].due <= task.due, (dep, task.key)


@pytest.mark.parametrize("fraction,expected", [(0.0, 0), (0.5, 15), (1.0, 30)])
def test_phase_fraction_maps_to_a_day(fraction: float, expected: int) -> None:
    first = plan.phase_windows(date(2027, 3, 1))[0]  # 1 Mar - 31 Mar
    assert first.at(fraction) == first.start + timedelta(days=expected)
