"""Release 0.1's schema: attachment metadata, one table and three indexes.

Exactly what 0.1's ``metadata.create_all`` made; databases from 0.1 are stamped with this
revision rather than migrated.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "attachguard_attachments"
INDEXED = ("chat_id", "status", "created_at")


def columns() -> list[sa.Column[object]]:
    """The table's columns in 0.1 (frozen: later revisions change the table, not this)."""
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("chat_id", sa.String(128)),
        sa.Column("sender", sa.String(64)),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("ext", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("settled", sa.Boolean, nullable=False),
        sa.Column("staging_key", sa.String(900), nullable=False),
        sa.Column("final_key", sa.String(900), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("owner", sa.String(64)),
        sa.Column("lease_until", sa.Float),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("reason_codes", sa.String(400)),
        sa.Column("report", sa.Text),
    ]


def upgrade() -> None:
    op.create_table(TABLE, *columns())
    for name in INDEXED:
        # create_all's names (ix_<table>_<column>), so stamped and migrated databases match
        op.create_index(f"ix_{TABLE}_{name}", TABLE, [name])


def downgrade() -> None:
    raise RuntimeError("the first revision is never undone: that would delete every record")
