"""VMs count heartbeats whose report disagreed with their state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vms") as batch:
        batch.add_column(
            sa.Column("report_mismatches", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("report_mismatch_state", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vms") as batch:
        batch.drop_column("report_mismatch_state")
        batch.drop_column("report_mismatches")
