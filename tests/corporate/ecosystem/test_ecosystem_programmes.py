"""Labs, academic and government rules: utilisation, status by date, certification flags."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from novacron.core.errors import Invalid
from novacron.corporate.ecosystem.programmes import (
    certification_flags,
    check_certification,
    check_lab_transition,
    check_period,
    period_status,
    utilisation_pct,
)

TODAY = date(2026, 11, 26)


def test_utilisation_is_spend_over_budget_in_percent() -> None:
    # 125,000 / 400,000 = 31.25 %; 1 / 3 = 33.333… → 33.33; no budget → None.
    assert utilisation_pct(Decimal(400_000), Decimal(125_000)) == Decimal("31.25")
    assert utilisation_pct(Decimal(3), Decimal(1)) == Decimal("33.33")
    assert utilisation_pct(Decimal(100), Decimal(150)) == Decimal("150.00")
    assert utilisation_pct(Decimal(0), Decimal(5)) is None


def test_labs_move_forward_only() -> None:
    check_lab_transition("proposed", "active")
    check_lab_transition("active", "concluded")
    check_lab_transition("active", "active")
    with pytest.raises(Invalid) as err:
        check_lab_transition("concluded", "active")
    assert err.value.errors[0]["loc"] == ["status"]


def test_programme_status_by_date() -> None:
    assert period_status(date(2027, 1, 1), None, TODAY) == "upcoming"
    assert period_status(date(2026, 1, 1), date(2026, 12, 31), TODAY) == "active"
    assert period_status(date(2025, 1, 1), date(2025, 12, 31), TODAY) == "ended"
    with pytest.raises(Invalid) as err:
        check_period(date(2026, 1, 1), date(2025, 1, 1))
    assert err.value.errors[0]["loc"] == ["end_on"]


def test_certification_flags_follow_the_dates_not_the_typed_status() -> None:
    # Authorized, expiry 30 days away: flagged as expiring soon.
    soon = certification_flags("authorized", date(2026, 12, 26), TODAY)
    assert (soon.effective_status, soon.expiring_soon, soon.expired) == ("authorized", True, False)
    assert soon.days_to_expiry == 30
    # Exactly 90 days away is still within the warning window; 91 is not.
    assert certification_flags("authorized", date(2027, 2, 24), TODAY).expiring_soon
    assert not certification_flags("authorized", date(2027, 2, 25), TODAY).expiring_soon
    # Status says authorized but the expiry passed yesterday: expired.
    lapsed = certification_flags("authorized", date(2026, 11, 25), TODAY)
    assert (lapsed.effective_status, lapsed.expired, lapsed.expiring_soon) == (
        "expired",
        True,
        False,
    )
    assert lapsed.days_to_expiry == -1
    # In process: no flags whatever the dates.
    assert not certification_flags("in_process", None, TODAY).expiring_soon
    assert certification_flags("expired", date(2025, 1, 1), TODAY).expired


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("authorized", date(2025, 1, 1), None, None), "authorized_on"),
        (("authorized", None, date(2026, 1, 1), date(2025, 6, 1)), "expires_on"),
        (("authorized", None, date(2026, 1, 1), date(2026, 1, 1)), "expires_on"),
        (("authorized", date(2026, 2, 1), date(2026, 1, 1), None), "authorized_on"),
        (("in_process", date(2026, 1, 1), None, date(2027, 1, 1)), "expires_on"),
        (("bogus", None, None, None), "status"),
    ],
)
def test_contradictory_certifications_are_refused_naming_the_field(
    args: tuple[str, date | None, date | None, date | None], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        check_certification(*args)
    assert err.value.errors[0]["loc"] == [field]


def test_consistent_certification_passes() -> None:
    check_certification("authorized", date(2025, 1, 1), date(2025, 9, 1), date(2028, 9, 1))
    check_certification("planned", None, None, None)
