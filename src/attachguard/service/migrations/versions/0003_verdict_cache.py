"""The verdict cache shared by replicas, and rescans after a signature update.

Three new tables; ``attachguard_attachments`` is unchanged. Nothing in them is needed to serve
a file: a database restored without them loses cached verdicts and rescan progress only.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "attachguard_verdicts",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("entry", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_attachguard_verdicts_created_at", "attachguard_verdicts", ["created_at"])
    op.create_table(
        "attachguard_rescans",
        sa.Column("signature", sa.String(200), primary_key=True),
        sa.Column("number", sa.Integer),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.Column("cursor_created", sa.Float),
        sa.Column("cursor_id", sa.String(36)),
        sa.Column("owner", sa.String(64)),
        sa.Column("lease_until", sa.Float),
        sa.Column("scanned", sa.Integer, nullable=False),
        sa.Column("revoked", sa.Integer, nullable=False),
    )
    op.create_index("ix_attachguard_rescans_started_at", "attachguard_rescans", ["started_at"])
    op.create_table(
        "attachguard_revocations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("signature", sa.String(200), nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason_codes", sa.String(400)),
    )
    op.create_index(
        "ix_attachguard_revocations_revoked_at", "attachguard_revocations", ["revoked_at"]
    )


def downgrade() -> None:
    raise RuntimeError("attachguard does not downgrade schemas: restore the backup instead")
