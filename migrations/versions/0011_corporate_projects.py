"""Corporate records belong to a project: ``project_id`` on every top-level corporate
table, existing rows in the default project; unique names become unique per project

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from novacron.core.migration_support import sqlite_foreign_keys_off

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

DEFAULT_PROJECT_ID = "proj-default"

# table → the column that was unique on its own and is now unique within a project (None:
# nothing was unique).
TABLES: dict[str, str | None] = {
    "corp_ma_targets": "name",
    "corp_int_programmes": "target_id",
    "corp_partners": "name",
    "corp_partner_programmes": "name",
    "corp_deal_registrations": None,
    "corp_mdf_requests": None,
    "corp_rebate_schedules": "tier",
    "corp_eco_joint_ventures": "name",
    "corp_eco_licenses": "name",
    "corp_eco_labs": "name",
    "corp_eco_academic": None,
    "corp_eco_government": None,
}


def upgrade() -> None:
    with sqlite_foreign_keys_off(op, "0011"):
        _upgrade()


def downgrade() -> None:
    with sqlite_foreign_keys_off(op, "0011"):
        _downgrade()


def _upgrade() -> None:
    for table, unique in TABLES.items():
        # Existing rows go to the default project (which every database has since 0001).
        # Added nullable and filled, then made NOT NULL: no server default is left behind
        # (a row that doesn't name its project is a bug, not a default), and SQLite copies
        # each table once.
        op.add_column(table, sa.Column("project_id", sa.String(length=64), nullable=True))
        op.execute(
            sa.text(f"UPDATE {table} SET project_id = :project").bindparams(
                project=DEFAULT_PROJECT_ID
            )
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("project_id", existing_type=sa.String(length=64), nullable=False)
            batch_op.create_index(batch_op.f(f"ix_{table}_project_id"), ["project_id"])
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_project_id_projects"), "projects", ["project_id"], ["id"]
            )
            if unique is not None:
                batch_op.drop_constraint(batch_op.f(f"uq_{table}_{unique}"), type_="unique")
                batch_op.create_unique_constraint(
                    batch_op.f(f"uq_{table}_project_id"), ["project_id", unique]
                )


def _downgrade() -> None:
    # Names unique per project may collide once they must be unique again: the downgrade
    # then fails on the unique constraint rather than merging two projects' records.
    for table, unique in reversed(TABLES.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if unique is not None:
                batch_op.drop_constraint(batch_op.f(f"uq_{table}_project_id"), type_="unique")
                batch_op.create_unique_constraint(batch_op.f(f"uq_{table}_{unique}"), [unique])
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_project_id_projects"), type_="foreignkey"
            )
            batch_op.drop_index(batch_op.f(f"ix_{table}_project_id"))
            batch_op.drop_column("project_id")
