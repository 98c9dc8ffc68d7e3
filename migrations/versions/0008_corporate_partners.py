"""Corporate development: partnerships

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(20, 4)


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "corp_partners",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("certified_engineers", sa.Integer(), nullable=False),
        sa.Column("csat", sa.Float(), nullable=True),
        sa.Column("last_activity_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_corp_partners_name")),
    )
    op.create_table(
        "corp_partner_programmes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("min_tier", sa.String(length=16), nullable=False),
        sa.Column("partner_types", sa.JSON(), nullable=False),
        sa.Column("benefits", sa.JSON(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("mdf_budget", MONEY, nullable=True),
        sa.Column("budget_currency", sa.String(length=3), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_partner_programmes")),
        sa.UniqueConstraint("name", name=op.f("uq_corp_partner_programmes_name")),
    )
    op.create_table(
        "corp_partner_tier_changes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("from_tier", sa.String(length=16), nullable=True),
        sa.Column("to_tier", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["corp_partners.id"],
            name=op.f("fk_corp_partner_tier_changes_partner_id_corp_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_partner_tier_changes")),
    )
    op.create_index(
        op.f("ix_corp_partner_tier_changes_partner_id"),
        "corp_partner_tier_changes",
        ["partner_id"],
        unique=False,
    )
    op.create_table(
        "corp_partner_enrolments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(), nullable=False),
        sa.Column("enrolled_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["corp_partners.id"],
            name=op.f("fk_corp_partner_enrolments_partner_id_corp_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["corp_partner_programmes.id"],
            name=op.f("fk_corp_partner_enrolments_programme_id_corp_partner_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_partner_enrolments")),
        sa.UniqueConstraint(
            "programme_id", "partner_id", name=op.f("uq_corp_partner_enrolments_programme_id")
        ),
    )
    op.create_index(
        op.f("ix_corp_partner_enrolments_partner_id"),
        "corp_partner_enrolments",
        ["partner_id"],
        unique=False,
    )
    op.create_table(
        "corp_deal_registrations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("customer_key", sa.String(length=200), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("product_key", sa.String(length=200), nullable=False),
        sa.Column("motion", sa.String(length=16), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("conflict", sa.Boolean(), nullable=False),
        sa.Column("conflict_with", sa.JSON(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.String(length=128), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["corp_partners.id"],
            name=op.f("fk_corp_deal_registrations_partner_id_corp_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_deal_registrations")),
    )
    for column in ("customer_key", "partner_id", "status"):
        op.create_index(
            op.f(f"ix_corp_deal_registrations_{column}"),
            "corp_deal_registrations",
            [column],
            unique=False,
        )
    op.create_table(
        "corp_mdf_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("activity", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("requested_amount", MONEY, nullable=False),
        sa.Column("approved_amount", MONEY, nullable=True),
        sa.Column("claimed_amount", MONEY, nullable=True),
        sa.Column("paid_amount", MONEY, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=False),
        sa.Column("planned_end", sa.Date(), nullable=False),
        sa.Column("proof", sa.String(length=500), nullable=True),
        sa.Column("invoice_date", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["corp_partners.id"],
            name=op.f("fk_corp_mdf_requests_partner_id_corp_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["corp_partner_programmes.id"],
            name=op.f("fk_corp_mdf_requests_programme_id_corp_partner_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_mdf_requests")),
    )
    op.create_index(
        op.f("ix_corp_mdf_requests_partner_id"), "corp_mdf_requests", ["partner_id"], unique=False
    )
    op.create_table(
        "corp_partner_ledger",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=True),
        sa.Column("mdf_request_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("booked_at", sa.DateTime(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("booked_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["mdf_request_id"],
            ["corp_mdf_requests.id"],
            name=op.f("fk_corp_partner_ledger_mdf_request_id_corp_mdf_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["corp_partners.id"],
            name=op.f("fk_corp_partner_ledger_partner_id_corp_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["corp_partner_programmes.id"],
            name=op.f("fk_corp_partner_ledger_programme_id_corp_partner_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_partner_ledger")),
    )
    op.create_index(
        op.f("ix_corp_partner_ledger_partner_id"),
        "corp_partner_ledger",
        ["partner_id"],
        unique=False,
    )
    op.create_table(
        "corp_rebate_schedules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("bands", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp_rebate_schedules")),
        sa.UniqueConstraint("tier", name=op.f("uq_corp_rebate_schedules_tier")),
    )


def downgrade() -> None:
    op.drop_table("corp_rebate_schedules")
    op.drop_index(op.f("ix_corp_partner_ledger_partner_id"), table_name="corp_partner_ledger")
    op.drop_table("corp_partner_ledger")
    op.drop_index(op.f("ix_corp_mdf_requests_partner_id"), table_name="corp_mdf_requests")
    op.drop_table("corp_mdf_requests")
    for column in ("customer_key", "partner_id", "status"):
        op.drop_index(
            op.f(f"ix_corp_deal_registrations_{column}"), table_name="corp_deal_registrations"
        )
    op.drop_table("corp_deal_registrations")
    op.drop_index(
        op.f("ix_corp_partner_enrolments_partner_id"), table_name="corp_partner_enrolments"
    )
    op.drop_table("corp_partner_enrolments")
    op.drop_index(
        op.f("ix_corp_partner_tier_changes_partner_id"), table_name="corp_partner_tier_changes"
    )
    op.drop_table("corp_partner_tier_changes")
    op.drop_table("corp_partner_programmes")
    op.drop_table("corp_partners")
