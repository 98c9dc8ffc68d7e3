"""Corporate development: M&A pipeline

Targets, stage history, screening scorecards, diligence workstreams, requests and
findings, valuation versions and synergy plan lines.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corp_ma_targets",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("custom_category", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("headquarters", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("website", sa.String(length=512), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("ebitda", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("financials_year", sa.Integer(), nullable=True),
        sa.Column("asking_value", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=True),
        sa.Column("expected_close_on", sa.Date(), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("stage_changed_at", sa.DateTime(), nullable=False),
        sa.Column("dropped_from", sa.String(length=32), nullable=True),
        sa.Column("drop_reason", sa.Text(), nullable=True),
        sa.Column("nda_signed", sa.Boolean(), nullable=False),
        sa.Column("nda_owner", sa.String(length=128), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("integration_programme_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_ma_targets")),
        sa.UniqueConstraint("name", name=op.f("uq_corp_ma_targets_name")),
    )
    with op.batch_alter_table("corp_ma_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_corp_ma_targets_stage"), ["stage"], unique=False)

    op.create_table(
        "corp_ma_dd_findings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("workstream", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("likelihood", sa.Integer(), nullable=False),
        sa.Column("mitigation", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deal_breaker", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["corp_ma_targets.id"],
            name=op.f("fk_corp_ma_dd_findings_target_id_corp_ma_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_ma_dd_findings")),
    )
    with op.batch_alter_table("corp_ma_dd_findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_corp_ma_dd_findings_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "corp_ma_dd_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("workstream", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["corp_ma_targets.id"],
            name=op.f("fk_corp_ma_dd_requests_target_id_corp_ma_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_ma_dd_requests")),
    )
    with op.batch_alter_table("corp_ma_dd_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_corp_ma_dd_requests_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "corp_ma_dd_workstreams",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("workstream", sa.String(length=32), nullable=False),
        sa.Column("lead", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["corp_ma_targets.id"],
            name=op.f("fk_corp_ma_dd_workstreams_target_id_corp_ma_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_ma_dd_workstreams")),
        sa.UniqueConstraint(
            "target_id", "workstream", name=op.f("uq_corp_ma_dd_workstreams_target_id")
        ),
    )
    with op.batch_alter_table("corp_ma_dd_workstreams", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_corp_ma_dd_workstreams_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "corp_ma_scorecards",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["corp_ma_targets.id"],
            name=op.f("fk_corp_ma_scorecards_target_id_corp_ma_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_ma_scorecards")),
        sa.UniqueConstraint("target_id", "version", name=op.f("uq_corp_ma_scorecards_target_id")),
    )
    with op.batch_alter_table("corp_ma_scorecards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_corp_ma_scorecards_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "corp_ma_stage_changes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("from_stage", sa.String(length=32), nullable=True),
        sa.Column("to_stage", sa.String(length=32), nullable=False),
        sa.Column("by", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["corp_ma_targets.id"],
            name=op.f("fk_corp_ma_stage_changes_target_id_corp_ma_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_ma_stage_changes")),
    )
    with op.batch_alter_table("corp_ma_stage_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_corp_ma_stage_changes_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "corp_ma_synergy_lines",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("run_rate", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("phase_in", sa.JSON(), nullable=False),
        sa.Column("one_off_cost", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["corp_ma_targets.id"],
            name=op.f("fk_corp_ma_synergy_lines_target_id_corp_ma_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_ma_synergy_lines")),
    )
    with op.batch_alter_table("corp_ma_synergy_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_corp_ma_synergy_lines_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "corp_ma_valuations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["corp_ma_targets.id"],
            name=op.f("fk_corp_ma_valuations_target_id_corp_ma_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_ma_valuations")),
        sa.UniqueConstraint("target_id", "version", name=op.f("uq_corp_ma_valuations_target_id")),
    )
    with op.batch_alter_table("corp_ma_valuations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_corp_ma_valuations_target_id"), ["target_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("corp_ma_valuations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corp_ma_valuations_target_id"))

    op.drop_table("corp_ma_valuations")
    with op.batch_alter_table("corp_ma_synergy_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corp_ma_synergy_lines_target_id"))

    op.drop_table("corp_ma_synergy_lines")
    with op.batch_alter_table("corp_ma_stage_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corp_ma_stage_changes_target_id"))

    op.drop_table("corp_ma_stage_changes")
    with op.batch_alter_table("corp_ma_scorecards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corp_ma_scorecards_target_id"))

    op.drop_table("corp_ma_scorecards")
    with op.batch_alter_table("corp_ma_dd_workstreams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corp_ma_dd_workstreams_target_id"))

    op.drop_table("corp_ma_dd_workstreams")
    with op.batch_alter_table("corp_ma_dd_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corp_ma_dd_requests_target_id"))

    op.drop_table("corp_ma_dd_requests")
    with op.batch_alter_table("corp_ma_dd_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corp_ma_dd_findings_target_id"))

    op.drop_table("corp_ma_dd_findings")
    with op.batch_alter_table("corp_ma_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corp_ma_targets_stage"))

    op.drop_table("corp_ma_targets")
