"""VMs get a restart policy, networking, cloud-init and kernel arguments; snapshots

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vms") as batch:
        batch.add_column(
            sa.Column("restart_policy", sa.String(16), nullable=False, server_default="never")
        )
        batch.add_column(sa.Column("restarts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("restart_window_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("network", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("cloud_init", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("kernel_args", sa.String(1024), nullable=False, server_default="")
        )
    op.create_table(
        "vm_snapshots",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "vm_id", sa.String(64), sa.ForeignKey("vms.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("vm_state_bytes", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("power_state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("vm_id", "name"),
    )
    op.create_index("ix_vm_snapshots_vm_id", "vm_snapshots", ["vm_id"])


def downgrade() -> None:
    op.drop_index("ix_vm_snapshots_vm_id", table_name="vm_snapshots")
    op.drop_table("vm_snapshots")
    with op.batch_alter_table("vms") as batch:
        for column in (
            "kernel_args",
            "cloud_init",
            "network",
            "restart_window_at",
            "restarts",
            "restart_policy",
        ):
            batch.drop_column(column)
