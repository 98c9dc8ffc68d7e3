"""Security: threat detections as alerts

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_alerts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=128), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("mitre_technique", sa.String(length=32), nullable=False),
        sa.Column("mitre_tactic", sa.String(length=64), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("group_key", sa.JSON(), nullable=False),
        sa.Column("first_ts", sa.DateTime(), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_by", sa.String(length=128), nullable=False),
        sa.Column("status_note", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_alerts")),
    )
    op.create_index(
        "ix_security_alerts_rule_ts", "security_alerts", ["rule_id", "ts"], unique=False
    )
    op.create_index(
        "ix_security_alerts_status_ts", "security_alerts", ["status", "ts"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_security_alerts_status_ts", table_name="security_alerts")
    op.drop_index("ix_security_alerts_rule_ts", table_name="security_alerts")
    op.drop_table("security_alerts")
