"""`attachguard db`: the metadata database's schema, for operators who migrate before deploying.

``upgrade`` brings it to this release's revision (what `attachguard serve` does at start-up
unless ``--no-migrate``), ``current`` says where it stands, ``history`` lists the revisions this
release knows. Exit status: 0 done / at head, 1 (``current`` only) an upgrade is pending, 2 a
schema this release must not touch (a newer release's) or a bad option.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import make_url

from attachguard.service import migrations
from attachguard.service.db import engine_for, schema_status, sqlite_file
from attachguard.service.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
EXIT_PENDING = 1


class DbError(click.ClickException):
    """A schema this release refuses: printed as ``Error: …``, exit status 2."""

    exit_code = 2


def _where(command: F) -> F:
    """--data and --database-url, as `attachguard serve` takes them."""
    command = click.option(
        "--database-url",
        metavar="URL",
        help="The service's PostgreSQL (or any SQLAlchemy URL); default: SQLite under --data.",
    )(command)
    return click.option(
        "--data",
        "data_dir",
        default="attachguard-data",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="The service's data folder (its SQLite metadata is attachguard.db there).",
    )(command)


def _url(data_dir: Path, database_url: str | None) -> str:
    return Settings(data_dir=data_dir, database_url=database_url).database


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@click.group()
def db() -> None:
    """The metadata database's schema: upgrade it, see its revision, list the revisions."""


@db.command()
@_where
def upgrade(data_dir: Path, database_url: str | None) -> None:
    """Bring the schema to this release's revision, keeping every record (safe to repeat, and
    to run while other replicas start: they wait for it)."""
    url = _url(data_dir, database_url)
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = engine_for(url)
    try:
        before, after = migrations.upgrade(engine)
    except migrations.SchemaError as exc:
        raise DbError(str(exc)) from exc
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"{_shown(url)}: already at {after.describe()}")
    else:
        click.echo(f"{_shown(url)}: upgraded from {before.describe()} to {after.describe()}")


@db.command()
@_where
def current(data_dir: Path, database_url: str | None) -> None:
    """Print the schema's revision; exit 1 when `attachguard db upgrade` has work to do."""
    url = _url(data_dir, database_url)
    status = schema_status(url)
    try:
        migrations.refuse(status, behind_ok=True)
    except migrations.SchemaError as exc:
        raise DbError(str(exc)) from exc
    click.echo(f"{_shown(url)}: {status.describe()}")
    if not status.at_head:
        click.echo(f"this release needs {status.head}: run `attachguard db upgrade`")
        raise click.exceptions.Exit(EXIT_PENDING)


@db.command()
def history() -> None:
    """List the revisions this release knows, newest first."""
    script = migrations.scripts()
    head = script.get_current_head()
    for revision in script.walk_revisions():
        mark = " (head)" if revision.revision == head else ""
        click.echo(f"{revision.revision}{mark}  {revision.doc}")
