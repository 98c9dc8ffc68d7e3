"""Task RAG rules (rag.py)."""

from __future__ import annotations

from datetime import date

import pytest

from novacron.corporate.integration.rag import computed_rag, task_rag, worst

START, DUE = date(2027, 1, 1), date(2027, 1, 31)


@pytest.mark.parametrize(
    "status,percent,today,expected",
    [
        ("done", 100, date(2027, 3, 1), "green"),  # done wins even when late
        ("in_progress", 90, date(2027, 2, 1), "red"),  # overdue
        ("blocked", 50, date(2027, 1, 26), "red"),  # blocked, due within 7 days
        ("blocked", 50, date(2027, 1, 5), "amber"),  # blocked, not due soon
        ("in_progress", 79, date(2027, 1, 24), "amber"),  # due in 7 days, < 80 %
        ("in_progress", 80, date(2027, 1, 24), "green"),  # due in 7 days, ≥ 80 %
        ("in_progress", 50, date(2027, 1, 23), "green"),  # 8 days left, on schedule
        ("not_started", 0, date(2027, 1, 2), "amber"),  # late start
        ("not_started", 0, date(2027, 1, 1), "green"),  # starts today
        ("not_started", 0, date(2026, 12, 1), "green"),  # not due to start
        ("in_progress", 10, date(2027, 1, 16), "amber"),  # 52 % expected, 10 % done
        ("in_progress", 30, date(2027, 1, 16), "green"),  # within 25 points
    ],
)
def test_computed_rag(status: str, percent: int, today: date, expected: str) -> None:
    assert computed_rag(status, percent, START, DUE, today)[0] == expected


def test_overdue_reason_names_the_due_date() -> None:
    assert computed_rag("in_progress", 10, START, DUE, date(2027, 2, 2)) == (
        "red",
        "overdue since 2027-01-31",
    )


def test_override_replaces_the_colour_but_keeps_the_computed_one() -> None:
    result = task_rag(
        "in_progress", 10, START, DUE, date(2027, 2, 2), "green", "vendor slip agreed"
    )
    assert (result.rag, result.computed) == ("green", "red")
    assert result.reason == "manual override: vendor slip agreed"


def test_worst_of() -> None:
    assert worst("green", "amber") == "amber"
    assert worst("amber", "red", "green") == "red"
    assert worst() == "green"
