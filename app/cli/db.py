"""`usersecrets db`: schema migrations."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from app.cli.context import load_settings, open_engine
from app.db import migrate


@click.group()
def db() -> None:
    """Migrate the database schema."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    settings = load_settings()
    with open_engine(settings) as engine:
        try:
            migrate.upgrade(engine, revision)
            current = migrate.current_revision(engine)
        except OperationalError as error:
            raise click.ClickException(f"cannot reach the database: {error.orig}") from None
    click.echo(f"Database at revision {current}.", err=True)


@db.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION ("base" removes every table)."""
    settings = load_settings()
    with open_engine(settings) as engine:
        migrate.downgrade(engine, revision)
        current = migrate.current_revision(engine)
    click.echo(f"Database at revision {current or 'base'}.", err=True)


@db.command()
def current() -> None:
    """Print the database's revision and the code's head revision."""
    settings = load_settings()
    with open_engine(settings) as engine:
        revision = migrate.current_revision(engine)
    click.echo(f"database: {revision or 'base'}")
    click.echo(f"code head: {migrate.head_revision()}")
