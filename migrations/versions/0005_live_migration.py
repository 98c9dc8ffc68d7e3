"""Live migration, drain and HA: a VM's migration target, HA flag; host fencing;
cancel requests for running operations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vms") as batch:
        batch.add_column(sa.Column("migration_host_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("ha", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("hosts") as batch:
        batch.add_column(sa.Column("fenced_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("fence_reason", sa.String(256), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("draining", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("cancel_requested_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("cancel_requested_at")
    with op.batch_alter_table("hosts") as batch:
        batch.drop_column("draining")
        batch.drop_column("fence_reason")
        batch.drop_column("fenced_at")
    with op.batch_alter_table("vms") as batch:
        batch.drop_column("ha")
        batch.drop_column("migration_host_id")
