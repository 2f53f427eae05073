"""Fixtures: every database test runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import migrate
from app.db.engine import create_db_engine
from app.factory import create_app
from tests.support import databases

# Hypothesis profiles: "quick" for the default run, "thorough" for
# `HYPOTHESIS_PROFILE=thorough python3 dev.py test tests/properties`.
settings.register_profile(
    "quick", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))

DATABASES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.migrated_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[URL]:
    """One migrated PostgreSQL database for the session, dropped at the end."""
    server_url = databases.skip_or_fail_without_postgresql()
    url = databases.create_postgresql_database(server_url)
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    yield url
    databases.drop_postgresql_database(server_url, url)


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[URL]:
    """The URL of a migrated, empty database of each kind, isolated per test."""
    if request.param == "sqlite":
        yield databases.fresh_sqlite_copy(sqlite_template, tmp_path)
        return
    url: URL = request.getfixturevalue("postgresql_database")
    databases.truncate_all(url)
    yield url


@pytest.fixture
def engine(database_url: URL) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app_settings(database_url: URL, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, log_level="INFO")


@pytest.fixture
def app(app_settings: Settings) -> Iterator[Flask]:
    app = create_app(app_settings, TESTING=True)
    yield app
    app.extensions["usersecrets.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
