"""Corporate development: ecosystem (joint ventures, licensing, labs, academic, government)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corp_eco_academic",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("institution", sa.String(length=256), nullable=False),
        sa.Column("programme_type", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("funding", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_academic")),
    )
    op.create_table(
        "corp_eco_government",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=256), nullable=False),
        sa.Column("programme", sa.String(length=256), nullable=False),
        sa.Column("jurisdiction", sa.String(length=128), nullable=False),
        sa.Column("contract_vehicle", sa.String(length=256), nullable=False),
        sa.Column("value", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_government")),
    )
    op.create_table(
        "corp_eco_joint_ventures",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("formation_date", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_joint_ventures")),
        sa.UniqueConstraint("name", name=op.f("uq_corp_eco_joint_ventures_name")),
    )
    op.create_table(
        "corp_eco_labs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("partners", sa.JSON(), nullable=False),
        sa.Column("focus_area", sa.String(length=256), nullable=False),
        sa.Column("budget", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_labs")),
        sa.UniqueConstraint("name", name=op.f("uq_corp_eco_labs_name")),
    )
    op.create_table(
        "corp_eco_licenses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("licensor", sa.String(length=128), nullable=False),
        sa.Column("licensee", sa.String(length=128), nullable=False),
        sa.Column("licensed_ip", sa.Text(), nullable=False),
        sa.Column("territory", sa.String(length=128), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("royalty_tiers", sa.JSON(), nullable=False),
        sa.Column("minimum_annual_guarantee", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("upfront_fee", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("upfront_recognition", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_licenses")),
        sa.UniqueConstraint("name", name=op.f("uq_corp_eco_licenses_name")),
    )
    op.create_table(
        "corp_eco_academic_outputs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("partnership_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["corp_eco_academic.id"],
            name=op.f("fk_corp_eco_academic_outputs_partnership_id_corp_eco_academic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_academic_outputs")),
    )
    op.create_index(
        op.f("ix_corp_eco_academic_outputs_partnership_id"),
        "corp_eco_academic_outputs",
        ["partnership_id"],
        unique=False,
    )
    op.create_table(
        "corp_eco_gov_certifications",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("government_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("authorized_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["government_id"],
            ["corp_eco_government.id"],
            name=op.f("fk_corp_eco_gov_certifications_government_id_corp_eco_government"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_gov_certifications")),
        sa.UniqueConstraint(
            "government_id", "name", name=op.f("uq_corp_eco_gov_certifications_government_id")
        ),
    )
    op.create_index(
        op.f("ix_corp_eco_gov_certifications_government_id"),
        "corp_eco_gov_certifications",
        ["government_id"],
        unique=False,
    )
    op.create_table(
        "corp_eco_jv_parties",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("jv_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("equity_pct", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("is_us", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jv_id"],
            ["corp_eco_joint_ventures.id"],
            name=op.f("fk_corp_eco_jv_parties_jv_id_corp_eco_joint_ventures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_jv_parties")),
        sa.UniqueConstraint("jv_id", "name", name=op.f("uq_corp_eco_jv_parties_jv_id")),
    )
    op.create_index(
        op.f("ix_corp_eco_jv_parties_jv_id"), "corp_eco_jv_parties", ["jv_id"], unique=False
    )
    op.create_table(
        "corp_eco_jv_periods",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("jv_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("profit", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("distribution", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jv_id"],
            ["corp_eco_joint_ventures.id"],
            name=op.f("fk_corp_eco_jv_periods_jv_id_corp_eco_joint_ventures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_jv_periods")),
        sa.UniqueConstraint("jv_id", "period", name=op.f("uq_corp_eco_jv_periods_jv_id")),
    )
    op.create_index(
        op.f("ix_corp_eco_jv_periods_jv_id"), "corp_eco_jv_periods", ["jv_id"], unique=False
    )
    op.create_table(
        "corp_eco_lab_projects",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("lab_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lab_id"],
            ["corp_eco_labs.id"],
            name=op.f("fk_corp_eco_lab_projects_lab_id_corp_eco_labs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_lab_projects")),
        sa.UniqueConstraint("lab_id", "title", name=op.f("uq_corp_eco_lab_projects_lab_id")),
    )
    op.create_index(
        op.f("ix_corp_eco_lab_projects_lab_id"), "corp_eco_lab_projects", ["lab_id"], unique=False
    )
    op.create_table(
        "corp_eco_lab_spend",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("lab_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lab_id"],
            ["corp_eco_labs.id"],
            name=op.f("fk_corp_eco_lab_spend_lab_id_corp_eco_labs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_lab_spend")),
    )
    op.create_index(
        op.f("ix_corp_eco_lab_spend_lab_id"), "corp_eco_lab_spend", ["lab_id"], unique=False
    )
    op.create_table(
        "corp_eco_license_milestones",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("license_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("achieved_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["corp_eco_licenses.id"],
            name=op.f("fk_corp_eco_license_milestones_license_id_corp_eco_licenses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_license_milestones")),
        sa.UniqueConstraint(
            "license_id", "name", name=op.f("uq_corp_eco_license_milestones_license_id")
        ),
    )
    op.create_index(
        op.f("ix_corp_eco_license_milestones_license_id"),
        "corp_eco_license_milestones",
        ["license_id"],
        unique=False,
    )
    op.create_table(
        "corp_eco_license_sales",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("license_id", sa.String(length=64), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("net_sales", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("reported_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["corp_eco_licenses.id"],
            name=op.f("fk_corp_eco_license_sales_license_id_corp_eco_licenses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_license_sales")),
        sa.UniqueConstraint(
            "license_id", "period_start", name=op.f("uq_corp_eco_license_sales_license_id")
        ),
    )
    op.create_index(
        op.f("ix_corp_eco_license_sales_license_id"),
        "corp_eco_license_sales",
        ["license_id"],
        unique=False,
    )
    op.create_table(
        "corp_eco_jv_investments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("jv_id", sa.String(length=64), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("invested_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jv_id"],
            ["corp_eco_joint_ventures.id"],
            name=op.f("fk_corp_eco_jv_investments_jv_id_corp_eco_joint_ventures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["corp_eco_jv_parties.id"],
            name=op.f("fk_corp_eco_jv_investments_party_id_corp_eco_jv_parties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_eco_jv_investments")),
    )
    op.create_index(
        op.f("ix_corp_eco_jv_investments_jv_id"), "corp_eco_jv_investments", ["jv_id"], unique=False
    )
    op.create_index(
        op.f("ix_corp_eco_jv_investments_party_id"),
        "corp_eco_jv_investments",
        ["party_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_corp_eco_jv_investments_party_id"), table_name="corp_eco_jv_investments")
    op.drop_index(op.f("ix_corp_eco_jv_investments_jv_id"), table_name="corp_eco_jv_investments")
    op.drop_table("corp_eco_jv_investments")
    op.drop_index(op.f("ix_corp_eco_license_sales_license_id"), table_name="corp_eco_license_sales")
    op.drop_table("corp_eco_license_sales")
    op.drop_index(
        op.f("ix_corp_eco_license_milestones_license_id"), table_name="corp_eco_license_milestones"
    )
    op.drop_table("corp_eco_license_milestones")
    op.drop_index(op.f("ix_corp_eco_lab_spend_lab_id"), table_name="corp_eco_lab_spend")
    op.drop_table("corp_eco_lab_spend")
    op.drop_index(op.f("ix_corp_eco_lab_projects_lab_id"), table_name="corp_eco_lab_projects")
    op.drop_table("corp_eco_lab_projects")
    op.drop_index(op.f("ix_corp_eco_jv_periods_jv_id"), table_name="corp_eco_jv_periods")
    op.drop_table("corp_eco_jv_periods")
    op.drop_index(op.f("ix_corp_eco_jv_parties_jv_id"), table_name="corp_eco_jv_parties")
    op.drop_table("corp_eco_jv_parties")
    op.drop_index(
        op.f("ix_corp_eco_gov_certifications_government_id"),
        table_name="corp_eco_gov_certifications",
    )
    op.drop_table("corp_eco_gov_certifications")
    op.drop_index(
        op.f("ix_corp_eco_academic_outputs_partnership_id"), table_name="corp_eco_academic_outputs"
    )
    op.drop_table("corp_eco_academic_outputs")
    op.drop_table("corp_eco_licenses")
    op.drop_table("corp_eco_labs")
    op.drop_table("corp_eco_joint_ventures")
    op.drop_table("corp_eco_government")
    op.drop_table("corp_eco_academic")
