"""The programme a close generates is in the deal's currency, also with no synergy plan
(regression: a EUR deal without synergy lines got a USD programme), and plan lines in
another currency are refused naming the line."""

from __future__ import annotations

from datetime import date

import pytest

from novacron.core.database import Database
from novacron.corporate.finance.money import CurrencyMismatch
from novacron.corporate.integration.service import generate_programme
from novacron.corporate.ma.models import Target
from novacron.corporate.ma.schemas import TargetCreate
from novacron.corporate.ma.service import create_target
from novacron.corporate.ma.service.workflow import _generate_programme
from novacron.security.models import DEFAULT_PROJECT_ID

LINE = {"category": "cost", "name": "DCs", "run_rate": "1000000", "currency": "USD",
        "phase_in": ["0.5", "1"], "one_off_cost": "0"}  # fmt: skip


def test_the_deal_currency_is_the_programme_currency(db: Database) -> None:
    with db.session() as s:
        empty = generate_programme(
            s, target_id="tgt-1", target_name="Acme", close_date=date(2026, 6, 30),
            synergy_plan=[], created_by="alice", currency="EUR", project_id=DEFAULT_PROJECT_ID,
        )  # fmt: skip
        assert empty.currency == "EUR"
        plain = generate_programme(
            s, target_id="tgt-2", target_name="Beta", close_date=date(2026, 6, 30),
            synergy_plan=[LINE], created_by="alice", project_id=DEFAULT_PROJECT_ID,
        )  # fmt: skip
        assert plain.currency == "USD"


def test_plan_lines_in_another_currency_are_refused(db: Database) -> None:
    with db.session() as s, pytest.raises(CurrencyMismatch) as exc:
        generate_programme(
            s, target_id="tgt-3", target_name="Gamma", close_date=date(2026, 6, 30),
            synergy_plan=[LINE], created_by="alice", currency="GBP", project_id=DEFAULT_PROJECT_ID,
        )  # fmt: skip
    assert exc.value.errors[0]["loc"] == ["synergy_plan", 0, "currency"]


def test_closing_a_deal_without_synergies_keeps_its_currency(db: Database) -> None:
    with db.session() as s:
        target = create_target(
            s, TargetCreate.model_validate({"name": "Acme", "category": "storage",
                                            "currency": "EUR"}), "alice",
            project_id=DEFAULT_PROJECT_ID,
        )  # fmt: skip
        target.closed_on = date(2026, 6, 30)
        _generate_programme(s, target, "alice")
        programme_id = target.integration_programme_id
    with db.read() as s:
        from novacron.corporate.integration.models import Programme

        programme = s.get(Programme, programme_id)
        assert programme is not None and programme.currency == "EUR"
        assert s.get(Target, target.id) is not None


def test_amounts_are_plain_decimal_strings_in_json() -> None:
    from decimal import Decimal

    from novacron.corporate.integration.report_schemas import RealisationOut

    out = RealisationOut(
        planned_to_date=Decimal("1250000.0000"),
        actual_to_date=Decimal("0"),
        planned_total=Decimal("0.5000"),
        pct=None,
    )
    # As stored (Numeric(20, 4)) and as computed, the same shape: no padding, no exponent.
    assert out.model_dump(mode="json") == {
        "planned_to_date": "1250000",
        "actual_to_date": "0",
        "planned_total": "0.5",
        "pct": None,
    }
