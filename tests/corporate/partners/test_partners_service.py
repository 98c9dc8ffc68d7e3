"""Service level on a migrated database (SQLite and PostgreSQL): the migration matches
the models, expiry with an explicit clock, automatic tier evaluation with history."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Table, text

import novacron.models  # noqa: F401  (every table on Base.metadata)
from novacron.core.database import Base, Database
from novacron.core.errors import Conflict
from novacron.corporate.partners.schemas import PartnerCreate, PartnerUpdate
from novacron.corporate.partners.schemas_deals import CloseIn, RegistrationCreate
from novacron.corporate.partners.service import (
    create_partner,
    deals,
    expire_registrations,
    partners,
    update_partner,
)
from novacron.security.models import DEFAULT_PROJECT_ID

MINE = ("corp_partner", "corp_deal_registrations", "corp_mdf_requests", "corp_rebate_schedules")
T0 = datetime(2026, 1, 10, 9, 0)


def _table_of(diff: Any) -> str:
    """The table a ``compare_metadata`` difference is about."""
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        if isinstance(part, Table):
            return str(part.name)
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        if isinstance(part, str) and part.startswith("corp_"):
            return part
    return ""


def test_migration_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(ctx, Base.metadata)
    mine = [d for d in diffs if _table_of(d).startswith(MINE)]
    assert mine == []
    # The check can fail: a missing index of ours is reported.
    with db.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_corp_deal_registrations_status"))
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(ctx, Base.metadata)
    assert [_table_of(d) for d in diffs if _table_of(d).startswith(MINE)] == [
        "corp_deal_registrations"
    ]


def partner(db: Database, name: str = "Nimbus Cloud", **extra: object) -> str:
    data = PartnerCreate.model_validate(
        {"name": name, "type": "cloud", "currency": "USD", "status": "active", **extra}
    )
    with db.session() as s:
        return create_partner(s, data, "tester", project_id=DEFAULT_PROJECT_ID).id


def test_create_partner_records_the_initial_tier(db: Database) -> None:
    pid = partner(db, certified_engineers=3, csat=4.1)
    with db.read() as s:
        history = partners.tier_history(s, pid, project_id=DEFAULT_PROJECT_ID)
    assert [(h.from_tier, h.to_tier) for h in history] == [(None, "bronze")]
    assert history[0].reason == "initial evaluation (partner created): bronze"
    with db.session() as s, pytest.raises(Conflict, match="already exists"):
        create_partner(
            s,
            PartnerCreate(name="nimbus cloud", type="telco", currency="USD"),
            "tester",
            project_id=DEFAULT_PROJECT_ID,
        )


def register(db: Database, pid: str, customer: str, amount: str, at: datetime) -> str:
    body = RegistrationCreate.model_validate(
        {"partner": pid, "customer_name": customer, "product": "NovaCron", "amount": amount,
         "currency": "USD", "registered_at": at.isoformat()}
    )  # fmt: skip
    with db.session() as s:
        return deals.register(s, body, "tester", now=at, project_id=DEFAULT_PROJECT_ID).id


def test_won_deals_promote_the_partner_automatically(db: Database) -> None:
    pid = partner(db, certified_engineers=2, csat=3.9)
    for i in range(3):
        reg = register(db, pid, f"Customer {i} Ltd", "100000.004", T0)
        with db.session() as s:
            deals.approve(s, reg, "lead", now=T0, project_id=DEFAULT_PROJECT_ID)
            close = CloseIn(outcome="won", closed_on=date(2026, 2, 1))
            deals.close(
                s, reg, close, "lead", now=datetime(2026, 2, 1, 12), project_id=DEFAULT_PROJECT_ID
            )
    with db.read() as s:
        found = partners.find_partner(s, pid, project_id=DEFAULT_PROJECT_ID)
        history = partners.tier_history(s, pid, project_id=DEFAULT_PROJECT_ID)
        metrics = partners.tier_metrics(s, found, date(2026, 2, 1))
    assert found.tier == "silver"
    assert metrics.revenue_12m == Decimal("300000.00")  # booked to the cent at registration
    assert [(h.from_tier, h.to_tier) for h in history] == [(None, "bronze"), ("bronze", "silver")]
    assert "promoted from bronze to silver (deal dreg-" in history[1].reason
    # Losing certified engineers demotes on the update itself.
    with db.session() as s:
        update_partner(s, pid, PartnerUpdate(certified_engineers=1), project_id=DEFAULT_PROJECT_ID)
    with db.read() as s:
        last = partners.tier_history(s, pid, project_id=DEFAULT_PROJECT_ID)[-1]
    assert (last.from_tier, last.to_tier) == ("silver", "bronze")
    assert "updated certified_engineers" in last.reason


def test_expiry_with_an_explicit_clock(db: Database) -> None:
    pid = partner(db)
    early = register(db, pid, "Initech", "5000", T0)
    late = register(db, pid, "Globex", "5000", T0 + timedelta(days=30))
    with db.session() as s:
        assert (
            expire_registrations(
                s, T0 + timedelta(days=90) - timedelta(seconds=1), project_id=DEFAULT_PROJECT_ID
            )
            == []
        )
        assert expire_registrations(s, T0 + timedelta(days=90), project_id=DEFAULT_PROJECT_ID) == [
            early
        ]
        deals.extend(s, late, 10, now=T0 + timedelta(days=90), project_id=DEFAULT_PROJECT_ID)
    with db.session() as s:
        assert (
            expire_registrations(s, T0 + timedelta(days=125), project_id=DEFAULT_PROJECT_ID) == []
        )
        assert expire_registrations(s, T0 + timedelta(days=130), project_id=DEFAULT_PROJECT_ID) == [
            late
        ]
        reg = deals.get_registration(
            s, early, now=T0 + timedelta(days=200), project_id=DEFAULT_PROJECT_ID
        )
        assert reg.status == "expired"
        assert reg.decision_reason == "expired at 2026-04-10T09:00:00Z"
    # An expired registration no longer blocks a new one from the same partner.
    again = register(db, pid, "INITECH inc.", "7000", T0 + timedelta(days=200))
    assert again != early
