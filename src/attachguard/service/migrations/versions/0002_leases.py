"""Short leases: a partial index on unsettled rows for the sweep every replica runs each second or
two (IN_PROGRESS rows, and decided rows whose store clean-up has not finished).

Without it the sweep's ``settled = false`` read scans the whole table, every few seconds, on
every replica; with it the read costs what the waiting work costs (docs/service.md, "Running
several replicas"). No column changes: leases already have ``owner`` and ``lease_until``.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "attachguard_attachments"
NAME = f"ix_{TABLE}_unsettled"


def upgrade() -> None:
    unsettled = sa.column("settled") == sa.false()
    op.create_index(NAME, TABLE, ["created_at"], postgresql_where=unsettled, sqlite_where=unsettled)


def downgrade() -> None:
    raise RuntimeError("attachguard does not downgrade schemas: restore the backup instead")
