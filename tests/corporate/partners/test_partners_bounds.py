"""Partner inputs: money bounded to what both databases store exactly, names that are
used in URLs without a slash, and a ledger booking at the bound read back to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from novacron.core.clock import utcnow
from novacron.core.database import Database
from novacron.corporate.common import MAX_AMOUNT
from novacron.corporate.finance.money import Money
from novacron.corporate.partners.models import PartnerLedgerEntry
from novacron.corporate.partners.schemas import PartnerCreate, PartnerUpdate, ProgrammeCreate
from novacron.corporate.partners.schemas_deals import (
    MDFClaim,
    MDFRequestCreate,
    RegistrationCreate,
)
from novacron.corporate.partners.service.common import book
from novacron.corporate.partners.service.partners import create_partner
from novacron.security.models import DEFAULT_PROJECT_ID

TOO_BIG = str(MAX_AMOUNT + Decimal("0.01"))


def loc_of(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[str | int, ...]]:
    return [tuple(e["loc"]) for e in exc.value.errors()]


def test_amounts_above_the_bound_are_refused_naming_the_field() -> None:
    reg = {"partner": "p", "customer_name": "c", "product": "x", "currency": "USD"}
    with pytest.raises(ValidationError) as exc:
        RegistrationCreate.model_validate(reg | {"amount": TOO_BIG})
    assert loc_of(exc) == [("amount",)]
    mdf = {"partner": "p", "programme": "q", "activity": "a", "currency": "USD",
           "planned_start": "2026-01-01", "planned_end": "2026-02-01"}  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        MDFRequestCreate.model_validate(mdf | {"amount": "1e15"})
    assert loc_of(exc) == [("amount",)]
    claim = {"currency": "USD", "proof": "inv", "invoice_date": "2026-01-02"}
    with pytest.raises(ValidationError) as exc:
        MDFClaim.model_validate(claim | {"claimed_amount": TOO_BIG})
    assert loc_of(exc) == [("claimed_amount",)]
    with pytest.raises(ValidationError) as exc:
        ProgrammeCreate.model_validate(
            {"name": "p", "kind": "marketing", "start_on": "2026-01-01", "mdf_budget": TOO_BIG}
        )
    assert loc_of(exc) == [("mdf_budget",)]


def test_partner_and_programme_names_refuse_a_slash() -> None:
    with pytest.raises(ValidationError) as exc:
        PartnerCreate.model_validate({"name": "AT/T", "type": "telco", "currency": "USD"})
    assert loc_of(exc) == [("name",)]
    with pytest.raises(ValidationError) as exc:
        PartnerUpdate.model_validate({"name": "a/b"})
    assert loc_of(exc) == [("name",)]
    with pytest.raises(ValidationError) as exc:
        ProgrammeCreate.model_validate(
            {"name": "co/sell", "kind": "co_sell", "start_on": "2026-01-01"}
        )
    assert loc_of(exc) == [("name",)]
    assert PartnerCreate.model_validate({"name": "AT&T", "type": "telco", "currency": "USD"})


def test_a_booking_at_the_bound_reads_back_to_the_cent(db: Database) -> None:
    with db.session() as s:
        data = PartnerCreate.model_validate({"name": "Big", "type": "cloud", "currency": "USD"})
        partner = create_partner(s, data, "a", project_id=DEFAULT_PROJECT_ID)
        entry = book(
            s, partner_id=partner.id, kind="rebate_accrued",
            money=Money(Decimal("499999999999.985"), "USD"), by="a", at=utcnow(),
            period=(date(2026, 1, 1), date(2026, 3, 31)),
        )  # fmt: skip
    with db.read() as s:
        stored = s.get(PartnerLedgerEntry, entry.id)
        assert stored is not None
        # Half-even to the cent when booked (…98.5 → …98), and exact after the round trip.
        assert Decimal(stored.amount) == Decimal("499999999999.98")


def test_times_with_an_offset_are_converted_to_utc_not_truncated() -> None:
    from datetime import datetime

    from novacron.corporate.partners.schemas_deals import ExpireIn

    reg = RegistrationCreate.model_validate(
        {"partner": "p", "customer_name": "c", "product": "x", "amount": "1",
         "currency": "USD", "registered_at": "2026-01-02T01:30:00+02:00"}
    )  # fmt: skip
    assert reg.registered_at == datetime(2026, 1, 1, 23, 30)
    assert ExpireIn.model_validate({"now": "2026-03-01T12:00:00Z"}).now == datetime(2026, 3, 1, 12)
    assert ExpireIn.model_validate({"now": "2026-03-01T12:00:00"}).now == datetime(2026, 3, 1, 12)
