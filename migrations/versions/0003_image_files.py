"""Images become files: kind, status, files (name → sha256 and size), cmdline, virtual size

Existing images are catalogue entries without files: kind ``disk``, status ``active``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="disk"))
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="active")
        )
        batch.add_column(sa.Column("files", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("cmdline", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("virtual_size_bytes", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_column("virtual_size_bytes")
        batch.drop_column("cmdline")
        batch.drop_column("files")
        batch.drop_column("status")
        batch.drop_column("kind")
