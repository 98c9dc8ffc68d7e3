"""Licence revenue recognition, against cases worked by hand (arithmetic in comments).

The reference licence (out-licence, USD): term 2026-01-01 – 2027-12-31 (730 days),
tiers 5 % up to 1,000,000 of contract-year net sales, 3 % up to 2,500,000, 2 % above,
minimum annual guarantee 120,000, upfront fee 73,000 straight-line (100.00 a day),
milestone "first shipment" 50,000 achieved 2026-05-15.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from novacron.core.errors import Invalid
from novacron.corporate.ecosystem.royalties import (
    Milestone,
    SalesPeriod,
    Terms,
    Tier,
    add_years,
    contract_year,
    royalty_between,
    schedule,
    validate_period,
    validate_terms,
    validate_tiers,
)

D = Decimal
TIERS = (Tier(D(0), D(5)), Tier(D(1_000_000), D(3)), Tier(D(2_500_000), D(2)))
TERMS = Terms(
    currency="USD",
    term_start=date(2026, 1, 1),
    term_end=date(2027, 12, 31),
    tiers=TIERS,
    minimum_annual_guarantee=D(120_000),
    upfront_fee=D(73_000),
    milestones=(Milestone("first shipment", D(50_000), date(2026, 5, 15)),),
)
QUARTERS_2026 = [
    SalesPeriod(date(2026, 1, 1), date(2026, 3, 31), D(800_000)),
    SalesPeriod(date(2026, 4, 1), date(2026, 6, 30), D(900_000)),
    SalesPeriod(date(2026, 7, 1), date(2026, 9, 30), D(1_000_000)),
    SalesPeriod(date(2026, 10, 1), date(2026, 12, 31), D(0)),
]


def test_tiers_are_marginal_within_the_contract_year() -> None:
    rows = schedule(TERMS, QUARTERS_2026).rows
    # Q1: 800,000 × 5 % = 40,000.
    assert rows[0].royalty == D("40000.00")
    # Q2: cumulative 800,000 → 1,700,000: 200,000 × 5 % = 10,000 + 700,000 × 3 % = 21,000.
    assert rows[1].royalty == D("31000.00")
    # Q3: 1,700,000 → 2,700,000: 800,000 × 3 % = 24,000 + 200,000 × 2 % = 4,000.
    assert rows[2].royalty == D("28000.00")
    assert rows[2].year_to_date_sales == D("2700000.00")
    assert rows[3].royalty == D("0.00")


def test_mag_true_up_in_the_period_that_ends_the_contract_year() -> None:
    rows = schedule(TERMS, QUARTERS_2026).rows
    # Year-1 royalties 40,000 + 31,000 + 28,000 = 99,000 < MAG 120,000 → 21,000 in Q4 only.
    assert [r.mag_true_up for r in rows] == [D("0.00")] * 3 + [D("21000.00")]
    # Booked to the cent even when nothing is due ("0.00", not "0").
    assert [str(r.mag_true_up) for r in rows[:1]] + [str(rows[0].milestones)] == ["0.00", "0.00"]


def test_no_true_up_when_royalties_beat_the_guarantee_and_tiers_restart_each_year() -> None:
    year2 = [SalesPeriod(date(2027, 1, 1), date(2027, 12, 31), D(3_000_000))]
    row = schedule(TERMS, year2).rows[0]
    # Tiers restart: 1,000,000 × 5 % = 50,000 + 1,500,000 × 3 % = 45,000
    # + 500,000 × 2 % = 10,000 → 105,000 < 120,000 → true-up 15,000.
    assert row.contract_year == 2
    assert row.royalty == D("105000.00")
    assert row.mag_true_up == D("15000.00")
    big = schedule(TERMS, [SalesPeriod(date(2027, 1, 1), date(2027, 12, 31), D(5_000_000))])
    # 50,000 + 45,000 + 2,500,000 × 2 % = 50,000 → 145,000 ≥ 120,000: nothing to true up.
    assert big.rows[0].royalty == D("145000.00")
    assert big.rows[0].mag_true_up == D("0.00")


def test_upfront_fee_straight_line_by_days() -> None:
    rows = schedule(TERMS, QUARTERS_2026).rows
    # 73,000 / 730 days = 100.00 a day: Q1 90 days, Q2 91, Q3 92, Q4 92.
    assert [r.upfront_fee for r in rows] == [D("9000.00"), D("9100.00"), D("9200.00"), D("9200.00")]


def test_upfront_fee_at_a_point_in_time_lands_in_the_first_period() -> None:
    terms = Terms(**{**_fields(TERMS), "upfront_recognition": "point_in_time"})
    rows = schedule(terms, QUARTERS_2026).rows
    assert [r.upfront_fee for r in rows] == [D("73000.00"), D("0.00"), D("0.00"), D("0.00")]


def test_milestones_in_the_period_they_were_achieved() -> None:
    rows = schedule(TERMS, QUARTERS_2026).rows
    assert [r.milestones for r in rows] == [D("0.00"), D("50000.00"), D("0.00"), D("0.00")]
    assert rows[1].milestone_names == ("first shipment",)
    unachieved = Terms(**{**_fields(TERMS), "milestones": (Milestone("launch", D(1)),)})
    assert schedule(unachieved, QUARTERS_2026).totals["milestones"] == D("0.00")


def test_period_totals_and_schedule_totals() -> None:
    result = schedule(TERMS, QUARTERS_2026)
    # Q2: royalty 31,000 + fee 9,100 + milestone 50,000 = 90,100.
    assert result.rows[1].total == D("90100.00")
    # Q4: royalty 0 + fee 9,200 + true-up 21,000 = 30,200.
    assert result.rows[3].total == D("30200.00")
    # Year: royalty 99,000 + fee 36,500 + milestone 50,000 + true-up 21,000 = 206,500.
    assert result.totals == {
        "net_sales": D("2700000.00"),
        "royalty": D("99000.00"),
        "upfront_fee": D("36500.00"),
        "milestones": D("50000.00"),
        "mag_true_up": D("21000.00"),
        "total": D("206500.00"),
    }


def test_royalty_cents_round_half_even_without_drift() -> None:
    terms = Terms("USD", date(2026, 1, 1), date(2026, 12, 31), (Tier(D(0), D(5)),))
    # 1,234.50 × 5 % = 61.725 → half-even 61.72 (2 is even).
    one = schedule(terms, [SalesPeriod(date(2026, 1, 1), date(2026, 1, 31), D("1234.50"))])
    assert one.rows[0].royalty == D("61.72")
    # 1,234.70 × 5 % = 61.735 → 61.74 (4 is even).
    two = schedule(terms, [SalesPeriod(date(2026, 1, 1), date(2026, 1, 31), D("1234.70"))])
    assert two.rows[0].royalty == D("61.74")
    # Three months of 0.10 at 5 % = 0.005 each: booked running totals 0.00, 0.01 (0.010),
    # 0.02 (0.015 → half-even 0.02): rows 0.00, 0.01, 0.01, the year's 0.015 rounded.
    months = [SalesPeriod(date(2026, m, 1), date(2026, m, 28), D("0.10")) for m in (1, 2, 3)]
    assert [r.royalty for r in schedule(terms, months).rows] == [D("0.00"), D("0.01"), D("0.01")]


def test_straight_line_fee_in_thirds_sums_exactly() -> None:
    terms = Terms(
        "USD", date(2026, 1, 1), date(2026, 1, 3), (Tier(D(0), D(0)),), upfront_fee=D(100)
    )
    days = [SalesPeriod(date(2026, 1, d), date(2026, 1, d), D(0)) for d in (1, 2, 3)]
    # Running totals 33.333 → 33.33, 66.667 → 66.67, 100.00: rows 33.33, 33.34, 33.33.
    fees = [r.upfront_fee for r in schedule(terms, days).rows]
    assert fees == [D("33.33"), D("33.34"), D("33.33")]


def test_short_last_contract_year_prorates_the_guarantee() -> None:
    # Term 2026-01-01 – 2026-06-30: one contract year cut to 181 of 365 days:
    # MAG 36,500 × 181 / 365 = 18,100.00; no sales → true-up 18,100.
    terms = Terms(
        "USD", date(2026, 1, 1), date(2026, 6, 30), TIERS, minimum_annual_guarantee=D(36_500)
    )
    row = schedule(terms, [SalesPeriod(date(2026, 1, 1), date(2026, 6, 30), D(0))]).rows[0]
    assert row.mag_true_up == D("18100.00")


def test_royalty_between_crosses_several_bands() -> None:
    # 0 → 3,000,000 in one go: 50,000 + 45,000 + 10,000.
    assert royalty_between(D(0), D(3_000_000), TIERS) == D(105_000)
    assert royalty_between(D(2_000_000), D(2_000_000), TIERS) == D(0)


def test_contract_years_follow_the_term_start_anniversary() -> None:
    terms = Terms("USD", date(2024, 2, 29), date(2030, 1, 1), TIERS)
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert contract_year(terms, date(2024, 2, 29)) == (1, date(2024, 2, 29), date(2025, 2, 27))
    assert contract_year(terms, date(2026, 3, 1)) == (3, date(2026, 2, 28), date(2027, 2, 27))


@pytest.mark.parametrize(
    ("tiers", "loc"),
    [
        ((), ["royalty_tiers"]),
        ((Tier(D(10), D(5)),), ["royalty_tiers", 0, "from_sales"]),
        ((Tier(D(0), D(5)), Tier(D(0), D(3))), ["royalty_tiers", 1, "from_sales"]),
        ((Tier(D(0), D(101)),), ["royalty_tiers", 0, "rate_pct"]),
    ],
)
def test_bad_tiers_name_the_field(tiers: tuple[Tier, ...], loc: list[object]) -> None:
    with pytest.raises(Invalid) as err:
        validate_tiers(tiers)
    assert err.value.errors[0]["loc"] == loc


def test_bad_terms_and_periods_name_the_field() -> None:
    with pytest.raises(Invalid) as err:
        validate_terms(Terms(**{**_fields(TERMS), "term_end": date(2025, 1, 1)}))
    assert err.value.errors[0]["loc"] == ["term_end"]
    cases = [
        (SalesPeriod(date(2026, 3, 1), date(2026, 2, 1), D(1)), [], "period_end"),
        (SalesPeriod(date(2025, 12, 1), date(2026, 1, 31), D(1)), [], "period_start"),
        (SalesPeriod(date(2027, 12, 1), date(2028, 1, 31), D(1)), [], "period_end"),
        (SalesPeriod(date(2026, 12, 1), date(2027, 1, 31), D(1)), [], "period_end"),
        (SalesPeriod(date(2026, 1, 1), date(2026, 1, 31), D(-1)), [], "net_sales"),
        (
            QUARTERS_2026[0],
            [SalesPeriod(date(2026, 3, 1), date(2026, 4, 30), D(0))],
            "period_start",
        ),
    ]
    for period, others, field in cases:
        with pytest.raises(Invalid) as err:
            validate_period(TERMS, period, others)
        assert err.value.errors[0]["loc"] == [field], period


def _fields(terms: Terms) -> dict[str, object]:
    return {name: getattr(terms, name) for name in Terms.__dataclass_fields__}
