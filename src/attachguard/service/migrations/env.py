"""Alembic's entry point: run the revisions on the connection `upgrade` passes in (under its
lock), or on ``sqlalchemy.url`` when Alembic's own command line is used (development)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from attachguard.service.db import engine_for, metadata
from attachguard.service.migrations import VERSION_TABLE


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # SQLite alters a table by copying it: autogenerate writes batch operations for it
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("attachguard's migrations run on a live database only (no --sql)")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or migrate with `attachguard db upgrade`")
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


main()
