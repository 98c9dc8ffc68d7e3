"""Security: TOTP seeds sealed with the secrets master key (room for the sealed text)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26

The plaintext seeds already stored are sealed by the server at start-up (a migration has
no master key): see ``novacron.security.totp_seeds.seal_plaintext_seeds``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from novacron.core.migration_support import sqlite_foreign_keys_off

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with sqlite_foreign_keys_off(op, "0016"), op.batch_alter_table("users") as batch:
        batch.alter_column(
            "totp_secret", existing_type=sa.String(length=64), type_=sa.String(length=512)
        )


def downgrade() -> None:
    # Sealed seeds do not fit back: downgrading drops pending and enabled TOTP set-ups.
    op.execute(sa.text("UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL"))
    with sqlite_foreign_keys_off(op, "0016"), op.batch_alter_table("users") as batch:
        batch.alter_column(
            "totp_secret", existing_type=sa.String(length=512), type_=sa.String(length=64)
        )
