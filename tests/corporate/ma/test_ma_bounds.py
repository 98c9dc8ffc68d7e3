"""Target figures are bounded to what SQLite's Numeric storage gives back exactly
(regression: a revenue of 12345678901234.56 was accepted and read back as
12345678901234.5605 on SQLite)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from novacron.core.database import Database
from novacron.corporate.ma.models import Target
from novacron.corporate.ma.schemas import SynergyLineIn, TargetCreate
from novacron.corporate.ma.service import create_target, to_out
from novacron.security.models import DEFAULT_PROJECT_ID


@pytest.mark.parametrize("field", ["revenue", "asking_value", "ebitda"])
def test_figures_above_the_bound_are_refused(field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TargetCreate.model_validate(
            {"name": "Big", "category": "storage", field: "12345678901234.56"}
        )
    assert [e["loc"] for e in exc.value.errors()] == [(field,)]
    if field == "ebitda":
        with pytest.raises(ValidationError):
            TargetCreate.model_validate({"name": "Big", "category": "storage", field: "-1e12"})


def test_synergy_run_rate_is_bounded_too() -> None:
    with pytest.raises(ValidationError) as exc:
        SynergyLineIn.model_validate(
            {"category": "cost", "name": "x", "run_rate": "1e13", "phase_in": [1]}
        )
    assert [e["loc"] for e in exc.value.errors()] == [("run_rate",)]


def test_figures_at_the_bound_round_trip_exactly(db: Database) -> None:
    data = TargetCreate.model_validate(
        {"name": "Megacorp", "category": "storage", "revenue": "499999999999.9999",
         "ebitda": "-499999999999.9999", "asking_value": "123456789012.3456"}
    )  # fmt: skip
    with db.session() as s:
        target_id = create_target(s, data, "alice", project_id=DEFAULT_PROJECT_ID).id
    with db.read() as s:
        target = s.get(Target, target_id)
        assert target is not None
        out = to_out(target)
    assert out.revenue == Decimal("499999999999.9999")
    assert out.ebitda == Decimal("-499999999999.9999")
    assert out.asking_value == Decimal("123456789012.3456")
