"""Money bounds and URL-safe names of the ecosystem inputs, and what SQLite's Numeric
storage gives back at the bound (regressions: amounts SQLite can't hold were accepted and
came back changed; a lab named "a/b" could never be addressed again)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from novacron.core.database import Database
from novacron.corporate.common import MAX_AMOUNT
from novacron.corporate.ecosystem import programme_service
from novacron.corporate.ecosystem.schemas import InvestmentIn, JVCreate, LicenseCreate, PeriodIn
from novacron.corporate.ecosystem.schemas_programmes import LabCreate, ProjectIn
from novacron.security.models import DEFAULT_PROJECT_ID

LAB = {"name": "Quantum lab", "partners": ["ETH"], "budget": "1000", "currency": "CHF"}


def loc_of(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[str | int, ...]]:
    return [tuple(e["loc"]) for e in exc.value.errors()]


@pytest.mark.parametrize("amount", ["500000000000.01", "1e15", "99999999999999999.99"])
def test_amounts_above_the_bound_are_refused_naming_the_field(amount: str) -> None:
    with pytest.raises(ValidationError) as exc:
        LabCreate.model_validate(LAB | {"budget": amount})
    assert loc_of(exc) == [("budget",)]
    with pytest.raises(ValidationError) as exc:
        PeriodIn.model_validate(
            {"period": "2026-Q1", "revenue": "1", "profit": f"-{amount}", "currency": "USD"}
        )
    assert loc_of(exc) == [("profit",)]
    with pytest.raises(ValidationError) as exc:
        InvestmentIn.model_validate(
            {"party": "us", "amount": amount, "currency": "USD", "invested_on": "2026-01-01"}
        )
    assert loc_of(exc) == [("amount",)]


def test_names_used_in_urls_refuse_a_slash() -> None:
    with pytest.raises(ValidationError) as exc:
        LabCreate.model_validate(LAB | {"name": "Lab/Zurich"})
    assert loc_of(exc) == [("name",)]
    with pytest.raises(ValidationError) as exc:
        ProjectIn.model_validate({"title": "a/b"})
    assert loc_of(exc) == [("title",)]
    with pytest.raises(ValidationError) as exc:
        JVCreate.model_validate({"name": "A/B", "currency": "USD", "parties": []})
    assert ("name",) in loc_of(exc)
    with pytest.raises(ValidationError) as exc:
        LicenseCreate.model_validate({"name": "x/y"})
    assert ("name",) in loc_of(exc)
    # A slash inside a party's or partner's display name is fine: those are not in URLs.
    assert LabCreate.model_validate(LAB | {"partners": ["ETH/Zurich"]}).partners == ["ETH/Zurich"]


def test_the_largest_amount_comes_back_to_the_cent(db: Database) -> None:
    largest = MAX_AMOUNT - Decimal("0.01")
    with db.session() as s:
        created = programme_service.create_lab(
            s,
            LabCreate.model_validate(LAB | {"budget": str(largest)}),
            "alice",
            project_id=DEFAULT_PROJECT_ID,
        )
    with db.read() as s:
        shown = programme_service.lab_out(
            programme_service.find_lab(s, created.id, project_id=DEFAULT_PROJECT_ID)
        )
    assert shown.budget == Decimal("499999999999.99")
