"""Shared command setup: settings, an engine, and one-line failure on bad configuration."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.config import ConfigError, Settings
from app.db.engine import create_db_engine


def load_settings() -> Settings:
    """Read settings, turning a ConfigError into one line on stderr and exit status 1."""
    try:
        return Settings.from_env()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


@contextlib.contextmanager
def open_engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextlib.contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """Open a session with one transaction, committed when the block succeeds."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
