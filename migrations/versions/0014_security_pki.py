"""Security: one-time agent enrolment tokens, issued and revoked agent certificates

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_certificates",
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("agent_name", sa.String(length=64), nullable=False),
        sa.Column("not_after", sa.DateTime(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_agent_certificates")),
    )
    with op.batch_alter_table("agent_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_certificates_agent_name"), ["agent_name"], unique=False
        )

    op.create_table(
        "agent_enrolment_tokens",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("for_name", sa.String(length=64), nullable=True),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("used_by", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_enrolment_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agent_enrolment_tokens_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("agent_enrolment_tokens")
    with op.batch_alter_table("agent_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_certificates_agent_name"))

    op.drop_table("agent_certificates")
