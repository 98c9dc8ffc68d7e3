"""The service as the M&A close calls it (no HTTP), and the migration against the models."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from novacron.core.database import Database
from novacron.core.errors import Conflict, Invalid
from novacron.corporate.integration import plan
from novacron.corporate.integration.models import SynergyLine, Task, TaskDependency
from novacron.corporate.integration.service import generate_programme
from novacron.models import Base
from novacron.security.models import DEFAULT_PROJECT_ID

LINE = {
    "category": "cost",
    "name": "Shared services",
    "run_rate": "1200000.00",
    "currency": "EUR",
    "phase_in": [0.5, 1.0],
    "one_off_cost": "300000.00",
}


def test_generate_programme_as_the_ma_close_calls_it(db: Database) -> None:
    with db.session() as s:
        programme = generate_programme(
            s,
            target_id="tgt-1",
            target_name="Initech",
            close_date=date(2027, 3, 31),
            synergy_plan=[LINE],
            created_by="alice",
            project_id=DEFAULT_PROJECT_ID,
        )
        pid = programme.id
    assert pid.startswith("prog-")
    with db.read() as s:
        assert s.scalar(select(func.count()).where(Task.programme_id == pid)) == len(plan.TASKS)
        edges = s.scalar(select(func.count()).where(TaskDependency.programme_id == pid))
        assert edges == sum(len(t.depends_on) for t in plan.TASKS)
        line = s.scalars(select(SynergyLine).where(SynergyLine.programme_id == pid)).one()
        assert (line.run_rate, line.currency, line.phase_in) == (
            Decimal("1200000.0000"),
            "EUR",
            ["0.5", "1.0"],
        )
        owners = set(s.scalars(select(Task.owner).where(Task.programme_id == pid)))
        assert owners == set(plan.OWNER_ROLE.values())
    with db.session() as s, pytest.raises(Conflict, match="already has integration programme"):
        generate_programme(
            s,
            target_id="tgt-1",
            target_name="Initech",
            close_date=date(2027, 3, 31),
            synergy_plan=[],
            created_by="alice",
            project_id=DEFAULT_PROJECT_ID,
        )


@pytest.mark.parametrize(
    "line,loc",
    [
        ({**LINE, "run_rate": "lots"}, ["synergy_plan", 0, "run_rate"]),
        ({**LINE, "category": "tax"}, ["synergy_plan", 0, "category"]),
        ({**LINE, "run_rate": "-5"}, ["synergy_plan", 0, "run_rate"]),
        ({k: v for k, v in LINE.items() if k != "currency"}, ["synergy_plan", 0, "currency"]),
    ],
)
def test_a_bad_synergy_plan_names_the_field(
    db: Database, line: dict[str, object], loc: list[object]
) -> None:
    with db.session() as s, pytest.raises(Invalid) as err:
        generate_programme(
            s,
            target_id="tgt-2",
            target_name="Hooli",
            close_date=date(2027, 3, 31),
            synergy_plan=[line],
            created_by="bob",
            project_id=DEFAULT_PROJECT_ID,
        )
    assert err.value.errors[0]["loc"] == loc


def test_the_migration_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: (
                    kind != "table" or str(name).startswith("corp_int_")
                ),
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert [d for d in diff if "corp_int_" in repr(d)] == []
