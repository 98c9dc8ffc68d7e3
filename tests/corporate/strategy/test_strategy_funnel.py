"""Pipeline, conversion and value-creation maths (pure)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from novacron.corporate.strategy import funnel, value
from novacron.corporate.strategy.funnel import RegistrationFacts, StageEvent, TargetFacts

T0 = datetime(2026, 1, 1, 9)
TODAY = date(2026, 6, 30)


def target(
    name: str, path: list[tuple[str, int]], value_: int | None = 1000, currency: str = "USD",
    probability: int = 50,
) -> TargetFacts:  # fmt: skip
    history = tuple(StageEvent(stage, T0 + timedelta(days=day)) for stage, day in path)
    return TargetFacts(
        name, name, path[-1][0], "storage", currency,
        None if value_ is None else Decimal(value_), probability, history,
    )  # fmt: skip


PORTFOLIO = [
    target("a", [("screening", 0), ("preliminary", 10), ("due_diligence", 30)], 1000),
    target("b", [("screening", 0), ("preliminary", 20)], 500, "EUR", 20),
    target("c", [("screening", 0)], None),
    target(
        "d",
        [
            ("screening", 0),
            ("preliminary", 5),
            ("due_diligence", 15),
            ("negotiation", 45),
            ("closed", 75),
        ],
        2000,
        probability=100,
    ),
    target("e", [("screening", 0), ("preliminary", 10), ("dropped", 40)], 800, probability=0),
]


def test_stage_rows_count_and_value_per_currency_never_mixed() -> None:
    rows = {r.stage: r for r in funnel.pipeline_by_stage(PORTFOLIO)}
    assert list(rows) == [
        "screening", "preliminary", "due_diligence", "negotiation", "closed", "integration",
        "dropped",
    ]  # fmt: skip
    assert rows["screening"].count == 1 and rows["screening"].unvalued == 1
    assert rows["preliminary"].value == {"EUR": Decimal(500)}
    assert rows["preliminary"].weighted == {"EUR": Decimal(100)}
    assert rows["due_diligence"].weighted == {"USD": Decimal(500)}
    assert rows["integration"].count == 0
    weighted = funnel.weighted_pipeline(list(rows.values()))
    assert weighted == {
        "deals": 3,
        "value": {"EUR": Decimal(500), "USD": Decimal(1000)},
        "weighted": {"EUR": Decimal(100), "USD": Decimal(500)},
    }


def test_conversion_counts_targets_that_reached_each_stage() -> None:
    conv = {c.from_stage: c for c in funnel.conversion(PORTFOLIO)}
    assert (conv["screening"].reached, conv["screening"].converted) == (5, 4)
    assert conv["screening"].rate_pct == 80.0
    assert (conv["preliminary"].reached, conv["preliminary"].converted) == (4, 2)
    assert (conv["due_diligence"].reached, conv["due_diligence"].converted) == (2, 1)
    assert conv["closed"].reached == 1 and conv["closed"].rate_pct == 0.0
    assert funnel.conversion([])[0].rate_pct is None


def test_days_in_stage_count_open_visits_until_today() -> None:
    durations = {d.stage: d for d in funnel.stage_durations(PORTFOLIO, TODAY)}
    pre = durations["preliminary"]
    # a: 20 days, b: open since day 20, d: 10 days, e: 30 days.
    open_b = (datetime.combine(TODAY, datetime.max.time()) - (T0 + timedelta(days=20))).days
    assert pre.visits == 4 and pre.open == 1
    assert pre.max_days is not None and int(pre.max_days) == open_b
    assert durations["negotiation"].avg_days == 30.0
    assert funnel.days_to_close(PORTFOLIO) == [75.0]
    assert funnel.days_in_current_stage(PORTFOLIO[0], TODAY) == (TODAY - date(2026, 1, 31)).days


def test_a_reopened_target_counts_once_per_stage() -> None:
    t = target("r", [("screening", 0), ("preliminary", 5), ("dropped", 9), ("preliminary", 20)])
    conv = {c.from_stage: c for c in funnel.conversion([t])}
    assert conv["screening"].reached == 1 and conv["preliminary"].reached == 1
    durations = {d.stage: d for d in funnel.stage_durations([t], TODAY)}
    assert durations["preliminary"].visits == 2


NOW = datetime(2026, 6, 30, 12)


def reg(
    i: int, status: str, motion: str = "sourced", amount: int = 100, currency: str = "USD",
    expires: int = 60, closed: date | None = None, conflict: bool = False, key: str = "",
) -> RegistrationFacts:  # fmt: skip
    return RegistrationFacts(
        f"r{i}", f"p{i}", "Acme", "Platform", motion, status, Decimal(amount), currency,
        NOW + timedelta(days=expires), conflict, (), closed, key,
    )  # fmt: skip


REGS = [
    reg(1, "pending", expires=5),
    reg(2, "approved", "influenced", 300, "EUR", expires=13),
    reg(3, "won", amount=1000, closed=date(2026, 3, 1)),
    reg(4, "won", amount=50, closed=date(2024, 3, 1)),  # outside the 12 months
    reg(5, "lost", closed=date(2026, 4, 1)),
    reg(6, "pending", expires=30, conflict=True, key="acme|platform"),
    reg(7, "approved", expires=40, conflict=True, key="acme|platform"),
    reg(8, "expired", expires=-3),
]


def test_registrations_by_status_and_motion() -> None:
    rows = {r.status: r for r in funnel.registrations_by_status(REGS)}
    assert rows["pending"].count == 2 and rows["pending"].amount == {"USD": Decimal(200)}
    assert rows["won"].amount == {"USD": Decimal(1050)}
    since = TODAY - timedelta(days=365)
    motion = funnel.by_motion(REGS, since, TODAY)
    assert motion["sourced"]["open_count"] == 3
    assert motion["sourced"]["won_revenue"] == {"USD": Decimal(1000)}
    assert motion["influenced"]["open_pipeline"] == {"EUR": Decimal(300)}
    assert funnel.win_rate(REGS, since, TODAY) == {"won": 1, "lost": 1, "pct": 50.0}


def test_expiring_and_conflicts() -> None:
    soon = funnel.expiring(REGS, NOW, 14)
    assert [r.id for r in soon] == ["r1", "r2"]
    groups = funnel.conflicts(REGS)
    assert [[r.id for r in g] for g in groups] == [["r6", "r7"]]


def test_value_roll_up_per_currency_and_calendar_series() -> None:
    a = value.ProgrammeValue(
        "p1", "Acme integration", "t1", "USD", date(2025, 1, 15),
        {"cost": value.Realised(Decimal(100), Decimal(62), Decimal(400)),
         "revenue": value.Realised(Decimal(50), Decimal(50), Decimal(200))},
        (value.Point("cost", date(2025, 4, 14), Decimal(50), Decimal(31)),
         value.Point("cost", date(2025, 7, 14), Decimal(50), Decimal(31)),
         value.Point("cost", date(2025, 10, 14), Decimal(50), None)),
    )  # fmt: skip
    b = value.ProgrammeValue(
        "p2", "Beta integration", "t2", "EUR", date(2025, 3, 1),
        {"cost": value.Realised(Decimal(10), Decimal(12), Decimal(40))},
    )  # fmt: skip
    out = value.roll_up([a, b])
    usd = out["by_currency"]["USD"]
    assert usd["by_category"]["cost"]["realisation_pct"] == 62.0
    assert usd["overall"]["planned_to_date"] == Decimal(150)
    assert usd["overall"]["realisation_pct"] == 74.7
    assert out["by_currency"]["EUR"]["overall"]["realisation_pct"] == 120.0
    series = usd["series_by_category"]["cost"]
    assert [p["quarter"] for p in series] == ["2025-Q2", "2025-Q3", "2025-Q4"]
    assert series[1]["actual_cumulative"] == Decimal(62)
    assert series[2]["actual"] is None and series[2]["planned_cumulative"] == Decimal(150)
    assert value.realisation_by_currency([a, b]) == {"EUR": 120.0, "USD": 74.7}


@given(
    st.lists(
        st.lists(st.sampled_from(["screening", "preliminary", "due_diligence", "negotiation",
                                  "closed", "integration", "dropped"]), min_size=1, max_size=8),
        max_size=20,
    )
)  # fmt: skip
def test_conversion_never_exceeds_reach(paths: list[list[str]]) -> None:
    targets = [target(str(i), [(s, d) for d, s in enumerate(p)]) for i, p in enumerate(paths)]
    for c in funnel.conversion(targets):
        assert 0 <= c.converted <= c.reached <= len(targets)
        if c.rate_pct is not None:
            assert 0 <= c.rate_pct <= 100
