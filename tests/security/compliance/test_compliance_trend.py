"""Trend math between runs, and the run schedule."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from novacron.core.errors import Invalid
from novacron.security.compliance import (
    Finding,
    FindingSummary,
    RunRecord,
    Schedule,
    Severity,
    Status,
    compute_trend,
    default_registry,
    pass_rate,
    summarize,
)

T0 = datetime(2025, 3, 1, 2, 30)
P, F, M, E, S = Status.PASS, Status.FAIL, Status.MUTED, Status.ERROR, Status.SKIPPED


def fs(check: str, resource: str, status: Status, sev: Severity = Severity.HIGH) -> FindingSummary:
    return FindingSummary(check, resource, status, sev)


def test_trend_rates_severities_new_and_resolved() -> None:
    runs = [
        RunRecord(
            "r2",
            T0 + timedelta(days=1),
            [
                fs("A", "hv1", P),
                fs("B", "hv1", F, Severity.CRITICAL),
                fs("C", "platform", P),
                fs("D", "platform", F),
                fs("E", "hv2", M),
                fs("G", "hv1", E),
            ],
        ),
        RunRecord(  # given out of order on purpose
            "r1",
            T0,
            [
                fs("A", "hv1", F),
                fs("B", "hv1", F, Severity.CRITICAL),
                fs("C", "platform", F, Severity.LOW),
                fs("E", "hv2", F),
                fs("G", "hv1", S),
            ],
        ),
    ]
    first, second = compute_trend(runs)
    assert first.run_id == "r1"
    assert first.pass_rate == 0.0
    assert first.new_failures == (("A", "hv1"), ("B", "hv1"), ("C", "platform"), ("E", "hv2"))
    assert first.resolved == ()
    assert first.failures_by_severity[Severity.HIGH] == 2
    assert first.failures_by_severity[Severity.CRITICAL] == 1
    assert first.failures_by_severity[Severity.LOW] == 1

    assert second.run_id == "r2"
    assert second.pass_rate == pytest.approx(2 / 4)  # muted, error and skipped do not count
    assert second.counts[P] == 2 and second.counts[F] == 2 and second.counts[M] == 1
    assert second.failures_by_severity == {
        Severity.CRITICAL: 1,
        Severity.HIGH: 1,
        Severity.MEDIUM: 0,
        Severity.LOW: 0,
        Severity.INFO: 0,
    }
    assert second.new_failures == (("D", "platform"),)
    # E went from fail to muted: not resolved; A and C now pass.
    assert second.resolved == (("A", "hv1"), ("C", "platform"))


def test_pass_rate_is_none_without_judged_findings() -> None:
    assert pass_rate([fs("A", "x", S), fs("B", "x", E)]) is None
    assert pass_rate([]) is None


def test_summarize_takes_severity_from_the_registry() -> None:
    findings = [
        Finding("NC-IAM-002", F, "platform", "e", T0),
        Finding("NC-TLS-002", P, "platform", "e", T0),
    ]
    out = summarize(findings, default_registry().metas)
    assert [(s.check_id, s.severity) for s in out] == [
        ("NC-IAM-002", Severity.CRITICAL),
        ("NC-TLS-002", Severity.MEDIUM),
    ]


# --- schedule ------------------------------------------------------------------------


def test_interval_schedule() -> None:
    every = Schedule.parse("every 6h")
    assert every.interval == timedelta(hours=6) and str(every) == "every 6h"
    now = datetime(2025, 3, 1, 10, 0)
    assert every.next_run(None, now) == now
    assert every.next_run(datetime(2025, 3, 1, 8, 0), now) == datetime(2025, 3, 1, 14, 0)
    assert not every.is_due(datetime(2025, 3, 1, 8, 0), now)
    assert every.is_due(datetime(2025, 3, 1, 3, 0), now)


def test_daily_schedule() -> None:
    daily = Schedule.parse("daily 02:30")
    assert daily.daily_at == time(2, 30) and str(daily) == "daily 02:30"
    # Never run: the next 02:30 at or after now.
    assert daily.next_run(None, datetime(2025, 3, 1, 1, 0)) == datetime(2025, 3, 1, 2, 30)
    assert daily.next_run(None, datetime(2025, 3, 1, 2, 30)) == datetime(2025, 3, 1, 2, 30)
    assert daily.next_run(None, datetime(2025, 3, 1, 3, 0)) == datetime(2025, 3, 2, 2, 30)
    # Ran today at 02:30:04 → tomorrow.
    assert daily.next_run(datetime(2025, 3, 1, 2, 30, 4), datetime(2025, 3, 1, 9)) == datetime(
        2025, 3, 2, 2, 30
    )
    # Server down over 02:30: due at once, then not again until tomorrow.
    last, now = datetime(2025, 3, 1, 2, 30), datetime(2025, 3, 2, 9, 0)
    assert daily.is_due(last, now)
    assert not daily.is_due(now, now + timedelta(minutes=1))
    assert daily.next_run(now, now) == datetime(2025, 3, 3, 2, 30)


@pytest.mark.parametrize("spec", ["every 1m", "hourly", "daily 24:00", "daily 7", "every h"])
def test_bad_schedules_are_invalid(spec: str) -> None:
    with pytest.raises(Invalid):
        Schedule.parse(spec)


def test_schedule_constructors() -> None:
    assert Schedule.daily("7:05").daily_at == time(7, 5)
    assert str(Schedule.every(timedelta(days=1))) == "every 1d"
    assert str(Schedule.parse("every 90m")) == "every 90m"
    with pytest.raises(Invalid):
        Schedule(interval=timedelta(hours=1), daily_at=time(1, 0))
