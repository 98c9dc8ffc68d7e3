"""Security: compliance runs, findings, mutes and host facts

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_runs")),
    )
    with op.batch_alter_table("compliance_runs", schema=None) as batch_op:
        batch_op.create_index("ix_compliance_runs_started_at", ["started_at"], unique=False)
        batch_op.create_index(
            "ix_compliance_runs_trigger_started_at", ["trigger", "started_at"], unique=False
        )

    op.create_table(
        "compliance_findings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("check_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("resource", sa.String(length=256), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("mute_reason", sa.Text(), nullable=True),
        sa.Column("muted_status", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["compliance_runs.id"],
            name=op.f("fk_compliance_findings_run_id_compliance_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_findings")),
    )
    with op.batch_alter_table("compliance_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compliance_findings_run_id"), ["run_id"], unique=False)

    op.create_table(
        "compliance_mutes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("check_id", sa.String(length=32), nullable=False),
        sa.Column("resource_pattern", sa.String(length=256), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_mutes")),
    )

    op.create_table(
        "host_facts",
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("host_name", sa.String(length=128), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("collected_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_host_facts_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_host_facts")),
    )


def downgrade() -> None:
    op.drop_table("host_facts")
    op.drop_table("compliance_mutes")
    with op.batch_alter_table("compliance_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_findings_run_id"))
    op.drop_table("compliance_findings")
    with op.batch_alter_table("compliance_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_compliance_runs_trigger_started_at")
        batch_op.drop_index("ix_compliance_runs_started_at")
    op.drop_table("compliance_runs")
