"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}
branch_labels: str | None = ${repr(branch_labels)}
depends_on: str | None = ${repr(depends_on)}


def upgrade() -> None:
    # Keep every record; ALTER through op.batch_alter_table (SQLite copies the table).
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    raise RuntimeError("attachguard does not downgrade schemas: restore the backup instead")
